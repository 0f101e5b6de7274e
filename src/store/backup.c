/* backup.c — see store.h (store_backup): LMDB's compacting copy, as of one
 * read transaction, into DIR/data.mdb.part, synced, then renamed to
 * DIR/data.mdb and the directory synced: a backup is whole or absent. */
#define _POSIX_C_SOURCE 200809L
#include "store/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes DIR (0700) unless it exists empty. Sets *MADE when it made it.
 * Returns 0, or -1 with a reason in ERR. */
static int backup_dir(const char *dir, bool *made, char *err, size_t errlen)
{
    *made = false;
    if (mkdir(dir, 0700) == 0) {
        *made = true;
        return 0;
    }
    if (errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty) {
        snprintf(err, errlen, "%s is not empty: a backup goes to a new or "
                 "empty directory", dir);
        return -1;
    }
    return 0;
}

/* Syncs directory DIR (a rename in it is then durable). */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Copies ST into the open file FD, compacted, and syncs it. Returns 0 or
 * an error code (LMDB's or errno). */
static int copy_into(struct store *st, int fd)
{
    pthread_rwlock_rdlock(&st->resize_lock);    /* as a read txn does */
    int rc = mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&st->resize_lock);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    return rc;
}

int store_backup(struct store *st, const char *dir, char *err, size_t errlen)
{
    char part[4096], final[4096];
    bool made;
    if (snprintf(part, sizeof part, "%s/%s", dir, BACKUP_PART_NAME) >=
            (int)sizeof part ||
        snprintf(final, sizeof final, "%s/data.mdb", dir) >=
            (int)sizeof final) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    if (backup_dir(dir, &made, err, errlen) != 0)
        return -1;
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", part, strerror(errno));
        goto fail;
    }
    int rc = copy_into(st, fd);
    if (close(fd) != 0 && rc == 0)
        rc = errno;
    if (rc == 0 && rename(part, final) != 0)
        rc = errno;
    if (rc == 0 && sync_dir(dir) != 0)
        rc = errno;
    if (rc == 0)
        return 0;
    snprintf(err, errlen, "copying to %s: %s", dir, mdb_strerror(rc));
fail:
    unlink(part);
    if (made)
        rmdir(dir);
    return -1;
}
