/* audit.c — see audit.h. */
#include "audit.h"

#include <errno.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

const char *role_name(enum role r)
{
        switch (r) {
        case ROLE_OPERATOR: return "operator";
        case ROLE_CUSTODIAN: return "custodian";
        case ROLE_ADMIN: return "admin";
        default: return "none";
        }
}

const char *role_group(const struct config *cfg, enum role r)
{
        return r == ROLE_ADMIN ? cfg->admin_group : r == ROLE_CUSTODIAN ? cfg->custodian_group : cfg->operator_group;
}

static bool in_group(const char *name, const gid_t *groups, int n)
{
        struct group *g = name ? getgrnam(name) : NULL;
        if (!g)
                return false;
        for (int i = 0; i < n; i++)
                if (groups[i] == g->gr_gid)
                        return true;
        return false;
}

static enum role role_in(const struct config *cfg, const gid_t *groups, int n)
{
        if (in_group(cfg->admin_group, groups, n))
                return ROLE_ADMIN;
        if (in_group(cfg->custodian_group, groups, n))
                return ROLE_CUSTODIAN;
        if (in_group(cfg->operator_group, groups, n))
                return ROLE_OPERATOR;
        return ROLE_NONE;
}

enum role peer_role(const struct config *cfg, int sock, char *name, size_t name_size, uid_t *uid)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (uid)
                *uid = (uid_t)-1;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                snprintf(name, name_size, "an unknown peer");
                return ROLE_NONE;
        }
        if (uid)
                *uid = cred.uid;
        struct passwd *pw = getpwuid(cred.uid);
        if (pw)
                snprintf(name, name_size, "%s", pw->pw_name);
        else
                snprintf(name, name_size, "uid %u", (unsigned)cred.uid);
        /* root, and dockd's own user (its timers), act for the station. */
        if (cred.uid == 0 || cred.uid == geteuid())
                return ROLE_ADMIN;
        /* The groups the peer's process holds now, not what /etc/group says. */
        gid_t groups[256];
        len = sizeof(groups) - sizeof(gid_t);
        int n = 0;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
                n = (int)(len / sizeof(gid_t));
        groups[n++] = cred.gid;
        return role_in(cfg, groups, n);
}

/* SHA-256 over the row's fields, each as "<length>:<bytes>;" (NULL as "-;"),
 * and the previous row's SHA-256 last. */
static void row_hash(const struct audit_row *a, char out[65])
{
        char id[32];
        snprintf(id, sizeof(id), "%lld", (long long)a->id);
        const char *fields[] = { id, a->at, a->who, a->role, a->action, a->object, a->why, a->prev_sha256 };
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                char len[24];
                if (!fields[i]) {
                        EVP_DigestUpdate(md, "-;", 2);
                        continue;
                }
                int k = snprintf(len, sizeof(len), "%zu:", strlen(fields[i]));
                EVP_DigestUpdate(md, len, (size_t)k);
                EVP_DigestUpdate(md, fields[i], strlen(fields[i]));
                EVP_DigestUpdate(md, ";", 1);
        }
        unsigned char d[32];
        unsigned dl = 0;
        EVP_DigestFinal_ex(md, d, &dl);
        EVP_MD_CTX_free(md);
        hex_encode(d, 32, out);
}

int audit_append(struct catalog *cat, const char *who, const char *role, const char *action, const char *object,
                 const char *why)
{
        bool own = !catalog_in_transaction(cat);
        int r;
        if (own && (r = catalog_begin(cat)) < 0)
                return r;
        int64_t last;
        char prev[65], now[32], sha[65];
        if ((r = catalog_audit_last(cat, &last, prev)) == 0) {
                time_now_iso(now, sizeof(now));
                struct audit_row a = { .id = last + 1,
                                       .at = now,
                                       .who = who,
                                       .role = role,
                                       .action = action,
                                       .object = object,
                                       .why = why && *why ? why : NULL,
                                       .prev_sha256 = last ? prev : NULL };
                row_hash(&a, sha);
                a.sha256 = sha;
                r = catalog_audit_insert(cat, &a);
        }
        if (own) {
                if (r == 0)
                        r = catalog_commit(cat);
                if (r < 0)
                        catalog_rollback(cat);
        }
        return r;
}

struct walk {
        int64_t n, last_id;
        char last_sha[65];
        char *err;
        size_t err_size;
};

static int check_row(const struct audit_row *a, void *ud)
{
        struct walk *w = ud;
        char sha[65];
        bool first = w->n == 0;
        bool links = first ? a->prev_sha256 == NULL : (a->prev_sha256 && strcmp(a->prev_sha256, w->last_sha) == 0);
        if (!links) {
                if (!first && a->id != w->last_id + 1)
                        snprintf(w->err, w->err_size,
                                 "audit row %lld: row(s) %lld to %lld were deleted (the chain "
                                 "jumps from row %lld)",
                                 (long long)a->id, (long long)w->last_id + 1, (long long)a->id - 1,
                                 (long long)w->last_id);
                else if (first && a->id != 1)
                        snprintf(w->err, w->err_size, "audit row %lld: the rows before it were deleted",
                                 (long long)a->id);
                else
                        snprintf(w->err, w->err_size, "audit row %lld was inserted: it does not link to row %lld",
                                 (long long)a->id, (long long)w->last_id);
                return -EBADMSG;
        }
        row_hash(a, sha);
        if (!a->sha256 || strcmp(sha, a->sha256) != 0) {
                snprintf(w->err, w->err_size, "audit row %lld was altered: its content no longer matches its SHA-256",
                         (long long)a->id);
                return -EBADMSG;
        }
        w->n++;
        w->last_id = a->id;
        snprintf(w->last_sha, sizeof(w->last_sha), "%s", a->sha256);
        return 0;
}

int audit_verify(struct catalog *cat, int64_t *n, char *err, size_t err_size)
{
        struct walk w = { .err = err, .err_size = err_size };
        err[0] = '\0';
        int r = catalog_audit_foreach(cat, NULL, check_row, &w);
        *n = w.n;
        return r;
}

int audit_head(struct catalog *cat, int64_t *id, char sha256[65]) { return catalog_audit_last(cat, id, sha256); }
