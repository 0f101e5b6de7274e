/* erase.h — erasing on request (erase.c): a whole site (store_site_remove)
 * and what is keyed to one person (store_forget), both declared in
 * store.h; walks of bounded transactions through the one write path, so
 * that a server on the same data keeps ingesting between them. This header
 * names what check.c must know of its bookkeeping. */
#ifndef DWELL_STORE_ERASE_H
#define DWELL_STORE_ERASE_H

#include "store/env.h"

/* The meta key prefix of a site being removed: "removing" site(4) -> its
 * name, from the moment it leaves "sites" until its last record is gone. */
#define REMOVING_PREFIX "removing"
#define REMOVING_PREFIX_LEN 8

#endif
