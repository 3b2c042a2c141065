/* copy.c — read once, hash, fan out, read back. See copy.h.
 *
 * One reader (the calling thread) fills a ring of aligned buffers from the
 * source and hashes each in order. Each live sink has writer threads that take
 * the published buffers in turn and write them to its partial copy, so several
 * writes are in flight per target (a single O_DIRECT write at a time leaves a
 * virtio or NVMe queue mostly idle), and a verifier thread that follows the
 * writers in order: it reads each written range back with O_DIRECT and compares
 * it byte for byte with the buffer before releasing it. A buffer is reused only
 * when every live sink has verified it and no thread still touches it, so
 * memory is chunks * chunk_size whatever the file size, and a copy that matched
 * every byte that was hashed has the same SHA-256 as the source without hashing
 * it again: one hash per byte on a two-core machine instead of three. */
#include "copy.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

#define ALIGN 4096

struct chunk {
        void *buf;
        size_t len;
        int64_t off;
        unsigned refs;    /* live sinks that have not yet verified it */
        unsigned busy;    /* threads using buf outside the lock */
        uint32_t written; /* bit i: sink i has written it (cleared when published) */
};

struct copy_pipe {
        pthread_mutex_t mu;
        /* Each waits on its own condition and is woken only by what it waits
         * for: one shared condition woke all eight threads of a bay for every
         * block event, which cost a sixth of the CPU with sixteen bays. */
        pthread_cond_t reader_cv; /* a ring slot came free */
        pthread_cond_t hasher_cv; /* a slot was filled, or the reader stopped */
        struct chunk *ring;
        unsigned n;
        uint64_t filled;    /* chunks [0, filled) hold source bytes */
        uint64_t published; /* chunks [0, published) are hashed and readable by sinks */
        bool src_done;      /* the reader stopped */
        int src_err;
        char src_msg[512];
        bool eof, abort;
        unsigned active;
        int64_t checkpoint_bytes;
        struct copy_params *p;
};

int copy_sink_open(struct copy_sink *s, const struct target *t, const char *partial_path)
{
        memset(s, 0, sizeof(*s));
        s->target = t;
        /* O_DIRECT both ways: writes go from our buffers to the device with no
         * page-cache copy (in a VM that copy was 70% of an ingest's CPU), and
         * read-back comes from the device, not from memory. */
        s->fd = open_past_cache(partial_path, O_RDWR | O_CREAT, 0640, &s->direct);
        s->method = s->direct ? "o_direct" : "fadvise"; /* fadvise: e.g. tmpfs */
        if (s->fd < 0) {
                int r = s->fd;
                s->fd = -1;
                return r;
        }
        return 0;
}

void copy_sink_close(struct copy_sink *s)
{
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

int copy_pool_init(struct copy_pool *pool, size_t chunk_size, unsigned chunks, size_t n_sinks)
{
        memset(pool, 0, sizeof(*pool));
        pool->chunk_size = chunk_size;
        pool->bufs = calloc(chunks, sizeof(void *));
        pool->rbufs = calloc(n_sinks ? n_sinks : 1, sizeof(void *));
        if (!pool->bufs || !pool->rbufs)
                goto fail;
        for (; pool->chunks < chunks; pool->chunks++)
                if (posix_memalign(&pool->bufs[pool->chunks], ALIGN, chunk_size) != 0)
                        goto fail;
        /* Read-back may round the last block up to the O_DIRECT grid. */
        for (; pool->n_rbufs < n_sinks; pool->n_rbufs++)
                if (posix_memalign(&pool->rbufs[pool->n_rbufs], ALIGN, chunk_size + ALIGN) != 0)
                        goto fail;
        return 0;
fail:
        copy_pool_free(pool);
        return -ENOMEM;
}

void copy_pool_free(struct copy_pool *pool)
{
        for (unsigned i = 0; i < pool->chunks; i++)
                free(pool->bufs[i]);
        for (size_t i = 0; i < pool->n_rbufs; i++)
                free(pool->rbufs[i]);
        free(pool->bufs);
        free(pool->rbufs);
        memset(pool, 0, sizeof(*pool));
}

static struct chunk *chunk_of(struct copy_pipe *cp, uint64_t seq) { return &cp->ring[seq % cp->n]; }

/* Under cp->mu: wakes every thread (a failure, the end, an abort). */
static void wake_all(struct copy_pipe *cp)
{
        pthread_cond_broadcast(&cp->reader_cv);
        pthread_cond_broadcast(&cp->hasher_cv);
        for (size_t i = 0; i < cp->p->n_sinks; i++) {
                pthread_cond_broadcast(&cp->p->sinks[i].writer_cv);
                pthread_cond_broadcast(&cp->p->sinks[i].verifier_cv);
        }
}

/* Under cp->mu: the reader waits for c once every live sink is done with it. */
static void maybe_free(struct copy_pipe *cp, const struct chunk *c)
{
        if ((c->refs == 0 || cp->active == 0) && c->busy == 0)
                pthread_cond_signal(&cp->reader_cv);
}

/* Under cp->mu. */
static void release(struct copy_pipe *cp, uint64_t from, uint64_t to)
{
        for (uint64_t s = from; s < to; s++) {
                struct chunk *c = chunk_of(cp, s);
                if (c->refs > 0)
                        c->refs--;
                maybe_free(cp, c);
        }
}

/* Under cp->mu. The first failure of a sink counts; its other threads see
 * !active and stop. */
static void sink_fail_locked(struct copy_sink *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void sink_fail_locked(struct copy_sink *s, int err, const char *fmt, ...)
{
        struct copy_pipe *cp = s->pipe;
        if (!s->active)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
        va_end(ap);
        s->error = err < 0 ? err : -EIO;
        s->active = false;
        cp->active--;
        release(cp, s->verify_seq, cp->published);
        wake_all(cp);
}

static ssize_t sink_write(struct copy_sink *s, const void *buf, size_t n, off_t off)
{
        if (s->io)
                return s->io->write(s, buf, n, off);
        int r = pwrite_full(s->fd, buf, n, off);
        return r < 0 ? r : (ssize_t)n;
}

static ssize_t sink_read(struct copy_sink *s, void *buf, size_t n, off_t off)
{
        if (s->io)
                return s->io->read(s, buf, n, off);
        if (s->direct) {
                ssize_t k;
                do
                        k = pread(s->fd, buf, n, off);
                while (k < 0 && errno == EINTR);
                return k < 0 ? -errno : k;
        }
        return pread_full(s->fd, buf, n, off);
}

static int sink_sync(struct copy_sink *s)
{
        if (s->io)
                return s->io->sync(s);
        return fdatasync(s->fd) < 0 ? -errno : 0;
}

/* Reads chunk c back past the page cache and compares; 0 or -errno with errmsg. */
static int readback(struct copy_sink *s, const struct chunk *c, char *msg, size_t msg_size)
{
        size_t want = (c->len + ALIGN - 1) / ALIGN * ALIGN;
        ssize_t k;
        if (s->direct) {
                k = sink_read(s, s->rbuf, want, c->off);
        } else {
                int r = sink_sync(s);
                if (r < 0) {
                        snprintf(msg, msg_size, "fdatasync: %s", strerror(-r));
                        return r;
                }
                posix_fadvise(s->fd, c->off, (off_t)c->len, POSIX_FADV_DONTNEED);
                k = sink_read(s, s->rbuf, c->len, c->off);
        }
        if (k < 0) {
                snprintf(msg, msg_size, "read-back at offset %lld: %s", (long long)c->off, strerror((int)-k));
                return (int)k;
        }
        if ((size_t)k < c->len || memcmp(s->rbuf, c->buf, c->len) != 0) {
                s->mismatch = true;
                snprintf(msg, msg_size,
                         "read-back at offset %lld does not match what was written"
                         " (the target's storage altered or lost data)",
                         (long long)c->off);
                return -EIO;
        }
        return 0;
}

/* Writer: takes the next published chunk this sink has not written, writes it. */
static void *sink_writer(void *arg)
{
        struct copy_sink *s = arg;
        struct copy_pipe *cp = s->pipe;
        uint32_t bit = 1u << s->index;
        pthread_mutex_lock(&cp->mu);
        for (;;) {
                while (s->active && !cp->abort && s->next_seq == cp->published && !cp->eof)
                        pthread_cond_wait(&s->writer_cv, &cp->mu);
                if (!s->active || cp->abort || s->next_seq == cp->published)
                        break;
                struct chunk *c = chunk_of(cp, s->next_seq++);
                c->busy++;
                pthread_mutex_unlock(&cp->mu);

                crashpoint("sink-write");
                /* O_DIRECT writes whole blocks: the reader zero-padded the last
                 * chunk to the block grid; the file is cut to size at the end. */
                size_t len = s->direct ? (c->len + ALIGN - 1) / ALIGN * ALIGN : c->len;
                ssize_t w = sink_write(s, c->buf, len, c->off);
                int r = w < 0 ? (int)w : 0;
                /* Buffered fallback: start write-back now, so the read-back
                 * does not have to flush it all first. */
                if (r == 0 && !s->direct)
                        sync_file_range(s->fd, c->off, (off_t)c->len, SYNC_FILE_RANGE_WRITE);

                pthread_mutex_lock(&cp->mu);
                c->busy--;
                if (r < 0)
                        sink_fail_locked(s, r, "write at offset %lld: %s", (long long)c->off, strerror(-r));
                else
                        c->written |= bit;
                pthread_cond_signal(&s->verifier_cv);
                maybe_free(cp, c);
        }
        pthread_mutex_unlock(&cp->mu);
        return NULL;
}

/* Verifier: follows the writers in order, reads each chunk back and compares,
 * fdatasyncs at checkpoint boundaries and at the end (the resume point recorded
 * in the catalog must never be ahead of the disk), then releases the chunk. */
static void *sink_verifier(void *arg)
{
        struct copy_sink *s = arg;
        struct copy_pipe *cp = s->pipe;
        uint32_t bit = 1u << s->index;
        char msg[sizeof(s->errmsg)];
        pthread_mutex_lock(&cp->mu);
        for (;;) {
                while (s->active && !cp->abort && !(cp->eof && s->verify_seq == cp->published) &&
                       !(s->verify_seq < cp->published && (chunk_of(cp, s->verify_seq)->written & bit)))
                        pthread_cond_wait(&s->verifier_cv, &cp->mu);
                if (!s->active || cp->abort)
                        break;
                if (s->verify_seq == cp->published) { /* eof: everything written and read back */
                        pthread_mutex_unlock(&cp->mu);
                        const char *what = "fdatasync";
                        int r = sink_sync(s);
                        if (r == 0 && s->direct && ftruncate(s->fd, cp->p->size) < 0)
                                r = -errno, what = "truncate";
                        if (r == 0 && fsync(s->fd) < 0)
                                r = -errno, what = "fsync";
                        pthread_mutex_lock(&cp->mu);
                        if (r < 0)
                                sink_fail_locked(s, r, "%s: %s", what, strerror(-r));
                        else
                                s->durable = cp->p->size;
                        break;
                }
                struct chunk *c = chunk_of(cp, s->verify_seq);
                c->busy++;
                pthread_mutex_unlock(&cp->mu);

                int r = readback(s, c, msg, sizeof(msg));
                int64_t end = c->off + (int64_t)c->len;
                bool crosses =
                        cp->checkpoint_bytes > 0 && end / cp->checkpoint_bytes != s->durable / cp->checkpoint_bytes;
                if (r == 0 && crosses && (r = sink_sync(s)) < 0)
                        snprintf(msg, sizeof(msg), "fdatasync: %s", strerror(-r));

                pthread_mutex_lock(&cp->mu);
                c->busy--;
                maybe_free(cp, c);
                if (!s->active) /* a writer failed meanwhile and released our chunks */
                        break;
                if (r < 0) {
                        sink_fail_locked(s, r, "%s", msg);
                        break;
                }
                release(cp, s->verify_seq, s->verify_seq + 1);
                s->verify_seq++;
                if (crosses)
                        s->durable = end;
        }
        pthread_mutex_unlock(&cp->mu);
        return NULL;
}

/* The reader: fills ring slots in order from the source, each slot once the
 * hasher has published its previous occupant and every live sink is done with
 * it. Chunks stop at checkpoint boundaries, so resume points fall on chunk
 * edges and stay block-aligned for O_DIRECT. */
static void *source_main(void *arg)
{
        struct copy_pipe *cp = arg;
        struct copy_params *p = cp->p;
        int64_t off = p->offset, ckpt = p->checkpoint_bytes;
        int r = 0;
        char msg[sizeof(cp->src_msg)];
        for (uint64_t seq = 0; off < p->size; seq++) {
                struct chunk *c = chunk_of(cp, seq);
                pthread_mutex_lock(&cp->mu);
                while (!cp->abort && !cp->eof &&
                       (seq >= cp->published + cp->n || (c->refs > 0 && cp->active > 0) || c->busy > 0))
                        pthread_cond_wait(&cp->reader_cv, &cp->mu);
                bool stop = cp->abort || cp->eof;
                pthread_mutex_unlock(&cp->mu);
                if (stop)
                        break;
                size_t want = p->pool->chunk_size;
                if ((int64_t)want > p->size - off)
                        want = (size_t)(p->size - off);
                if (ckpt > 0 && (int64_t)want > ckpt - off % ckpt)
                        want = (size_t)(ckpt - off % ckpt);
                size_t got = 0;
                while (got < want) {
                        ssize_t k = volume_file_read(p->src, off + (int64_t)got, (char *)c->buf + got, want - got, msg,
                                                     sizeof(msg));
                        if (k < 0) {
                                r = (int)k;
                                break;
                        }
                        if (k == 0) {
                                snprintf(msg, sizeof(msg), "%s: source ended at %lld of %lld bytes", p->src_name,
                                         (long long)(off + (int64_t)got), (long long)p->size);
                                r = -EIO;
                                break;
                        }
                        got += (size_t)k;
                }
                if (r < 0)
                        break;
                crashpoint("source-read");
                if (got % ALIGN) /* pad for O_DIRECT writers; never hashed, cut off at the end */
                        memset((char *)c->buf + got, 0, ALIGN - got % ALIGN);
                c->len = got;
                c->off = off;
                off += (int64_t)got;
                pthread_mutex_lock(&cp->mu);
                cp->filled = seq + 1;
                pthread_cond_signal(&cp->hasher_cv);
                pthread_mutex_unlock(&cp->mu);
        }
        pthread_mutex_lock(&cp->mu);
        if (r < 0) {
                cp->src_err = r;
                snprintf(cp->src_msg, sizeof(cp->src_msg), "%s", msg);
        }
        cp->src_done = true;
        pthread_cond_signal(&cp->hasher_cv);
        pthread_mutex_unlock(&cp->mu);
        return NULL;
}

static int64_t min_durable(struct copy_pipe *cp)
{
        int64_t m = INT64_MAX;
        for (size_t i = 0; i < cp->p->n_sinks; i++)
                if (cp->p->sinks[i].active && cp->p->sinks[i].durable < m)
                        m = cp->p->sinks[i].durable;
        return m;
}

int copy_run(struct copy_params *p)
{
        struct copy_pipe cp = {
                .mu = PTHREAD_MUTEX_INITIALIZER,
                .reader_cv = PTHREAD_COND_INITIALIZER,
                .hasher_cv = PTHREAD_COND_INITIALIZER,
                .n = p->pool->chunks,
                .checkpoint_bytes = p->checkpoint_bytes,
                .p = p,
        };
        int r = 0;
        p->err[0] = '\0';
        if (p->n_sinks > p->pool->n_rbufs)
                return -EINVAL;
        cp.ring = calloc(cp.n, sizeof(*cp.ring));
        if (!cp.ring)
                return -ENOMEM;
        for (unsigned i = 0; i < cp.n; i++)
                cp.ring[i].buf = p->pool->bufs[i];
        for (size_t i = 0; i < p->n_sinks; i++) {
                struct copy_sink *s = &p->sinks[i];
                s->pipe = &cp;
                pthread_cond_init(&s->writer_cv, NULL);
                pthread_cond_init(&s->verifier_cv, NULL);
                s->durable = p->offset;
                if (s->error)
                        continue;
                /* The partial must hold exactly what was copied so far; then
                 * reserve the rest up front, so a full target fails now rather
                 * than after gigabytes. The reservation sets the file's size:
                 * the writes are then overwrites of allocated blocks, which
                 * ext4 and XFS let two O_DIRECT writers do at once, where
                 * writes past the end take the inode's lock one at a time
                 * (and spin on it: a sixth of dockd's CPU with 16 bays). How
                 * far a partial got is the catalog's resume point, never its
                 * size (resume_point hashes the prefix). */
                if (ftruncate(s->fd, p->offset) < 0) {
                        s->error = -errno;
                        snprintf(s->errmsg, sizeof(s->errmsg), "truncate: %m");
                        continue;
                }
                if (p->size > p->offset && fallocate(s->fd, 0, p->offset, p->size - p->offset) < 0 && errno == ENOSPC) {
                        s->error = -ENOSPC;
                        snprintf(s->errmsg, sizeof(s->errmsg), "no space left on the target: %lld more bytes needed",
                                 (long long)(p->size - p->offset));
                        continue;
                }
                s->rbuf = p->pool->rbufs[i];
                s->active = true;
                cp.active++;
        }
        if (cp.active == 0) {
                snprintf(p->err, sizeof(p->err), "no target can take a copy");
                r = -ENOSPC;
                goto out;
        }
        unsigned writers = p->writers ? p->writers : 1;
        for (size_t i = 0; i < p->n_sinks; i++) {
                struct copy_sink *s = &p->sinks[i];
                if (!s->active)
                        continue;
                s->index = (unsigned)i;
                for (unsigned w = 0; w <= writers && w < COPY_MAX_THREADS; w++) {
                        if (pthread_create(&s->threads[s->n_threads], NULL, w == 0 ? sink_verifier : sink_writer, s) !=
                            0) {
                                pthread_mutex_lock(&cp.mu);
                                sink_fail_locked(s, -EAGAIN, "cannot start a copy thread");
                                pthread_mutex_unlock(&cp.mu);
                                break;
                        }
                        s->n_threads++;
                }
        }

        /* The source is read by a thread of its own, so reading chunk k+1
         * overlaps hashing chunk k here. */
        pthread_t reader;
        bool reading = pthread_create(&reader, NULL, source_main, &cp) == 0;
        if (!reading) {
                snprintf(p->err, sizeof(p->err), "cannot start the reader thread");
                r = -EAGAIN;
        }
        int64_t pending_ckpt = -1;
        char pending_sha[SHA256_HEX_LEN + 1];
        for (uint64_t seq = 0; r == 0; seq++) {
                struct chunk *c = chunk_of(&cp, seq);
                pthread_mutex_lock(&cp.mu);
                while (cp.filled == seq && !cp.src_done && cp.active > 0)
                        pthread_cond_wait(&cp.hasher_cv, &cp.mu);
                bool ckpt_ready = pending_ckpt >= 0 && min_durable(&cp) >= pending_ckpt;
                unsigned active = cp.active;
                bool have = cp.filled > seq;
                pthread_mutex_unlock(&cp.mu);
                if (active == 0) {
                        snprintf(p->err, sizeof(p->err), "every target failed");
                        r = -EIO;
                        break;
                }
                if (ckpt_ready) {
                        if (p->on_checkpoint && (r = p->on_checkpoint(p->ud, pending_ckpt, pending_sha)) < 0) {
                                snprintf(p->err, sizeof(p->err), "cannot record resume point: %s", strerror(-r));
                                break;
                        }
                        pending_ckpt = -1;
                }
                if (p->cancel && *p->cancel) {
                        snprintf(p->err, sizeof(p->err), "cancelled");
                        r = -ECANCELED;
                        break;
                }
                if (!have) { /* the reader stopped: at the end, or on an error */
                        if (cp.src_err < 0) {
                                snprintf(p->err, sizeof(p->err), "%s", cp.src_msg);
                                r = cp.src_err;
                        }
                        break;
                }
                EVP_DigestUpdate(p->md, c->buf, c->len);
                if (p->xxh)
                        XXH3_128bits_update(p->xxh, c->buf, c->len);
                int64_t end = c->off + (int64_t)c->len;
                /* The reader stops chunks at multiples of checkpoint_bytes. */
                if (p->checkpoint_bytes > 0 && end % p->checkpoint_bytes == 0 && end < p->size) {
                        EVP_MD_CTX *tmp = EVP_MD_CTX_new();
                        unsigned char md[32];
                        unsigned mdlen;
                        EVP_MD_CTX_copy_ex(tmp, p->md);
                        EVP_DigestFinal_ex(tmp, md, &mdlen);
                        EVP_MD_CTX_free(tmp);
                        hex_encode(md, 32, pending_sha);
                        pending_ckpt = end;
                }
                size_t len = c->len;
                pthread_mutex_lock(&cp.mu);
                c->refs = cp.active;
                c->written = 0;
                cp.published = seq + 1;
                /* The writers take it; the reader may wait on the ring's length. */
                for (size_t i = 0; i < p->n_sinks; i++)
                        if (p->sinks[i].active)
                                pthread_cond_broadcast(&p->sinks[i].writer_cv);
                pthread_cond_signal(&cp.reader_cv);
                pthread_mutex_unlock(&cp.mu);
                /* c may be refilled from here on: it is the sinks' now. */
                if (p->on_progress)
                        p->on_progress(p->ud, (int64_t)len);
        }
        pthread_mutex_lock(&cp.mu);
        if (r < 0)
                cp.abort = true;
        cp.eof = true;
        wake_all(&cp);
        pthread_mutex_unlock(&cp.mu);
        if (reading)
                pthread_join(reader, NULL);
        bool any = false;
        for (size_t i = 0; i < p->n_sinks; i++) {
                struct copy_sink *s = &p->sinks[i];
                for (unsigned t = 0; t < s->n_threads; t++)
                        pthread_join(s->threads[t], NULL);
                if (s->n_threads > 0 && !s->error)
                        any = true;
                s->n_threads = 0;
        }
        if (r == 0 && !any) {
                snprintf(p->err, sizeof(p->err), "every target failed");
                r = -EIO;
        }
out:
        for (size_t i = 0; i < p->n_sinks; i++) {
                p->sinks[i].rbuf = NULL;
                p->sinks[i].pipe = NULL;
                pthread_cond_destroy(&p->sinks[i].writer_cv);
                pthread_cond_destroy(&p->sinks[i].verifier_cv);
        }
        free(cp.ring);
        return r;
}
