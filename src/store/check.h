/* check.h — check.c implements store_check of dwell/store.h (dwell check):
 * every record of every database decoded, the rollups' views recounted
 * from the raw events. Nothing else; nothing in the store calls it. */
#ifndef DWELL_STORE_CHECK_H
#define DWELL_STORE_CHECK_H

#include "dwell/store.h"

#endif
