/*
 * The inline byte helpers of the hot paths (src/core/util.h): mw_copy_small
 * copies exactly n bytes and touches nothing around them, mw_bytes_equal
 * agrees with memcmp, for every length from 0 to 40 and a difference at every
 * position (the 1-3, 4-7, 8-16 byte cases and memcmp/memcpy beyond).
 */
#include "core/util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_copy_small_exact(void **state) {
    (void)state;
    unsigned char src[64], dst[64 + 32];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(0x40 + i);
    for (size_t n = 0; n <= 40; n++) {
        memset(dst, 0xEE, sizeof dst);
        mw_copy_small(dst + 16, src + 3, n);
        for (size_t i = 0; i < 16; i++)
            assert_int_equal(dst[i], 0xEE); /* nothing before */
        assert_memory_equal(dst + 16, src + 3, n);
        for (size_t i = 16 + n; i < sizeof dst; i++)
            assert_int_equal(dst[i], 0xEE); /* nothing after */
    }
}

static void test_bytes_equal_agrees_with_memcmp(void **state) {
    (void)state;
    unsigned char a[48], b[48];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = b[i] = (unsigned char)(7 * i + 1);
    for (size_t n = 0; n <= 40; n++) {
        assert_true(mw_bytes_equal(a, b, n));
        for (size_t k = 0; k < n; k++) {
            b[k] ^= 0x20;
            assert_false(mw_bytes_equal(a, b, n));
            b[k] ^= 0x20;
        }
        b[n] ^= 0x20; /* a difference just past the n bytes does not count */
        assert_true(mw_bytes_equal(a, b, n));
        b[n] ^= 0x20;
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_small_exact),
        cmocka_unit_test(test_bytes_equal_agrees_with_memcmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
