/*
 * The journal of accepted batches and the window results.
 *
 * Why a journal: the daemon acknowledges a POST of records only after the
 * batch is journaled, so a crash between the answer and the window's close
 * loses nothing. At start-up the daemon replays the journal of each version
 * (mw_store_journal_each, in seq order) into the open window; when the window
 * closes, mw_store_window_commit inserts the result and records which batches
 * it covered (seq <= journal_upto) in one transaction, so a batch is counted
 * in exactly one stored window, even if the process dies during the close.
 *
 * Where: for a database file, in journal files beside it (store_jfile.c: one
 * pwritev per batch, no SQLite; the covered frames are cut away after the
 * commit and skipped by their mark until then); for an in-memory database, and
 * for rows an older build left, in the journal table (the commit deletes the
 * covered rows). Replay reads the table's rows first, then the file.
 *
 * Cost: a file append is a write of the batch into the page cache under the
 * version file's lock (~30-60 us for 150 KB); with synchronous_full one
 * fdatasync more. mw_store_journal_append_many appends a group and syncs each
 * file once. Measured by test_store on the development VM (1,000 batches of
 * 50 KB, noisy): ~25,000 appends/s (1.2 GB/s) without sync, 3,500-6,000/s
 * with fdatasync; SQLite rows were 2,000-6,200/s and 270-1,300/s.
 *
 * Every function that reads or writes SQLite takes the handle's mutex for its
 * whole duration; the file appends do not.
 */
#include "store_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Inserts one journal row inside whatever transaction is open; *seq its rowid. */
static mw_status append_one(mw_store *s, const char *op, const char *model, const char *version,
                            const void *blob, size_t len, int64_t *seq, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_JOURNAL_APPEND, op, model, version, err);
    if (!q) return s->prep_status;
    mw_status st = MW_OK;
    int rc = mw_st_bind_text(q, 1, model);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
    if (rc == SQLITE_OK) rc = mw_st_bind_blob(q, 3, blob, len);
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    if (rc == SQLITE_DONE) {
        if (seq) *seq = sqlite3_last_insert_rowid(s->db);
    } else {
        st = mw_st_fail(s, rc, op, model, version, err);
    }
    mw_st_done(q);
    return st;
}

mw_status mw_store_journal_append(mw_store *s, const char *model, const char *version,
                                  const void *blob, size_t len, int64_t *seq, mw_error *err) {
    static const char op[] = "journal_append";
    mw_error_clear(err);
    if (seq) *seq = 0;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st == MW_OK) st = mw_st_check_blob(s, blob, len, op, err);
    if (st != MW_OK) return st;
    if (s->jdir) {
        mw_jfile *jf;
        int64_t q;
        st = mw_jf_get(s, model, version, 1, &jf, err);
        if (st == MW_OK) st = mw_jf_append(s, jf, blob, len, s->jsync_full, &q, NULL, err);
        if (st == MW_OK && seq) *seq = q;
        return st;
    }
    mw_st_lock(s);
    /* Autocommit: the INSERT is its own transaction, committed when it returns. */
    st = append_one(s, op, model, version, blob, len, seq, err);
    mw_st_unlock(s);
    return st;
}

/* append_many into files: every batch, then one fdatasync per file; on a
 * failure the files are cut back to where they were, so it is all or none. */
static mw_status append_many_files(mw_store *s, size_t n, const char *const *models,
                                   const char *const *versions, const void *const *blobs,
                                   const size_t *lens, int64_t *seqs, mw_error *err) {
    mw_jfile **files = calloc(n, sizeof *files);
    mw_jf_pos *before = calloc(n, sizeof *before);
    int64_t *got = calloc(n, sizeof *got);
    mw_status st = files && before && got
                       ? MW_OK
                       : mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "journal: out of memory");
    size_t done = 0;
    for (; st == MW_OK && done < n; done++) {
        st = mw_jf_get(s, models[done], versions[done], 1, &files[done], err);
        if (st == MW_OK)
            st = mw_jf_append(s, files[done], blobs[done], lens[done], 0, &got[done], &before[done],
                              err);
        if (st != MW_OK) break;
    }
    for (size_t i = 0; st == MW_OK && s->jsync_full && i < n; i++)
        st = mw_jf_sync(s, files[i], err);
    if (st != MW_OK) /* newest first: each file ends where its first append began */
        for (size_t i = done; i-- > 0;)
            mw_jf_truncate(files[i], &before[i]);
    for (size_t i = 0; seqs && i < n; i++)
        seqs[i] = st == MW_OK ? got[i] : 0;
    free(files);
    free(before);
    free(got);
    return st;
}

mw_status mw_store_journal_append_many(mw_store *s, size_t n, const char *const *models,
                                       const char *const *versions, const void *const *blobs,
                                       const size_t *lens, int64_t *seqs, mw_error *err) {
    static const char op[] = "journal_append_many";
    mw_error_clear(err);
    if (seqs)
        for (size_t i = 0; i < n; i++)
            seqs[i] = 0;
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    if (n == 0) return MW_OK;
    if (!models || !versions || !blobs || !lens)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL array argument", op);
    for (size_t i = 0; i < n; i++) {
        mw_status st = mw_st_check_mv(s, models[i], versions[i], op, err);
        if (st == MW_OK) st = mw_st_check_blob(s, blobs[i], lens[i], op, err);
        if (st != MW_OK) return st;
    }
    if (s->jdir) return append_many_files(s, n, models, versions, blobs, lens, seqs, err);
    mw_st_lock(s);
    mw_status st = mw_st_begin(s, op, models[0], versions[0], err);
    for (size_t i = 0; st == MW_OK && i < n; i++)
        st = append_one(s, op, models[i], versions[i], blobs[i], lens[i], seqs ? &seqs[i] : NULL,
                        err);
    if (st == MW_OK) st = mw_st_commit(s, op, models[0], versions[0], err);
    if (st != MW_OK) {
        mw_st_rollback(s);
        if (seqs)
            for (size_t i = 0; i < n; i++)
                seqs[i] = 0;
    }
    mw_st_unlock(s);
    return st;
}

/* The version's mark: the newest seq a stored window covered (0 none). Lock held. */
static mw_status get_mark(mw_store *s, const char *model, const char *version, const char *op,
                          int64_t *upto, mw_error *err) {
    *upto = 0;
    sqlite3_stmt *q = mw_st_get(s, MW_ST_JMARK_GET, op, model, version, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, model);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) *upto = sqlite3_column_int64(q, 0);
    mw_status st =
        rc == SQLITE_ROW || rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(q);
    return st;
}

/* A callback that remembers whether it asked to stop. */
typedef struct each_ctx {
    mw_store_journal_fn fn;
    void *ctx;
    int stopped;
} each_ctx;

static int each_row(int64_t seq, const void *blob, size_t len, void *arg) {
    each_ctx *c = arg;
    return c->stopped = c->fn(seq, blob, len, c->ctx) != 0;
}

/* The rows in the journal table (older builds' rows, in-memory databases), then
 * the file's frames past the mark: fn for each (when given), counted into
 * *count (when given). */
static mw_status each_batch(mw_store *s, const char *model, const char *version, const char *op,
                            each_ctx *ec, uint64_t *count, mw_error *err) {
    mw_st_lock(s);
    sqlite3_stmt *q =
        mw_st_get(s, ec ? MW_ST_JOURNAL_EACH : MW_ST_JOURNAL_COUNT, op, model, version, err);
    mw_status st = q ? MW_OK : s->prep_status;
    int64_t upto = 0;
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
            rc = sqlite3_step(q);
            if (rc != SQLITE_ROW) break;
            if (!ec) { /* SELECT count(*) */
                *count += (uint64_t)sqlite3_column_int64(q, 0);
                continue;
            }
            int64_t seq = sqlite3_column_int64(q, 0);
            const void *p = sqlite3_column_blob(q, 1);
            size_t len = (size_t)sqlite3_column_bytes(q, 1);
            if (!p && len == 0 && sqlite3_errcode(s->db) == SQLITE_NOMEM) {
                rc = SQLITE_NOMEM;
                break;
            }
            if (each_row(seq, p ? p : "", len, ec)) {
                rc = SQLITE_DONE;
                break;
            }
        }
        if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, version, err);
        mw_st_done(q);
    }
    if (st == MW_OK && s->jdir) st = get_mark(s, model, version, op, &upto, err);
    mw_st_unlock(s);
    if (st != MW_OK || !s->jdir || (ec && ec->stopped)) return st;
    mw_jfile *jf;
    st = mw_jf_get(s, model, version, 0, &jf, err);
    if (st == MW_OK && jf)
        st = mw_jf_each(s, jf, upto, ec ? each_row : NULL, ec, ec ? NULL : count, err);
    return st;
}

mw_status mw_store_journal_each(mw_store *s, const char *model, const char *version,
                                mw_store_journal_fn fn, void *ctx, mw_error *err) {
    static const char op[] = "journal_each";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!fn) return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: callback is NULL", op);
    each_ctx ec = {fn, ctx, 0};
    return each_batch(s, model, version, op, &ec, NULL, err);
}

mw_status mw_store_journal_count(mw_store *s, const char *model, const char *version,
                                 uint64_t *count, mw_error *err) {
    static const char op[] = "journal_count";
    mw_error_clear(err);
    if (count) *count = 0;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!count) return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: count is NULL", op);
    return each_batch(s, model, version, op, NULL, count, err);
}

mw_status mw_store_window_commit(mw_store *s, const char *model, const char *version, double start,
                                 double end, uint64_t records, const char *result_json,
                                 int64_t journal_upto, int64_t *window_id, mw_error *err) {
    return mw_store_window_commit_predictions(s, model, version, start, end, records, result_json,
                                              journal_upto, NULL, 0, window_id, err);
}

/* Records that a window covered the version's journal up to seq upto (lock
 * and transaction held); at most the newest seq handed out, so an "all" such as
 * INT64_MAX cannot push later seqs past the counter's range. */
static mw_status put_mark(mw_store *s, const char *model, const char *version, int64_t upto,
                          const char *op, mw_error *err) {
    int64_t newest = __atomic_load_n(&s->jseq, __ATOMIC_RELAXED);
    if (upto > newest) upto = newest;
    sqlite3_stmt *q = mw_st_get(s, MW_ST_JMARK_PUT, op, model, version, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, model);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 3, upto);
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(q);
    return st;
}

/* Stores the window's predictions blob (lock and transaction held). */
static mw_status put_predictions(mw_store *s, const char *model, const char *version, double start,
                                 const void *blob, size_t len, const char *op, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_PREDICTIONS_PUT, op, model, version, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, model);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 3, start);
    if (rc == SQLITE_OK) rc = mw_st_bind_blob(q, 4, blob, len);
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(q);
    return st;
}

mw_status mw_store_window_commit_predictions(mw_store *s, const char *model, const char *version,
                                             double start, double end, uint64_t records,
                                             const char *result_json, int64_t journal_upto,
                                             const void *predictions, size_t predictions_len,
                                             int64_t *window_id, mw_error *err) {
    static const char op[] = "window_commit";
    mw_error_clear(err);
    if (window_id) *window_id = 0;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!result_json)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s %s/%s: result_json is NULL", op,
                            model, version);
    if (!isfinite(start) || !isfinite(end))
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                            "%s %s/%s: window bounds must be finite (start %g, end %g)", op, model,
                            version, start, end);
    if (records > (uint64_t)INT64_MAX)
        return mw_error_set(err, MW_ERANGE, s->path, 0, 0,
                            "%s %s/%s: record count %llu is over 2^63-1", op, model, version,
                            (unsigned long long)records);
    if (journal_upto < -1)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                            "%s %s/%s: journal_upto %lld is invalid (-1 means none)", op, model,
                            version, (long long)journal_upto);
    mw_jfile *jf;
    if (journal_upto >= 0 && s->jdir && /* its frames' seqs count in put_mark's bound */
        (st = mw_jf_get(s, model, version, 0, &jf, err)) != MW_OK)
        return st;
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, version, err);
    int64_t id = 0;
    if (st == MW_OK) {
        sqlite3_stmt *q = mw_st_get(s, MW_ST_WINDOW_INSERT, op, model, version, err);
        if (q) {
            int rc = mw_st_bind_text(q, 1, model);
            if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
            if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 3, start);
            if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 4, end);
            if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 5, (int64_t)records);
            if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 6, result_json);
            if (rc == SQLITE_OK) rc = mw_st_exec(q);
            if (rc == SQLITE_DONE)
                id = sqlite3_last_insert_rowid(s->db);
            else
                st = mw_st_fail(s, rc, op, model, version, err);
            mw_st_done(q);
        } else {
            st = s->prep_status;
        }
    }
    if (st == MW_OK && journal_upto >= 0) {
        sqlite3_stmt *q = mw_st_get(s, MW_ST_JOURNAL_DELETE_UPTO, op, model, version, err);
        if (q) {
            int rc = mw_st_bind_text(q, 1, model);
            if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
            if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 3, journal_upto);
            if (rc == SQLITE_OK) rc = mw_st_exec(q);
            if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, version, err);
            mw_st_done(q);
        } else {
            st = s->prep_status;
        }
    }
    if (st == MW_OK && journal_upto >= 0 && s->jdir)
        st = put_mark(s, model, version, journal_upto, op, err);
    if (st == MW_OK && predictions)
        st = put_predictions(s, model, version, start, predictions, predictions_len, op, err);
    if (st == MW_OK) st = mw_st_commit(s, op, model, version, err);
    if (st != MW_OK)
        mw_st_rollback(s);
    else if (window_id)
        *window_id = id;
    mw_st_unlock(s);
    if (st == MW_OK && journal_upto >= 0 && s->jdir) /* the covered frames, gone */
        mw_jf_discard(s, model, version, journal_upto);
    return st;
}

mw_status mw_store_list_windows(mw_store *s, const char *model, const char *version, size_t limit,
                                char ***results_json, size_t *n, mw_error *err) {
    static const char op[] = "list_windows";
    mw_error_clear(err);
    if (results_json) *results_json = NULL;
    if (n) *n = 0;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!results_json || !n)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL output argument", op);
    char **v = NULL;
    size_t len = 0, cap = 0;
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_WINDOW_LIST, op, model, version, err);
    int rc = SQLITE_DONE;
    if (q) {
        rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        /* LIMIT -1 is no limit in SQLite. */
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(q, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
            rc = sqlite3_step(q);
            if (rc != SQLITE_ROW) break;
            if (len == cap) {
                size_t ncap = cap ? 2 * cap : 16;
                char **nv = realloc(v, ncap * sizeof *nv);
                if (!nv) {
                    st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
                    break;
                }
                v = nv;
                cap = ncap;
            }
            if (!(v[len] = mw_st_column_copy(q, 0, NULL))) {
                st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
                break;
            }
            len++;
        }
        if (st == MW_OK && rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, version, err);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    if (st != MW_OK) {
        for (size_t i = 0; i < len; i++)
            free(v[i]);
        free(v);
        return st;
    }
    *results_json = v;
    *n = len;
    return MW_OK;
}

mw_status mw_store_prune_windows(mw_store *s, const char *model, const char *version, size_t keep,
                                 mw_error *err) {
    static const char op[] = "prune_windows";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_WINDOW_PRUNE, op, model, version, err);
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(q, 3, keep > INT64_MAX ? INT64_MAX : (int64_t)keep);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, version, err);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}
