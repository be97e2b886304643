/*
 * The `probes:` section of the daemon's configuration (README "Golden-prompt
 * probes"): a list of probe sets, each checked key by key so that a typo or
 * a value out of range is an error naming the file, the set, the prompt and
 * the key, never a silently ignored setting.
 *
 *   probes:
 *     - name: smoke                        [A-Za-z0-9_.:-], 1..64, unique
 *       url: http://127.0.0.1:8000/v1      base, .../v1, or the full .../chat/completions
 *       model: llama-3-8b
 *       api_key_env: OPENAI_API_KEY        optional; read at start, sent as a bearer token
 *       interval: 60s   timeout: 30s   stall_timeout: 10s
 *       stream: true    include_usage: true    max_tokens: 64    temperature: 0
 *       prompts:
 *         - id: capital
 *           prompt: "Capital of France? One word."   (or messages: [{role, content}])
 *           expect: {type: contains, value: Paris, ignore_case: true}
 *
 * Each prompt's request body is built here once (model, messages,
 * max_tokens, temperature, stream, stream_options.include_usage) and a regex
 * expectation is compiled here once: POSIX extended, unanchored (a match
 * anywhere in the answer), after the same safety check as alert-rule
 * matchers (src/alert/expr_regex.c: no back-references, no patterns whose
 * compilation explodes).
 */
#include "alert/expr_int.h"
#include "alert/rules.h"
#include "server/notify.h"
#include "server/probes_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_names[MW_PROBE_REASONS] = {
    "mismatch",         "timeout",   "connect",   "http_status",
    "invalid_response", "truncated", "too_large", "error"};
static const char *const expect_names[] = {"exact", "contains", "regex", "json"};

const char *mw_probe_reason_name(mw_probe_reason r) {
    return (unsigned)r < MW_PROBE_REASONS ? reason_names[r] : "error";
}

const char *mw_probe_expect_name(mw_probe_expect t) {
    return expect_names[t];
}

/* Errors: "probes[0] (smoke).prompts[1] (q2).expect: what". */
typedef struct place {
    const char *file;
    char where[200];
    mw_error *err;
} place;

static mw_status bad(place *p, const char *key, const char *fmt, const char *arg)
    __attribute__((format(printf, 3, 0)));
static mw_status bad(place *p, const char *key, const char *fmt, const char *arg) {
    char what[300];
    snprintf(what, sizeof what, fmt, arg);
    return mw_error_set(p->err, MW_EINVAL, p->file, 0, 0, "%s%s%s: %s", p->where, key ? "." : "",
                        key ? key : "", what);
}

static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > MW_PROBE_MAX_NAME) return 0;
    for (; *s; s++)
        if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') || ('0' <= *s && *s <= '9') ||
              strchr("_.:-", *s)))
            return 0;
    return 1;
}

/* A name from v (a string or a whole number), checked; NULL with err set. */
static char *name_of(const json_t *v, place *p, const char *key) {
    char buf[MW_PROBE_MAX_NAME + 2];
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v) && json_string_length(v) <= MW_PROBE_MAX_NAME)
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else
        buf[0] = 0;
    if (!valid_name(buf)) {
        bad(p, key, "%s",
            "required: 1 to 64 characters of letters, digits and _ . : - (it becomes a label "
            "value and a URL path segment)");
        return NULL;
    }
    char *s = strdup(buf);
    if (!s) mw_error_set(p->err, MW_ENOMEM, p->file, 0, 0, "%s: out of memory", p->where);
    return s;
}

/* The URL requests go to: url as given when it ends with /chat/completions,
 * url + /chat/completions when it ends with /v1 (OpenAI's base_url), else
 * url + /v1/chat/completions. */
static char *endpoint(const char *url) {
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    static const char full[] = "/chat/completions", v1[] = "/v1";
    const char *suffix = "/v1/chat/completions";
    if (n >= sizeof full - 1 && !memcmp(url + n - (sizeof full - 1), full, sizeof full - 1))
        suffix = "";
    else if (n >= sizeof v1 - 1 && !memcmp(url + n - (sizeof v1 - 1), v1, sizeof v1 - 1))
        suffix = full;
    char *out = malloc(n + strlen(suffix) + 1);
    if (out) sprintf(out, "%.*s%s", (int)n, url, suffix);
    return out;
}

/* A text value of at most MW_PROBE_MAX_TEXT bytes without NUL; NULL if not. */
static const char *text_of(const json_t *v) {
    if (!json_is_string(v) || json_string_length(v) > MW_PROBE_MAX_TEXT) return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

/* messages: [{role, content}] (or prompt: text) into a new array. */
static json_t *messages_of(const json_t *prompt, place *p) {
    json_t *text = json_object_get(prompt, "prompt"), *msgs = json_object_get(prompt, "messages");
    if (!text == !msgs) {
        bad(p, NULL, "%s", "give either \"prompt\" (text) or \"messages\" (a list)");
        return NULL;
    }
    if (text) {
        if (!text_of(text) || !json_string_length(text)) {
            bad(p, "prompt", "%s", "expected text of 1 to 65536 bytes");
            return NULL;
        }
        return json_pack("[{s:s, s:O}]", "role", "user", "content", text);
    }
    if (!json_is_array(msgs) || !json_array_size(msgs) ||
        json_array_size(msgs) > MW_PROBE_MAX_MESSAGES) {
        bad(p, "messages", "%s", "expected a list of 1 to 64 {role, content} mappings");
        return NULL;
    }
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        static const char *const roles[] = {"system", "developer", "user", "assistant"};
        int known = 0;
        for (size_t k = 0; role && k < 4; k++)
            known |= !strcmp(role, roles[k]);
        char key[32];
        snprintf(key, sizeof key, "messages[%zu]", i);
        if (!json_is_object(m) || json_object_size(m) != 2 || !known ||
            !text_of(json_object_get(m, "content"))) {
            bad(p, key, "%s",
                "expected {role: system|developer|user|assistant, content: text of at most "
                "65536 bytes} and nothing else");
            return NULL;
        }
    }
    return json_deep_copy(msgs);
}

static mw_status expectation(const json_t *e, mw_probe_prompt *pr, place *p) {
    if (!json_is_object(e)) return bad(p, "expect", "%s", "required: {type, value}");
    const char *type = json_string_value(json_object_get(e, "type"));
    int t = -1;
    for (int k = 0; type && k < 4; k++)
        if (!strcmp(type, expect_names[k])) t = k;
    if (t < 0) return bad(p, "expect.type", "%s", "expected exact, contains, regex or json");
    pr->expect = (mw_probe_expect)t;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v) {
        if (!strcmp(key, "type")) continue;
        if (!strcmp(key, "ignore_case") && json_is_boolean(v) && t != MW_PROBE_JSON) {
            pr->ignore_case = json_is_true(v);
        } else if (!strcmp(key, "value") && t != MW_PROBE_JSON) {
            const char *s = text_of(v);
            if (!s || (t != MW_PROBE_EXACT && !*s))
                return bad(p, "expect.value", "%s",
                           "expected text of at most 65536 bytes (not empty for contains and "
                           "regex)");
            if (!(pr->value = strdup(s))) return MW_ENOMEM;
        } else {
            return bad(p, "expect",
                       "unknown or misplaced key \"%s\" (known: type; value and "
                       "ignore_case except for json)",
                       key);
        }
    }
    if (t != MW_PROBE_JSON && !pr->value)
        return bad(p, "expect.value", "%s", "required for exact, contains and regex");
    if (t != MW_PROBE_REGEX) return MW_OK;
    const char *why = mw_alert_regex_problem(pr->value);
    char reason[160];
    if (!why) {
        int rc = regcomp(&pr->re, pr->value,
                         REG_EXTENDED | REG_NOSUB | (pr->ignore_case ? REG_ICASE : 0));
        if (rc == 0) {
            pr->has_re = 1;
            return MW_OK;
        }
        regerror(rc, &pr->re, reason, sizeof reason);
        why = reason;
    }
    return bad(p, "expect.value", "not a usable regular expression: %s", why);
}

/* The request body of one prompt. */
static char *request_body(const mw_probe_set_config *c, json_t *messages) {
    json_t *b = json_pack("{s:s, s:o, s:I, s:f, s:b}", "model", c->model, "messages", messages,
                          "max_tokens", (json_int_t)c->max_tokens, "temperature", c->temperature,
                          "stream", c->stream);
    if (b && c->stream && c->include_usage)
        json_object_set_new(b, "stream_options", json_pack("{s:b}", "include_usage", 1));
    char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return s;
}

static mw_status prompt_entry(const json_t *v, size_t i, mw_probe_set_config *c, place *set) {
    place p = *set;
    const char *id = json_string_value(json_object_get(v, "id"));
    snprintf(p.where, sizeof p.where, "%s.prompts[%zu]%s%.64s%s", set->where, i, id ? " (" : "",
             id ? id : "", id ? ")" : "");
    if (!json_is_object(v)) return bad(&p, NULL, "%s", "expected a mapping {id, prompt, expect}");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) if (strcmp(key, "id") && strcmp(key, "prompt") &&
                                                   strcmp(key, "messages") &&
                                                   strcmp(key, "expect")) {
        return bad(&p, NULL, "unknown key \"%s\" (known: id, prompt, messages, expect)", key);
    }
    mw_probe_prompt *pr = &c->prompts[c->nprompts];
    memset(pr, 0, sizeof *pr);
    c->nprompts++; /* freed with the set from here on */
    if (!(pr->id = name_of(json_object_get(v, "id"), &p, "id"))) return p.err->status;
    for (size_t k = 0; k + 1 < c->nprompts; k++)
        if (!strcmp(c->prompts[k].id, pr->id))
            return bad(&p, "id", "\"%s\" appears twice in the set", pr->id);
    json_t *messages = messages_of(v, &p);
    if (!messages) return p.err->status ? p.err->status : MW_ENOMEM;
    if (!(pr->body = request_body(c, messages))) return MW_ENOMEM;
    if (strlen(pr->body) > MW_PROBE_MAX_BODY)
        return bad(&p, NULL, "%s", "the request would be longer than 1 MiB: shorten the messages");
    return expectation(json_object_get(v, "expect"), pr, &p);
}

/* A duration key within [lo, hi] seconds. */
static int duration_in(const json_t *v, double lo, double hi, double *out) {
    double x;
    if (!mw_duration_parse(v, &x) || !(x >= lo && x <= hi)) return 0;
    *out = x;
    return 1;
}

static mw_status set_key(const char *key, const json_t *v, mw_probe_set_config *c, place *p,
                         int *ok) {
    *ok = 1;
    if (!strcmp(key, "url") && json_is_string(v) && mw_url_valid(json_string_value(v)))
        return (c->url = endpoint(json_string_value(v))) ? MW_OK : MW_ENOMEM;
    if (!strcmp(key, "model") && text_of(v) && json_string_length(v))
        return (c->model = strdup(json_string_value(v))) ? MW_OK : MW_ENOMEM;
    if (!strcmp(key, "api_key_env") && json_is_string(v) && json_string_length(v) &&
        json_string_length(v) < 256)
        return (c->api_key_env = strdup(json_string_value(v))) ? MW_OK : MW_ENOMEM;
    if (!strcmp(key, "interval") && duration_in(v, 1, 86400, &c->interval_s)) return MW_OK;
    if (!strcmp(key, "timeout") && duration_in(v, 0.1, 600, &c->timeout_s)) return MW_OK;
    if (!strcmp(key, "stall_timeout") && duration_in(v, 1, 600, &c->stall_s)) return MW_OK;
    if (!strcmp(key, "stream") && json_is_boolean(v)) return c->stream = json_is_true(v), MW_OK;
    if (!strcmp(key, "include_usage") && json_is_boolean(v))
        return c->include_usage = json_is_true(v), MW_OK;
    if (!strcmp(key, "max_tokens") && json_is_integer(v) && json_integer_value(v) >= 1 &&
        json_integer_value(v) <= 1000000)
        return c->max_tokens = (long)json_integer_value(v), MW_OK;
    if (!strcmp(key, "temperature") && json_is_number(v) && json_number_value(v) >= 0 &&
        json_number_value(v) <= 2)
        return c->temperature = json_number_value(v), MW_OK;
    if (!strcmp(key, "name") || !strcmp(key, "prompts")) return MW_OK;
    *ok = 0;
    return bad(p, NULL,
               "bad or unknown key \"%s\" (known: name, url (http:// or https://), model, "
               "api_key_env, interval (1s..1d), timeout (100ms..10m), stall_timeout (1s..10m), "
               "stream, include_usage, max_tokens (1..1000000), temperature (0..2), prompts)",
               key);
}

mw_status mw_probe_set_parse(const json_t *v, size_t i, const char *file, mw_probe_set_config *c,
                             mw_error *err) {
    memset(c, 0, sizeof *c);
    place p = {file, "", err};
    const char *name = json_string_value(json_object_get(v, "name"));
    snprintf(p.where, sizeof p.where, "probes[%zu]%s%.64s%s", i, name ? " (" : "", name ? name : "",
             name ? ")" : "");
    if (!json_is_object(v)) return bad(&p, NULL, "%s", "expected a mapping {name, url, ...}");
    c->interval_s = 60;
    c->timeout_s = 30;
    c->include_usage = 1;
    c->max_tokens = 256;
    mw_status st =
        (c->name = name_of(json_object_get(v, "name"), &p, "name")) ? MW_OK : err->status;
    const char *key;
    json_t *val;
    int ok;
    if (!st)
        json_object_foreach((json_t *)v, key, val) if ((st = set_key(key, val, c, &p, &ok))) break;
    if (!st && !c->url)
        st = bad(&p, "url", "%s", "required: the endpoint, http:// or https:// and a host");
    if (!st && !c->model) st = bad(&p, "model", "%s", "required: the model name to ask for");
    if (!st && !(c->log_url = mw_url_redact(c->url))) st = MW_ENOMEM;
    if (!st && c->stall_s > c->timeout_s)
        st = bad(&p, "stall_timeout", "%s", "must not be longer than timeout");
    if (!st && !c->stall_s) c->stall_s = c->stream ? fmin(c->timeout_s, 10) : c->timeout_s;
    const json_t *prompts = json_object_get(v, "prompts");
    if (!st && (!json_is_array(prompts) || !json_array_size(prompts) ||
                json_array_size(prompts) > MW_PROBE_MAX_PROMPTS))
        st = bad(&p, "prompts", "%s", "required: a list of 1 to 100 prompts");
    if (!st && !(c->prompts = calloc(json_array_size(prompts), sizeof *c->prompts))) st = MW_ENOMEM;
    for (size_t k = 0; !st && k < json_array_size(prompts); k++)
        st = prompt_entry(json_array_get(prompts, k), k, c, &p);
    if (st == MW_ENOMEM && !err->message[0])
        mw_error_set(err, st, file, 0, 0, "%s: out of memory", p.where);
    if (st) mw_probe_set_free(c);
    return st;
}

void mw_probe_set_free(mw_probe_set_config *c) {
    for (size_t i = 0; i < c->nprompts; i++) {
        mw_probe_prompt *p = &c->prompts[i];
        free(p->id);
        free(p->body);
        free(p->value);
        if (p->has_re) regfree(&p->re);
    }
    free(c->prompts);
    free(c->name);
    free(c->url);
    free(c->log_url);
    free(c->model);
    free(c->api_key_env);
    memset(c, 0, sizeof *c);
}

mw_status mw_probes_check(const json_t *section, const char *file, mw_error *err) {
    if (!json_is_array(section) || json_array_size(section) > MW_PROBE_MAX_SETS)
        return mw_error_set(err, MW_EINVAL, file, 0, 0,
                            "probes: expected a list of at most 64 probe sets");
    size_t n = json_array_size(section);
    mw_probe_set_config *c = calloc(n ? n : 1, sizeof *c);
    if (!c) return mw_error_set(err, MW_ENOMEM, file, 0, 0, "probes: out of memory");
    mw_status st = MW_OK;
    size_t parsed = 0;
    for (; !st && parsed < n; parsed++) {
        if ((st = mw_probe_set_parse(json_array_get(section, parsed), parsed, file, &c[parsed],
                                     err)))
            break;
        for (size_t k = 0; k < parsed && !st; k++)
            if (!strcmp(c[k].name, c[parsed].name))
                st = mw_error_set(err, MW_EINVAL, file, 0, 0,
                                  "probes[%zu]: the name \"%s\" appears twice", parsed,
                                  c[parsed].name);
    }
    for (size_t k = 0; k < n; k++)
        mw_probe_set_free(&c[k]);
    free(c);
    return st;
}

json_t *mw_probe_set_json(const mw_probe_set_config *c) {
    json_t *prompts = json_array();
    for (size_t i = 0; i < c->nprompts; i++) {
        const mw_probe_prompt *p = &c->prompts[i];
        json_t *e = json_pack("{s:s}", "type", expect_names[p->expect]);
        if (p->value) json_object_set_new(e, "value", json_string(p->value));
        if (p->ignore_case) json_object_set_new(e, "ignore_case", json_true());
        json_array_append_new(prompts, json_pack("{s:s, s:o}", "id", p->id, "expect", e));
    }
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:b, s:b, s:f, s:f, s:f, s:I, s:f, s:o}", "name", c->name, "url",
                  c->log_url, "model", c->model, "stream", c->stream, "include_usage",
                  c->include_usage, "interval_seconds", c->interval_s, "timeout_seconds",
                  c->timeout_s, "stall_timeout_seconds", c->stall_s, "max_tokens",
                  (json_int_t)c->max_tokens, "temperature", c->temperature, "prompts", prompts);
    if (o && c->api_key_env) json_object_set_new(o, "api_key_env", json_string(c->api_key_env));
    return o;
}
