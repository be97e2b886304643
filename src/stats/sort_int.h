/*
 * Internal interface between the sorting modules: the portable radix sorts of
 * sort.c and the AVX-512 quicksort of sort_avx512.c, which sort.c calls when
 * the CPU has AVX-512F. Not part of the public API.
 */
#ifndef MW_STATS_SORT_INT_H
#define MW_STATS_SORT_INT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts n unsigned 64-bit keys ascending in place. */
typedef void (*mw_sort_keys_fn)(uint64_t *keys, size_t n);

/* The vector quicksort when this CPU can run it (AVX-512F), else NULL. */
mw_sort_keys_fn mw_sort_keys_vector(void);

/* The vector forms of sort.c's two passes around a sort, where the CPU has
 * AVX-512F (else NULL): the finite doubles of v[0..n) moved to its front as
 * keys (sort_key.h), NaNs and infinities added to the counts, their number
 * returned; and keys back to doubles in place. */
typedef size_t (*mw_sort_to_keys_fn)(double *v, size_t n, uint64_t *nan_count, uint64_t *inf_count);
typedef void (*mw_sort_to_doubles_fn)(double *v, size_t n);
mw_sort_to_keys_fn mw_sort_to_keys_vector(void);
mw_sort_to_doubles_fn mw_sort_to_doubles_vector(void);

/* The vector quicksort with `depth` levels of recursion allowed before it
 * hands a range to the radix sort (tests force that way out with small
 * values). Call it only where mw_sort_keys_vector() is not NULL. */
void mw_sort_keys_vector_budget(uint64_t *keys, size_t n, int depth);

/* The in-place radix sort of sort.c (no vector code): the quicksort's way out
 * when its recursion gets too deep (adversarial input). */
void mw_sort_u64_radix_inplace(uint64_t *a, size_t n);

/* For tests: 0 makes every sort in this process take the portable radix
 * path, 1 (the default) lets them use the vector quicksort where the CPU
 * can. Not thread-safe: set it before sorting starts. */
void mw_sort_allow_vector(int allow);

#endif
