/* libFuzzer: ASC MHL receipts from a drive made elsewhere, as `dockctl mhl
 * verify` reads them. The first byte picks the chain file (mhl_parse_chain)
 * or a generation (mhl_check_generation, against a small tree made here).
 * Oracles, against a reference count through libxml2's XPath (not the
 * tree walk under test):
 *   chain: every <hashlist> of the directory element is one entry, in order,
 *   and an entry said to be whole holds exactly its element's text;
 *   generation: each <hash> of the hash list is counted exactly once (ok,
 *   missing or changed), nothing is called ok unless its entry's path is
 *   exactly a regular file of the tree, and every problem is told. */
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mhl.h"

static int rootfd = -1;
static char tmpl[] = "/tmp/fuzz-mhl-XXXXXX";

static void remove_tree(void)
{
        char p[300];
        const char *names[] = { "DCIM/A.MP4", "DCIM/l.MP4", "DCIM", "" };
        for (size_t i = 0; i < 4; i++) {
                snprintf(p, sizeof(p), "%s/%s", tmpl, names[i]);
                remove(p);
        }
}

static void make_tree(void)
{
        char *d = mkdtemp(tmpl);
        if (!d)
                abort();
        char p[300];
        snprintf(p, sizeof(p), "%s/DCIM", d);
        mkdir(p, 0755);
        snprintf(p, sizeof(p), "%s/DCIM/A.MP4", d);
        FILE *f = fopen(p, "w");
        if (!f)
                abort();
        fputs("hello", f); /* XXH128 b5e9c1ad071b3e7fc779cfaa5e523818 */
        fclose(f);
        snprintf(p, sizeof(p), "%s/DCIM/l.MP4", d);
        if (symlink("/etc/passwd", p) < 0)
                abort();
        rootfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                abort();
        atexit(remove_tree);
}

static void quiet(void *ctx, const char *msg, ...) { (void)ctx, (void)msg; }

static unsigned problems;
static void told(void *ud, const char *line)
{
        (void)ud;
        if (!line[0])
                abort(); /* a problem told without words */
        problems++;
}

static xmlXPathObject *xpath(xmlDoc *doc, const char *expr, xmlNode *at)
{
        xmlXPathContext *x = xmlXPathNewContext(doc);
        if (at)
                x->node = at;
        xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *)expr, x);
        xmlXPathFreeContext(x);
        return o;
}

static char *string_at(xmlDoc *doc, xmlNode *at, const char *expr)
{
        xmlXPathObject *o = xpath(doc, expr, at);
        char *s = strdup(o && o->stringval ? (const char *)o->stringval : "");
        xmlXPathFreeObject(o);
        return s;
}

static void check_chain(const char *data, size_t len)
{
        struct mhl_chain_entry *e = NULL;
        size_t n = 0;
        int r = mhl_parse_chain(data, len, &e, &n);
        xmlDoc *doc =
                xmlReadMemory(data, (int)len, "chain", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (r < 0) {
                free(e);
                xmlFreeDoc(doc);
                return;
        }
        if (!doc)
                abort(); /* parsed what libxml2 cannot read */
        xmlXPathObject *o = xpath(doc, "/*[local-name()='ascmhldirectory']/*[local-name()='hashlist']", NULL);
        size_t want = o && o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0;
        if (want != n)
                abort(); /* an entry skipped or made up */
        for (size_t i = 0; i < n; i++) {
                xmlNode *h = o->nodesetval->nodeTab[i];
                char *path = string_at(doc, h, "string(*[local-name()='path'][1])");
                char *c4 = string_at(doc, h, "string(*[local-name()='c4'][1])");
                if (e[i].whole && (strcmp(path, e[i].path) != 0 || strcmp(c4, e[i].c4) != 0))
                        abort(); /* an entry said whole that is not its element's text */
                if (!e[i].whole && strlen(path) < sizeof(e[i].path) && strlen(c4) < sizeof(e[i].c4))
                        abort(); /* an entry said cut that fits */
                free(path);
                free(c4);
        }
        xmlXPathFreeObject(o);
        xmlFreeDoc(doc);
        free(e);
}

static void check_generation(const char *data, size_t len)
{
        struct mhl_report rep = { 0 };
        problems = 0;
        mhl_check_generation(rootfd, "fuzz.mhl", 1, data, len, told, NULL, &rep);
        if (rep.bad_generations) {
                if (rep.files_ok || rep.files_missing || rep.files_changed || problems != 1)
                        abort(); /* a bad generation's entries counted, or not told once */
                return;
        }
        xmlDoc *doc =
                xmlReadMemory(data, (int)len, "gen", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                abort();
        xmlXPathObject *o = xpath(doc, "/*/*[local-name()='hashes'][1]/*[local-name()='hash']", NULL);
        size_t want = o && o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0, exact = 0;
        for (size_t i = 0; i < want; i++) {
                char *path = string_at(doc, o->nodesetval->nodeTab[i], "string(*[local-name()='path'][1])");
                exact += strcmp(path, "DCIM/A.MP4") == 0;
                free(path);
        }
        if ((size_t)rep.files_ok + rep.files_missing + rep.files_changed != want)
                abort(); /* an entry not counted, or counted twice */
        if (rep.files_ok > exact)
                abort(); /* ok for a name that is not the tree's file */
        if (problems != rep.files_missing + rep.files_changed)
                abort(); /* a problem counted but not told */
        xmlXPathFreeObject(o);
        xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (rootfd < 0) {
                make_tree();
                xmlSetGenericErrorFunc(NULL, quiet);
        }
        if (size < 1 || size > (1 << 20))
                return 0;
        if (data[0] & 1)
                check_chain((const char *)data + 1, size - 1);
        else
                check_generation((const char *)data + 1, size - 1);
        return 0;
}
