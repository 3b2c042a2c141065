/* copy.h — the per-file copy pipeline: read the source once in large blocks,
 * SHA-256 it in the same pass, feed one writer thread per target from the same
 * buffers (bounded memory), and read every written block back past the page
 * cache, comparing it byte for byte with the buffer that was hashed. */
#pragma once
#include <openssl/evp.h>
#include <xxhash.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "target.h"
#include "volume.h"

struct copy_pipe;

/* Threads per target: one verifier and up to this many less one writers. */
#define COPY_MAX_THREADS (DOCKD_MAX_WRITERS + 1) /* the verifier and the writers */

struct copy_sink;
/* How a sink writes, reads back and syncs; NULL: its fd (pwrite, pread,
 * fdatasync). The unit tests' fake sinks fail, lie and are slow through it. */
struct copy_sink_io {
        ssize_t (*write)(struct copy_sink *s, const void *buf, size_t n, off_t off); /* all of it, or -errno */
        ssize_t (*read)(struct copy_sink *s, void *buf, size_t n, off_t off);        /* bytes read, or -errno */
        int (*sync)(struct copy_sink *s);                                            /* 0 or -errno */
        void *ud;
};

struct copy_sink {
        const struct target *target;
        const struct copy_sink_io *io; /* NULL: the fd */
        int fd;                        /* the partial copy, O_RDWR, O_DIRECT where the filesystem has it */
        bool direct;
        const char *method; /* "o_direct" or "fadvise" */
        int error;          /* -errno once this copy failed; the others go on */
        bool mismatch;      /* it failed because its read-back differed from what was written */
        char errmsg[320];

        /* owned by the pipeline */
        pthread_t threads[COPY_MAX_THREADS]; /* [0] the verifier, then the writers */
        pthread_cond_t writer_cv;            /* a block was published for it */
        pthread_cond_t verifier_cv;          /* one of its writers finished a block */
        unsigned n_threads, index;
        uint64_t next_seq;   /* next chunk for a writer to take */
        uint64_t verify_seq; /* next chunk to read back */
        int64_t durable;     /* bytes fdatasynced and read back */
        bool active;
        void *rbuf;
        struct copy_pipe *pipe;
};

/* The pipeline's memory, allocated once per ingest and reused for every file,
 * so a volume of thousands of clips never fragments the heap:
 * (chunks + targets) * chunk_size bytes, aligned for O_DIRECT. */
struct copy_pool {
        size_t chunk_size;
        unsigned chunks;
        void **bufs;  /* chunks of them */
        void **rbufs; /* one read-back buffer per sink */
        size_t n_rbufs;
};
int copy_pool_init(struct copy_pool *pool, size_t chunk_size, unsigned chunks, size_t n_sinks);
void copy_pool_free(struct copy_pool *pool);

struct copy_params {
        struct volume_file *src;
        const char *src_name; /* for messages: "SERIAL:/DCIM/x.mp4" */
        int64_t size;
        int64_t offset; /* resume point; md already holds SHA-256 of [0, offset) */
        EVP_MD_CTX *md;
        XXH3_state_t *xxh; /* NULL, or XXH128 of [0, offset) to go on with, as md */
        struct copy_sink *sinks;
        size_t n_sinks; /* at most pool->n_rbufs */
        struct copy_pool *pool;
        int64_t checkpoint_bytes;
        unsigned writers; /* writes in flight per target (0 = 1) */
        /* Called from the calling thread when [0, offset) is durable and verified in every live sink. */
        int (*on_checkpoint)(void *ud, int64_t offset, const char *prefix_sha256);
        void (*on_progress)(void *ud, int64_t bytes);
        void *ud;
        volatile sig_atomic_t *cancel;
        char err[512]; /* why the source side failed */
};

/* Opens the sink's files (partial at path, created if needed). */
int copy_sink_open(struct copy_sink *s, const struct target *t, const char *partial_path);
void copy_sink_close(struct copy_sink *s);

/* Runs the pipeline. Returns 0 when the whole source was read and hashed and at
 * least one sink survived (check each sink's error), -errno when the source
 * failed or was cancelled (p->err says why) or every sink failed. */
int copy_run(struct copy_params *p);
