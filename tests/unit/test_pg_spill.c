/* Unit tests for capture/pg_spill: records replay in order with their LSN and subtransaction,
 * in memory and from a file (records larger than the I/O buffers included, with few reads),
 * subtransaction aborts before and after the move to a file, eviction of the largest transaction
 * under the threshold, two spilled transactions sharing the write buffer, reset and close, that
 * spill files are unlinked (the directory stays empty) and closed, and I/O errors (a missing
 * directory, a file size limit standing in for a full disk) naming the xid and LSN. */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/pg_spill.h"
#include "core/fs.h"
#include "pipeline/event.h"
#include "support/store_fixture.h"

/* Record number i: its LSN is i, its length and bytes follow from i; every 40th is 100 KiB and
 * more (larger than the 64 KiB I/O buffers). */
static size_t rec_len(uint64_t i)
{
    return (size_t)(i * 37 % 300) + 5 + (i % 40 == 7 ? 100000 + (size_t)i : 0);
}

static uint8_t rec_byte(uint64_t i, size_t k)
{
    return (uint8_t)(i * 131 + k * 7);
}

static void rec_append(pg_spill *s, uint32_t xid, uint64_t i, uint32_t subxid)
{
    static uint8_t data[200000];
    char err[512];
    size_t len = rec_len(i);
    for (size_t k = 0; k < len; k++)
        data[k] = rec_byte(i, k);
    if (pg_spill_append(s, xid, i, subxid, data, len, err, sizeof err) != 0)
        fail_msg("append %" PRIu64 " to %" PRIu32 ": %s", i, xid, err);
}

/* What a replay saw: LSNs and subxids in order. */
typedef struct seen {
    uint64_t lsn[4096];
    uint32_t subxid[4096];
    size_t n;
    size_t fail_at;   /* return -1 at this record (0: never) */
} seen;

static int seen_visit(void *arg, const pg_spill_record *rec)
{
    seen *v = arg;
    assert_true(v->n < 4096);
    assert_int_equal(rec->len, rec_len(rec->lsn));
    for (size_t k = 0; k < rec->len; k++)
        if (rec->data[k] != rec_byte(rec->lsn, k))
            fail_msg("record %" PRIu64 " byte %zu differs", rec->lsn, k);
    v->lsn[v->n] = rec->lsn;
    v->subxid[v->n] = rec->subxid;
    v->n++;
    return v->fail_at && v->n == v->fail_at ? -1 : 0;
}

static seen *replay(pg_spill *s, uint32_t xid)
{
    static seen v;
    char err[512];
    memset(&v, 0, sizeof v);
    if (pg_spill_replay(s, xid, seen_visit, &v, err, sizeof err) != 0)
        fail_msg("replay of %" PRIu32 ": %s", xid, err);
    return &v;
}

static int dir_entries(const char *dir)
{
    int n = 0;
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    for (struct dirent *de; (de = readdir(dh));)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(dh);
    return n;
}

static int open_fds(void)
{
    return dir_entries("/proc/self/fd");
}

static void tmpdir_remove(const char *dir)
{
    char err[256];
    assert_int_equal(fs_remove_tree(dir, err, sizeof err), 0);
}

/* Subxid of record i in the tests below: 0 (none), 10 or 11. */
static uint32_t subxid_of(uint64_t i)
{
    return i % 3 == 0 ? 0 : i % 3 == 1 ? 10 : 11;
}

static void test_memory(void **state)
{
    (void)state;
    pg_spill *s = pg_spill_create("/nonexistent", PG_SPILL_DEFAULT_THRESHOLD);
    assert_non_null(s);
    size_t base = pg_spill_footprint(s);
    for (uint64_t i = 1; i <= 30; i++)
        rec_append(s, 5, i, subxid_of(i));
    assert_true(pg_spill_footprint(s) > base + 100000);
    char err[256];
    assert_int_equal(pg_spill_abort_subxact(s, 5, 10, err, sizeof err), 0);
    assert_int_equal(pg_spill_abort_subxact(s, 5, 0, err, sizeof err), 0);   /* 0 is never aborted */
    seen *v = replay(s, 5);
    size_t n = 0;
    for (uint64_t i = 1; i <= 30; i++)
        if (subxid_of(i) != 10) {
            assert_int_equal(v->lsn[n], i);
            assert_int_equal(v->subxid[n], subxid_of(i));
            n++;
        }
    assert_int_equal(v->n, n);
    assert_int_equal(replay(s, 99)->n, 0);   /* unknown: nothing */
    pg_spill_stats st;
    pg_spill_stats_get(s, &st);
    assert_int_equal(st.spilled_txns, 0);
    assert_int_equal(st.write_calls + st.read_calls, 0);
    pg_spill_close(s, 5);
    assert_true(pg_spill_footprint(s) <= base + 512);
    pg_spill_destroy(s);
    pg_spill_destroy(NULL);
}

static void test_file(void **state)
{
    (void)state;
    char dir[512];
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "spill"));
    int fds = open_fds();
    pg_spill *s = pg_spill_create(dir, 8192);
    assert_non_null(s);
    char err[256];
    uint64_t bytes = 0;
    /* in memory at first, with subtransaction 10 aborted there; then past the threshold */
    for (uint64_t i = 1; i <= 6; i++)
        rec_append(s, 7, i, subxid_of(i) == 10 ? 12 : subxid_of(i));
    assert_int_equal(pg_spill_abort_subxact(s, 7, 12, err, sizeof err), 0);
    pg_spill_stats st;
    pg_spill_stats_get(s, &st);
    assert_int_equal(st.files_open, 0);
    for (uint64_t i = 7; i <= 600; i++) {
        rec_append(s, 7, i, subxid_of(i));
        bytes += 16 + rec_len(i);
        assert_true(pg_spill_footprint(s) <= 8192 + 64 * 1024 + 1024);
    }
    pg_spill_stats_get(s, &st);
    assert_int_equal(st.files_open, 1);
    assert_int_equal(st.spilled_txns, 1);
    assert_int_equal(open_fds(), fds + 1);
    assert_int_equal(dir_entries(dir), 0);   /* unlinked as soon as made */
    /* subtransaction 11 aborts while in the file; an unknown one and a repeat change nothing */
    assert_int_equal(pg_spill_abort_subxact(s, 7, 11, err, sizeof err), 0);
    assert_int_equal(pg_spill_abort_subxact(s, 7, 11, err, sizeof err), 0);
    assert_int_equal(pg_spill_abort_subxact(s, 7, 4242, err, sizeof err), 0);
    assert_int_equal(pg_spill_flush(s, err, sizeof err), 0);
    for (uint64_t i = 601; i <= 700; i++)   /* another segment */
        rec_append(s, 7, i, subxid_of(i));

    pg_spill_stats before;
    pg_spill_stats_get(s, &before);
    seen *v = replay(s, 7);
    size_t n = 0;
    for (uint64_t i = 1; i <= 700; i++) {
        int dropped = subxid_of(i) == 11 || (i <= 6 && subxid_of(i) == 10);
        if (dropped)
            continue;
        if (v->lsn[n] != i)
            fail_msg("replayed #%zu is %" PRIu64 ", expected %" PRIu64, n, v->lsn[n], i);
        n++;
    }
    assert_int_equal(v->n, n);
    pg_spill_stats_get(s, &st);
    /* buffered: about one read per 64 KiB (plus one per record larger than that), not per record */
    uint64_t reads = st.read_calls - before.read_calls;
    assert_true(reads <= bytes / (64 * 1024) + 700 / 40 + 4);
    assert_true(reads < 700 / 4);

    /* a replay stopped by its callback: -1 with no reason of its own */
    seen stop = {.fail_at = 3};
    err[0] = 'x';
    assert_int_equal(pg_spill_replay(s, 7, seen_visit, &stop, err, sizeof err), -1);
    assert_string_equal(err, "");
    assert_int_equal(stop.n, 3);

    /* streamed again from its start: back to memory, the file closed */
    pg_spill_reset(s, 7);
    pg_spill_stats_get(s, &st);
    assert_int_equal(st.files_open, 0);
    assert_int_equal(open_fds(), fds);
    rec_append(s, 7, 900, 11);   /* the old abort set is gone with the file */
    v = replay(s, 7);
    assert_int_equal(v->n, 1);
    assert_int_equal(v->lsn[0], 900);
    pg_spill_close(s, 7);
    pg_spill_destroy(s);
    assert_int_equal(dir_entries(dir), 0);
    tmpdir_remove(dir);
}

/* Two transactions: the largest moves first; both in files share the write buffer. */
static void test_eviction(void **state)
{
    (void)state;
    char dir[512];
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "spill"));
    int fds = open_fds();
    pg_spill *s = pg_spill_create(dir, 64 * 1024);
    pg_spill_stats st;
    /* xid 1 holds ~40 KiB, xid 2 a little; xid 2 growing past the budget moves xid 1 */
    uint64_t i = 1, a_last = 0, b_last = 0;
    size_t a_bytes = 0;
    for (; a_bytes < 40000; i++) {
        if (i % 40 == 7)
            continue;
        rec_append(s, 1, i, 0);
        a_bytes += 16 + rec_len(i);
        a_last = i;
    }
    uint64_t b_first = i;
    for (size_t b_bytes = 0; b_bytes < 30000; i++) {
        if (i % 40 == 7)
            continue;
        rec_append(s, 2, i, 0);
        b_bytes += 16 + rec_len(i);
        b_last = i;
        assert_true(pg_spill_footprint(s) <= 64 * 1024 + 1024);
    }
    pg_spill_stats_get(s, &st);
    assert_int_equal(st.spilled_txns, 1);
    assert_int_equal(open_fds(), fds + 1);
    /* xid 1 is in a file; more of it goes there, interleaved with xid 2 until it moves too */
    uint64_t interleaved = i;
    for (int k = 0; k < 600; k++, i++)
        rec_append(s, k % 2 ? 2 : 1, i, 0);
    pg_spill_stats_get(s, &st);
    assert_int_equal(st.spilled_txns, 2);
    assert_int_equal(st.files_open, 2);
    assert_int_equal(dir_entries(dir), 0);

    seen *v = replay(s, 2);
    size_t n = 0;
    for (uint64_t j = b_first; j <= b_last; j++)
        if (j % 40 != 7)
            assert_int_equal(v->lsn[n++], j);
    for (uint64_t j = interleaved + 1; j < i; j += 2)
        assert_int_equal(v->lsn[n++], j);
    assert_int_equal(v->n, n);
    pg_spill_close(s, 2);
    v = replay(s, 1);
    n = 0;
    for (uint64_t j = 1; j <= a_last; j++)
        if (j % 40 != 7)
            assert_int_equal(v->lsn[n++], j);
    for (uint64_t j = interleaved; j < i; j += 2)
        assert_int_equal(v->lsn[n++], j);
    assert_int_equal(v->n, n);
    pg_spill_destroy(s);   /* closes xid 1's file */
    assert_int_equal(open_fds(), fds);
    tmpdir_remove(dir);
}

static void test_errors(void **state)
{
    (void)state;
    char err[512];
    uint8_t data[300] = {0};
    /* a directory that does not exist: the record stays in memory, the reason names xid and dir */
    pg_spill *s = pg_spill_create("/nonexistent/sluice", 0);
    assert_int_equal(pg_spill_append(s, 42, 0x16B3748, 0, data, sizeof data, err, sizeof err), -1);
    assert_non_null(strstr(err, "streamed transaction 42: cannot create spill file in /nonexistent/sluice"));
    pg_spill_destroy(s);

    /* a file size limit stands in for a full disk: writes fail with the xid and LSN; the
     * transaction then refuses to replay (its records are incomplete) until reset */
    char dir[512];
    assert_non_null(store_fixture_tmpdir(dir, sizeof dir, "spill"));
    s = pg_spill_create(dir, 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 4096;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = 0;
    uint64_t lsn = 0x5000000;
    for (int k = 0; k < 1000 && rc == 0; k++) {
        lsn += 0x10;
        rc = pg_spill_append(s, 43, lsn, 0, data, sizeof data, err, sizeof err);
        if (rc == 0)
            rc = pg_spill_flush(s, err, sizeof err);
    }
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, -1);
    char lsn_text[18];
    lsn_format(lsn, lsn_text);
    assert_non_null(strstr(err, "streamed transaction 43: cannot write spill file in "));
    assert_non_null(strstr(err, lsn_text));
    assert_non_null(strstr(err, "File too large"));
    seen v = {0};
    assert_int_equal(pg_spill_replay(s, 43, seen_visit, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "streamed transaction 43: records were lost"));
    assert_int_equal(pg_spill_append(s, 43, lsn, 0, data, sizeof data, err, sizeof err), -1);
    pg_spill_reset(s, 43);
    rec_append(s, 43, 1, 0);
    assert_int_equal(replay(s, 43)->n, 1);
    pg_spill_destroy(s);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
