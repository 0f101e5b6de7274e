/* check.h — the unit tests' tiny assertion kit.
 * Each test file defines tests with TEST(name) and lists them in main() with
 * RUN(name); check_summary() prints "N passed, N failed" and gives the exit
 * code. A failed CHECK ends the current test and names the file and line. */
#ifndef DWELL_TEST_CHECK_H
#define DWELL_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed, check_current_failed;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                   \
    do {                                                            \
        check_current_failed = 0;                                   \
        test_##name();                                              \
        if (check_current_failed) {                                 \
            check_failed++;                                         \
            printf("FAIL %s\n", #name);                             \
        } else {                                                    \
            check_passed++;                                         \
            printf("ok   %s\n", #name);                             \
        }                                                           \
    } while (0)

#define CHECK(cond)                                                 \
    do {                                                            \
        if (!(cond)) {                                              \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__,         \
                   __LINE__, #cond);                                \
            check_current_failed = 1;                               \
            return;                                                 \
        }                                                           \
    } while (0)

#define CHECK_EQ_INT(a, b)                                          \
    do {                                                            \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
        if (check_a_ != check_b_) {                                 \
            printf("  %s:%d: %s == %lld, expected %lld\n", __FILE__, \
                   __LINE__, #a, check_a_, check_b_);               \
            check_current_failed = 1;                               \
            return;                                                 \
        }                                                           \
    } while (0)

#define CHECK_EQ_STR(a, b)                                          \
    do {                                                            \
        const char *check_a_ = (a), *check_b_ = (b);                \
        if (check_a_ == NULL || strcmp(check_a_, check_b_) != 0) {  \
            printf("  %s:%d: %s == \"%s\", expected \"%s\"\n",      \
                   __FILE__, __LINE__, #a,                          \
                   check_a_ ? check_a_ : "(null)", check_b_);       \
            check_current_failed = 1;                               \
            return;                                                 \
        }                                                           \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
