/* backup.c — see store.h (store_backup): LMDB's compacting copy, as of one
 * read transaction, into DIR/data.mdb.part, synced, then renamed to
 * DIR/data.mdb and the directory synced: a backup is whole or absent.
 * LMDB says nothing of how far a copy has got, so a thread copies into a
 * pipe and the caller's thread writes the file from it, counting bytes. */
#define _POSIX_C_SOURCE 200809L
#include "store/backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

/* The copying side of a backup. */
struct copier {
    struct store *st;
    int fd;                    /* the pipe's write end, closed when done */
    int rc;                    /* out: 0 or LMDB's error code */
};

/* Runs LMDB's compacting copy of C->st into C->fd, then closes C->fd (the
 * reader sees the end). SIGPIPE is blocked here and in the thread LMDB
 * starts: a reader that gave up makes the copy fail with EPIPE instead of
 * killing the process. */
static void *copier_run(void *arg)
{
    struct copier *c = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_rwlock_rdlock(&c->st->resize_lock);    /* as a read txn does */
    c->rc = mdb_env_copyfd2(c->st->env, c->fd, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&c->st->resize_lock);
    close(c->fd);
    return NULL;
}

/* Bytes of ST's map in use: what a compacted copy comes to at most. */
static uint64_t used_bytes(struct store *st)
{
    MDB_envinfo info;
    MDB_stat ms;
    if (store_map_info(st, &info, &ms) != 0)
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
}

/* Writes the N bytes at P to FD. Returns 0 or errno. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads IN to its end and writes it all to OUT, telling PROGRESS (if any)
 * the bytes written so far out of TOTAL. Returns 0 or errno. */
static int pump(int in, int out, uint64_t total,
                store_backup_progress_fn progress, void *ctx)
{
    char buf[65536];
    uint64_t copied = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        int rc = write_all(out, buf, (size_t)n);
        if (rc != 0)
            return rc;
        copied += (uint64_t)n;
        if (progress)
            progress(ctx, copied, total);
    }
}

/* Copies ST into the open file FD, compacted, telling PROGRESS (if any)
 * how far it has got, and syncs it. Returns 0 or an error code (LMDB's or
 * errno): the writing side's own when it failed first (the copy then ends
 * with EPIPE), else the copy's. */
static int copy_into(struct store *st, int fd,
                     store_backup_progress_fn progress, void *ctx)
{
    int p[2];
    if (pipe(p) != 0)
        return errno;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    struct copier c = { st, p[1], 0 };
    pthread_t t;
    int rc = pthread_create(&t, NULL, copier_run, &c);
    if (rc != 0) {
        close(p[0]);
        close(p[1]);
        return rc;
    }
    rc = pump(p[0], fd, used_bytes(st), progress, ctx);
    close(p[0]);                       /* a copy still writing: EPIPE */
    pthread_join(t, NULL);
    if (rc == 0)
        rc = c.rc;
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    return rc;
}

int store_backup(struct store *st, const char *dir,
                 store_backup_progress_fn progress, void *ctx, char *err,
                 size_t errlen)
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
    int rc = copy_into(st, fd, progress, ctx);
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
