/*
 * libFuzzer target: reading a chat completions answer (probe_response.c),
 * streamed or not. The first byte picks the mode and a chunk size; the rest
 * is the answer. Fed in chunks of that size it must give exactly what it
 * gives fed in one block (server-sent events do not depend on how the bytes
 * arrive: a CR at the end of a chunk waits for a possible LF), never read
 * out of bounds, and the text it collects must be judged by every kind of
 * expectation without a fault.
 */
#include "server/probes_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void read_all(const unsigned char *data, size_t size, int stream, size_t chunk,
                     mw_probe_answer *a) {
    mw_probe_answer_init(a, stream);
    for (size_t i = 0; i < size; i += chunk) {
        size_t n = size - i < chunk ? size - i : chunk;
        if (mw_probe_answer_feed(a, (const char *)data + i, n, 1.0) != 0) abort();
    }
    mw_probe_answer_finish(a);
}

static void judge(const mw_probe_answer *a) {
    static mw_probe_prompt p[4];
    static int ready;
    if (!ready) {
        p[0] = (mw_probe_prompt){.expect = MW_PROBE_EXACT, .value = "Paris"};
        p[1] = (mw_probe_prompt){.expect = MW_PROBE_CONTAINS, .value = "ari", .ignore_case = 1};
        p[2] = (mw_probe_prompt){.expect = MW_PROBE_REGEX, .value = "^[0-9]+(\\.[0-9]*)?$"};
        p[3] = (mw_probe_prompt){.expect = MW_PROBE_JSON};
        if (regcomp(&p[2].re, p[2].value, REG_EXTENDED | REG_NOSUB)) abort();
        p[2].has_re = 1;
        ready = 1;
    }
    for (int i = 0; i < 4; i++)
        (void)mw_probe_expect_holds(&p[i], (const char *)a->content.data, a->content.len);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 1 || size > 65536) return 0;
    int stream = data[0] & 1;
    size_t chunk = 1 + (data[0] >> 1) % 16;
    mw_probe_answer whole, parts;
    read_all(data + 1, size - 1, stream, size, &whole);
    read_all(data + 1, size - 1, stream, chunk, &parts);
    if (whole.content.len != parts.content.len ||
        (whole.content.len && memcmp(whole.content.data, parts.content.data, whole.content.len)) ||
        whole.done != parts.done || whole.invalid != parts.invalid ||
        whole.events != parts.events || isnan(whole.ttft_s) != isnan(parts.ttft_s) ||
        strcmp(whole.finish_reason, parts.finish_reason) ||
        !(whole.input_tokens == parts.input_tokens ||
          (isnan(whole.input_tokens) && isnan(parts.input_tokens))))
        abort();
    if (whole.content.len > size) abort();
    judge(&whole);
    mw_probe_answer_free(&whole);
    mw_probe_answer_free(&parts);
    return 0;
}
