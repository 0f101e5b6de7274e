/* fault.h — what fault.c offers store.c: LMDB's assertion callback and the
 * map a fault may be reported in (see store_on_damage in store.h). */
#ifndef DWELL_STORE_FAULT_H
#define DWELL_STORE_FAULT_H

#include <lmdb.h>
#include <stddef.h>

/* LMDB's assertion callback: logs the damage, calls store_on_damage's
 * function (which does not return). */
void fault_lmdb_assert(MDB_env *env, const char *msg);

/* Notes the map of the data file (ADDR, SIZE bytes): a fault reading it is
 * damage, not a bug of dwell. */
void fault_watch_map(const void *addr, size_t size);

#endif
