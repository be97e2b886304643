/*
 * Personal-data indicators in text (text.h): e-mail addresses, URLs, IPv4
 * addresses, card-like numbers (Luhn) and phone numbers, counted with the
 * exact definitions of text.h, and the spans of the first four for
 * redaction (redact.c): one set of matchers serves both. Each scan jumps to
 * its candidates ('@', "://", "www.", digits) instead of running a regular
 * expression over every byte.
 */
#include "text/text_int.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Where a scan can start: a digit or '+' (numbers), 'h' or 'w' (URLs). */
enum { NUMBER_START, URL_START };

static inline int is_start(unsigned char c, int cls) {
    return cls == NUMBER_START ? mw_text_digit(c) || c == '+' : c == 'h' || c == 'w';
}

/* The first position >= i whose byte can start a match of class cls (len
 * when none): 16 bytes at a time, so that text without candidates costs a
 * compare per 16 bytes instead of a test per byte. */
static size_t next_start(const unsigned char *s, size_t len, size_t i, int cls) {
#ifdef __SSE2__
    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i)), hit;
        if (cls == NUMBER_START)
            hit = _mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                             _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1))),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
        else
            hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('h')),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8('w')));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return i + (unsigned)__builtin_ctz(m);
    }
#endif
    for (; i < len; i++)
        if (is_start(s[i], cls)) return i;
    return len;
}

static int local_char(unsigned char c) {
    return mw_text_alpha(c) || mw_text_digit(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
           c == '-';
}

static int domain_char(unsigned char c) {
    return mw_text_alpha(c) || mw_text_digit(c) || c == '.' || c == '-';
}

/* [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}, non-overlapping; each
 * match [l, end) goes to fn. */
static void emails(const unsigned char *s, size_t len, mw_pii_fn fn, void *ctx) {
    size_t from = 0; /* the end of the last match: matches do not overlap */
    const unsigned char *at;
    while (from < len && (at = memchr(s + from, '@', len - from))) {
        size_t a = (size_t)(at - s), l = a, e = a + 1;
        while (l > from && local_char(s[l - 1]))
            l--;
        while (e < len && domain_char(s[e]))
            e++;
        size_t end = 0;
        /* the regex backtracks to the last dot with two letters after it, in
         * the domain run, with at least one domain character before it */
        for (size_t q = e; l < a && q-- > a + 2;)
            if (s[q] == '.' && q + 2 < e && mw_text_alpha(s[q + 1]) && mw_text_alpha(s[q + 2])) {
                end = q + 1;
                while (end < e && mw_text_alpha(s[end]))
                    end++;
                break;
            }
        if (end) {
            fn(MW_PII_EMAIL, l, end, ctx);
            from = end;
        } else {
            from = a + 1;
        }
    }
}

static int space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* https?://\S+ | www\.\S+ */
static uint32_t urls(const unsigned char *s, size_t len) {
    uint32_t n = 0;
    for (size_t i = next_start(s, len, 0, URL_START); i < len;) {
        size_t m = 0;
        if (s[i] == 'h' && len - i >= 8 && !memcmp(s + i, "http", 4)) {
            size_t k = i + 4 + (s[i + 4] == 's');
            if (len - k > 3 && !memcmp(s + k, "://", 3) && !space(s[k + 3])) m = k + 3;
        } else if (s[i] == 'w' && len - i > 4 && !memcmp(s + i, "www.", 4) && !space(s[i + 4])) {
            m = i + 4;
        }
        if (!m) {
            i = next_start(s, len, i + 1, URL_START);
            continue;
        }
        while (m < len && !space(s[m]))
            m++;
        n++;
        i = next_start(s, len, m, URL_START);
    }
    return n;
}

/* An IPv4 address starting at i (not preceded by a digit or dot); its end, or 0. */
static size_t ipv4_at(const unsigned char *s, size_t len, size_t i) {
    if (i && (mw_text_digit(s[i - 1]) || s[i - 1] == '.')) return 0;
    for (int g = 0; g < 4; g++) {
        if (g) {
            if (i >= len || s[i] != '.') return 0;
            i++;
        }
        unsigned v = 0, d = 0;
        while (i < len && mw_text_digit(s[i]) && d < 4)
            v = v * 10 + (s[i++] - '0'), d++;
        if (d == 0 || d > 3 || v > 255) return 0;
    }
    if (i < len && mw_text_digit(s[i])) return 0;
    if (i + 1 < len && s[i] == '.' && mw_text_digit(s[i + 1])) return 0;
    return i;
}

/* Luhn check of the digits of s[a..b). */
static int luhn(const unsigned char *s, size_t a, size_t b) {
    unsigned sum = 0, k = 0;
    for (size_t i = b; i-- > a;) {
        if (!mw_text_digit(s[i])) continue;
        unsigned d = s[i] - '0';
        if (k++ & 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0;
}

/* The card run from i (a digit not preceded by one): digits with single
 * spaces or hyphens between them; its end and digit count. */
static size_t card_run(const unsigned char *s, size_t len, size_t i, unsigned *digits) {
    size_t end = i;
    *digits = 0;
    while (i < len && mw_text_digit(s[i])) {
        (*digits)++;
        end = ++i;
        if (i + 1 < len && (s[i] == ' ' || s[i] == '-') && mw_text_digit(s[i + 1])) i++;
    }
    return end;
}

static int phone_sep(unsigned char c) {
    return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')';
}

/* The phone run from i ("+" or a digit): digits with up to two separators
 * between them; its end and digit count. */
static size_t phone_run(const unsigned char *s, size_t len, size_t i, unsigned *digits) {
    size_t end = i;
    *digits = 0;
    if (s[i] == '+') i++;
    while (i < len && mw_text_digit(s[i])) {
        (*digits)++;
        end = ++i;
        size_t k = i;
        while (k < len && k - i < 2 && phone_sep(s[k]))
            k++;
        if (k > i && k < len && mw_text_digit(s[k])) i = k;
    }
    return end;
}

/* IPv4 addresses, cards and phones, each match [start, end) to fn. */
static void numbers(const unsigned char *s, size_t len, mw_pii_fn fn, void *ctx) {
    for (size_t i = next_start(s, len, 0, NUMBER_START); i < len;) {
        unsigned char c = s[i];
        int start =
            (mw_text_digit(c) || (c == '+' && i + 1 < len && mw_text_digit(s[i + 1]))) &&
            (i == 0 || !(mw_text_digit(s[i - 1]) || mw_text_alpha(s[i - 1]) || s[i - 1] == '.'));
        if (!start) {
            i = next_start(s, len, i + 1, NUMBER_START);
            continue;
        }
        size_t ip = c == '+' ? 0 : ipv4_at(s, len, i);
        if (ip) {
            fn(MW_PII_IP, i, ip, ctx);
            i = next_start(s, len, ip, NUMBER_START);
            continue;
        }
        unsigned cd = 0, pd;
        size_t ce = c == '+' ? i : card_run(s, len, i, &cd);
        int card = cd >= 13 && cd <= 19 && luhn(s, i, ce);
        size_t pe = phone_run(s, len, i, &pd);
        if (card)
            fn(MW_PII_CARD, i, ce, ctx);
        else if (pd >= 10 && pd <= 15 && !(pd >= 13 && luhn(s, i, pe)))
            fn(MW_PII_PHONE, i, pe, ctx);
        i = ce > pe ? ce : pe;
        while (i < len && mw_text_digit(s[i]))
            i++; /* never restart inside a digit run */
        i = next_start(s, len, i, NUMBER_START);
    }
}

static void count(mw_pii_kind kind, size_t a, size_t b, void *ctx) {
    mw_text_descriptors *out = ctx;
    (void)a, (void)b;
    switch (kind) {
    case MW_PII_EMAIL:
        out->emails++;
        break;
    case MW_PII_IP:
        out->ips++;
        break;
    case MW_PII_CARD:
        out->cards++;
        break;
    case MW_PII_PHONE:
        out->phones++;
        break;
    }
}

void mw_text_scan_pii(const unsigned char *s, size_t len, mw_text_descriptors *out) {
    out->emails = out->ips = out->cards = out->phones = 0;
    emails(s, len, count, out);
    out->urls = urls(s, len);
    numbers(s, len, count, out);
}

void mw_text_each_pii(const unsigned char *s, size_t len, mw_pii_fn fn, void *ctx) {
    emails(s, len, fn, ctx);
    numbers(s, len, fn, ctx);
}
