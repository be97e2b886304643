/*
 * String dictionary: interns byte strings and gives them dense codes 0, 1, 2, ...
 * in order of first appearance (categorical columns, column names, schemas).
 *
 * Layout: an open-addressing hash table (linear probing, power-of-two size, load
 * factor <= 1/2) of code+1 (0 = empty slot), plus per-code pointer, length and
 * hash. The strings live NUL-terminated in an arena of fixed blocks that never
 * move, so mw_dict_str pointers stay valid for the dictionary's lifetime
 * (a chunked arena rather than one growing buffer is what guarantees that).
 *
 * Invariants: codes < size; strs[c] has lens[c] bytes plus a NUL; table slots hold
 * each code exactly once. Ownership: the dictionary owns all its memory; callers'
 * strings are copied.
 */
#include "data/data_int.h"

#include <stdlib.h>

#define ARENA_BLOCK ((size_t)64 << 10)

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

struct mw_dict {
    uint32_t *slots; /* code + 1, 0 = empty */
    size_t mask;     /* slots size - 1 */
    char **strs;
    uint32_t *lens;
    uint64_t *hashes;
    size_t n, cap;
    arena_block *blocks; /* newest first */
};

mw_dict *mw_dict_new(void) {
    mw_dict *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->mask = 15;
    d->slots = calloc(16, sizeof *d->slots);
    if (!d->slots) {
        free(d);
        return NULL;
    }
    return d;
}

void mw_dict_free(mw_dict *d) {
    if (!d) return;
    arena_block *b = d->blocks;
    while (b) {
        arena_block *nx = b->next;
        free(b);
        b = nx;
    }
    free(d->slots);
    free(d->strs);
    free(d->lens);
    free(d->hashes);
    free(d);
}

size_t mw_dict_size(const mw_dict *d) {
    return d ? d->n : 0;
}

const char *mw_dict_str(const mw_dict *d, uint32_t code, size_t *len) {
    if (!d || code >= d->n) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = d->lens[code];
    return d->strs[code];
}

static char *arena_copy(mw_dict *d, const char *s, size_t len) {
    arena_block *b = d->blocks;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > ARENA_BLOCK / 4 ? len + 1 : ARENA_BLOCK;
        arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b && cap != ARENA_BLOCK) {
            /* a big string gets its own block behind the current one, so the
             * current block's free space stays usable */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            d->blocks = nb;
        }
        b = nb;
    }
    char *p = b->data + b->used;
    if (len) memcpy(p, s, len);
    p[len] = 0;
    b->used += len + 1;
    return p;
}

static inline int same(const char *a, const char *b, size_t n) {
    if (n > 16) return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int find_slot(const mw_dict *d, const char *s, size_t len, uint64_t h, size_t *slot) {
    size_t i = (size_t)h & d->mask;
    for (;;) {
        uint32_t c = d->slots[i];
        if (!c) {
            *slot = i;
            return 0;
        }
        c--;
        if (d->hashes[c] == h && d->lens[c] == len && same(d->strs[c], s, len)) {
            *slot = i;
            return 1;
        }
        i = (i + 1) & d->mask;
    }
}

int mw_dict_find(const mw_dict *d, const char *s, size_t len, uint32_t *code) {
    if (!d) return 0;
    uint64_t h = mw_data_hash64(s, len, 0);
    size_t slot;
    if (find_slot(d, s, len, h, &slot)) {
        if (code) *code = d->slots[slot] - 1;
        return 1;
    }
    return 0;
}

static int grow_table(mw_dict *d) {
    size_t nsize = (d->mask + 1) * 2;
    uint32_t *ns = calloc(nsize, sizeof *ns);
    if (!ns) return 0;
    size_t nmask = nsize - 1;
    for (size_t c = 0; c < d->n; c++) {
        size_t i = (size_t)d->hashes[c] & nmask;
        while (ns[i])
            i = (i + 1) & nmask;
        ns[i] = (uint32_t)(c + 1);
    }
    free(d->slots);
    d->slots = ns;
    d->mask = nmask;
    return 1;
}

mw_status mw_dict_intern(mw_dict *d, const char *s, size_t len, uint32_t *code) {
    if (!d || (!s && len)) return MW_EINVAL;
    if (len > UINT32_MAX) return MW_ERANGE;
    uint64_t h = mw_data_hash64(s, len, 0);
    size_t slot;
    if (find_slot(d, s, len, h, &slot)) {
        *code = d->slots[slot] - 1;
        return MW_OK;
    }
    if (d->n >= (size_t)UINT32_MAX - 1) return MW_ERANGE;
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        char **ns = realloc(d->strs, ncap * sizeof *ns);
        if (!ns) return MW_ENOMEM;
        d->strs = ns;
        uint32_t *nl = realloc(d->lens, ncap * sizeof *nl);
        if (!nl) return MW_ENOMEM;
        d->lens = nl;
        uint64_t *nh = realloc(d->hashes, ncap * sizeof *nh);
        if (!nh) return MW_ENOMEM;
        d->hashes = nh;
        d->cap = ncap;
    }
    char *copy = arena_copy(d, s, len);
    if (!copy) return MW_ENOMEM;
    size_t c = d->n;
    d->strs[c] = copy;
    d->lens[c] = (uint32_t)len;
    d->hashes[c] = h;
    d->n++;
    d->slots[slot] = (uint32_t)(c + 1);
    if (d->n * 2 > d->mask + 1 && !grow_table(d)) {
        /* keep the entry (the table is still valid, just fuller) */
        return MW_ENOMEM;
    }
    *code = (uint32_t)c;
    return MW_OK;
}
