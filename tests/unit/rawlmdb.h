/* rawlmdb.h — a store's data dir opened with LMDB's own API, for tests
 * that read or shape records below the store (old schemas, damaged rows,
 * record versions). */
#ifndef DWELL_TEST_RAWLMDB_H
#define DWELL_TEST_RAWLMDB_H

#include <lmdb.h>

/* Opens the environment in PATH and begins a transaction, both with FLAGS
 * (0, or MDB_RDONLY to only read). Returns 0, or -1 with nothing open. */
static inline int raw_begin(const char *path, unsigned flags, MDB_env **env,
                            MDB_txn **txn)
{
    if (mdb_env_create(env) != 0)
        return -1;
    int rc = mdb_env_set_maxdbs(*env, 32);
    if (rc == 0) rc = mdb_env_open(*env, path, flags, 0600);
    if (rc == 0) rc = mdb_txn_begin(*env, NULL, flags, txn);
    if (rc != 0)
        mdb_env_close(*env);
    return rc == 0 ? 0 : -1;
}

#endif
