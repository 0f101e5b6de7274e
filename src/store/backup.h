/* backup.h — store_backup (declared in store.h), backup.c: a hot,
 * compacted copy of the environment into a new directory. Nothing else. */
#ifndef DWELL_STORE_BACKUP_H
#define DWELL_STORE_BACKUP_H

#include "store/env.h"

/* The name of the copy while it is being written, in the backup's
 * directory; renamed to data.mdb once whole and synced. */
#define BACKUP_PART_NAME "data.mdb.part"

#endif
