/*
 * A small OpenAI-compatible chat completions server for the probe tests,
 * on loopback, with libmicrohttpd (one thread per connection, so that a
 * connection made to wait or hang holds up no other).
 *
 *   fake_openai [--ttft-ms N] [--delay-ms N] [--api-key KEY]
 *
 * prints "port N" on standard output once it listens on 127.0.0.1:N, and
 * runs until SIGTERM or SIGINT.
 *
 * POST .../chat/completions with {"model", "messages", "stream",
 * "stream_options": {"include_usage"}} answers deterministically: the text
 * is what follows "say " in the last user message ("say Paris" -> "Paris"),
 * or "I do not know." otherwise. Usage: prompt_tokens = the number of
 * white-space separated words in all messages, completion_tokens = the
 * number of 4-byte pieces of the text (a stream sends one piece per chunk).
 * A stream waits --ttft-ms before the first piece and --delay-ms between
 * pieces, sends a role chunk first, a finish_reason chunk, the usage chunk
 * when include_usage is true ("usage": null on the others, as OpenAI does),
 * then "data: [DONE]".
 *
 * The model name picks a misbehaviour: "hang" (never answers), "stall"
 * (stream: the role chunk, then nothing), "garbage" (200 with a body that
 * is not JSON, or events that are not), "error500" (500 with an OpenAI error
 * body), "truncated" (a stream that stops before [DONE]; a body cut short),
 * "big" (an answer of 5 MiB). Anything else behaves.
 *
 * With --api-key every request needs "Authorization: Bearer KEY" (401
 * otherwise). GET /stats answers {"requests": n, "unauthorized": m}.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long ttft_ms = 0, delay_ms = 0;
static const char *api_key = NULL;
static atomic_int requests, unauthorized;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- what to answer ---- */

typedef struct reply {
    char *text;
    int prompt_tokens, pieces;
    int stream, usage;
    char model[32];
} reply;

static int words(const char *s) {
    int n = 0, in = 0;
    for (; *s; s++) {
        int sp = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

static int plan(const char *body, size_t len, reply *r) {
    memset(r, 0, sizeof *r);
    json_t *o = json_loadb(body, len, 0, NULL);
    json_t *msgs = json_object_get(o, "messages");
    if (!json_is_array(msgs)) {
        json_decref(o);
        return 0;
    }
    const char *model = json_string_value(json_object_get(o, "model"));
    snprintf(r->model, sizeof r->model, "%s", model ? model : "");
    r->stream = json_is_true(json_object_get(o, "stream"));
    r->usage = json_is_true(json_object_get(json_object_get(o, "stream_options"), "include_usage"));
    const char *last = "";
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        const char *c = json_string_value(json_object_get(m, "content"));
        const char *role = json_string_value(json_object_get(m, "role"));
        if (!c) continue;
        r->prompt_tokens += words(c);
        if (role && !strcmp(role, "user")) last = c;
    }
    r->text = strdup(strncmp(last, "say ", 4) ? "I do not know." : last + 4);
    r->pieces = (int)((strlen(r->text) + 3) / 4);
    json_decref(o);
    return 1;
}

/* ---- non-streaming ---- */

static char *completion_json(const reply *r) {
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i, s:i}}", "id",
                  "chatcmpl-fake", "object", "chat.completion", "model", r->model, "choices",
                  "index", 0, "message", "role", "assistant", "content", r->text, "finish_reason",
                  "stop", "usage", "prompt_tokens", r->prompt_tokens, "completion_tokens",
                  r->pieces, "total_tokens", r->prompt_tokens + r->pieces);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* ---- streaming: one event per reader call ---- */

typedef struct stream {
    reply r;
    int next;      /* the next event: 0 role, 1..pieces, then finish, usage, done */
    char *pending; /* the event being sent */
    size_t off;
    int ended;
} stream;

static char *event(json_t *chunk) {
    char *data = json_dumps(chunk, JSON_COMPACT);
    json_decref(chunk);
    char *ev = malloc(strlen(data) + 16);
    sprintf(ev, "data: %s\n\n", data);
    free(data);
    return ev;
}

static json_t *chunk(const stream *s, json_t *delta, const char *finish) {
    json_t *c = json_pack("{s:s, s:s, s:s, s:[{s:i, s:o, s:s?}]}", "id", "chatcmpl-fake", "object",
                          "chat.completion.chunk", "model", s->r.model, "choices", "index", 0,
                          "delta", delta, "finish_reason", finish);
    if (s->r.usage) json_object_set_new(c, "usage", json_null());
    return c;
}

/* The next event, or NULL at the end. */
static char *next_event(stream *s) {
    const char *m = s->r.model;
    int k = s->next++;
    if (!strcmp(m, "garbage")) return k == 0 ? strdup("data: {\"choices\": [ not json\n\n") : NULL;
    if (k == 0)
        return event(chunk(s, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL));
    if (!strcmp(m, "stall")) {
        sleep_ms(120000);
        return NULL;
    }
    if (!strcmp(m, "truncated") && k > 1) return NULL; /* one piece, then the end */
    if (k <= s->r.pieces) {
        sleep_ms(k == 1 ? ttft_ms : delay_ms);
        const char *rest = s->r.text + (k - 1) * 4;
        char piece[5] = {0};
        memcpy(piece, rest, strlen(rest) < 4 ? strlen(rest) : 4);
        return event(chunk(s, json_pack("{s:s}", "content", piece), NULL));
    }
    k -= s->r.pieces + 1;
    if (k == 0) return event(chunk(s, json_object(), "stop"));
    if (k == 1 && s->r.usage)
        return event(json_pack("{s:s, s:s, s:[], s:{s:i, s:i, s:i}}", "id", "chatcmpl-fake",
                               "object", "chat.completion.chunk", "choices", "usage",
                               "prompt_tokens", s->r.prompt_tokens, "completion_tokens",
                               s->r.pieces, "total_tokens", s->r.prompt_tokens + s->r.pieces));
    if (k <= 2) {
        s->next = s->r.pieces + 4;
        return strdup("data: [DONE]\n\n");
    }
    return NULL;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    stream *s = cls;
    if (!s->pending) {
        if (s->ended || !(s->pending = next_event(s))) {
            s->ended = 1;
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        s->off = 0;
    }
    size_t n = strlen(s->pending + s->off);
    if (n > max) n = max;
    memcpy(buf, s->pending + s->off, n);
    s->off += n;
    if (!s->pending[s->off]) {
        free(s->pending);
        s->pending = NULL;
    }
    return (ssize_t)n;
}

static void free_stream(void *cls) {
    stream *s = cls;
    free(s->pending);
    free(s->r.text);
    free(s);
}

/* A body of declared length whose second half never comes. */
static ssize_t read_cut(void *cls, uint64_t pos, char *buf, size_t max) {
    const char *body = cls;
    size_t half = strlen(body) / 2;
    if (pos >= half) return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = half - pos < max ? half - (size_t)pos : max;
    memcpy(buf, body + pos, n);
    return (ssize_t)n;
}

/* ---- the handler ---- */

typedef struct upload {
    char *data;
    size_t len;
} upload;

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *ctype,
                                 const char *text) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer(struct MHD_Connection *c, const reply *r) {
    const char *m = r->model;
    if (!strcmp(m, "hang")) {
        sleep_ms(120000);
        return MHD_NO;
    }
    if (!strcmp(m, "error500"))
        return send_text(
            c, 500, "application/json",
            "{\"error\":{\"message\":\"the model crashed\",\"type\":\"server_error\"}}");
    if (!strcmp(m, "big")) {
        size_t n = 5u << 20;
        char *big = malloc(n + 1);
        memset(big, 'x', n);
        big[n] = 0;
        enum MHD_Result ret = send_text(c, 200, "application/json", big);
        free(big);
        return ret;
    }
    if (r->stream) {
        stream *s = calloc(1, sizeof *s);
        s->r = *r;
        s->r.text = strdup(r->text);
        struct MHD_Response *resp =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_stream, s, free_stream);
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        enum MHD_Result ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (!strcmp(m, "garbage")) return send_text(c, 200, "application/json", "<html>oops</html>");
    char *body = completion_json(r);
    if (!strcmp(m, "truncated")) {
        struct MHD_Response *resp =
            MHD_create_response_from_callback(strlen(body), 4096, read_cut, body, free);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    enum MHD_Result ret = send_text(c, 200, "application/json", body);
    free(body);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state) {
    (void)cls, (void)version;
    upload *u = *state;
    if (!u) {
        *state = calloc(1, sizeof *u);
        return MHD_YES;
    }
    if (*size) {
        u->data = realloc(u->data, u->len + *size + 1);
        memcpy(u->data + u->len, data, *size);
        u->len += *size;
        u->data[u->len] = 0;
        *size = 0;
        return MHD_YES;
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/stats")) {
        char s[96];
        snprintf(s, sizeof s, "{\"requests\":%d,\"unauthorized\":%d}", atomic_load(&requests),
                 atomic_load(&unauthorized));
        return send_text(c, 200, "application/json", s);
    }
    size_t ul = strlen(url);
    if (strcmp(method, "POST") || ul < 17 || strcmp(url + ul - 17, "/chat/completions"))
        return send_text(c, 404, "application/json", "{\"error\":{\"message\":\"not found\"}}");
    atomic_fetch_add(&requests, 1);
    if (api_key) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        char want[300];
        snprintf(want, sizeof want, "Bearer %s", api_key);
        if (!auth || strcmp(auth, want)) {
            atomic_fetch_add(&unauthorized, 1);
            return send_text(c, 401, "application/json",
                             "{\"error\":{\"message\":\"invalid API key\"}}");
        }
    }
    reply r;
    if (!plan(u->data ? u->data : "", u->len, &r))
        return send_text(c, 400, "application/json",
                         "{\"error\":{\"message\":\"expected {model, messages}\"}}");
    enum MHD_Result ret = answer(c, &r);
    free(r.text);
    return ret;
}

static void done(void *cls, struct MHD_Connection *c, void **state,
                 enum MHD_RequestTerminationCode code) {
    (void)cls, (void)c, (void)code;
    upload *u = *state;
    if (u) free(u->data);
    free(u);
    *state = NULL;
}

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--ttft-ms"))
            ttft_ms = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--delay-ms"))
            delay_ms = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--api-key"))
            api_key = argv[i + 1];
        else {
            fprintf(stderr, "fake_openai: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sockaddr_in addr = {
        .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED, done,
        NULL, MHD_OPTION_CONNECTION_TIMEOUT, 600u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake_openai: cannot start\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? info->port : 0);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    _exit(0); /* connections may sleep in a misbehaviour: do not wait for them */
}
