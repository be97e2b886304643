/*
 * The journal's files (src/store/store_jfile.c): batches land in
 * "<db>-records/", a window's commit cuts the covered frames away, a torn or
 * damaged tail (a killed append) is cut at the next open, a crash between the
 * commit and the cut replays nothing twice, a file that names another version
 * is refused, so is a second writer, and an in-memory database keeps its
 * journal in SQLite.
 */
#include <modelwatch/store.h>

#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static mw_error E;
#define OK(x) assert_int_equal((x), MW_OK)

typedef struct place {
    char dir[64], db[128], records[160];
} place;

static void place_make(place *p) {
    snprintf(p->dir, sizeof p->dir, "/tmp/mw_jfile_XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    snprintf(p->db, sizeof p->db, "%s/mw.db", p->dir);
    snprintf(p->records, sizeof p->records, "%s-records", p->db);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void place_remove(place *p) {
    nftw(p->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static mw_store *open_db(const char *path) {
    mw_store *s = NULL;
    OK(mw_store_open(path, NULL, &s, &E));
    return s;
}

/* The only journal file in the records directory (its path into out), and its size. */
static long the_file(const place *p, char *out, size_t outsz) {
    DIR *d = opendir(p->records);
    assert_non_null(d);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".mwj")) {
            snprintf(out, outsz, "%s/%s", p->records, e->d_name);
            found++;
        }
    closedir(d);
    assert_int_equal(found, 1);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    return (long)st.st_size;
}

typedef struct seen {
    int64_t seq[64];
    char text[64][16];
    size_t n;
} seen;

static int note(int64_t seq, const void *blob, size_t len, void *ctx) {
    seen *s = ctx;
    s->seq[s->n] = seq;
    memset(s->text[s->n], 0, 16);
    memcpy(s->text[s->n], blob, len < 15 ? len : 15);
    s->n++;
    return 0;
}

static seen replay(mw_store *s, const char *version) {
    seen r = {0};
    OK(mw_store_journal_each(s, "m", version, note, &r, &E));
    return r;
}

static int64_t append(mw_store *s, const char *version, const char *text) {
    int64_t seq = 0;
    OK(mw_store_journal_append(s, "m", version, text, strlen(text), &seq, &E));
    return seq;
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

static void test_batches_in_files_cut_at_commit(void **state) {
    (void)state;
    place p;
    place_make(&p);
    mw_store *s = open_db(p.db);
    int64_t a = append(s, "1", "alpha"), b = append(s, "1", "beta"), c = append(s, "1", "gamma");
    assert_true(a < b && b < c);
    char file[512];
    long head_and_three = the_file(&p, file, sizeof file);
    seen r = replay(s, "1");
    assert_int_equal(r.n, 3);
    assert_string_equal(r.text[0], "alpha");
    assert_string_equal(r.text[2], "gamma");
    /* a window over the first two: the third is still replayed, the file keeps all */
    OK(mw_store_window_commit(s, "m", "1", 0, 60, 2, "{}", b, NULL, &E));
    r = replay(s, "1");
    assert_int_equal(r.n, 1);
    assert_int_equal(r.seq[0], c);
    assert_int_equal(the_file(&p, file, sizeof file), head_and_three);
    /* a window over all three: the file goes back to its header */
    OK(mw_store_window_commit(s, "m", "1", 60, 120, 1, "{}", c, NULL, &E));
    long head = the_file(&p, file, sizeof file);
    assert_int_equal(head, 16 + 1 + 1); /* header + "m" + "1" */
    mw_store_close(s);
    s = open_db(p.db);
    assert_int_equal(replay(s, "1").n, 0);
    assert_true(append(s, "1", "delta") > c); /* seqs are never reused */
    r = replay(s, "1");
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "delta");
    /* deleting the version removes its file */
    OK(mw_store_put_version(s, "m", "1", "{}", 0, &E));
    OK(mw_store_delete_version(s, "m", "1", &E));
    assert_int_equal(access(file, F_OK), -1);
    assert_int_equal(replay(s, "1").n, 0);
    mw_store_close(s);
    place_remove(&p);
}

static void test_torn_and_damaged_tails_cut(void **state) {
    (void)state;
    place p;
    place_make(&p);
    mw_store *s = open_db(p.db);
    append(s, "1", "one");
    append(s, "1", "two");
    mw_store_close(s);
    char file[512];
    long whole = the_file(&p, file, sizeof file);
    /* a killed append: the start of a frame that claims 1000 bytes */
    FILE *f = fopen(file, "ab");
    assert_non_null(f);
    fwrite("MWJF\xe8\x03\0\0\x09\0\0\0\0\0\0\0partial", 1, 23, f);
    fclose(f);
    s = open_db(p.db);
    seen r = replay(s, "1");
    assert_int_equal(r.n, 2);
    append(s, "1", "three"); /* goes where the torn frame was */
    r = replay(s, "1");
    assert_int_equal(r.n, 3);
    assert_string_equal(r.text[2], "three");
    mw_store_close(s);
    assert_int_equal(the_file(&p, file, sizeof file), whole + 16 + 5 + 8);
    /* a byte of the last frame's payload changed: that frame fails its check */
    f = fopen(file, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, whole + 16 + 2, SEEK_SET), 0);
    fputc('X', f);
    fclose(f);
    s = open_db(p.db);
    r = replay(s, "1");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[1], "two");
    mw_store_close(s);
    assert_int_equal(the_file(&p, file, sizeof file), whole);
    place_remove(&p);
}

/* A crash after a window's commit, before its frames were cut: the mark in
 * the database keeps them from being replayed into the next window. */
static void test_crash_between_commit_and_cut(void **state) {
    (void)state;
    place p;
    place_make(&p);
    mw_store *s = open_db(p.db);
    append(s, "1", "one");
    int64_t two = append(s, "1", "two");
    char file[512], saved[300];
    the_file(&p, file, sizeof file);
    snprintf(saved, sizeof saved, "%s/saved", p.dir);
    copy_file(file, saved);
    OK(mw_store_window_commit(s, "m", "1", 0, 60, 2, "{}", two, NULL, &E));
    mw_store_close(s);
    copy_file(saved, file); /* as if the cut never happened */
    s = open_db(p.db);
    assert_int_equal(replay(s, "1").n, 0);
    int64_t three = append(s, "1", "three");
    assert_true(three > two);
    seen r = replay(s, "1");
    assert_int_equal(r.n, 1);
    assert_int_equal(r.seq[0], three);
    uint64_t count = 0;
    OK(mw_store_journal_count(s, "m", "1", &count, &E));
    assert_int_equal(count, 1);
    mw_store_close(s);
    place_remove(&p);
}

static void test_another_versions_file_refused(void **state) {
    (void)state;
    place p;
    place_make(&p);
    mw_store *s = open_db(p.db);
    append(s, "1", "one");
    char one[512];
    the_file(&p, one, sizeof one);
    append(s, "2", "two");
    mw_store_close(s);
    /* version 2's file replaced by a copy of version 1's */
    DIR *d = opendir(p.records);
    struct dirent *e;
    char two[512] = "";
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".mwj") && !strstr(one, e->d_name))
            snprintf(two, sizeof two, "%s/%s", p.records, e->d_name);
    closedir(d);
    assert_true(two[0]);
    copy_file(one, two);
    s = open_db(p.db);
    seen r = {0};
    assert_int_equal(mw_store_journal_each(s, "m", "2", note, &r, &E), MW_ECORRUPT);
    assert_non_null(strstr(E.message, "not the journal of m/2"));
    assert_int_equal(replay(s, "1").n, 1); /* the other version is unaffected */
    mw_store_close(s);
    place_remove(&p);
}

/* A second handle (another daemon on the same database) cannot write into a
 * journal file the first one has open. */
static void test_second_writer_refused(void **state) {
    (void)state;
    place p;
    place_make(&p);
    mw_store *s = open_db(p.db), *t = open_db(p.db);
    append(s, "1", "one");
    int64_t seq;
    assert_int_equal(mw_store_journal_append(t, "m", "1", "two", 3, &seq, &E), MW_EIO);
    assert_non_null(strstr(E.message, "in use by another process"));
    mw_store_close(s);
    append(t, "1", "two"); /* the first one is gone: the file is free */
    seen r = replay(t, "1");
    assert_int_equal(r.n, 2);
    assert_string_equal(r.text[1], "two");
    mw_store_close(t);
    place_remove(&p);
}

static void test_in_memory_database_keeps_journal_in_sqlite(void **state) {
    (void)state;
    mw_store *s = open_db(":memory:");
    int64_t a = append(s, "1", "one");
    append(s, "1", "two");
    assert_int_equal(replay(s, "1").n, 2);
    OK(mw_store_window_commit(s, "m", "1", 0, 60, 1, "{}", a, NULL, &E));
    seen r = replay(s, "1");
    assert_int_equal(r.n, 1);
    assert_string_equal(r.text[0], "two");
    mw_store_close(s);
    assert_int_equal(access(":memory:-records", F_OK), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_in_files_cut_at_commit),
        cmocka_unit_test(test_torn_and_damaged_tails_cut),
        cmocka_unit_test(test_crash_between_commit_and_cut),
        cmocka_unit_test(test_another_versions_file_refused),
        cmocka_unit_test(test_second_writer_refused),
        cmocka_unit_test(test_in_memory_database_keeps_journal_in_sqlite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
