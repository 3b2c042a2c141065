/* mhl.c — see mhl.h. The XML is written by hand (a fixed shape, every text
 * escaped) and read back with libxml2. */
#include "mhl.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "util.h"

void mhl_c4(const void *data, size_t len, char out[91])
{
        static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
        unsigned char n[64];
        unsigned mdlen;
        EVP_Digest(data, len, n, &mdlen, EVP_sha512(), NULL);
        /* the 512-bit big-endian number in base 58, 88 digits, '1' padded */
        char digits[88];
        for (int i = 87; i >= 0; i--) {
                unsigned rem = 0;
                for (int k = 0; k < 64; k++) {
                        unsigned cur = rem << 8 | n[k];
                        n[k] = (unsigned char)(cur / 58);
                        rem = cur % 58;
                }
                digits[i] = alphabet[rem];
        }
        memcpy(out, "c4", 2);
        memcpy(out + 2, digits, 88);
        out[90] = '\0';
}

static void xml_text(FILE *f, const char *s)
{
        for (; *s; s++)
                switch (*s) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                default: fputc(*s, f);
                }
}

/* XML 1.0 cannot carry control characters: such a path has no entry. */
static bool xml_safe(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20)
                        return false;
        return true;
}

struct gen {
        FILE *f;
        unsigned n, skipped;
};

static int write_entry(const struct session_copy *c, void *ud)
{
        struct gen *g = ud;
        if (!c->sha256 || !c->xxh128 || !xml_safe(c->path)) {
                g->skipped++; /* hashed before receipts were kept, or a name XML cannot hold */
                return 0;
        }
        fputs("    <hash>\n      <path size=\"", g->f);
        fprintf(g->f, "%lld\"", (long long)c->size);
        if (c->device_mtime && strlen(c->device_mtime) >= 19) {
                /* the device clock, no zone: as xs:dateTime allows */
                fprintf(g->f, " lastmodificationdate=\"%.19s\"", c->device_mtime);
        }
        fputc('>', g->f);
        xml_text(g->f, c->path);
        fputs("</path>\n      <xxh128 action=\"original\" hashdate=\"", g->f);
        xml_text(g->f, c->verified_at);
        fprintf(g->f,
                "\">%s</xxh128>\n      <metadata><d:sha256 xmlns:d=\"" MHL_NS_DOCKD "\">%s</d:sha256></metadata>\n"
                "    </hash>\n",
                c->xxh128, c->sha256);
        g->n++;
        return 0;
}

static xmlNode *child(xmlNode *n, const char *name)
{
        for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
                        return c;
        return NULL;
}

/* The element's text; false when it does not fit (out is then cut short,
 * and must not be taken for the name it was cut from). */
static bool node_text(xmlNode *n, char *out, size_t size)
{
        xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
        int k = snprintf(out, size, "%s", t ? (const char *)t : "");
        xmlFree(t);
        return k >= 0 && (size_t)k < size;
}

#define RECEIPT_MAX (64 << 20) /* a receipt or chain file is small; a bigger one is not read */

int mhl_parse_chain(const char *data, size_t len, struct mhl_chain_entry **out, size_t *n)
{
        *out = NULL;
        *n = 0;
        if (len > INT_MAX)
                return -EFBIG;
        xmlDoc *doc = xmlReadMemory(data, (int)len, MHL_CHAIN, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
        if (!root || strcmp((const char *)root->name, "ascmhldirectory") != 0) {
                xmlFreeDoc(doc);
                return -EBADMSG;
        }
        for (xmlNode *h = root->children; h; h = h->next) {
                if (h->type != XML_ELEMENT_NODE || strcmp((const char *)h->name, "hashlist") != 0)
                        continue;
                *out = xrealloc(*out, (*n + 1) * sizeof(**out));
                struct mhl_chain_entry *e = &(*out)[(*n)++];
                xmlChar *seq = xmlGetProp(h, (const xmlChar *)"sequencenr");
                e->seq = seq ? (unsigned)strtoul((const char *)seq, NULL, 10) : 0;
                xmlFree(seq);
                e->whole = node_text(child(h, "path"), e->path, sizeof(e->path));
                e->whole &= node_text(child(h, "c4"), e->c4, sizeof(e->c4));
        }
        xmlFreeDoc(doc);
        return 0;
}

/* openat2, again while it answers EAGAIN: with RESOLVE_BENEATH the kernel
 * refuses a ".." walk during any rename anywhere in the system, and asks
 * the caller to retry (openat2(2)); a busy station must not make a file
 * look missing. */
static int openat2_retry(int dirfd, const char *rel, struct open_how *how)
{
        int fd = -1;
        for (int attempt = 0; attempt < 1000; attempt++) {
                fd = (int)syscall(SYS_openat2, dirfd, rel, how, sizeof(*how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        return fd;
}

/* Opens a regular file named relative to dirfd without leaving it: no "..",
 * no absolute name, no symbolic link on the way (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), and no waiting on a FIFO or a device that a drive
 * made elsewhere holds under that name. `why` says what refused it. */
static int open_beneath(int dirfd, const char *rel, const char **why)
{
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        int fd = openat2_retry(dirfd, rel, &how);
        struct stat st;
        if (fd < 0) {
                int e = errno;
                *why = e == EXDEV    ? "names a file outside the tree"
                       : e == ELOOP  ? "is a symbolic link"
                       : e == ENOENT ? "is missing"
                                     : strerror(e);
                return -e;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                *why = "is not a regular file";
                close(fd);
                return -EINVAL;
        }
        return fd;
}

/* Reads a whole receipt opened beneath dirfd (at most RECEIPT_MAX bytes). */
static int read_beneath(int dirfd, const char *rel, char **data, size_t *len, const char **why)
{
        _cleanup_close_ int fd = open_beneath(dirfd, rel, why);
        if (fd < 0)
                return fd;
        int r = read_fd_all(fd, RECEIPT_MAX, data, len);
        if (r < 0)
                *why = r == -EFBIG ? "is larger than any receipt (64 MiB)" : "could not be read whole";
        return r;
}

/* Reads the chain file; a missing one is an empty chain. */
static int read_chain(int dirfd, const char *dir, struct mhl_chain_entry **out, size_t *n, char *err, size_t err_size)
{
        *out = NULL;
        *n = 0;
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        const char *why = NULL;
        int r = read_beneath(dirfd, MHL_CHAIN, &data, &len, &why);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                snprintf(err, err_size, "%s/%s %s", dir, MHL_CHAIN, why);
                return r;
        }
        if ((r = mhl_parse_chain(data, len, out, n)) < 0)
                snprintf(err, err_size, "%s/%s is not an ASC MHL chain file", dir, MHL_CHAIN);
        return r;
}

/* Writes path whole, durably, through a temporary name: replace as asked. */
static int write_durably(int dirfd, const char *name, const char *data, size_t len, bool replace)
{
        _cleanup_free_ char *tmp = xasprintf(".%s.tmp", name);
        int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        int r = pwrite_full(fd, data, len, 0) < 0 || fsync(fd) < 0 ? -errno : 0;
        close(fd);
        if (r == 0 && replace && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r == 0 && !replace && linkat(dirfd, tmp, dirfd, name, 0) < 0)
                r = -errno;
        unlinkat(dirfd, tmp, 0);
        return r == 0 && fsync(dirfd) < 0 ? -errno : r;
}

int mhl_write_generation(struct catalog *cat, int64_t session_id, const char *target_name, const char *root,
                         const char *station, char *err, size_t err_size)
{
        char *body = NULL;
        size_t len = 0;
        struct gen g = { .f = open_memstream(&body, &len) };
        if (!g.f)
                return -ENOMEM;
        char now[32], host[256] = "";
        time_now_iso(now, sizeof(now));
        gethostname(host, sizeof(host) - 1);
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<hashlist version=\"2.0\" xmlns=\"urn:ASC:MHL:v2.0\">\n"
              "  <creatorinfo>\n    <creationdate>",
              g.f);
        fprintf(g.f, "%s</creationdate>\n    <hostname>", now);
        xml_text(g.f, host[0] ? host : station);
        fprintf(g.f, "</hostname>\n    <tool version=\"%s\">dockd</tool>\n    <location>station ", DOCKD_VERSION);
        xml_text(g.f, station);
        fprintf(g.f, "</location>\n    <comment>dock session %lld: the copies it placed on target ",
                (long long)session_id);
        xml_text(g.f, target_name);
        fputs(", each read back and compared before it was recorded</comment>\n  </creatorinfo>\n"
              "  <processinfo>\n    <process>transfer</process>\n  </processinfo>\n  <hashes>\n",
              g.f);
        int r = catalog_session_copies(cat, session_id, target_name, write_entry, &g);
        fputs("  </hashes>\n</hashlist>\n", g.f);
        fclose(g.f);
        _cleanup_free_ char *doc = body;
        if (r < 0) {
                snprintf(err, err_size, "catalog: %s", catalog_errmsg(cat));
                return r;
        }
        if (g.n == 0)
                return 0;

        _cleanup_free_ char *dir = xasprintf("%s/%s", root, MHL_DIR);
        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
                snprintf(err, err_size, "cannot make %s: %s", dir, strerror(errno));
                return -errno;
        }
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0) { /* one writer of the chain at a time */
                snprintf(err, err_size, "cannot lock %s: %s", dir, strerror(errno));
                return -errno;
        }
        struct mhl_chain_entry *chain = NULL;
        size_t n = 0;
        if ((r = read_chain(dirfd, dir, &chain, &n, err, err_size)) < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!chain[i].whole) { /* rewriting it would cut an entry dockd did not write */
                        snprintf(err, err_size,
                                 "%s/%s: generation %u's entry is longer than dockd writes; not rewriting "
                                 "the chain (move the ascmhl folder aside)",
                                 dir, MHL_CHAIN, chain[i].seq);
                        free(chain);
                        return -EBADMSG;
                }
        unsigned seq = n ? chain[n - 1].seq + 1 : 1;
        char stamp[32], name[256], c4[91];
        snprintf(stamp, sizeof(stamp), "%.10s_%.2s%.2s%.2sZ", now, now + 11, now + 14, now + 17);
        char st_safe[40];
        size_t k = 0;
        for (const char *p = station; *p && k + 1 < sizeof(st_safe); p++)
                st_safe[k++] = (*p == '/' || *p == ' ') ? '_' : *p;
        st_safe[k] = '\0';
        snprintf(name, sizeof(name), "%04u_%s_%s.mhl", seq, st_safe, stamp);
        mhl_c4(doc, len, c4);
        if ((r = write_durably(dirfd, name, doc, len, false)) < 0) {
                snprintf(err, err_size, "cannot write %s/%s: %s", dir, name, strerror(-r));
                free(chain);
                return r;
        }
        /* the chain, rewritten whole with the new generation at its end */
        char *cbody = NULL;
        size_t clen = 0;
        FILE *cf = open_memstream(&cbody, &clen);
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ascmhldirectory xmlns=\"urn:ASC:MHL:DIRECTORY:v2.0\">\n",
              cf);
        for (size_t i = 0; i < n; i++) {
                fprintf(cf, "  <hashlist sequencenr=\"%u\">\n    <path>", chain[i].seq);
                xml_text(cf, chain[i].path);
                fprintf(cf, "</path>\n    <c4>%s</c4>\n  </hashlist>\n", chain[i].c4);
        }
        fprintf(cf, "  <hashlist sequencenr=\"%u\">\n    <path>%s</path>\n    <c4>%s</c4>\n  </hashlist>\n", seq, name,
                c4);
        fputs("</ascmhldirectory>\n", cf);
        fclose(cf);
        r = write_durably(dirfd, MHL_CHAIN, cbody, clen, true);
        free(cbody);
        free(chain);
        if (r < 0) {
                snprintf(err, err_size, "cannot write %s/%s: %s", dir, MHL_CHAIN, strerror(-r));
                return r;
        }
        return (int)g.n;
}

static void problem(void (*cb)(void *, const char *), void *ud, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void problem(void (*cb)(void *, const char *), void *ud, const char *fmt, ...)
{
        char line[1200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (cb)
                cb(ud, line);
}

/* XXH128 and SHA-256 of an open file, and its size. */
static int hash_fd(int fd, int64_t *size, char xxh[33], char sha[65])
{
        XXH3_state_t *x = XXH3_createState();
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!x || !md)
                abort();
        XXH3_128bits_reset(x);
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        _cleanup_free_ unsigned char *buf = xmalloc(1 << 20);
        ssize_t k;
        *size = 0;
        while ((k = read(fd, buf, 1 << 20)) > 0) {
                XXH3_128bits_update(x, buf, (size_t)k);
                EVP_DigestUpdate(md, buf, (size_t)k);
                *size += k;
        }
        int r = k < 0 ? -errno : 0;
        XXH128_canonical_t c;
        XXH128_canonicalFromHash(&c, XXH3_128bits_digest(x));
        hex_encode(c.digest, 16, xxh);
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(md, d, &dl);
        hex_encode(d, 32, sha);
        XXH3_freeState(x);
        EVP_MD_CTX_free(md);
        return r;
}

void mhl_check_generation(int rootfd, const char *name, unsigned seq, const char *data, size_t len,
                          void (*cb)(void *, const char *), void *ud, struct mhl_report *rep)
{
        xmlDoc *doc = len <= INT_MAX ? xmlReadMemory(data, (int)len, name, NULL,
                                                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                                     : NULL;
        xmlNode *hashes = doc ? child(xmlDocGetRootElement(doc), "hashes") : NULL;
        if (!hashes) {
                problem(cb, ud, "generation %u: %s is not an ASC MHL hash list", seq, name);
                rep->bad_generations++;
                xmlFreeDoc(doc);
                return;
        }
        for (xmlNode *h = hashes->children; h; h = h->next) {
                if (h->type != XML_ELEMENT_NODE || strcmp((const char *)h->name, "hash") != 0)
                        continue;
                char rel[4096], want_xxh[64], want_sha[80] = "", got_xxh[33], got_sha[65];
                xmlNode *pn = child(h, "path");
                bool whole = node_text(pn, rel, sizeof(rel));
                node_text(child(h, "xxh128"), want_xxh, sizeof(want_xxh));
                xmlNode *meta = child(h, "metadata");
                for (xmlNode *m = meta ? meta->children : NULL; m; m = m->next)
                        if (m->type == XML_ELEMENT_NODE && strcmp((const char *)m->name, "sha256") == 0)
                                node_text(m, want_sha, sizeof(want_sha));
                xmlChar *sz = pn ? xmlGetProp(pn, (const xmlChar *)"size") : NULL;
                int64_t want_size = sz ? strtoll((const char *)sz, NULL, 10) : -1, got_size = 0;
                xmlFree(sz);
                char esc[200];
                const char *why = NULL;
                _cleanup_close_ int fd = -1;
                if (!whole)
                        why = "longer than any path";
                if (!whole || !rel[0] || (fd = open_beneath(rootfd, rel, &why)) == -EXDEV || fd == -ELOOP ||
                    fd == -EINVAL) {
                        problem(cb, ud, "generation %u: an entry names no file within the tree ('%s': %s)", seq,
                                text_escape(rel, esc, sizeof(esc)), why ? why : "no name");
                        rep->files_changed++;
                        continue;
                }
                int r = fd < 0 ? fd : hash_fd(fd, &got_size, got_xxh, got_sha);
                if (r < 0) {
                        problem(cb, ud, "%s: missing (%s; listed in generation %u)", text_escape(rel, esc, sizeof(esc)),
                                strerror(-r), seq);
                        rep->files_missing++;
                } else if (got_size != want_size || strcmp(got_xxh, want_xxh) != 0 ||
                           (want_sha[0] && strcmp(got_sha, want_sha) != 0)) {
                        problem(cb, ud,
                                "%s: CHANGED since generation %u (size %lld, XXH128 %s; the receipt says %lld, %.40s)",
                                text_escape(rel, esc, sizeof(esc)), seq, (long long)got_size, got_xxh,
                                (long long)want_size, want_xxh);
                        rep->files_changed++;
                } else {
                        rep->files_ok++;
                }
        }
        xmlFreeDoc(doc);
}

/* One generation: its C4 against the chain's, then every file it lists. */
static void verify_generation(int rootfd, int dirfd, const struct mhl_chain_entry *e, void (*cb)(void *, const char *),
                              void *ud, struct mhl_report *rep)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        const char *why = "is missing";
        char esc[300];
        bool outside = strchr(e->path, '/') != NULL;
        if (!e->whole || outside || read_beneath(dirfd, e->path, &data, &len, &why) < 0) {
                problem(cb, ud, "generation %u: %s/%s %s", e->seq, MHL_DIR, text_escape(e->path, esc, sizeof(esc)),
                        !e->whole ? "...: the chain's entry is longer than any receipt's name and C4"
                        : outside ? "names a file outside the receipts folder"
                                  : why);
                rep->bad_generations++;
                return;
        }
        char c4[91];
        mhl_c4(data, len, c4);
        if (strcmp(c4, e->c4) != 0) {
                problem(cb, ud, "generation %u: %s was altered (C4 %s, the chain records %.90s)", e->seq,
                        text_escape(e->path, esc, sizeof(esc)), c4, e->c4);
                rep->bad_generations++;
                return;
        }
        mhl_check_generation(rootfd, e->path, e->seq, data, len, cb, ud, rep);
}

int mhl_verify(const char *root, void (*cb)(void *ud, const char *line), void *ud, struct mhl_report *rep, char *err,
               size_t err_size)
{
        memset(rep, 0, sizeof(*rep));
        _cleanup_free_ char *dir = xasprintf("%s/%s", root, MHL_DIR);
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), dirfd = -1;
        struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
        if (rootfd < 0) {
                int e = errno;
                snprintf(err, err_size, "%s: %s", root, strerror(e));
                return -e;
        }
        dirfd = openat2_retry(rootfd, MHL_DIR, &how);
        if (dirfd < 0) {
                snprintf(err, err_size, "%s has no ASC MHL receipts (no %s/ folder%s)", root, MHL_DIR,
                         errno == ELOOP ? ": it is a symbolic link" : "");
                return -ENOENT;
        }
        struct mhl_chain_entry *chain = NULL;
        size_t n = 0;
        int r = read_chain(dirfd, dir, &chain, &n, err, err_size);
        if (r < 0)
                return r;
        if (n == 0) {
                snprintf(err, err_size, "%s/%s lists no generation", dir, MHL_CHAIN);
                free(chain);
                return -ENOENT;
        }
        for (size_t i = 0; i < n; i++) {
                rep->generations++;
                if (chain[i].seq != i + 1) {
                        problem(cb, ud, "generation %zu: the chain numbers it %u: a generation was removed or inserted",
                                i + 1, chain[i].seq);
                        rep->bad_generations++;
                }
                verify_generation(rootfd, dirfd, &chain[i], cb, ud, rep);
        }
        free(chain);
        return 0;
}
