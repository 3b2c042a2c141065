/* upload.c — see upload.h. */
#include "upload.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "util.h"

#define QUEUE_MAX 2

struct uploader {
        pthread_t thread;
        pthread_mutex_t mu;
        pthread_cond_t cv; /* a job queued, taken or finished; stop asked */
        struct upload_job queue[QUEUE_MAX];
        size_t head, n_queued;
        bool busy, stop;
        struct upload_result *results;
        size_t n_results;
        struct catalog *cat; /* the thread's own connection: reads only */
        char retain_until[32];
};

static ssize_t file_read(void *ud, void *buf, size_t n, int64_t off) { return pread_full(*(int *)ud, buf, n, off); }

static int taken(void *ud, const struct target *t, const char *rel, bool *is_taken)
{
        struct uploader *u = ud;
        return catalog_copy_path_taken(u->cat, t->id, rel, is_taken);
}

static void add_result(struct uploader *u, const struct upload_result *r)
{
        pthread_mutex_lock(&u->mu);
        u->results = xrealloc(u->results, (u->n_results + 1) * sizeof(*u->results));
        u->results[u->n_results++] = *r;
        pthread_mutex_unlock(&u->mu);
}

static void run_job(struct uploader *u, struct upload_job *j)
{
        int fd = open(j->local, O_RDONLY | O_CLOEXEC);
        for (size_t i = 0; i < j->n_targets; i++) {
                struct upload_result r = { .rec_id = j->rec_id, .ud = j->ud, .target = j->targets[i] };
                if (fd < 0) {
                        r.rc = -errno;
                        snprintf(r.err, sizeof(r.err), "cannot read the verified copy %s: %s", j->local,
                                 strerror(errno));
                } else {
                        r.rc = target_s3_put_copy(j->targets[i], file_read, &fd, j->size, j->sha256, j->serial,
                                                  j->device_mtime, j->device_path, u->retain_until, taken, u, &r.o,
                                                  &r.adopted, r.err, sizeof(r.err));
                }
                add_result(u, &r);
        }
        if (fd >= 0)
                close(fd);
        free(j->local);
}

static void *worker(void *arg)
{
        struct uploader *u = arg;
        pthread_mutex_lock(&u->mu);
        for (;;) {
                while (!u->n_queued && !u->stop)
                        pthread_cond_wait(&u->cv, &u->mu);
                if (!u->n_queued)
                        break;
                struct upload_job j = u->queue[u->head];
                u->head = (u->head + 1) % QUEUE_MAX;
                u->n_queued--;
                u->busy = true;
                pthread_cond_broadcast(&u->cv);
                pthread_mutex_unlock(&u->mu);
                run_job(u, &j);
                pthread_mutex_lock(&u->mu);
                u->busy = false;
                pthread_cond_broadcast(&u->cv);
        }
        pthread_mutex_unlock(&u->mu);
        return NULL;
}

int uploader_start(struct uploader **out, const char *catalog_dir, const char *retain_until, char *err, size_t err_size)
{
        struct uploader *u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        int r = catalog_open_in(catalog_dir, &u->cat, err, err_size);
        if (r < 0) {
                free(u);
                return r;
        }
        snprintf(u->retain_until, sizeof(u->retain_until), "%s", retain_until);
        pthread_mutex_init(&u->mu, NULL);
        pthread_cond_init(&u->cv, NULL);
        if ((r = -pthread_create(&u->thread, NULL, worker, u)) < 0) {
                snprintf(err, err_size, "cannot start the upload thread: %s", strerror(-r));
                catalog_close(u->cat);
                free(u);
                return r;
        }
        *out = u;
        return 0;
}

void uploader_submit(struct uploader *u, struct upload_job *job)
{
        pthread_mutex_lock(&u->mu);
        while (u->n_queued == QUEUE_MAX)
                pthread_cond_wait(&u->cv, &u->mu);
        u->queue[(u->head + u->n_queued) % QUEUE_MAX] = *job;
        u->n_queued++;
        job->local = NULL;
        pthread_cond_broadcast(&u->cv);
        pthread_mutex_unlock(&u->mu);
}

size_t uploader_collect(struct uploader *u, struct upload_result **out, bool wait)
{
        pthread_mutex_lock(&u->mu);
        while (wait && (u->n_queued || u->busy))
                pthread_cond_wait(&u->cv, &u->mu);
        size_t n = u->n_results;
        *out = u->results;
        u->results = NULL;
        u->n_results = 0;
        pthread_mutex_unlock(&u->mu);
        return n;
}

void upload_results_free(struct upload_result *r, size_t n)
{
        for (size_t i = 0; i < n; i++)
                target_object_free(&r[i].o);
        free(r);
}

void uploader_stop(struct uploader *u)
{
        if (!u)
                return;
        pthread_mutex_lock(&u->mu);
        u->stop = true;
        pthread_cond_broadcast(&u->cv);
        pthread_mutex_unlock(&u->mu);
        pthread_join(u->thread, NULL);
        upload_results_free(u->results, u->n_results);
        catalog_close(u->cat);
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->mu);
        free(u);
}
