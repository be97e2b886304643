/*
 * Redacted examples of the records' texts, only when the version opted in
 * ("text": {"samples": N}): up to N per window, each an object {"ts", "id",
 * "prompt", "completion", "truncated"} (prompt and completion null when
 * absent), with "texts": {"<feature>": ...} when the version monitors text
 * features (null for a record's missing or non-string value). Texts are
 * redacted by mw_text_redact (e-mail, phone, card, IP -> [EMAIL], [PHONE],
 * [CARD], [IP]) and cut to MW_TEXT_SAMPLE_BYTES ("truncated" says whether
 * any was); they stay in memory until the window closes and then go to the
 * text_samples table (store_samples.c), at most KEEP_SAMPLE_WINDOWS windows
 * per version. Examples of an open window are lost on a restart: the journal
 * has no raw text to rebuild them (text_live.c).
 */
#include "monitor/monitor_int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_SAMPLE_WINDOWS 1000 /* windows of examples kept per version */

/* A redacted copy of s[0..len) as a JSON string (NULL text: JSON null). */
static json_t *redacted(const char *s, size_t len, int *cut) {
    if (!s) return json_null();
    char *buf = malloc(MW_TEXT_SAMPLE_BYTES + 1);
    if (!buf) return NULL;
    int c;
    size_t n = mw_text_redact(s, len, buf, MW_TEXT_SAMPLE_BYTES + 1, &c);
    *cut |= c;
    json_t *j = json_stringn(buf, n);
    free(buf);
    return j;
}

/* {"<feature>": redacted text or null, ...} of t's text features; NULL on no
 * memory. */
static json_t *feature_texts(const mw_live_text *t, int *cut) {
    json_t *o = json_object();
    size_t f0 = t->set->n - t->set->nfeat;
    for (size_t i = f0; o && i < t->set->n; i++) {
        const mw_text_value *tv = &t->v[i];
        json_t *j = redacted(tv->has ? tv->s : NULL, tv->len, cut);
        if (!j || json_object_setn_new(o, t->set->cols[i].name, t->set->cols[i].name_len, j)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* 1 when the record has a text feature to show. */
static int has_feature_text(const mw_live_text *t) {
    if (!t || !t->set) return 0;
    for (size_t i = t->set->n - t->set->nfeat; i < t->set->n; i++)
        if (t->v[i].has) return 1;
    return 0;
}

/* The example of rec as a JSON object; NULL on no memory. */
static json_t *example(const mw_record *rec, const mw_live_text *t) {
    int cut = 0;
    json_t *o = json_object();
    json_t *p = redacted(rec->prompt, rec->prompt_len, &cut);
    json_t *c = redacted(rec->completion, rec->completion_len, &cut);
    int features = t && t->set && t->set->nfeat;
    json_t *x = features ? feature_texts(t, &cut) : NULL;
    if (!o || !p || !c || (features && !x)) {
        json_decref(o);
        json_decref(p);
        json_decref(c);
        json_decref(x);
        return NULL;
    }
    json_object_set_new(o, "ts", isnan(rec->ts) ? json_null() : json_real(rec->ts));
    json_object_set_new(o, "id", rec->id ? json_stringn(rec->id, rec->id_len) : json_null());
    json_object_set_new(o, "prompt", p);
    json_object_set_new(o, "completion", c);
    json_object_set_new(o, "truncated", json_boolean(cut));
    if (x) json_object_set_new(o, "texts", x);
    return o;
}

void mw_live_text_sample(mw_vstate *v, const mw_record *rec, const mw_live_text *t) {
    if (!v->cfg.text_samples || v->nsamples >= v->cfg.text_samples) return;
    if (!rec->prompt && !rec->completion && !has_feature_text(t)) return;
    json_t *o = example(rec, t);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (text) {
        if (v->nsamples) mw_buf_u8(&v->samples, ',');
        mw_buf_put(&v->samples, text, strlen(text));
        v->nsamples++;
        free(text);
    }
    json_decref(o);
}

mw_status mw_live_text_flush(mw_monitor *m, mw_vstate *v, mw_error *err) {
    mw_status st = MW_OK;
    if (v->nsamples && m->store && !v->samples.failed) {
        json_t *h = json_pack("{ss ss sf sf}", "model", v->model, "version", v->version,
                              "window_start", v->win.start, "window_end", v->win.end);
        char *head = h ? json_dumps(h, JSON_COMPACT) : NULL;
        json_decref(h);
        if (!head) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory (samples)");
        mw_buf o = {0};
        mw_buf_put(&o, head, strlen(head) - 1); /* without its closing brace */
        free(head);
        mw_buf_put(&o, ",\"samples\":[", 12);
        mw_buf_put(&o, v->samples.data, v->samples.len);
        mw_buf_put(&o, "]}", 3); /* with the NUL */
        if (o.failed)
            st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory (samples)");
        else
            st = mw_store_samples_put(m->store, v->model, v->version, v->win.start,
                                      (const char *)o.data, KEEP_SAMPLE_WINDOWS, err);
        free(o.data);
    }
    v->samples.len = 0;
    v->samples.failed = 0;
    v->nsamples = 0;
    return st;
}

mw_status mw_monitor_text_samples(mw_monitor *m, const char *model, const char *version,
                                  double start, size_t limit, char **json, mw_error *err) {
    *json = NULL;
    if (!mw_monitor_find(m, model, strlen(model), version, strlen(version)))
        return mw_error_set(err, MW_ENOTFOUND, NULL, 0, 0,
                            "model \"%.128s\" version \"%.128s\" is not registered", model,
                            version);
    if (!m->store) {
        *json = strdup("[]"); /* nothing is kept without a database */
        return *json ? MW_OK : MW_ENOMEM;
    }
    return mw_store_samples_list(m->store, model, version, start, limit, json, err);
}
