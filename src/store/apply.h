/* apply.h — what an event writes (apply.c): the writer thread hands it
 * batches of queued slots; and purging what has expired. */
#ifndef DWELL_STORE_APPLY_H
#define DWELL_STORE_APPLY_H

#include "store/env.h"

/* One store_enqueue() call waiting for the writer. */
struct slot {
    struct slot *next;
    store_ack_fn ack;
    void *ctx;
    struct ipaddr addr;
    uint64_t time_us;
    uint16_t ualen;
    uint16_t nev;
    size_t len;          /* bytes of DATA: the UA, then {u16 len, record}… */
    uint8_t data[];
};

/* Applies the events of the slots from HEAD in one write transaction
 * through the one write path; sets *STORED. Returns 0 or an LMDB error
 * code. */
int store_apply_batch(struct store *st, struct slot *head, size_t *stored);

/* One step of store_purge (see there), in one write transaction; adds to
 * *REMOVED. Returns 1 if more remain, 0 when done, -1 on error. */
int store_purge_step(struct store *st, size_t *removed);

#endif
