/*
 * Serialisation of fitted outlier detectors (the daemon stores them with a
 * model version). Format, little-endian:
 *   "MWOD" | u32 version (1) | u64 payload length | payload | u64 checksum
 * where the checksum is mw_hash64 of the payload. The payload holds the
 * options that matter for scoring, the inputs (name, kind, fill value,
 * categories), per-feature mean / scale / sd, notes, the reference score
 * percentiles, then the detector (iforest.c / lof.c). Every count is checked
 * against the bytes left before anything is allocated and every value against
 * its domain, so corrupt input is MW_ECORRUPT, never a crash; load(save(m))
 * saves the same bytes and scores bit-identically (doubles are stored as their
 * bits, derived tables are rebuilt the same way).
 */
#include "monitor/outlier_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "MWOD"
#define FORMAT_VERSION 1
#define HASH_SEED 0x6d774f44u

mw_status mw_outlier_save(const mw_outlier_model *m, unsigned char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    mw_buf p = {0};
    mw_buf_u8(&p, (uint8_t)m->method);
    mw_buf_u8(&p, (uint8_t)m->encode);
    mw_buf_u8(&p, (uint8_t)m->standardize);
    mw_buf_u8(&p, (uint8_t)m->has_threshold);
    mw_buf_u64(&p, m->seed);
    mw_buf_f64(&p, m->contamination);
    mw_buf_f64(&p, m->threshold);
    mw_buf_f64(&p, m->expected_share);
    mw_buf_u64(&p, m->n_ref);
    mw_buf_u64(&p, m->n_imputed);
    mw_buf_u32(&p, (uint32_t)m->nin);
    for (size_t i = 0; i < m->nin; i++) {
        const mw_outlier_input *in = &m->in[i];
        mw_buf_str(&p, in->name, strlen(in->name));
        mw_buf_u8(&p, (uint8_t)in->kind);
        mw_buf_f64(&p, in->fill);
        mw_buf_u64(&p, in->n_imputed);
        mw_buf_u32(&p, (uint32_t)in->ncat);
        for (size_t c = 0; c < in->ncat; c++)
            mw_buf_str(&p, in->cats[c], strlen(in->cats[c]));
    }
    for (size_t j = 0; j < m->nfeat; j++) {
        mw_buf_f64(&p, m->mean[j]);
        mw_buf_f64(&p, m->scale[j]);
        mw_buf_f64(&p, m->fsd[j]);
    }
    mw_buf_u32(&p, (uint32_t)m->nnotes);
    for (size_t i = 0; i < m->nnotes; i++)
        mw_buf_str(&p, m->notes[i], strlen(m->notes[i]));
    for (int i = 0; i <= 100; i++)
        mw_buf_f64(&p, m->q[i]);
    if (m->forest)
        mw_iforest_save(m->forest, &p);
    else
        mw_lof_save(m->lof, &p);
    mw_buf out = {0};
    mw_buf_put(&out, MAGIC, 4);
    mw_buf_u32(&out, FORMAT_VERSION);
    mw_buf_u64(&out, p.len);
    mw_buf_put(&out, p.data, p.len);
    mw_buf_u64(&out, mw_hash64(p.data, p.len, HASH_SEED));
    free(p.data);
    if (p.failed || out.failed) {
        free(out.data);
        return MW_ENOMEM;
    }
    *buf = out.data;
    *len = out.len;
    return MW_OK;
}

static char *rd_cstr(mw_reader *r) {
    size_t n;
    const char *s = mw_rd_str(r, &n);
    if (!s || !n || memchr(s, 0, n)) {
        r->failed = 1;
        return NULL;
    }
    char *c = malloc(n + 1);
    if (!c) return NULL;
    memcpy(c, s, n);
    c[n] = 0;
    return c;
}

static mw_status corrupt(mw_error *err, const char *what) {
    return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0, "stored outlier detector is corrupt: %s",
                        what);
}

static mw_status load_inputs(mw_reader *r, mw_outlier_model *m, mw_error *err) {
    uint32_t nin = mw_rd_u32(r);
    /* an input takes at least 4 + 1 + 1 + 8 + 8 + 4 bytes */
    if (r->failed || !nin || nin > (size_t)(r->end - r->p) / 26) return corrupt(err, "input count");
    m->in = calloc(nin, sizeof *m->in);
    if (!m->in) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    for (uint32_t i = 0; i < nin; i++) {
        mw_outlier_input *in = &m->in[i];
        m->nin = i + 1;
        if (!(in->name = rd_cstr(r)))
            return r->failed ? corrupt(err, "input name")
                             : mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
        in->kind = mw_rd_u8(r);
        in->fill = mw_rd_f64(r);
        in->n_imputed = mw_rd_u64(r);
        uint32_t ncat = mw_rd_u32(r);
        if (r->failed || in->kind > MW_IN_ORDINAL || !isfinite(in->fill))
            return corrupt(err, "input description");
        if (in->kind == MW_IN_NUMERIC) {
            if (ncat) return corrupt(err, "numeric input with categories");
            continue;
        }
        if (ncat < 2 || ncat > (size_t)(r->end - r->p) / 5 || in->fill < 0 || in->fill >= ncat ||
            in->fill != floor(in->fill))
            return corrupt(err, "categories");
        in->cats = calloc(ncat, sizeof *in->cats);
        if (!in->cats) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
        for (uint32_t c = 0; c < ncat; c++) {
            in->ncat = c + 1;
            if (!(in->cats[c] = rd_cstr(r))) return corrupt(err, "category");
        }
        mw_status st = mw_outlier_build_dict(in);
        if (st != MW_OK)
            return st == MW_ECORRUPT ? corrupt(err, "duplicate category")
                                     : mw_error_set(err, st, NULL, 0, 0, "out of memory");
    }
    return MW_OK;
}

mw_status mw_outlier_load(const void *buf, size_t len, mw_outlier_model **out, mw_error *err) {
    *out = NULL;
    const unsigned char *b = buf;
    if (len < 24 || memcmp(b, MAGIC, 4) != 0) return corrupt(err, "not a modelwatch detector");
    mw_reader hr = {b + 4, b + len, 0};
    uint32_t version = mw_rd_u32(&hr);
    uint64_t plen = mw_rd_u64(&hr);
    if (version != FORMAT_VERSION)
        return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0,
                            "stored outlier detector has format version %u; this build reads %u",
                            version, FORMAT_VERSION);
    if (plen != len - 24) return corrupt(err, "length does not match");
    const unsigned char *payload = b + 16;
    mw_reader cr = {payload + plen, b + len, 0};
    if (mw_rd_u64(&cr) != mw_hash64(payload, (size_t)plen, HASH_SEED))
        return corrupt(err, "checksum mismatch");
    mw_reader rd = {payload, payload + plen, 0};
    mw_reader *r = &rd;
    mw_outlier_model *m = calloc(1, sizeof *m);
    if (!m) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    mw_status st = MW_OK;
    m->method = (mw_outlier_method)mw_rd_u8(r);
    m->encode = (mw_outlier_encode)mw_rd_u8(r);
    m->standardize = mw_rd_u8(r);
    m->has_threshold = mw_rd_u8(r);
    m->seed = mw_rd_u64(r);
    m->contamination = mw_rd_f64(r);
    m->threshold = mw_rd_f64(r);
    m->expected_share = mw_rd_f64(r);
    m->n_ref = (size_t)mw_rd_u64(r);
    m->n_imputed = mw_rd_u64(r);
    if (r->failed || m->method > MW_OUTLIER_LOF || m->encode > MW_OUTLIER_ENCODE_ORDINAL ||
        m->standardize > 1 || m->has_threshold > 1 || !isfinite(m->threshold) ||
        !(m->expected_share >= 0 && m->expected_share <= 1) || !m->n_ref)
        st = corrupt(err, "header");
    if (st == MW_OK) st = load_inputs(r, m, err);
    if (st == MW_OK && (st = mw_outlier_layout(m)) != MW_OK)
        mw_error_set(err, st, NULL, 0, 0, "out of memory");
    if (st == MW_OK && (m->nfeat > (size_t)(r->end - r->p) / 24 || !m->nfeat))
        st = corrupt(err, "feature count");
    if (st == MW_OK) {
        m->mean = malloc(m->nfeat * sizeof *m->mean);
        m->scale = malloc(m->nfeat * sizeof *m->scale);
        m->fsd = malloc(m->nfeat * sizeof *m->fsd);
        if (!m->mean || !m->scale || !m->fsd)
            st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    }
    for (size_t j = 0; st == MW_OK && j < m->nfeat; j++) {
        m->mean[j] = mw_rd_f64(r);
        m->scale[j] = mw_rd_f64(r);
        m->fsd[j] = mw_rd_f64(r);
        if (!isfinite(m->mean[j]) || !(m->scale[j] > 0) || !isfinite(m->scale[j]) ||
            !(m->fsd[j] >= 0) || !isfinite(m->fsd[j]))
            st = corrupt(err, "feature scaling");
    }
    if (st == MW_OK) {
        uint32_t nn = mw_rd_u32(r);
        if (r->failed || nn > (size_t)(r->end - r->p) / 5)
            st = corrupt(err, "notes");
        else if (nn && !(m->notes = calloc(nn, sizeof *m->notes)))
            st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
        for (uint32_t i = 0; st == MW_OK && i < nn; i++) {
            m->nnotes = i + 1;
            if (!(m->notes[i] = rd_cstr(r))) st = corrupt(err, "note");
        }
    }
    for (int i = 0; st == MW_OK && i <= 100; i++)
        if (!isfinite(m->q[i] = mw_rd_f64(r))) st = corrupt(err, "score percentiles");
    if (st == MW_OK) {
        mw_status ds = m->method == MW_OUTLIER_IFOREST ? mw_iforest_load(r, m->nfeat, &m->forest)
                                                       : mw_lof_load(r, m->nfeat, &m->lof);
        if (ds == MW_ENOMEM)
            st = mw_error_set(err, ds, NULL, 0, 0, "out of memory");
        else if (ds != MW_OK)
            st = corrupt(err, "detector");
    }
    if (st == MW_OK && (r->failed || r->p != r->end)) st = corrupt(err, "trailing bytes");
    if (st != MW_OK) {
        mw_outlier_free(m);
        return st;
    }
    *out = m;
    return MW_OK;
}
