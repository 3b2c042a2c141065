/* report_pdf.c — see report_pdf.h: hands the text to the dockd-pdf helper
 * and lets it write the PDF to out. */
#include "report_pdf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

/* Reads the PDF (into out) and what the helper says (into msg) until both
 * end, whichever it writes first: neither pipe can fill and stall it. */
static int drain(int pdf, FILE *out, int said, char *msg, size_t size)
{
        char buf[65536];
        size_t got = 0;
        int r = 0;
        struct pollfd p[2] = { { .fd = pdf, .events = POLLIN }, { .fd = said, .events = POLLIN } };
        while (p[0].fd >= 0 || p[1].fd >= 0) {
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (p[i].fd < 0 || !p[i].revents)
                                continue;
                        ssize_t k = read(p[i].fd, buf, sizeof(buf));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0) {
                                p[i].fd = -1; /* poll skips it */
                                continue;
                        }
                        if (i == 0 && r == 0 && fwrite(buf, 1, (size_t)k, out) != (size_t)k)
                                r = -EIO; /* read on: the helper must not block on a full pipe */
                        for (ssize_t j = 0; i == 1 && j < k && got + 1 < size; j++)
                                msg[got++] = buf[j];
                }
        }
        msg[got] = '\0';
        return r;
}

int report_pdf(const char *text, const char *footer, FILE *out, char *err, size_t err_size)
{
        char helper[PATH_MAX];
        helper_path("dockd-pdf", helper, sizeof(helper));
        /* The text goes in through a socket (a helper that dies early is an
         * error here, not a SIGPIPE); the PDF comes back on a pipe and is
         * written to out, whatever out is (a verb's framed stream to dockctl,
         * or a file); what the helper says on failure comes on another, read
         * alongside. It reads all its input before it writes anything. */
        int in[2] = { -1, -1 }, pdf[2] = { -1, -1 }, said[2] = { -1, -1 };
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 || pipe2(pdf, O_CLOEXEC) < 0 ||
            pipe2(said, O_CLOEXEC) < 0) {
                int e = errno;
                for (int i = 0; i < 2; i++) /* those that were made */
                        close(in[i]), close(pdf[i]), close(said[i]);
                snprintf(err, err_size, "cannot make the PDF: %s", strerror(e));
                return -e;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[1], 0);
        posix_spawn_file_actions_adddup2(&fa, pdf[1], 1);
        posix_spawn_file_actions_adddup2(&fa, said[1], 2);
        char *argv[] = { helper, (char *)footer, NULL };
        pid_t pid;
        int r = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(in[1]);
        close(pdf[1]);
        close(said[1]);
        if (r != 0) {
                close(in[0]), close(pdf[0]), close(said[0]);
                snprintf(err, err_size, "cannot run %s: %s", helper, strerror(r));
                return -r;
        }
        sock_full(in[0], (void *)text, strlen(text), true); /* a helper gone early: its status says why */
        close(in[0]);
        char msg[400];
        int wr = drain(pdf[0], out, said[0], msg, sizeof(msg));
        close(pdf[0]);
        close(said[0]);
        char *said_first = msg + strspn(msg, "\n"); /* its first line that says something */
        said_first[strcspn(said_first, "\n")] = '\0';
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                snprintf(err, err_size, "%s", said_first[0] ? said_first : "dockd-pdf failed");
                return -EIO;
        }
        if (wr < 0 || fflush(out) != 0) {
                snprintf(err, err_size, "cannot write the PDF: %s", strerror(wr < 0 ? -wr : errno));
                return -EIO;
        }
        return 0;
}
