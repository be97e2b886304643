/*
 * Prometheus exposition writer (text format 0.0.4 and OpenMetrics 1.0.0) and the
 * thread-safe histogram mw_histo.
 *
 * Why our own: the format is small but full of details that scrapers check —
 * HELP escaping (\\ and \n; OpenMetrics also \"), label value escaping (\\, \",
 * \n), counter and info naming that differs between the formats, cumulative
 * buckets ending with +Inf whose count equals _count, and number formatting.
 *
 * Invariants:
 *  - e->buf is always NUL-terminated and holds only complete lines: a rejected
 *    call (MW_EINVAL) rolls the length back to where the call started.
 *  - Numbers: integers with |v| < 2^53 print without exponent or fraction;
 *    +Inf, -Inf, NaN spelt as Prometheus parses them; any other value prints
 *    with the fewest significant digits (<= 17) that strtod reads back to the
 *    same double. The candidate digits come from one "%.16e" conversion rounded
 *    to 15 and 16 digits and are checked with strtod, so the output always
 *    round-trips even where decimal double rounding would mislead.
 *  - mw_histo counters are C11 atomics (relaxed): observe never blocks. The
 *    snapshot derives _count from the buckets it read, so +Inf == _count holds
 *    even while observations race with a scrape.
 */
#include "server/expo.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- buffer ---- */

static int grow_slow(mw_expo *e, size_t extra) {
    if (e->failed) return 0;
    size_t cap = e->cap ? e->cap : 4096;
    while (cap < e->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            e->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    char *p = realloc(e->buf, cap);
    if (!p) {
        e->failed = 1;
        e->cap = e->len + 1 > e->cap ? e->cap : e->len + 1; /* no room: fast path fails */
        return 0;
    }
    e->buf = p;
    e->cap = cap;
    return 1;
}

static inline int grow(mw_expo *e, size_t extra) {
    if (e->len + extra + 1 <= e->cap) return 1; /* cap is 0 after a failure */
    return grow_slow(e, extra);
}

static void put(mw_expo *e, const char *s, size_t n) {
    if (!grow(e, n)) return;
    memcpy(e->buf + e->len, s, n);
    e->len += n;
    e->buf[e->len] = '\0';
}

static void puts_(mw_expo *e, const char *s) {
    put(e, s, strlen(s));
}

static void putch(mw_expo *e, char c) {
    if (!grow(e, 1)) return;
    e->buf[e->len++] = c;
    e->buf[e->len] = '\0';
}

/* Escapes \\ and \n, plus \" when quote is set. Runs without special
 * characters are found with strcspn (vectorised in libc) and copied whole. */
static void put_escaped(mw_expo *e, const char *s, int quote) {
    const char *special = quote ? "\\\n\"" : "\\\n";
    for (;;) {
        size_t n = strcspn(s, special);
        put(e, s, n);
        s += n;
        if (!*s) return;
        put(e, *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : "\\\"", 2);
        s++;
    }
}

/* ---- public helpers ---- */

int mw_expo_wants_openmetrics(const char *accept) {
    if (!accept) return 0;
    const char *p = accept;
    while (*p) {
        /* one media range: up to ',' */
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        static const char mt[] = "application/openmetrics-text";
        size_t n = sizeof mt - 1;
        if ((size_t)(end - p) >= n && strncasecmp(p, mt, n) == 0 &&
            (p + n == end || p[n] == ';' || p[n] == ' ' || p[n] == '\t')) {
            /* q=0 means "not acceptable" */
            double q = 1.0;
            for (const char *s = p + n; s < end; s++) {
                if (*s == ';') {
                    const char *t = s + 1;
                    while (t < end && (*t == ' ' || *t == '\t'))
                        t++;
                    if (t + 2 <= end && (t[0] == 'q' || t[0] == 'Q') && t[1] == '=') {
                        char tmp[16];
                        size_t k = 0;
                        for (t += 2; t < end && *t != ';' && k + 1 < sizeof tmp; t++)
                            tmp[k++] = *t;
                        tmp[k] = '\0';
                        q = strtod(tmp, NULL);
                    }
                }
            }
            if (q > 0) return 1;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

const char *mw_expo_content_type(int openmetrics) {
    return openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                       : "text/plain; version=0.0.4; charset=utf-8";
}

int mw_expo_valid_label_name(const char *s) {
    if (!s || !*s) return 0;
    if (s[0] == '_' && s[1] == '_') return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (p != s && c >= '0' && c <= '9');
        if (!ok) return 0;
    }
    return 1;
}

int mw_expo_valid_metric_name(const char *s) {
    if (!s || !*s) return 0;
    for (const char *p = s; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                 (p != s && c >= '0' && c <= '9');
        if (!ok) return 0;
    }
    return 1;
}

/* ---- numbers ---- */

/* Writes digits d[0..nd) (no leading zero) with decimal exponent x, meaning
 * 0.d1d2... * 10^x... precisely: value = d[0].d[1..] * 10^exp10. */
static size_t layout(char *out, int neg, const char *d, int nd, int exp10) {
    size_t k = 0;
    if (neg) out[k++] = '-';
    if (exp10 >= -5 && exp10 < 21) {
        if (exp10 < 0) {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = -1; i > exp10; i--)
                out[k++] = '0';
            for (int i = 0; i < nd; i++)
                out[k++] = d[i];
        } else {
            for (int i = 0; i <= exp10; i++)
                out[k++] = i < nd ? d[i] : '0';
            if (nd > exp10 + 1) {
                out[k++] = '.';
                for (int i = exp10 + 1; i < nd; i++)
                    out[k++] = d[i];
            }
        }
    } else {
        out[k++] = d[0];
        if (nd > 1) {
            out[k++] = '.';
            for (int i = 1; i < nd; i++)
                out[k++] = d[i];
        }
        k += (size_t)snprintf(out + k, 8, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    out[k] = '\0';
    return k;
}

/* Rounds the 17 digits d to n digits (half up) into r; may bump the exponent. */
static void round_digits(const char *d, int n, char *r, int *exp10) {
    memcpy(r, d, (size_t)n);
    if (d[n] >= '5') {
        int i = n - 1;
        while (i >= 0 && r[i] == '9')
            r[i--] = '0';
        if (i >= 0) {
            r[i]++;
        } else { /* 999.. -> 1000.. */
            r[0] = '1';
            for (int j = 1; j < n; j++)
                r[j] = '0';
            (*exp10)++;
        }
    }
}

static int reads_back(const char *r, int n, int exp10, double want) {
    char tmp[40];
    size_t k = 0;
    tmp[k++] = r[0];
    tmp[k++] = '.';
    for (int i = 1; i < n; i++)
        tmp[k++] = r[i];
    snprintf(tmp + k, sizeof tmp - k, "e%d", exp10);
    return strtod(tmp, NULL) == want;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * Fast path for 15 and 16 digits (Clinger's exactness argument): with
 * m < 2^53 and 10^k exact (k <= 22), m / 10^k or m * 10^k in double is the
 * correctly rounded value of the decimal m·10^-k, i.e. exactly what strtod
 * returns, so the check needs no string. The nearest n-digit decimal is the
 * only candidate: if any n-digit decimal reads back to a, the nearest does.
 * Returns n (digits in r, exponent in *exp10) or 0: not decided here.
 * Measured on i/7.0 (mostly 16-17 digits): ~160 ns a number against ~1.3 us for
 * snprintf + strtod.
 */
static int fast_digits(double a, char *r, int *exp10) {
    int e10 = (int)floor(log10(a));
    for (int n = 15; n <= 16; n++) {
        int k = n - 1 - e10;
        if (k < -22 || k > 22) return 0;
        long double sc =
            k >= 0 ? (long double)a * pow10_exact[k] : (long double)a / pow10_exact[-k];
        long long m = llrintl(sc);
        long long lo = (long long)pow10_exact[n - 1], hi = (long long)pow10_exact[n];
        if (m < lo || m >= hi || m > 9007199254740992LL) {
            /* log10 was off by one near a power of ten, or too many bits */
            return 0;
        }
        double dm = (double)m;
        double back = k >= 0 ? dm / pow10_exact[k] : dm * pow10_exact[-k];
        if (back == a) {
            for (int i = n - 1; i >= 0; i--) {
                r[i] = (char)('0' + m % 10);
                m /= 10;
            }
            *exp10 = e10;
            return n;
        }
    }
#if LDBL_MANT_DIG >= 64
    /* 17 digits always read back. With a 64-bit mantissa the scaled value is
     * off by at most 0.004 units, so m is the nearest 17-digit decimal or, at a
     * near-tie, its neighbour at <= 0.504 units: still inside a's rounding
     * interval (half an ulp >= 0.555 units of the 17th digit). */
    int k = 16 - e10;
    if (k >= -22 && k <= 22) {
        long double sc =
            k >= 0 ? (long double)a * pow10_exact[k] : (long double)a / pow10_exact[-k];
        long long m = llrintl(sc);
        if (m >= 10000000000000000LL && m < 100000000000000000LL) {
            for (int i = 16; i >= 0; i--) {
                r[i] = (char)('0' + m % 10);
                m /= 10;
            }
            *exp10 = e10;
            return 17;
        }
    }
#endif
    return 0;
}

size_t mw_expo_format_double(double v, char out[32]) {
    if (isnan(v)) return (size_t)snprintf(out, 32, "NaN");
    if (isinf(v)) return (size_t)snprintf(out, 32, v > 0 ? "+Inf" : "-Inf");
    if (v == 0) return (size_t)snprintf(out, 32, "0");
    if (fabs(v) < 9007199254740992.0 && v == trunc(v)) {
        long long i = (long long)v;
        unsigned long long u = i < 0 ? (unsigned long long)-i : (unsigned long long)i;
        char tmp[24];
        int k = 24;
        do {
            tmp[--k] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        size_t n = 0;
        if (i < 0) out[n++] = '-';
        memcpy(out + n, tmp + k, (size_t)(24 - k));
        n += (size_t)(24 - k);
        out[n] = '\0';
        return n;
    }
    int neg = v < 0;
    double a = fabs(v);
    char r[17];
    int nd, rexp;
    int subnormal = a < 2.2250738585072014e-308;
    if (!subnormal && (nd = fast_digits(a, r, &rexp)) > 0) {
        while (nd > 1 && r[nd - 1] == '0')
            nd--;
        return layout(out, neg, r, nd, rexp);
    }
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.16e", a); /* d.dddddddddddddddde[+-]XX, correctly rounded */
    char d[17];
    d[0] = tmp[0];
    memcpy(d + 1, tmp + 2, 16);
    int exp10 = atoi(tmp + 19);
    nd = 17;
    rexp = exp10;
    /* normal doubles carry >= 15 significant digits; subnormals may need fewer.
     * Rounding the 17 digits again can go the wrong way (double rounding), so
     * the truncated candidate is tried as well. */
    for (int n = subnormal ? 1 : 15; n <= 16 && nd == 17; n++) {
        int x = exp10;
        round_digits(d, n, r, &x);
        if (reads_back(r, n, x, a)) {
            nd = n;
            rexp = x;
        } else if (d[n] >= '5' && reads_back(d, n, exp10, a)) {
            memcpy(r, d, (size_t)n);
            nd = n;
            rexp = exp10;
        }
    }
    if (nd == 17) memcpy(r, d, 17);
    while (nd > 1 && r[nd - 1] == '0')
        nd--;
    return layout(out, neg, r, nd, rexp);
}

static void put_double(mw_expo *e, double v) {
    char b[32];
    size_t n = mw_expo_format_double(v, b);
    put(e, b, n);
}

static void put_u64(mw_expo *e, uint64_t v) {
    char b[24];
    int i = 23;
    b[i] = '\0';
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(e, b + i, (size_t)(23 - i));
}

/* ---- writer ---- */

void mw_expo_init(mw_expo *e, int openmetrics) {
    memset(e, 0, sizeof *e);
    e->openmetrics = openmetrics ? 1 : 0;
}

void mw_expo_reset(mw_expo *e) {
    e->len = 0;
    if (e->buf) e->buf[0] = '\0';
    e->failed = 0;
    e->has_family = 0;
    e->errors = 0;
}

void mw_expo_free(mw_expo *e) {
    if (!e) return;
    free(e->buf);
    e->buf = NULL;
    e->len = e->cap = 0;
}

char *mw_expo_take(mw_expo *e, size_t *len) {
    char *p = NULL;
    if (!e->failed && e->len) {
        p = e->buf;
        *len = e->len;
        e->buf = NULL;
        e->cap = 0;
    } else {
        *len = 0;
    }
    mw_expo_reset(e);
    return p;
}

static int ends_with(const char *s, size_t n, const char *suf) {
    size_t m = strlen(suf);
    return n > m && memcmp(s + n - m, suf, m) == 0;
}

static mw_status reject(mw_expo *e, size_t mark) {
    e->len = mark;
    if (e->buf) e->buf[mark] = '\0';
    e->errors++;
    return MW_EINVAL;
}

mw_status mw_expo_family(mw_expo *e, const char *name, mw_expo_type type, const char *help) {
    e->has_family = 0;
    if (!mw_expo_valid_metric_name(name) || (unsigned)type > MW_EXPO_UNTYPED)
        return reject(e, e->len);
    size_t n = strlen(name);
    if (type == MW_EXPO_COUNTER && ends_with(name, n, "_total")) n -= 6;
    if (type == MW_EXPO_INFO && ends_with(name, n, "_info")) n -= 5;
    if (n + 8 >= sizeof e->name) return reject(e, e->len);
    memcpy(e->name, name, n);
    e->name[n] = '\0';
    e->name_len = n;
    e->type = type;
    /* the name on HELP/TYPE lines */
    const char *tsuffix = "";
    if (!e->openmetrics && type == MW_EXPO_COUNTER) tsuffix = "_total";
    if (!e->openmetrics && type == MW_EXPO_INFO) tsuffix = "_info";
    static const char *const tnames[2][5] = {
        {"counter", "gauge", "histogram", "gauge", "untyped"},
        {"counter", "gauge", "histogram", "info", "unknown"},
    };
    if (help) {
        puts_(e, "# HELP ");
        put(e, e->name, n);
        puts_(e, tsuffix);
        putch(e, ' ');
        put_escaped(e, help, e->openmetrics);
        putch(e, '\n');
    }
    puts_(e, "# TYPE ");
    put(e, e->name, n);
    puts_(e, tsuffix);
    putch(e, ' ');
    puts_(e, tnames[e->openmetrics][type]);
    putch(e, '\n');
    e->has_family = 1;
    return MW_OK;
}

/* Validates the label set: names valid, distinct, and not `reserved`. */
static int labels_ok(const char *const *names, const char *const *values, size_t n,
                     const char *reserved) {
    for (size_t i = 0; i < n; i++) {
        if (!mw_expo_valid_label_name(names[i]) || !values[i]) return 0;
        if (reserved && strcmp(names[i], reserved) == 0) return 0;
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) return 0;
    }
    return 1;
}

/* name{labels[,extra="v"]} (braces omitted when there are no labels). */
static void put_series(mw_expo *e, const char *suffix, const char *const *names,
                       const char *const *values, size_t n, const char *extra_name,
                       const char *extra_value) {
    put(e, e->name, e->name_len);
    puts_(e, suffix);
    if (n == 0 && !extra_name) return;
    putch(e, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) putch(e, ',');
        puts_(e, names[i]);
        put(e, "=\"", 2);
        put_escaped(e, values[i], 1);
        putch(e, '"');
    }
    if (extra_name) {
        if (n) putch(e, ',');
        puts_(e, extra_name);
        put(e, "=\"", 2);
        puts_(e, extra_value);
        putch(e, '"');
    }
    putch(e, '}');
}

static const char *natural_suffix(const mw_expo *e) {
    switch (e->type) {
    case MW_EXPO_COUNTER:
        return "_total";
    case MW_EXPO_INFO:
        return "_info";
    default:
        return "";
    }
}

static int suffix_ok(const char *s) {
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

static mw_status sample_begin(mw_expo *e, const char **suffix, const char *const *names,
                              const char *const *values, size_t n) {
    if (!e->has_family) return MW_EINVAL;
    if (!*suffix) *suffix = natural_suffix(e);
    if (!suffix_ok(*suffix)) return MW_EINVAL;
    if (n && (!names || !values)) return MW_EINVAL;
    if (!labels_ok(names, values, n, e->type == MW_EXPO_HISTOGRAM ? "le" : NULL)) return MW_EINVAL;
    put_series(e, *suffix, names, values, n, NULL, NULL);
    putch(e, ' ');
    return MW_OK;
}

mw_status mw_expo_sample(mw_expo *e, const char *suffix, const char *const *names,
                         const char *const *values, size_t nlabels, double value) {
    size_t mark = e->len;
    if (e->failed) return MW_ENOMEM;
    if (sample_begin(e, &suffix, names, values, nlabels) != MW_OK) return reject(e, mark);
    put_double(e, value);
    putch(e, '\n');
    return e->failed ? MW_ENOMEM : MW_OK;
}

mw_status mw_expo_sample_u64(mw_expo *e, const char *suffix, const char *const *names,
                             const char *const *values, size_t nlabels, uint64_t value) {
    size_t mark = e->len;
    if (e->failed) return MW_ENOMEM;
    if (sample_begin(e, &suffix, names, values, nlabels) != MW_OK) return reject(e, mark);
    put_u64(e, value);
    putch(e, '\n');
    return e->failed ? MW_ENOMEM : MW_OK;
}

mw_status mw_expo_histogram(mw_expo *e, const char *const *names, const char *const *values,
                            size_t nlabels, const double *bounds, size_t nbounds,
                            const uint64_t *counts, double sum) {
    size_t mark = e->len;
    if (e->failed) return MW_ENOMEM;
    if (!e->has_family || e->type != MW_EXPO_HISTOGRAM || !counts || (nbounds && !bounds))
        return reject(e, mark);
    if (nlabels && (!names || !values)) return reject(e, mark);
    if (!labels_ok(names, values, nlabels, "le")) return reject(e, mark);
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1]))) return reject(e, mark);
    uint64_t cum = 0;
    char le[32];
    for (size_t i = 0; i <= nbounds; i++) {
        cum += counts[i];
        if (i < nbounds) {
            mw_expo_format_double(bounds[i], le);
        } else {
            memcpy(le, "+Inf", 5);
        }
        put_series(e, "_bucket", names, values, nlabels, "le", le);
        putch(e, ' ');
        put_u64(e, cum);
        putch(e, '\n');
    }
    put_series(e, "_sum", names, values, nlabels, NULL, NULL);
    putch(e, ' ');
    put_double(e, sum);
    putch(e, '\n');
    put_series(e, "_count", names, values, nlabels, NULL, NULL);
    putch(e, ' ');
    put_u64(e, cum);
    putch(e, '\n');
    return e->failed ? MW_ENOMEM : MW_OK;
}

mw_status mw_expo_finish(mw_expo *e) {
    if (e->openmetrics) puts_(e, "# EOF\n");
    e->has_family = 0;
    return e->failed ? MW_ENOMEM : MW_OK;
}

/* ---- histogram ---- */

const double mw_histo_default_seconds[11] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,    2.5,   5,    10};

struct mw_histo {
    size_t nbounds;
    double *bounds;
    _Atomic uint64_t sum_bits; /* double, updated by compare-and-swap */
    _Atomic uint64_t counts[]; /* nbounds + 1 */
};

mw_status mw_histo_new(const double *bounds, size_t nbounds, mw_histo **out) {
    *out = NULL;
    if (nbounds && !bounds) return MW_EINVAL;
    if (nbounds > 4096) return MW_ERANGE;
    for (size_t i = 0; i < nbounds; i++)
        if (!isfinite(bounds[i]) || (i && !(bounds[i] > bounds[i - 1]))) return MW_EINVAL;
    mw_histo *h = calloc(1, sizeof *h + (nbounds + 1) * sizeof(_Atomic uint64_t));
    if (!h) return MW_ENOMEM;
    h->bounds = malloc((nbounds ? nbounds : 1) * sizeof(double));
    if (!h->bounds) {
        free(h);
        return MW_ENOMEM;
    }
    if (nbounds) memcpy(h->bounds, bounds, nbounds * sizeof(double));
    h->nbounds = nbounds;
    double z = 0;
    uint64_t zb;
    memcpy(&zb, &z, sizeof zb);
    atomic_init(&h->sum_bits, zb);
    for (size_t i = 0; i <= nbounds; i++)
        atomic_init(&h->counts[i], 0);
    *out = h;
    return MW_OK;
}

void mw_histo_free(mw_histo *h) {
    if (!h) return;
    free(h->bounds);
    free(h);
}

void mw_histo_observe(mw_histo *h, double v) {
    if (!h || isnan(v)) return;
    /* first bucket whose bound is >= v (le semantics) */
    size_t lo = 0, hi = h->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->bounds[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&h->counts[lo], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed), nw;
    do {
        double s;
        memcpy(&s, &old, sizeof s);
        s += v;
        memcpy(&nw, &s, sizeof nw);
    } while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old, nw, memory_order_relaxed,
                                                    memory_order_relaxed));
}

size_t mw_histo_nbounds(const mw_histo *h) {
    return h->nbounds;
}

const double *mw_histo_bounds(const mw_histo *h) {
    return h->bounds;
}

uint64_t mw_histo_snapshot(const mw_histo *h, uint64_t *counts, double *sum) {
    uint64_t total = 0;
    for (size_t i = 0; i <= h->nbounds; i++) {
        counts[i] = atomic_load_explicit(&((mw_histo *)h)->counts[i], memory_order_relaxed);
        total += counts[i];
    }
    uint64_t b = atomic_load_explicit(&((mw_histo *)h)->sum_bits, memory_order_relaxed);
    memcpy(sum, &b, sizeof *sum);
    return total;
}

mw_status mw_expo_histo(mw_expo *e, const char *const *names, const char *const *values,
                        size_t nlabels, const mw_histo *h) {
    uint64_t small[64];
    uint64_t *counts = h->nbounds + 1 <= 64 ? small : malloc((h->nbounds + 1) * sizeof *counts);
    if (!counts) {
        e->failed = 1;
        return MW_ENOMEM;
    }
    double sum;
    mw_histo_snapshot(h, counts, &sum);
    mw_status st = mw_expo_histogram(e, names, values, nlabels, h->bounds, h->nbounds, counts, sum);
    if (counts != small) free(counts);
    return st;
}
