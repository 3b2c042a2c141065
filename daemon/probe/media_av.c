/* media_av.c — the libavformat probe itself (media_probe_here), linked only
 * into the dockd-probe helper and the fuzzer, never into dockd or dockctl.
 * See media.h. */
#include "media.h"

#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>

#include "util.h"

/* "2026-11-25T08:00:00.000000Z" (what ffmpeg writes); the zone is the
 * device's claim, taken as its clock. */
static bool parse_creation(const char *s, int64_t *t)
{
        int64_t v = time_parse_iso(s);
        if (v < 0)
                return false;
        *t = v;
        return true;
}

static void quiet(void *avcl, int level, const char *fmt, va_list vl)
{
        (void)avcl, (void)level, (void)fmt, (void)vl; /* findings go to the catalog, not stderr */
}

/* The probe of path, or of what pb reads when it is not NULL. */
static void probe(const char *path, AVIOContext *pb, struct media_info *m)
{
        memset(m, 0, sizeof(*m));
        m->duration_s = -1;
        av_log_set_callback(quiet);
        AVFormatContext *fc = avformat_alloc_context();
        if (!fc) {
                snprintf(m->error, sizeof(m->error), "out of memory");
                return;
        }
        if (pb) {
                fc->pb = pb;
                fc->flags |= AVFMT_FLAG_CUSTOM_IO;
        }
        int r = avformat_open_input(&fc, path, NULL, NULL);
        if (r < 0) {
                snprintf(m->flag, sizeof(m->flag), "unplayable");
                snprintf(m->error, sizeof(m->error), "%s", av_err2str(r));
                return;
        }
        if ((r = avformat_find_stream_info(fc, NULL)) < 0) {
                snprintf(m->flag, sizeof(m->flag), "unplayable");
                snprintf(m->error, sizeof(m->error), "no stream information: %s", av_err2str(r));
                avformat_close_input(&fc);
                return;
        }
        const AVDictionaryEntry *ct = av_dict_get(fc->metadata, "creation_time", NULL, 0);
        if (ct && parse_creation(ct->value, &m->creation))
                m->has_creation = true;
        if (fc->duration != AV_NOPTS_VALUE && fc->duration > 0)
                m->duration_s = (double)fc->duration / AV_TIME_BASE;
        int64_t file_size = fc->pb ? avio_size(fc->pb) : -1;
        bool video = false;
        for (unsigned i = 0; i < fc->nb_streams; i++) {
                AVStream *st = fc->streams[i];
                if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && !video) {
                        video = true;
                        snprintf(m->codec, sizeof(m->codec), "%s", avcodec_get_name(st->codecpar->codec_id));
                        m->width = st->codecpar->width;
                        m->height = st->codecpar->height;
                }
                /* A recording cut short (power lost, pulled mid-write) keeps an
                 * index whose samples lie past the end of the file. */
                int n = avformat_index_get_entries_count(st);
                const AVIndexEntry *last = n > 0 ? avformat_index_get_entry(st, n - 1) : NULL;
                if (last && file_size > 0 && last->pos + last->size > file_size && !m->flag[0]) {
                        snprintf(m->flag, sizeof(m->flag), "truncated");
                        snprintf(m->error, sizeof(m->error), "stream %u: samples to byte %lld of a %lld-byte file", i,
                                 (long long)(last->pos + last->size), (long long)file_size);
                }
        }
        if (fc->nb_streams == 0 && !m->flag[0]) {
                snprintf(m->flag, sizeof(m->flag), "unplayable");
                snprintf(m->error, sizeof(m->error), "no audio or video stream");
        }
        avformat_close_input(&fc);
}

void media_probe_here(const char *path, struct media_info *m) { probe(path, NULL, m); }

/* The recording as dockd serves it: each read a range asked for over the
 * socket (media.c's range_server), at most MEDIA_RANGE_MAX bytes. */
struct stream {
        int fd;
        int64_t size, pos;
};

static int stream_read(void *opaque, uint8_t *buf, int buf_size)
{
        struct stream *s = opaque;
        if (s->pos >= s->size)
                return AVERROR_EOF;
        uint32_t len = buf_size < MEDIA_RANGE_MAX ? (uint32_t)buf_size : MEDIA_RANGE_MAX;
        unsigned char req[12];
        int32_t n;
        memcpy(req, &s->pos, 8);
        memcpy(req + 8, &len, 4);
        if (sock_full(s->fd, req, sizeof(req), true) < 0 || sock_full(s->fd, &n, 4, false) < 0 || n < 0 ||
            (uint32_t)n > len)
                return AVERROR(EIO);
        if (n == 0)
                return AVERROR_EOF;
        if (sock_full(s->fd, buf, (size_t)n, false) < 0)
                return AVERROR(EIO);
        s->pos += n;
        return n;
}

static int64_t stream_seek(void *opaque, int64_t offset, int whence)
{
        struct stream *s = opaque;
        int64_t to;
        switch (whence & ~AVSEEK_FORCE) {
        case AVSEEK_SIZE: return s->size;
        case SEEK_SET: to = offset; break;
        case SEEK_CUR: to = s->pos + offset; break;
        case SEEK_END: to = s->size + offset; break;
        default: return AVERROR(EINVAL);
        }
        if (to < 0)
                return AVERROR(EINVAL);
        s->pos = to;
        return to;
}

void media_probe_here_stream(int fd, int64_t size, struct media_info *m)
{
        struct stream s = { .fd = fd, .size = size, .pos = 0 };
        const int bufsize = 64 << 10;
        unsigned char *buf = av_malloc(bufsize);
        AVIOContext *pb = buf ? avio_alloc_context(buf, bufsize, 0, &s, stream_read, NULL, stream_seek) : NULL;
        if (!pb) {
                av_free(buf);
                memset(m, 0, sizeof(*m));
                m->duration_s = -1;
                snprintf(m->error, sizeof(m->error), "out of memory");
                return;
        }
        probe("", pb, m);
        av_freep(&pb->buffer);
        avio_context_free(&pb);
}
