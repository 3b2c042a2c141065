/* Copy pipeline: one source read once and hashed, two sinks fed from the same
 * buffers and read back. With fake sinks (copy_sink_io) that fail, lie on
 * read-back and are slow: a failing or lying sink is named and dropped while
 * the other completes byte for byte; a slow sink still completes; when every
 * sink fails, the copy fails. The source is a real FAT32 image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <time.h>

#include "copy.h"
#include "testutil.h"
#include "volume.h"

#define SIZE (5 * 1024 * 1024 + 4321) /* not a multiple of any block */

struct fixture {
        char *dir;
        struct volume *vol;
        struct volume_listing l;
        unsigned char *want; /* the file's bytes */
        char sha[65];
        struct copy_pool pool;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        f->dir = scratch_dir();
        f->want = malloc(SIZE);
        srand(7);
        for (size_t i = 0; i < SIZE; i++)
                f->want[i] = (unsigned char)rand();
        char path[4200], cmd[9000];
        snprintf(path, sizeof(path), "%s/CLIP.MP4", f->dir);
        FILE *o = fopen(path, "w");
        fwrite(f->want, 1, SIZE, o);
        fclose(o);
        snprintf(cmd, sizeof(cmd),
                 "cd '%s' && mkfs.fat -C -F 32 rec.img 40960 >/dev/null && mcopy -i rec.img CLIP.MP4 ::/", f->dir);
        if (system(cmd) != 0)
                return -1;
        unsigned char d[32];
        unsigned dl;
        EVP_Digest(f->want, SIZE, d, &dl, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
                snprintf(f->sha + 2 * i, 3, "%02x", d[i]);
        snprintf(path, sizeof(path), "%s/rec.img", f->dir);
        char err[512];
        if (volume_open(path, NULL, NULL, &f->vol, err, sizeof(err)) < 0 ||
            volume_list(f->vol, &f->l, err, sizeof(err)) < 0 || f->l.n_files != 1)
                return -1;
        if (copy_pool_init(&f->pool, 256 * 1024, 4, 2) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        copy_pool_free(&f->pool);
        volume_listing_free(&f->l);
        volume_close(f->vol);
        rm_rf(f->dir);
        free(f->dir);
        free(f->want);
        free(f);
        return 0;
}

/* What a fake sink does, on top of its real file. */
struct fake {
        int64_t fail_write_at; /* a write covering this offset fails with EIO (-1: never) */
        int64_t lie_at;        /* read-back of this offset returns a flipped byte (-1: never) */
        long delay_ns;         /* every write and read waits this long */
        int fail_sync;         /* syncs fail with this errno (0: never) */
};

static void nap(long ns)
{
        struct timespec ts = { 0, ns };
        if (ns)
                nanosleep(&ts, NULL);
}

static ssize_t fake_write(struct copy_sink *s, const void *buf, size_t n, off_t off)
{
        struct fake *k = s->io->ud;
        nap(k->delay_ns);
        if (k->fail_write_at >= 0 && k->fail_write_at >= off && k->fail_write_at < off + (off_t)n)
                return -EIO;
        ssize_t w = pwrite(s->fd, buf, n, off);
        return w == (ssize_t)n ? w : -EIO;
}

static ssize_t fake_read(struct copy_sink *s, void *buf, size_t n, off_t off)
{
        struct fake *k = s->io->ud;
        nap(k->delay_ns);
        ssize_t r = pread(s->fd, buf, n, off);
        if (r > 0 && k->lie_at >= off && k->lie_at < off + r)
                ((unsigned char *)buf)[k->lie_at - off] ^= 0x10;
        return r < 0 ? -errno : r;
}

static int fake_sync(struct copy_sink *s)
{
        struct fake *k = s->io->ud;
        if (k->fail_sync)
                return -k->fail_sync;
        return fdatasync(s->fd) < 0 ? -errno : 0;
}

struct run {
        struct target t[2];
        struct copy_sink sinks[2];
        struct copy_sink_io io[2];
        struct fake fk[2];
        char part[2][4200];
        char sha[65];
        int r;
};

static void run_copy(struct fixture *f, struct run *u, const struct fake *fa, const struct fake *fb)
{
        const struct fake *fk[2] = { fa, fb };
        static char names[2][2] = { "a", "b" };
        for (int i = 0; i < 2; i++) {
                u->t[i] = (struct target){ .name = names[i], .root = f->dir };
                snprintf(u->part[i], sizeof(u->part[i]), "%s/part-%s", f->dir, names[i]);
                unlink(u->part[i]);
                assert_int_equal(copy_sink_open(&u->sinks[i], &u->t[i], u->part[i]), 0);
                if (fk[i]) {
                        u->fk[i] = *fk[i];
                        u->io[i] = (struct copy_sink_io){ fake_write, fake_read, fake_sync, &u->fk[i] };
                        u->sinks[i].io = &u->io[i];
                }
        }
        struct volume_file *vf = NULL;
        char err[512];
        assert_int_equal(volume_file_open(f->vol, &f->l.files[0], &vf, err, sizeof(err)), 0);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        struct copy_params p = {
                .src = vf,
                .src_name = "TEST:/CLIP.MP4",
                .size = SIZE,
                .md = md,
                .sinks = u->sinks,
                .n_sinks = 2,
                .pool = &f->pool,
                .checkpoint_bytes = 1 << 20,
                .writers = 2,
        };
        u->r = copy_run(&p);
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(md, d, &dl);
        for (int i = 0; i < 32; i++)
                snprintf(u->sha + 2 * i, 3, "%02x", d[i]);
        EVP_MD_CTX_free(md);
        volume_file_close(vf);
        for (int i = 0; i < 2; i++)
                copy_sink_close(&u->sinks[i]);
}

/* The partial copy holds exactly the source's bytes. */
static void assert_copy_exact(struct fixture *f, const char *path)
{
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, SIZE);
        unsigned char *got = malloc(SIZE);
        int fd = open(path, O_RDONLY);
        assert_int_equal(pread(fd, got, SIZE, 0), SIZE);
        close(fd);
        assert_memory_equal(got, f->want, SIZE);
        free(got);
}

static void test_two_true_sinks(void **state)
{
        struct fixture *f = *state;
        struct run u;
        run_copy(f, &u, NULL, NULL);
        assert_int_equal(u.r, 0);
        assert_string_equal(u.sha, f->sha);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(u.sinks[i].error, 0);
                assert_int_equal(u.sinks[i].durable, SIZE);
                assert_copy_exact(f, u.part[i]);
        }
}

static void test_failing_sink_named_other_completes(void **state)
{
        struct fixture *f = *state;
        struct run u;
        struct fake bad = { .fail_write_at = 3 * 1024 * 1024 + 17, .lie_at = -1 };
        run_copy(f, &u, NULL, &bad);
        assert_int_equal(u.r, 0);
        assert_string_equal(u.sha, f->sha);
        assert_int_equal(u.sinks[0].error, 0);
        assert_copy_exact(f, u.part[0]);
        assert_int_equal(u.sinks[1].error, -EIO);
        assert_non_null(strstr(u.sinks[1].errmsg, "write at offset"));
        assert_true(u.sinks[1].durable < SIZE); /* never claimed whole */
}

static void test_lying_sink_caught_by_readback(void **state)
{
        struct fixture *f = *state;
        struct run u;
        struct fake liar = { .fail_write_at = -1, .lie_at = 2 * 1024 * 1024 + 5 };
        run_copy(f, &u, &liar, NULL);
        assert_int_equal(u.r, 0);
        assert_string_equal(u.sha, f->sha);
        assert_int_equal(u.sinks[0].error, -EIO);
        assert_non_null(strstr(u.sinks[0].errmsg, "does not match what was written"));
        assert_true(u.sinks[0].durable <= 2 * 1024 * 1024 + 5); /* nothing past the lie counts */
        assert_int_equal(u.sinks[1].error, 0);
        assert_copy_exact(f, u.part[1]);
}

static void test_slow_sink_completes(void **state)
{
        struct fixture *f = *state;
        struct run u;
        struct fake slow = { .fail_write_at = -1, .lie_at = -1, .delay_ns = 3 * 1000 * 1000 };
        run_copy(f, &u, &slow, NULL);
        assert_int_equal(u.r, 0);
        assert_string_equal(u.sha, f->sha);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(u.sinks[i].error, 0);
                assert_copy_exact(f, u.part[i]);
        }
}

static void test_sync_failure_is_a_failed_copy(void **state)
{
        struct fixture *f = *state;
        struct run u;
        struct fake nosync = { .fail_write_at = -1, .lie_at = -1, .fail_sync = ENOSPC };
        run_copy(f, &u, NULL, &nosync);
        assert_int_equal(u.r, 0);
        assert_int_equal(u.sinks[0].error, 0);
        assert_int_equal(u.sinks[1].error, -ENOSPC);
        assert_true(u.sinks[1].durable < SIZE);
}

static void test_every_sink_failing_fails_the_copy(void **state)
{
        struct fixture *f = *state;
        struct run u;
        struct fake bad = { .fail_write_at = 100, .lie_at = -1 }, liar = { .fail_write_at = -1, .lie_at = 1000 };
        run_copy(f, &u, &bad, &liar);
        assert_true(u.r < 0);
        assert_true(u.sinks[0].error < 0 && u.sinks[1].error < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_two_true_sinks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failing_sink_named_other_completes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lying_sink_caught_by_readback, setup, teardown),
                cmocka_unit_test_setup_teardown(test_slow_sink_completes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sync_failure_is_a_failed_copy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_every_sink_failing_fails_the_copy, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
