/*
 * A compact binary form of a parsed record (record_bin.c), for the daemon's
 * journal: what mw_monitor_ingest observed, written so that replay observes
 * the very same record (numbers as their 8 bytes, strings as the parser
 * decoded them) without parsing JSON again. Model and version are not kept
 * (a journal row belongs to one version), nor "prompt" and "completion" (the
 * journal never keeps raw text: records with text go into the journal as
 * NDJSON with their texts replaced, see monitor_ingest.c and text_live.c).
 *
 * Ownership: mw_record_bin_put appends to the caller's buffer. A record read
 * by mw_record_bin_read is a view: its strings point into the bytes read and
 * its features and embedding into the reader, valid until the next read or
 * mw_record_bin_reader_free.
 */
#ifndef MW_DATA_RECORD_BIN_H
#define MW_DATA_RECORD_BIN_H

#include "core/util.h"
#include "modelwatch/record.h"

/* Appends rec, one length-prefixed record. prev: the record put just before
 * it into the same sequence (its feature and score names are referred to
 * instead of repeated), NULL for the first one. rec's prompt and completion
 * are not written. b->failed is set when out of memory. */
void mw_record_bin_put(mw_buf *b, const mw_record *rec, const mw_record *prev);
/* The same bytes, when the caller knows (same_names != 0) that prev has rec's
 * feature and score names in the same order (mw_record_parser_same_names):
 * the names are not compared. */
void mw_record_bin_put_same(mw_buf *b, const mw_record *rec, const mw_record *prev,
                            int same_names);

typedef struct mw_record_bin_reader {
    mw_feature *feat[2]; /* this record's features then scores, and the previous one's */
    size_t cap[2];
    int cur;                /* which of feat[] the last record read is in */
    size_t prev_nf, prev_ns; /* the previous record's numbers of features and scores */
    int has_prev;
    double *emb;
    size_t emb_cap;
} mw_record_bin_reader;

/* Starts a new sequence (the reader's buffers are kept). A zeroed reader is
 * a reader at the start of a sequence. */
void mw_record_bin_reader_reset(mw_record_bin_reader *rd);
void mw_record_bin_reader_free(mw_record_bin_reader *rd);

/* Reads the record at *p (up to end) into *rec and moves *p past it.
 * Returns MW_OK, MW_ECORRUPT when the bytes are not a record written by
 * mw_record_bin_put (or not in the sequence's order), MW_ENOMEM. Reads
 * only inside [*p, end), whatever the bytes. */
mw_status mw_record_bin_read(mw_record_bin_reader *rd, const unsigned char **p,
                             const unsigned char *end, mw_record *rec);

/* 1 when a and b hold the same fields as the binary form keeps them: every
 * field but model, version, prompt, completion and their raw copies, and
 * the label; numbers compared bit for bit, absent doubles (NAN) alike. For
 * the tests and the fuzz target. */
int mw_record_bin_same(const mw_record *a, const mw_record *b);

#endif
