/* writer.h — the ingest queue and the writer and syncer threads
 * (writer.c): store_enqueue*, store_drain, store_get_stats and
 * store_start_writer / store_stop_writer of dwell/store.h. What store.c
 * needs to set them up: */
#ifndef DWELL_STORE_WRITER_H
#define DWELL_STORE_WRITER_H

#include "store/env.h"

#define DEFAULT_QUEUE_CAP  65536

#endif
