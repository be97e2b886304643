/*
 * The journal of accepted record batches, as append-only files beside the
 * database: one file per (model, version) in the directory "<db>-records/".
 *
 * Why files: each acknowledged POST appends one batch (~150 KB for 1,000
 * records) before the answer. As an SQLite row that append was the longest
 * serial step of ingestion: SQLite formats the blob into overflow pages, writes
 * them to the WAL, and a checkpoint later copies every page into the database
 * file (each byte written twice, with the store's single connection mutex held
 * throughout). Measured on the ingestion benchmark (2 cores, 4 connections):
 * ~0.65 ms of SQLite per batch under the version's journal lock and
 * checkpoints of up to ~145 ms; with appends switched off the daemon went from
 * ~560k to ~830k records/s. A file append is one pwritev() of the batch into the
 * page cache (~30-60 us for 150 KB), outside the SQLite mutex.
 *
 * Durability is SQLite's with synchronous=NORMAL: a returned append is in the
 * page cache, so it survives the process being killed (kill -9), not power
 * loss; with synchronous_full each append is followed by fdatasync (and a new
 * file by an fsync of the directory).
 *
 * File: a header "MWJ1", u32 format (1), u32 model length, u32 version length,
 * the two names (a file name is a hash of the names; the header proves whose
 * file it is). Then frames: u32 magic "MWJF", u32 payload length, i64 seq, the
 * payload, u64 check = mw_data_hash64(payload, seed seq ^ length). A frame that
 * is cut short or fails its check ends the file: it can only be the tail of an
 * append that never returned (the process died inside write), so the file is
 * truncated there when it is next opened.
 *
 * Seqs come from one counter per store, above SQLite's journal rowids and every
 * stored mark, so a version's frames are always newer than the rows an older
 * build left in the journal table (replayed first) and than its mark. Which
 * frames a closed window covered is the version's mark in journal_marks,
 * written in the window's transaction (store_journal.c); after that commit the
 * file is truncated back to its header when every frame in it is covered, so
 * a file holds about one window of traffic. A crash between the commit and the
 * truncation leaves covered frames that replay skips by the mark.
 *
 * Threads: the list of files has its own mutex (held for lookups and for
 * opening a file); each file has a mutex held for an append, a scan, a
 * truncation. None of them is the SQLite mutex, so appends to different
 * versions, and an append and an SQLite call, run at the same time.
 * Only one process may use a database's journal files (the daemon): each
 * open file holds an exclusive flock, and a second process gets an error
 * saying so instead of interleaving its frames with ours.
 */
#include "store_int.h"

#include "data/data_int.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FILE_MAGIC "MWJ1"
#define FILE_FORMAT 1u
#define FILE_HEAD 16            /* magic, format, the names' lengths; then the names */
#define FRAME_MAGIC 0x464A574Du /* "MWJF" little-endian */
#define FRAME_HEAD 16           /* magic, length, seq */
#define FRAME_TAIL 8            /* check */

struct mw_jfile {
    struct mw_jfile *next;
    char *model, *version;
    char *path;
    int fd;           /* -1 until opened (again, after a removal) */
    uint64_t head;    /* bytes of the file header */
    uint64_t size;    /* bytes of whole frames after it, plus head */
    int64_t last_seq; /* newest frame's seq, 0 when none */
    pthread_mutex_t mu;
};

static uint64_t frame_check(const void *payload, uint32_t len, int64_t seq) {
    return mw_data_hash64(payload, len, (uint64_t)seq ^ len);
}

static mw_status io_error(const mw_jfile *jf, const char *what, mw_error *err) {
    return mw_error_set(err, MW_EIO, jf->path, 0, 0, "journal of %s/%s: %s: %s", jf->model,
                        jf->version, what, strerror(errno));
}

/* Writes all of iov at off (pwritev may write less than asked). */
static int write_all_at(int fd, struct iovec *iov, int n, off_t off) {
    while (n > 0) {
        ssize_t w = pwritev(fd, iov, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { /* (0: no progress, which a regular file does not do; not a loop) */
            if (w == 0) errno = EIO;
            return -1;
        }
        off += w;
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

static int read_all_at(int fd, void *buf, size_t len, off_t off) {
    while (len > 0) {
        ssize_t r = pread(fd, buf, len, off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        buf = (char *)buf + r;
        len -= (size_t)r;
        off += r;
    }
    return 0;
}

/* Raises the store's seq counter to at least seq. */
static void seq_at_least(mw_store *s, int64_t seq) {
    int64_t cur = __atomic_load_n(&s->jseq, __ATOMIC_RELAXED);
    while (cur < seq &&
           !__atomic_compare_exchange_n(&s->jseq, &cur, seq, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

/* Writes a new file's header (the file is empty or holds a cut-short header). */
static mw_status write_header(mw_store *s, mw_jfile *jf, mw_error *err) {
    unsigned char h[FILE_HEAD];
    size_t ml = strlen(jf->model), vl = strlen(jf->version);
    memcpy(h, FILE_MAGIC, 4);
    mw_put_le32(h + 4, FILE_FORMAT);
    mw_put_le32(h + 8, (uint32_t)ml);
    mw_put_le32(h + 12, (uint32_t)vl);
    struct iovec iov[3] = {{h, FILE_HEAD}, {jf->model, ml}, {jf->version, vl}};
    if (ftruncate(jf->fd, 0) || write_all_at(jf->fd, iov, 3, 0))
        return io_error(jf, "writing the file header", err);
    jf->head = jf->size = FILE_HEAD + ml + vl;
    if (s->jsync_full && (fdatasync(jf->fd) || mw_jf_sync_dir(s)))
        return io_error(jf, "syncing a new journal file", err);
    return MW_OK;
}

/* Checks an existing file's header: it must name this version. */
static mw_status check_header(mw_store *s, mw_jfile *jf, uint64_t file_size, mw_error *err) {
    unsigned char h[FILE_HEAD];
    size_t ml = strlen(jf->model), vl = strlen(jf->version);
    if (file_size < FILE_HEAD + ml + vl) /* created, then cut short */
        return write_header(s, jf, err);
    char *names = malloc(ml + vl + 1);
    if (!names) return mw_error_set(err, MW_ENOMEM, jf->path, 0, 0, "journal: out of memory");
    int ok = read_all_at(jf->fd, h, FILE_HEAD, 0) == 0 && !memcmp(h, FILE_MAGIC, 4);
    mw_reader r = {h + 4, h + FILE_HEAD, 0};
    ok = ok && mw_rd_u32(&r) == FILE_FORMAT && mw_rd_u32(&r) == ml && mw_rd_u32(&r) == vl &&
         read_all_at(jf->fd, names, ml + vl, FILE_HEAD) == 0 && !memcmp(names, jf->model, ml) &&
         !memcmp(names + ml, jf->version, vl);
    free(names);
    if (!ok)
        return mw_error_set(err, MW_ECORRUPT, jf->path, 0, 0,
                            "this journal file is not the journal of %s/%s (another version's, "
                            "or damaged): move it away to start that version's journal anew",
                            jf->model, jf->version);
    jf->head = jf->size = FILE_HEAD + ml + vl;
    return MW_OK;
}

/*
 * Reads the frames from the header on: for each whole, checked frame with seq
 * > after, counts it and calls fn (when given; non-zero stops). The first
 * frame that is cut short or fails its check ends the file: it is truncated
 * there. Sets size and last_seq unless fn stopped early. Lock of jf held.
 */
static mw_status scan(mw_store *s, mw_jfile *jf, int64_t after, mw_store_journal_fn fn, void *ctx,
                      uint64_t *count, mw_error *err) {
    struct stat stt;
    if (fstat(jf->fd, &stt)) return io_error(jf, "reading the file size", err);
    uint64_t end = (uint64_t)stt.st_size, off = jf->head;
    unsigned char *buf = NULL;
    size_t cap = 0;
    int64_t last = 0;
    int stopped = 0;
    while (off + FRAME_HEAD + FRAME_TAIL <= end) {
        unsigned char h[FRAME_HEAD];
        if (read_all_at(jf->fd, h, FRAME_HEAD, (off_t)off)) break;
        mw_reader hr = {h, h + FRAME_HEAD, 0};
        uint32_t magic = mw_rd_u32(&hr), len = mw_rd_u32(&hr);
        int64_t seq = (int64_t)mw_rd_u64(&hr);
        if (magic != FRAME_MAGIC || off + FRAME_HEAD + len + FRAME_TAIL > end || seq <= last) break;
        if (len + FRAME_TAIL > cap) {
            unsigned char *nb = realloc(buf, len + FRAME_TAIL);
            if (!nb) {
                free(buf);
                return mw_error_set(err, MW_ENOMEM, jf->path, 0, 0, "journal: out of memory");
            }
            buf = nb;
            cap = len + FRAME_TAIL;
        }
        mw_reader tr = {buf + len, buf + len + FRAME_TAIL, 0};
        if (read_all_at(jf->fd, buf, len + FRAME_TAIL, (off_t)(off + FRAME_HEAD)) ||
            mw_rd_u64(&tr) != frame_check(buf, len, seq))
            break;
        off += FRAME_HEAD + len + FRAME_TAIL;
        last = seq;
        seq_at_least(s, seq);
        if (seq <= after) continue;
        if (count) (*count)++;
        if (fn && fn(seq, buf, len, ctx)) {
            stopped = 1;
            break;
        }
    }
    free(buf);
    if (stopped) return MW_OK;
    if (off < end && ftruncate(jf->fd, (off_t)off)) /* the torn tail of a killed append */
        return io_error(jf, "cutting a torn tail", err);
    jf->size = off;
    jf->last_seq = last;
    return MW_OK;
}

/* Opens (creating) the file of jf and finds where its frames end. Lock held. */
static mw_status open_file(mw_store *s, mw_jfile *jf, mw_error *err) {
    if (mkdir(s->jdir, 0700) && errno != EEXIST)
        return mw_error_set(err, MW_EIO, s->jdir, 0, 0,
                            "cannot create the journal directory: %s (it sits beside the "
                            "database; is that directory writable?)",
                            strerror(errno));
    jf->fd = open(jf->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (jf->fd < 0) return io_error(jf, "opening the journal file", err);
    if (flock(jf->fd, LOCK_EX | LOCK_NB)) { /* two writers would interleave frames */
        mw_status st = errno == EWOULDBLOCK
                           ? mw_error_set(err, MW_EIO, jf->path, 0, 0,
                                          "journal of %s/%s is in use by another process (is "
                                          "another modelwatch serve running on this database?)",
                                          jf->model, jf->version)
                           : io_error(jf, "locking the journal file", err);
        close(jf->fd);
        jf->fd = -1;
        return st;
    }
    struct stat stt;
    mw_status st = fstat(jf->fd, &stt) ? io_error(jf, "reading the file size", err)
                                       : check_header(s, jf, (uint64_t)stt.st_size, err);
    if (!st) st = scan(s, jf, INT64_MAX, NULL, NULL, NULL, err);
    if (st) {
        close(jf->fd);
        jf->fd = -1;
    }
    return st;
}

/* The file name of (model, version): a hash of both names. */
static char *file_path(const mw_store *s, const char *model, const char *version) {
    size_t ml = strlen(model), vl = strlen(version);
    char *both = malloc(ml + vl + 1);
    if (!both) return NULL;
    memcpy(both, model, ml + 1); /* model, NUL, version: no two pairs give the same bytes */
    memcpy(both + ml + 1, version, vl);
    uint64_t h = mw_data_hash64(both, ml + 1 + vl, 0x6a6f75726e616cULL);
    free(both);
    size_t n = strlen(s->jdir) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%016llx.mwj", s->jdir, (unsigned long long)h);
    return p;
}

static mw_jfile *find(mw_store *s, const char *model, const char *version) {
    for (mw_jfile *jf = s->jfiles; jf; jf = jf->next)
        if (!strcmp(jf->model, model) && !strcmp(jf->version, version)) return jf;
    return NULL;
}

mw_status mw_jf_get(mw_store *s, const char *model, const char *version, int create, mw_jfile **out,
                    mw_error *err) {
    *out = NULL;
    pthread_mutex_lock(&s->jmu);
    mw_jfile *jf = find(s, model, version);
    mw_status st = MW_OK;
    if (!jf) {
        char *path = file_path(s, model, version);
        if (!create && path && access(path, F_OK)) { /* no file: nothing to read */
            free(path);
            pthread_mutex_unlock(&s->jmu);
            return MW_OK;
        }
        jf = calloc(1, sizeof *jf);
        if (!jf || !path || !(jf->model = strdup(model)) || !(jf->version = strdup(version))) {
            if (jf) free(jf->model);
            free(jf);
            free(path);
            pthread_mutex_unlock(&s->jmu);
            return mw_error_set(err, MW_ENOMEM, s->jdir, 0, 0, "journal: out of memory");
        }
        jf->path = path;
        jf->fd = -1;
        pthread_mutex_init(&jf->mu, NULL);
        jf->next = s->jfiles;
        s->jfiles = jf;
    }
    pthread_mutex_lock(&jf->mu);
    if (jf->fd < 0) {
        if (!create && access(jf->path, F_OK)) { /* removed, not written since */
            pthread_mutex_unlock(&jf->mu);
            pthread_mutex_unlock(&s->jmu);
            return MW_OK;
        }
        st = open_file(s, jf, err);
    }
    pthread_mutex_unlock(&jf->mu);
    pthread_mutex_unlock(&s->jmu);
    if (!st) *out = jf;
    return st;
}

mw_status mw_jf_append(mw_store *s, mw_jfile *jf, const void *blob, size_t len, int sync,
                       int64_t *seq, mw_jf_pos *before, mw_error *err) {
    if (len > UINT32_MAX - FRAME_HEAD - FRAME_TAIL)
        return mw_error_set(err, MW_ERANGE, jf->path, 0, 0,
                            "journal of %s/%s: a batch of %zu bytes is over 4 GiB", jf->model,
                            jf->version, len);
    pthread_mutex_lock(&jf->mu);
    mw_status st = jf->fd < 0 ? open_file(s, jf, err) : MW_OK;
    if (st) {
        pthread_mutex_unlock(&jf->mu);
        return st;
    }
    int64_t q = __atomic_add_fetch(&s->jseq, 1, __ATOMIC_RELAXED);
    unsigned char h[FRAME_HEAD], t[FRAME_TAIL];
    mw_put_le32(h, FRAME_MAGIC);
    mw_put_le32(h + 4, (uint32_t)len);
    mw_put_le64(h + 8, (uint64_t)q);
    mw_put_le64(t, frame_check(blob, (uint32_t)len, q));
    struct iovec iov[3] = {{h, FRAME_HEAD}, {(void *)blob, len}, {t, FRAME_TAIL}};
    if (before) *before = (mw_jf_pos){jf->size, jf->last_seq};
    if (write_all_at(jf->fd, iov, 3, (off_t)jf->size) || (sync && fdatasync(jf->fd))) {
        st = io_error(jf, "appending a batch", err);
        if (ftruncate(jf->fd, (off_t)jf->size)) { /* a partial frame would end the file */
            close(jf->fd);
            jf->fd = -1; /* reopened (and its tail cut) by the next append */
        }
    } else {
        jf->size += FRAME_HEAD + len + FRAME_TAIL;
        jf->last_seq = q;
        *seq = q;
    }
    pthread_mutex_unlock(&jf->mu);
    return st;
}

void mw_jf_truncate(mw_jfile *jf, const mw_jf_pos *pos) {
    pthread_mutex_lock(&jf->mu);
    if (jf->fd >= 0 && pos->size >= jf->head && pos->size <= jf->size &&
        !ftruncate(jf->fd, (off_t)pos->size)) {
        jf->size = pos->size;
        jf->last_seq = pos->last_seq;
    }
    pthread_mutex_unlock(&jf->mu);
}

mw_status mw_jf_sync(mw_store *s, mw_jfile *jf, mw_error *err) {
    pthread_mutex_lock(&jf->mu);
    mw_status st = jf->fd >= 0 && fdatasync(jf->fd) ? io_error(jf, "syncing", err) : MW_OK;
    pthread_mutex_unlock(&jf->mu);
    return st;
}

mw_status mw_jf_each(mw_store *s, mw_jfile *jf, int64_t after, mw_store_journal_fn fn, void *ctx,
                     uint64_t *count, mw_error *err) {
    pthread_mutex_lock(&jf->mu);
    mw_status st = jf->fd < 0 ? MW_OK : scan(s, jf, after, fn, ctx, count, err);
    pthread_mutex_unlock(&jf->mu);
    return st;
}

void mw_jf_discard(mw_store *s, const char *model, const char *version, int64_t upto) {
    pthread_mutex_lock(&s->jmu);
    mw_jfile *jf = find(s, model, version);
    pthread_mutex_unlock(&s->jmu);
    if (!jf) return;
    pthread_mutex_lock(&jf->mu);
    /* (frames newer than upto stay; replay skips the covered ones by the mark) */
    if (jf->fd >= 0 && jf->last_seq <= upto && jf->size > jf->head &&
        !ftruncate(jf->fd, (off_t)jf->head)) {
        jf->size = jf->head;
        jf->last_seq = 0;
    }
    pthread_mutex_unlock(&jf->mu);
}

void mw_jf_remove(mw_store *s, const char *model, const char *version) {
    char *path = file_path(s, model, version);
    pthread_mutex_lock(&s->jmu);
    mw_jfile *jf = find(s, model, version);
    if (jf) pthread_mutex_lock(&jf->mu);
    if (jf && jf->fd >= 0) {
        close(jf->fd);
        jf->fd = -1;
    }
    if (path) unlink(path);
    if (jf) pthread_mutex_unlock(&jf->mu);
    pthread_mutex_unlock(&s->jmu);
    free(path);
}

int mw_jf_sync_dir(mw_store *s) {
    int fd = open(s->jdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

void mw_jf_close_all(mw_store *s) {
    for (mw_jfile *jf = s->jfiles, *next; jf; jf = next) {
        next = jf->next;
        if (jf->fd >= 0) close(jf->fd);
        pthread_mutex_destroy(&jf->mu);
        free(jf->model);
        free(jf->version);
        free(jf->path);
        free(jf);
    }
    s->jfiles = NULL;
}
