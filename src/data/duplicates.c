/*
 * Duplicate rows of a table, from its 64-bit row hashes (two equal rows hash
 * equal; two different rows collide with probability about n^2 / 2^65, below
 * 3e-8 for a million rows). The hashes are sorted in place and freed, so
 * counting never needs a second array: in the 1M-row drift benchmark both
 * tables are in memory at once and every megabyte counts.
 */
#include "modelwatch/data.h"
#include "modelwatch/stats.h"

#include <stdlib.h>

void mw_table_count_duplicates(mw_table *t) {
    if (t->duplicates_counted) return;
    uint64_t dup = 0;
    if (t->row_hash && t->nrows >= 2) {
        mw_sort_u64_inplace(t->row_hash, t->nrows);
        for (size_t i = 1; i < t->nrows; i++)
            dup += t->row_hash[i] == t->row_hash[i - 1];
    }
    free(t->row_hash);
    t->row_hash = NULL;
    t->n_duplicate_rows = dup;
    t->duplicates_counted = 1;
}
