/* fault.c — see store.h (store_on_damage) and fault.h: damage LMDB meets
 * past what an error code can say becomes a message and an exit rather
 * than a signal. LMDB has no page checksums: a corrupted page can make it
 * fail an assertion (abort) or fault (SIGSEGV, SIGBUS). A fault whose
 * instruction lies in LMDB's code or in a function LMDB called (memcpy
 * with a length read from a damaged page: LMDB among the innermost
 * frames), or whose address lies in the data file's map, is reported as
 * damage; any other fault goes on as before
 * (the handler found at install time, the default one or a sanitizer's),
 * so that dwell's own bugs still crash visibly. */
#define _GNU_SOURCE
#include "store/fault.h"

#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "dwell/log.h"
#include "dwell/store.h"

static void (*damage_fn)(const char *what);
static uintptr_t lmdb_lo, lmdb_hi;     /* LMDB's code */
static uintptr_t map_lo, map_hi;       /* the data file's map */
static struct sigaction old_segv, old_bus;

void fault_lmdb_assert(MDB_env *env, const char *msg)
{
    (void)env;
    log_error("store: the data file is damaged (LMDB: %s)", msg);
    if (damage_fn)
        damage_fn(msg);
}

void fault_watch_map(const void *addr, size_t size)
{
    map_lo = (uintptr_t)addr;
    map_hi = map_lo + size;
}

/* dl_iterate_phdr: the executable segment of the object that holds the
 * address CTX points to. */
static int find_code(struct dl_phdr_info *info, size_t size, void *ctx)
{
    uintptr_t want = *(const uintptr_t *)ctx;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *p = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + p->p_vaddr, hi = lo + p->p_memsz;
        if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && want >= lo &&
            want < hi) {
            lmdb_lo = lo;
            lmdb_hi = hi;
            return 1;
        }
    }
    return 0;
}

/* The instruction that faulted (0 where the machine is not known). */
static uintptr_t fault_pc(const void *uc)
{
#if defined(__x86_64__)
    return (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)((const ucontext_t *)uc)->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

#define FAULT_FRAMES 8     /* innermost frames searched for LMDB */

/* True when PC, or one of the innermost frames, is in LMDB's code. */
static bool in_lmdb(uintptr_t pc)
{
    if (lmdb_hi == 0)
        return false;
    if (pc >= lmdb_lo && pc < lmdb_hi)
        return true;
    void *frames[FAULT_FRAMES];
    int n = backtrace(frames, FAULT_FRAMES);
    for (int i = 0; i < n; i++)
        if ((uintptr_t)frames[i] >= lmdb_lo && (uintptr_t)frames[i] < lmdb_hi)
            return true;
    return false;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    uintptr_t at = (uintptr_t)si->si_addr;
    bool in_map = map_hi && at >= map_lo && at < map_hi;
    if ((in_map || in_lmdb(fault_pc(uc))) && damage_fn)
        damage_fn(sig == SIGBUS ? "SIGBUS reading the data file"
                                : "SIGSEGV reading the data file");
    /* not damage: the fault happens again under the handler before ours */
    sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL);
}

void store_on_damage(void (*fn)(const char *what))
{
    uintptr_t lmdb = (uintptr_t)&mdb_cursor_get;
    uintptr_t self = (uintptr_t)&store_on_damage;
    damage_fn = fn;
    void *warm[1];
    backtrace(warm, 1);             /* loads the unwinder now, not in a
                                       handler */
    dl_iterate_phdr(find_code, &lmdb);
    if (self >= lmdb_lo && self < lmdb_hi)
        lmdb_lo = lmdb_hi = 0;      /* LMDB linked in: cannot tell apart */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
}
