/*
 * Buffered input for the readers: a regular file or pipe read with read(2), a
 * gzip stream decompressed with zlib's inflate (detected by the magic bytes
 * 1f 8b, not by the file name; concatenated gzip members are read in turn),
 * standard input for "-", or a caller's memory buffer used in place. We drive
 * inflate ourselves rather than gzdopen/gzread so that the bytes already read
 * to sniff the magic are fed to the decoder: gzip then also works on a pipe.
 *
 * Why not mmap or slurping: file pages would count in the process's RSS; the
 * readers only need the current record, so memory stays one chunk (1 MiB) plus
 * the longest record, whatever the file size.
 *
 * Invariants: data[pos..end) is unread input; data has cap + 8 bytes so 8-byte
 * loads just past end stay inside the allocation (their values are never used
 * as input: callers bound every scan by end). Ownership: the input owns data
 * (except in memory mode) and the file descriptor it opened.
 */
#include "data/data_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK ((size_t)1 << 20)
#define ZCHUNK ((size_t)256 << 10)

typedef struct gz_state {
    z_stream zs;
    unsigned char *zbuf; /* compressed bytes, zs.next_in points into it */
    int in_eof;          /* the file has no more compressed bytes */
    int in_member;       /* inside a gzip member (not at a clean end) */
} gz_state;

/* Decompresses up to room bytes to data[end..]; sets eof at a clean end. */
static mw_status gz_read(mw_input *in, size_t room, const char *name, mw_error *err) {
    gz_state *g = in->gz;
    size_t produced = 0;
    while (produced == 0) {
        if (g->zs.avail_in == 0 && !g->in_eof) {
            ssize_t r;
            do
                r = read(in->fd, g->zbuf, ZCHUNK);
            while (r < 0 && errno == EINTR);
            if (r < 0)
                return mw_error_set(err, MW_EIO, name, 0, 0, "read failed: %s", strerror(errno));
            if (r == 0) g->in_eof = 1;
            g->zs.next_in = g->zbuf;
            g->zs.avail_in = (uInt)r;
        }
        if (g->zs.avail_in == 0 && g->in_eof) {
            if (g->in_member)
                return mw_error_set(err, MW_EIO, name, 0, 0,
                                    "truncated gzip data (unexpected end of file)");
            in->eof = 1;
            return MW_OK;
        }
        g->in_member = 1; /* a (new) member starts or continues */
        size_t avail = room - produced;
        g->zs.next_out = (unsigned char *)in->data + in->end + produced;
        g->zs.avail_out = (uInt)avail;
        int zr = inflate(&g->zs, Z_NO_FLUSH);
        produced += avail - g->zs.avail_out;
        if (zr == Z_STREAM_END) {
            g->in_member = 0;
            inflateReset(&g->zs);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return mw_error_set(err, MW_EIO, name, 0, 0, "corrupt gzip data: %s",
                                g->zs.msg ? g->zs.msg : "inflate failed");
        }
    }
    in->end += produced;
    return MW_OK;
}

static mw_status alloc_buf(mw_input *in, size_t cap) {
    char *d = malloc(cap + 8);
    if (!d) return MW_ENOMEM;
    memset(d + cap, 0, 8);
    in->data = d;
    in->cap = cap;
    return MW_OK;
}

mw_status mw_input_open_file(mw_input *in, const char *path, mw_error *err) {
    memset(in, 0, sizeof *in);
    in->fd = -1;
    int fd;
    if (strcmp(path, "-") == 0) {
        fd = STDIN_FILENO;
    } else {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return mw_error_set(err, MW_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
        in->own_fd = 1;
    }
    in->fd = fd;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) in->total_size = (uint64_t)st.st_size;
    if (st.st_mode && S_ISDIR(st.st_mode)) {
        mw_input_close(in);
        return mw_error_set(err, MW_EIO, path, 0, 0, "is a directory, not a data file");
    }
    if (alloc_buf(in, CHUNK) != MW_OK) {
        mw_input_close(in);
        return mw_error_set(err, MW_ENOMEM, path, 0, 0, "out of memory");
    }
    /* Read the first bytes to look for the gzip magic. */
    size_t got = 0;
    while (got < 2) {
        ssize_t r = read(fd, in->data + got, in->cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            mw_input_close(in);
            return mw_error_set(err, MW_EIO, path, 0, 0, "read failed: %s", strerror(e));
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    if (got >= 2 && (unsigned char)in->data[0] == 0x1f && (unsigned char)in->data[1] == 0x8b) {
        gz_state *g = calloc(1, sizeof *g);
        if (!g || !(g->zbuf = malloc(got > ZCHUNK ? got : ZCHUNK))) {
            free(g);
            mw_input_close(in);
            return mw_error_set(err, MW_ENOMEM, path, 0, 0, "out of memory");
        }
        if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
            free(g->zbuf);
            free(g);
            mw_input_close(in);
            return mw_error_set(err, MW_ENOMEM, path, 0, 0, "cannot start gzip decoder");
        }
        memcpy(g->zbuf, in->data, got);
        g->zs.next_in = g->zbuf;
        g->zs.avail_in = (uInt)got;
        in->gz = g;
        in->total_size = 0; /* compressed size says little about the row count */
        got = 0;
    }
    in->pos = 0;
    in->end = got;
    return MW_OK;
}

void mw_input_open_mem(mw_input *in, const char *buf, size_t len) {
    memset(in, 0, sizeof *in);
    in->fd = -1;
    in->data = (char *)buf; /* never written in memory mode */
    in->cap = len;
    in->end = len;
    in->eof = 1;
    in->mem = 1;
    in->total_size = len;
}

mw_status mw_input_fill(mw_input *in, size_t keep, size_t max_keep, const char *name,
                        mw_error *err) {
    if (in->eof) return MW_OK;
    size_t kept = in->end - keep;
    if (kept > max_keep) return MW_ERANGE;
    if (keep > 0) {
        memmove(in->data, in->data + keep, kept);
        in->consumed += keep;
        in->pos -= keep;
    }
    in->end = kept;
    if (in->cap - kept < CHUNK / 2) {
        /* The unread record fills the buffer: grow (bounded by max_keep). */
        size_t ncap = in->cap * 2;
        char *d = realloc(in->data, ncap + 8);
        if (!d) return mw_error_set(err, MW_ENOMEM, name, 0, 0, "out of memory");
        memset(d + ncap, 0, 8);
        in->data = d;
        in->cap = ncap;
    }
    for (;;) {
        size_t room = in->cap - in->end;
        if (room > 4 * CHUNK) room = 4 * CHUNK;
        if (in->gz) return gz_read(in, room, name, err);
        ssize_t r = read(in->fd, in->data + in->end, room);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return mw_error_set(err, MW_EIO, name, 0, 0, "read failed: %s", strerror(errno));
        if (r == 0) in->eof = 1;
        in->end += (size_t)r;
        return MW_OK;
    }
}

void mw_input_close(mw_input *in) {
    if (in->gz) {
        gz_state *g = in->gz;
        inflateEnd(&g->zs);
        free(g->zbuf);
        free(g);
    }
    if (in->own_fd && in->fd >= 0) close(in->fd);
    if (!in->mem) free(in->data);
    memset(in, 0, sizeof *in);
    in->fd = -1;
}
