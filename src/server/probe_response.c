/*
 * Reading a chat completions answer as it arrives, and judging it.
 *
 * Non-streaming (OpenAI "chat.completion"): the body is one JSON object;
 * the text is choices[0].message.content (null counts as ""), with
 * choices[0].finish_reason and usage.prompt_tokens / completion_tokens when
 * present. Anything else is an invalid answer with a sentence saying what.
 *
 * Streaming (server-sent events, as the HTML Living Standard defines them,
 * restricted to what chat completions use): lines end in LF, CRLF or CR;
 * "data:" lines (one optional space after the colon) add to the current
 * event, a blank line dispatches it, ":" comments and other fields are
 * ignored. Each event's data is a "chat.completion.chunk" object or
 * "[DONE]". The text is the concatenation of choices[0].delta.content; time
 * to first token is the time at which the first non-empty piece arrived
 * (measured by the caller's clock, passed with each block of bytes); usage
 * comes from the chunk that carries a non-null "usage" (the last one when
 * stream_options.include_usage was sent); finish_reason from the chunk that
 * sets it. An event that is not JSON, or a chunk with an "error" member,
 * makes the answer invalid. A stream without "[DONE]" is truncated (judged
 * by the client, which also knows how the connection ended).
 *
 * Expectations: exact compares the text without leading and trailing white
 * space with the value; contains looks for the value anywhere; both compare
 * bytes, or ASCII letters without case with ignore_case. regex searches
 * (unanchored) with the compiled POSIX pattern. regex and contains with
 * ignore_case read the text up to its first NUL byte, if any (C strings). json asks
 * mw_text_is_json (RFC 8259, white space around allowed), so an answer
 * wrapped in a Markdown code fence is not JSON.
 */
#include "modelwatch/text.h"
#include "server/probes_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mw_probe_answer_init(mw_probe_answer *a, int stream) {
    memset(a, 0, sizeof *a);
    a->stream = stream;
    a->ttft_s = a->input_tokens = a->output_tokens = NAN;
}

void mw_probe_answer_free(mw_probe_answer *a) {
    free(a->raw.data);
    free(a->content.data);
    free(a->event.data);
    memset(a, 0, sizeof *a);
}

static void invalid(mw_probe_answer *a, const char *what) {
    if (a->invalid) return; /* the first problem is the one to report */
    a->invalid = 1;
    snprintf(a->detail, sizeof a->detail, "%s", what);
}

/* usage.prompt_tokens and completion_tokens when they are numbers. */
static void read_usage(mw_probe_answer *a, const json_t *usage) {
    const json_t *in = json_object_get(usage, "prompt_tokens");
    const json_t *out = json_object_get(usage, "completion_tokens");
    if (json_is_number(in) && json_number_value(in) >= 0) a->input_tokens = json_number_value(in);
    if (json_is_number(out) && json_number_value(out) >= 0)
        a->output_tokens = json_number_value(out);
}

static void read_finish(mw_probe_answer *a, const json_t *choice) {
    const char *f = json_string_value(json_object_get(choice, "finish_reason"));
    if (f) snprintf(a->finish_reason, sizeof a->finish_reason, "%s", f);
}

/* The parsed object of an answer or chunk; NULL (and invalid) when it is not
 * a JSON object or carries an "error". */
static json_t *object_of(mw_probe_answer *a, const char *text, size_t len, const char *what) {
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    char msg[256];
    if (!json_is_object(o)) {
        snprintf(msg, sizeof msg, "%s is not a JSON object (%s)", what,
                 o ? "another JSON value" : je.text);
        invalid(a, msg);
        json_decref(o);
        return NULL;
    }
    const json_t *e = json_object_get(o, "error");
    if (e && !json_is_null(e)) {
        const char *m = json_string_value(json_object_get(e, "message"));
        snprintf(msg, sizeof msg, "%s carries an error: %.200s", what,
                 m ? m : (json_string_value(e) ? json_string_value(e) : "(no message)"));
        invalid(a, msg);
        json_decref(o);
        return NULL;
    }
    return o;
}

/* One stream event's data. */
static void on_event(mw_probe_answer *a, double elapsed_s) {
    const char *d = (const char *)a->event.data;
    size_t n = a->event.len;
    a->event.len = 0;
    if (a->invalid || a->done) return;
    a->events++;
    if (n == 6 && !memcmp(d, "[DONE]", 6)) {
        a->done = 1;
        return;
    }
    json_t *o = object_of(a, d, n, "a stream chunk");
    if (!o) return;
    const json_t *choices = json_object_get(o, "choices");
    const json_t *usage = json_object_get(o, "usage");
    if (json_is_object(usage)) read_usage(a, usage);
    if (!json_is_array(choices)) {
        if (!json_is_object(usage)) invalid(a, "a stream chunk has neither choices nor usage");
    } else if (json_array_size(choices)) {
        const json_t *c0 = json_array_get(choices, 0);
        const json_t *content = json_object_get(json_object_get(c0, "delta"), "content");
        if (json_is_string(content) && json_string_length(content)) {
            if (isnan(a->ttft_s)) a->ttft_s = elapsed_s;
            mw_buf_put(&a->content, json_string_value(content), json_string_length(content));
        } else if (content && !json_is_null(content) && !json_is_string(content)) {
            invalid(a, "a stream chunk's choices[0].delta.content is not text");
        }
        read_finish(a, c0);
    }
    json_decref(o);
}

/* One complete line of a stream (without its end). */
static void on_line(mw_probe_answer *a, const char *line, size_t n, double elapsed_s) {
    if (n == 0) {
        if (a->event.len || a->event.failed) on_event(a, elapsed_s);
        return;
    }
    if (n < 5 || memcmp(line, "data:", 5)) return; /* comments, event:, id:, retry: */
    size_t skip = n > 5 && line[5] == ' ' ? 6 : 5;
    if (a->event.len) mw_buf_put(&a->event, "\n", 1);
    if (n > skip) mw_buf_put(&a->event, line + skip, n - skip);
}

/* Splits raw into lines; keeps the unfinished one. A CR at the very end may
 * be the first half of CRLF: it waits for the next byte (or the end). */
static void scan_lines(mw_probe_answer *a, double elapsed_s, int at_end) {
    const char *p = (const char *)a->raw.data;
    size_t n = a->raw.len, start = 0;
    if (n == 0) return;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n' && p[i] != '\r') continue;
        if (p[i] == '\r' && i + 1 == n && !at_end) break;
        on_line(a, p + start, i - start, elapsed_s);
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') i++;
        start = i + 1;
    }
    if (at_end && start < n) on_line(a, p + start, n - start, elapsed_s);
    if (at_end) start = n;
    if (start) memmove(a->raw.data, p + start, n - start);
    a->raw.len = n - start;
}

size_t mw_probe_printable(char *dst, size_t size, const char *src, size_t len) {
    size_t k = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < k; i++)
        dst[i] = isprint((unsigned char)src[i]) ? src[i] : ' ';
    dst[k] = 0;
    return k;
}

int mw_probe_answer_feed(mw_probe_answer *a, const char *data, size_t len, double elapsed_s) {
    if (len > MW_PROBE_MAX_ANSWER - a->received) return -1;
    if (len == 0) return 0;
    size_t have = strlen(a->excerpt);
    mw_probe_printable(a->excerpt + have, sizeof a->excerpt - have, data, len);
    a->received += len;
    mw_buf_put(&a->raw, data, len);
    if (a->stream) scan_lines(a, elapsed_s, 0);
    return 0;
}

static void finish_json(mw_probe_answer *a) {
    json_t *o = object_of(a, a->raw.len ? (const char *)a->raw.data : "", a->raw.len, "the answer");
    if (!o) return;
    const json_t *c0 = json_array_get(json_object_get(o, "choices"), 0);
    const json_t *msg = json_object_get(c0, "message");
    const json_t *content = json_object_get(msg, "content");
    if (!json_is_object(msg)) {
        invalid(a, "the answer has no choices[0].message");
    } else if (json_is_string(content) && json_string_length(content)) {
        mw_buf_put(&a->content, json_string_value(content), json_string_length(content));
    } else if (content && !json_is_null(content) && !json_is_string(content)) {
        invalid(a, "the answer's choices[0].message.content is not text");
    }
    read_finish(a, c0);
    if (json_is_object(json_object_get(o, "usage"))) read_usage(a, json_object_get(o, "usage"));
    json_decref(o);
}

void mw_probe_answer_finish(mw_probe_answer *a) {
    if (a->raw.failed || a->content.failed || a->event.failed) invalid(a, "out of memory");
    if (!a->stream) {
        finish_json(a);
    } else {
        scan_lines(a, NAN, 1);
        if (a->event.len) on_event(a, NAN); /* the last event without its blank line */
        if (!a->events && a->received && !a->invalid)
            invalid(a, "no server-sent events (data: lines) in the answer");
    }
    mw_buf_put(&a->content, "", 1); /* NUL-terminated for the checks; len counts the text */
    if (!a->content.failed) a->content.len--;
}

/* ---- expectations ---- */

static int same(const char *a, const char *b, size_t n, int icase) {
    return icase ? strncasecmp(a, b, n) == 0 : memcmp(a, b, n) == 0;
}

int mw_probe_expect_holds(const mw_probe_prompt *p, const char *text, size_t len) {
    if (!text) text = "", len = 0;
    switch (p->expect) {
    case MW_PROBE_EXACT: {
        while (len && isspace((unsigned char)*text))
            text++, len--;
        while (len && isspace((unsigned char)text[len - 1]))
            len--;
        size_t n = strlen(p->value);
        return n == len && same(text, p->value, n, p->ignore_case);
    }
    case MW_PROBE_CONTAINS: /* both linear time in glibc (two-way search) */
        if (p->ignore_case) return strcasestr(text, p->value) != NULL;
        return memmem(text, len, p->value, strlen(p->value)) != NULL;
    case MW_PROBE_REGEX:
        return p->has_re && regexec(&p->re, text, 0, NULL, 0) == 0;
    case MW_PROBE_JSON:
        return mw_text_is_json(text, len);
    }
    return 0;
}
