/*
 * Binary serialisation of profiles, for the store and for shipping partial
 * window profiles between instances.
 *
 * Layout (little-endian): "MWPF", u32 version (1), options (sample capacity,
 * max categories, seed), RNG state, u32 column count, then per column: name,
 * u8 type, u64 count/missing/type_errors/pos_inf/neg_inf/n, f64
 * min/max/mean/m2, distinct sketch, and either the reservoir (numeric) or the
 * category list with counts plus the overflow count (categorical).
 * Deserialisation validates every count against the bytes left, so corrupt
 * input yields MW_ECORRUPT with the byte offset, never a crash.
 */
#include "monitor/profile_int.h"

#include <stdlib.h>
#include <string.h>

#define PROFILE_MAGIC "MWPF"
#define PROFILE_VERSION 1u

mw_status mw_profile_serialize(const mw_profile *p, unsigned char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    mw_buf b = {0};
    mw_buf_put(&b, PROFILE_MAGIC, 4);
    mw_buf_u32(&b, PROFILE_VERSION);
    mw_buf_u64(&b, p->opt.sample_capacity);
    mw_buf_u64(&b, p->opt.max_categories);
    mw_buf_u64(&b, p->opt.seed);
    for (int i = 0; i < 4; i++)
        mw_buf_u64(&b, p->rng.s[i]);
    mw_buf_u32(&b, (uint32_t)p->ncols);
    for (size_t j = 0; j < p->ncols; j++) {
        const mw_colprof *c = &p->cols[j];
        mw_buf_str(&b, c->name, strlen(c->name));
        mw_buf_u8(&b, (uint8_t)c->type);
        mw_buf_u64(&b, c->count);
        mw_buf_u64(&b, c->missing);
        mw_buf_u64(&b, c->type_errors);
        mw_buf_u64(&b, c->pos_inf);
        mw_buf_u64(&b, c->neg_inf);
        mw_buf_u64(&b, c->n);
        mw_buf_f64(&b, c->min);
        mw_buf_f64(&b, c->max);
        mw_buf_f64(&b, c->mean);
        mw_buf_f64(&b, c->m2);
        mw_distinct_write(&c->distinct, &b);
        if (c->type == MW_TYPE_NUMERIC) {
            mw_reservoir_write(&c->sample, &b);
        } else {
            uint32_t ncat = (uint32_t)mw_dict_size(c->cats);
            mw_buf_u32(&b, ncat);
            for (uint32_t code = 0; code < ncat; code++) {
                size_t sl;
                const char *s = mw_dict_str(c->cats, code, &sl);
                mw_buf_str(&b, s, sl);
                mw_buf_u64(&b, c->cat_counts[code]);
            }
            mw_buf_u64(&b, c->other_count);
        }
    }
    if (b.failed) {
        free(b.data);
        return MW_ENOMEM;
    }
    *buf = b.data;
    *len = b.len;
    return MW_OK;
}

static mw_status corrupt(mw_error *err, const mw_reader *r, const unsigned char *start,
                         const char *what) {
    return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0, "corrupt profile at byte %zu: %s",
                        (size_t)(r->p - start), what);
}

static mw_status read_column(mw_profile *p, mw_reader *r, const unsigned char *start,
                             mw_error *err) {
    size_t nl;
    const char *name = mw_rd_str(r, &nl);
    uint8_t type = mw_rd_u8(r);
    if (!name || r->failed) return corrupt(err, r, start, "truncated column header");
    if (type != MW_TYPE_NUMERIC && type != MW_TYPE_CATEGORICAL)
        return corrupt(err, r, start, "unknown column type");
    if (memchr(name, 0, nl)) return corrupt(err, r, start, "NUL byte in column name");
    size_t idx;
    mw_status st = mw_profile_append_column(p, name, nl, (mw_coltype)type, &idx);
    if (st) return st;
    mw_colprof *c = &p->cols[idx];
    c->count = mw_rd_u64(r);
    c->missing = mw_rd_u64(r);
    c->type_errors = mw_rd_u64(r);
    c->pos_inf = mw_rd_u64(r);
    c->neg_inf = mw_rd_u64(r);
    uint64_t n = mw_rd_u64(r);
    c->min = mw_rd_f64(r);
    c->max = mw_rd_f64(r);
    c->mean = mw_rd_f64(r);
    c->m2 = mw_rd_f64(r);
    if (r->failed) return corrupt(err, r, start, "truncated column counters");
    if (c->missing > c->count) return corrupt(err, r, start, "more missing values than rows");
    if (mw_distinct_read(&c->distinct, r)) return corrupt(err, r, start, "bad distinct sketch");
    if (type == MW_TYPE_NUMERIC) {
        c->n = n;
        mw_reservoir_free(&c->sample);
        if (mw_reservoir_read(&c->sample, r)) return corrupt(err, r, start, "bad sample");
        if (c->sample.seen != n) return corrupt(err, r, start, "sample count mismatch");
        return MW_OK;
    }
    uint32_t ncat = mw_rd_u32(r);
    if (r->failed || ncat > (size_t)(r->end - r->p) / 12)
        return corrupt(err, r, start, "bad category count");
    /* categories are re-added; distinct was restored above and is unchanged
     * by re-adding, and n is rebuilt from the counts */
    for (uint32_t i = 0; i < ncat; i++) {
        size_t sl;
        const char *s = mw_rd_str(r, &sl);
        uint64_t cnt = mw_rd_u64(r);
        if (!s || r->failed) return corrupt(err, r, start, "truncated category");
        uint32_t code;
        if (mw_dict_find(c->cats, s, sl, &code))
            return corrupt(err, r, start, "duplicate category");
        st = mw_profile_add_category_n(p, idx, s, sl, cnt);
        if (st) return st;
    }
    c->other_count = mw_rd_u64(r);
    c->n += c->other_count;
    if (r->failed) return corrupt(err, r, start, "truncated category list");
    if (c->n != n) return corrupt(err, r, start, "category counts do not add up");
    return MW_OK;
}

mw_status mw_profile_deserialize(const unsigned char *buf, size_t len, mw_profile **out,
                                 mw_error *err) {
    *out = NULL;
    mw_reader r = {buf, buf + len, 0};
    if (len < 8 || memcmp(buf, PROFILE_MAGIC, 4))
        return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0, "not a modelwatch profile");
    r.p += 4;
    uint32_t version = mw_rd_u32(&r);
    if (version != PROFILE_VERSION)
        return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0,
                            "profile format version %u is not supported (expected %u)", version,
                            PROFILE_VERSION);
    mw_profile_options opt;
    opt.sample_capacity = (size_t)mw_rd_u64(&r);
    opt.max_categories = (size_t)mw_rd_u64(&r);
    opt.seed = mw_rd_u64(&r);
    if (r.failed || !opt.sample_capacity || !opt.max_categories)
        return corrupt(err, &r, buf, "bad options");
    mw_profile *p;
    mw_status st = mw_profile_new(&opt, &p);
    if (st) return st;
    for (int i = 0; i < 4; i++)
        p->rng.s[i] = mw_rd_u64(&r);
    uint32_t ncols = mw_rd_u32(&r);
    if (r.failed) st = corrupt(err, &r, buf, "truncated header");
    for (uint32_t j = 0; j < ncols && !st; j++)
        st = read_column(p, &r, buf, err);
    if (!st && r.p != r.end) st = corrupt(err, &r, buf, "trailing bytes");
    if (st) {
        mw_profile_free(p);
        return st;
    }
    *out = p;
    return MW_OK;
}
