/*
 * Large blocks and transparent huge pages.
 *
 * Column arrays, sort scratch and rank workspaces run to many MiB (8 MiB per
 * column of a million rows). Touched for the first time, such a block costs
 * a page fault per 4 KiB page: about 50,000 faults and a tenth of the CPU time
 * of the 1M-row drift benchmark, and sorting's scattered writes then miss the
 * TLB. Where the kernel leaves transparent huge pages to madvise (Debian's
 * default), offering the block's whole 2 MiB pages to them makes it fault in
 * 2 MiB at a time. Only whole 2 MiB pages inside the block are offered, so
 * the resident size never grows beyond what the block itself touches.
 */
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_FROM (4 * HUGE_PAGE) /* smaller blocks gain little */

void mw_advise_huge(void *p, size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (!p || bytes < HUGE_FROM) return;
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t b = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (b > a) (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

void *mw_malloc_huge(size_t bytes) {
    void *p = NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_FROM) {
        size_t whole = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        if (posix_memalign(&p, HUGE_PAGE, whole) == 0)
            mw_advise_huge(p, whole);
        else
            p = NULL;
    }
#endif
    return p ? p : malloc(bytes ? bytes : 1);
}
