/*
 * The records' "prompt" and "completion" as text columns of a version (the
 * daemon side of text monitoring; text.h has the descriptors, data.h the
 * batch side). A version monitors a text when its baseline has that text's
 * descriptor columns ("prompt.chars", ...: the reference had a `prompt`
 * column, expanded by mw_table_expand_texts); each accepted record then gets
 * the descriptors of its texts appended to its features, so windows profile,
 * test and report them as any feature. Versions without text columns do no
 * text work beyond copying the spans the parser found.
 *
 * Privacy: raw text is never written to the database. The journal, which
 * holds the records of open windows, gets each record's bytes with the text
 * values replaced: by the encoded descriptors when the version monitors that
 * text (so a restart replays the same numbers), else by null. Encoding: a JSON
 * string "\u001fmwtext1 " followed by the 15 descriptor values in
 * mw_text_descriptor_names order, comma-separated (numbers in their shortest
 * round-trip text, mw_format_double; the script by name). Only when the version opted in
 * ("text": {"samples": N}) are up to N examples per window kept, redacted by
 * mw_text_redact (e-mail, phone, card, IP -> [EMAIL], [PHONE], [CARD], [IP])
 * and cut to MW_TEXT_SAMPLE_BYTES, in memory until the window closes and
 * then in the text_samples table (store_samples.c). Examples of an open
 * window are lost on a restart: the journal has no raw text to rebuild them.
 */
#include "monitor/monitor_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENC_PREFIX "\x1fmwtext1 "
#define ENC_PREFIX_JSON "\"\\u001fmwtext1 "
#define KEEP_SAMPLE_WINDOWS 1000 /* windows of examples kept per version */

static const char *const text_key[2] = {"prompt", "completion"};
static char live_names[2][MW_TEXT_NDESC][32]; /* "prompt.chars", ... */
static size_t live_name_len[2][MW_TEXT_NDESC];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void make_names(void) {
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < MW_TEXT_NDESC; i++)
            live_name_len[t][i] =
                (size_t)snprintf(live_names[t][i], sizeof live_names[t][i], "%s.%s", text_key[t],
                                 mw_text_descriptor_names[i]);
}

unsigned mw_live_text_mask(mw_vstate *v) {
    if (!v->baseline) return 0;
    if (v->text_mask_of == v->baseline) return v->text_mask;
    pthread_once(&names_once, make_names);
    unsigned mask = 0;
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < MW_TEXT_NDESC && !(mask & (1u << t)); i++)
            if (mw_baseline_find(v->baseline, live_names[t][i], live_name_len[t][i]) >= 0)
                mask |= 1u << t;
    v->text_mask = mask;
    v->text_mask_of = v->baseline;
    return mask;
}

/* Decodes an encoded value (after the prefix); 0 when malformed. */
static int decode(const char *s, size_t len, mw_text_descriptors *d) {
    char buf[512];
    if (len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    memset(d, 0, sizeof *d);
    char *p = buf;
    for (int i = 0; i < MW_TEXT_NDESC; i++) {
        char *end = strchr(p, ',');
        if (!end != (i == MW_TEXT_NDESC - 1)) return 0;
        if (end) *end = 0;
        if (i == MW_TEXT_DESC_SCRIPT) {
            int k = 0;
            while (k < MW_SCRIPT_COUNT && strcmp(mw_script_name((mw_script)k), p))
                k++;
            if (k == MW_SCRIPT_COUNT) return 0;
            d->script = (mw_script)k;
        } else {
            char *e;
            double x = strtod(p, &e);
            if (e == p || *e) return 0;
            int share = i == 5 || i == 12; /* non_ascii, repetition (NaN: not computed) */
            double max = i >= 7 && i <= 11 ? 4294967295.0 : 9007199254740992.0;
            if (share ? !(isnan(x) || (x >= 0 && x <= 1)) : !(x >= 0 && x <= max))
                return 0; /* not ours: a count must fit its integer */
            switch (i) {
            case 0:
                d->chars = (uint64_t)x;
                break;
            case 1:
                d->bytes = (uint64_t)x;
                break;
            case 2:
                d->words = (uint64_t)x;
                break;
            case 3:
                d->empty = x != 0;
                break;
            case 4:
                d->invalid_utf8 = x != 0;
                break;
            case 5:
                d->non_ascii = x;
                break;
            case 7:
                d->emails = (uint32_t)x;
                break;
            case 8:
                d->phones = (uint32_t)x;
                break;
            case 9:
                d->cards = (uint32_t)x;
                break;
            case 10:
                d->ips = (uint32_t)x;
                break;
            case 11:
                d->urls = (uint32_t)x;
                break;
            case 12:
                d->repetition = x;
                break;
            case 13:
                d->refusal = x != 0;
                break;
            default:
                d->json_valid = x != 0;
                break;
            }
        }
        if (end) p = end + 1;
    }
    return 1;
}

void mw_live_text_describe(const mw_record *rec, unsigned mask, const mw_text_options *opt,
                           int replayed, mw_live_text *out) {
    out->has = 0;
    out->replayed = replayed;
    const char *s[2] = {rec->prompt, rec->completion};
    size_t len[2] = {rec->prompt_len, rec->completion_len};
    size_t pl = sizeof ENC_PREFIX - 1;
    for (int t = 0; t < 2; t++) {
        if (!(mask & (1u << t)) || !s[t]) continue;
        if (replayed && len[t] > pl && !memcmp(s[t], ENC_PREFIX, pl) &&
            decode(s[t] + pl, len[t] - pl, &out->d[t])) {
            out->has |= 1u << t;
            continue;
        }
        mw_text_describe(s[t], len[t], opt, &out->d[t]);
        out->has |= 1u << t;
    }
}

mw_status mw_live_text_record(mw_vstate *v, const mw_record *rec, const mw_live_text *t,
                              mw_record *out) {
    *out = *rec;
    if (!t || !t->has) return MW_OK;
    pthread_once(&names_once, make_names);
    size_t need = rec->nfeatures + 2 * MW_TEXT_NDESC;
    if (need > v->text_feat_cap) {
        mw_feature *f = realloc(v->text_feat, need * sizeof *f);
        if (!f) return MW_ENOMEM;
        v->text_feat = f;
        v->text_feat_cap = need;
    }
    mw_feature *f = v->text_feat;
    memcpy(f, rec->features, rec->nfeatures * sizeof *f);
    size_t n = rec->nfeatures;
    for (int k = 0; k < 2; k++) {
        if (!(t->has & (1u << k))) continue;
        for (int i = 0; i < MW_TEXT_NDESC; i++) {
            mw_feature *g = &f[n++];
            memset(g, 0, sizeof *g);
            g->name = live_names[k][i];
            g->name_len = live_name_len[k][i];
            if (i == MW_TEXT_DESC_SCRIPT) {
                g->kind = MW_VALUE_STRING;
                g->str = mw_script_name(t->d[k].script);
                g->str_len = strlen(g->str);
                g->number = NAN;
            } else {
                g->number = mw_text_descriptor_value(&t->d[k], (size_t)i);
                g->kind = isnan(g->number) ? MW_VALUE_MISSING : MW_VALUE_NUMBER;
            }
        }
    }
    out->features = f;
    out->nfeatures = n;
    return MW_OK;
}

/* Whole numbers (most descriptors) as digits without printf; others in their
 * shortest round-trip text (mw_format_double, which tries printf precisions:
 * it cost 40% of ingestion when every value went through it). */
static size_t number_text(double v, char *b) {
    if (!(v >= 0 && v < 9007199254740992.0 && v == floor(v))) return mw_format_double(v, b);
    char tmp[20];
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    for (size_t i = 0; i < n; i++)
        b[i] = tmp[n - 1 - i];
    return n;
}

static void encode(mw_buf *o, const mw_text_descriptors *d) {
    char b[32];
    mw_buf_put(o, ENC_PREFIX_JSON, sizeof ENC_PREFIX_JSON - 1);
    for (int i = 0; i < MW_TEXT_NDESC; i++) {
        if (i == MW_TEXT_DESC_SCRIPT) {
            const char *name = mw_script_name(d->script);
            mw_buf_put(o, name, strlen(name));
        } else {
            mw_buf_put(o, b, number_text(mw_text_descriptor_value(d, (size_t)i), b));
        }
        if (i + 1 < MW_TEXT_NDESC) mw_buf_u8(o, ',');
    }
    mw_buf_u8(o, '"');
}

void mw_live_text_journal(mw_buf *o, const char *line, size_t len, const char *praw,
                          size_t praw_len, const char *craw, size_t craw_len,
                          const mw_live_text *t) {
    const char *raw[2] = {praw, craw};
    size_t rl[2] = {praw_len, craw_len};
    /* in line order; a span outside the line (not expected) is left alone */
    int first = raw[0] && raw[1] && raw[1] < raw[0];
    size_t at = 0;
    for (int j = 0; j < 2; j++) {
        int k = first ? 1 - j : j;
        if (!raw[k] || raw[k] < line + at || raw[k] + rl[k] > line + len) continue;
        size_t a = (size_t)(raw[k] - line);
        mw_buf_put(o, line + at, a - at);
        if (t && (t->has & (1u << k)))
            encode(o, &t->d[k]);
        else
            mw_buf_put(o, "null", 4);
        at = a + rl[k];
    }
    mw_buf_put(o, line + at, len - at);
}

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

void mw_live_text_sample(mw_vstate *v, const mw_record *rec) {
    if (!v->cfg.text_samples || v->nsamples >= v->cfg.text_samples) return;
    if (!rec->prompt && !rec->completion) return;
    int cut = 0;
    json_t *o = json_object();
    json_t *p = redacted(rec->prompt, rec->prompt_len, &cut);
    json_t *c = redacted(rec->completion, rec->completion_len, &cut);
    if (o && p && c) {
        json_object_set_new(o, "ts", isnan(rec->ts) ? json_null() : json_real(rec->ts));
        json_object_set_new(o, "id", rec->id ? json_stringn(rec->id, rec->id_len) : json_null());
        json_object_set_new(o, "prompt", p);
        json_object_set_new(o, "completion", c);
        json_object_set_new(o, "truncated", json_boolean(cut));
        p = c = NULL;
        char *text = json_dumps(o, JSON_COMPACT);
        if (text) {
            if (v->nsamples) mw_buf_u8(&v->samples, ',');
            mw_buf_put(&v->samples, text, strlen(text));
            v->nsamples++;
            free(text);
        }
    }
    json_decref(p);
    json_decref(c);
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
