/* dockctl.c — the command line: a thin client of dockd's control socket.
 * dockd runs every verb with the caller's role; dockctl sends the words and
 * the files the caller opened, and shows what comes back. With --state DIR
 * of the caller's own, where no dockd runs, dockctl is the offline field
 * kit: it runs the verb itself, without roles. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        (void)sig;
        interrupted++;
}

/* Offline, or which socket: decided from --state DIR (see the file's head). */
enum mode { MODE_DAEMON, MODE_OFFLINE };

static int choose_mode(const char *state, const char *cfg_socket, char *socket, size_t socket_size, int *lockfd)
{
        snprintf(socket, socket_size, "%s", cfg_socket);
        *lockfd = -1;
        if (!state)
                return MODE_DAEMON;
        _cleanup_free_ char *path = xasprintf("%s/dockd.lock", state);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0) {
                /* A dockd runs on DIR: ask it, at the socket it names. */
                char buf[600] = "";
                ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
                close(fd);
                buf[k > 0 ? k : 0] = '\0';
                char *nl = strchr(buf, '\n');
                if (nl && nl[1]) {
                        nl[1 + strcspn(nl + 1, "\n")] = '\0';
                        snprintf(socket, socket_size, "%s", nl + 1);
                }
                return MODE_DAEMON;
        }
        if (fd < 0 && errno == EACCES)
                return MODE_DAEMON; /* not ours to read: dockd's, ask it */
        struct stat st;
        if (stat(state, &st) == 0 && st.st_uid != geteuid()) {
                if (fd >= 0)
                        close(fd);
                struct passwd *pw = getpwuid(st.st_uid);
                fprintf(stderr,
                        "dockctl: %s belongs to %s and no dockd runs on it: start dockd, or run the field "
                        "kit on a state directory of your own\n",
                        state, pw ? pw->pw_name : "another user");
                return -EPERM;
        }
        if (fd < 0) { /* a new state of the caller's own */
                if (mkdir_p(state, 0750) < 0 ||
                    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0) {
                        fprintf(stderr, "dockctl: %s: %s\n", path, strerror(errno));
                        return -errno;
                }
                if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
                        close(fd);
                        fprintf(stderr, "dockctl: %s: a dockd started on it just now; try again\n", state);
                        return -EBUSY;
                }
        }
        *lockfd = fd; /* held while the field kit works: no dockd starts on it meanwhile */
        return MODE_OFFLINE;
}

static void caller_name(char *buf, size_t size)
{
        struct passwd *pw = getpwuid(getuid());
        if (pw)
                snprintf(buf, size, "%s", pw->pw_name);
        else
                snprintf(buf, size, "uid %u", (unsigned)getuid());
}

/* The argument index that names the verb's input file, or -1. */
static int input_arg(const struct verb *v, int argc, char **argv)
{
        if (!v->input)
                return -1;
        if (v->input[0] != '-')
                return atoi(v->input) < argc ? atoi(v->input) : -1;
        for (int i = 1; i + 1 < argc; i++)
                if (strcmp(argv[i], v->input) == 0)
                        return i + 1;
        return -1;
}

static unsigned terminal_width(void)
{
        struct winsize ws;
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
                return ws.ws_col;
        const char *c = getenv("COLUMNS");
        return c && atoi(c) >= 20 ? (unsigned)atoi(c) : 80;
}

static int send_request(int sock, const struct verb *v, int argc, char **argv)
{
        int in = input_arg(v, argc, argv);
        int r = ctl_send(sock, 'V', CTL_VERSION, strlen(CTL_VERSION), -1);
        if (r == 0 && isatty(STDERR_FILENO)) {
                char cols[16];
                snprintf(cols, sizeof(cols), "%u", terminal_width());
                r = ctl_send(sock, 'T', cols, strlen(cols), -1);
        }
        for (int i = 0; i < argc && r == 0; i++) {
                if (i != in) {
                        r = ctl_send(sock, 'A', argv[i], strlen(argv[i]), -1);
                        continue;
                }
                /* The caller's own right to read it, not dockd's. */
                _cleanup_close_ int fd = open(argv[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                if (fd < 0) {
                        fprintf(stderr, "dockctl: %s: cannot open: %s\n", argv[i], strerror(errno));
                        return -errno;
                }
                /* Opened without waiting (a FIFO with no writer would hang here);
                 * reads wait as usual. The O_DIRECT twin only of a volume: a
                 * second open of anything else could block, and dockd refuses
                 * it anyway. */
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
                struct stat st;
                bool volume = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
                _cleanup_close_ int dfd = volume ? open(argv[i], O_RDONLY | O_CLOEXEC | O_DIRECT) : -1;
                r = ctl_send(sock, 'F', argv[i], strlen(argv[i]), fd);
                if (r == 0 && dfd >= 0)
                        r = ctl_send(sock, 'D', "", 0, dfd);
        }
        if (r == 0)
                r = ctl_send(sock, '.', "", 0, -1);
        return r;
}

/* Shows the reply's frames; returns the verb's exit status. */
static int show_reply(int sock, const struct verb *v)
{
        struct ctl_reader rd = { .max = CTL_MAX_FRAME };
        int rc = -1;
        bool asked = false;
        while (rc < 0) {
                char buf[16384];
                ssize_t k = read(sock, buf, sizeof(buf));
                if (k < 0 && errno == EINTR) {
                        if (v->flags & VERB_TO_THE_END) {
                                fprintf(stderr,
                                        "\ndockctl: '%s' goes on inside dockd to its end (it is never left "
                                        "half done); `dockctl destroy list` shows when it is\n",
                                        v->name);
                                ctl_reader_free(&rd);
                                return 130;
                        }
                        if (interrupted > 1 || !(v->flags & VERB_LONG)) {
                                if (v->flags & VERB_LONG)
                                        fprintf(stderr,
                                                "\ndockctl: left; dockd stops '%s' at its next safe point all "
                                                "the same\n",
                                                v->name);
                                ctl_reader_free(&rd);
                                return 130;
                        }
                        if (!asked) {
                                fprintf(stderr,
                                        "\ndockctl: asking dockd to stop '%s' at its next safe point; what is "
                                        "verified stays recorded, and the next run resumes (Ctrl-C again to leave "
                                        "now)\n",
                                        v->name);
                                if (ctl_send(sock, 'C', "", 0, -1) < 0)
                                        break;
                                asked = true;
                        }
                        continue;
                }
                if (k <= 0)
                        break;
                if (ctl_feed(&rd, buf, (size_t)k) < 0)
                        break;
                char type;
                const char *data;
                size_t n;
                int r;
                while ((r = ctl_next(&rd, &type, &data, &n)) > 0) {
                        if (type == 'O')
                                fwrite(data, 1, n, stdout);
                        else if (type == 'E') {
                                fflush(stdout);
                                fwrite(data, 1, n, stderr);
                        } else if (type == 'X') {
                                rc = atoi(data);
                                break;
                        }
                }
                if (r < 0)
                        break;
        }
        ctl_reader_free(&rd);
        fflush(stdout);
        if (rc < 0) {
                fprintf(stderr,
                        "dockctl: dockd ended the connection before '%s' was done (its journal says why: "
                        "`journalctl -u dockd`)\n",
                        v->name);
                return EXIT_UNREACHABLE;
        }
        return rc;
}

static int ask_dockd(const char *socket, const struct verb *v, int argc, char **argv)
{
        int sock = ctl_connect(socket);
        if (sock < 0) {
                fprintf(stderr, "dockctl: cannot reach dockd at %s: %s (is it running? `systemctl status dockd`)\n",
                        socket, strerror(-sock));
                return EXIT_UNREACHABLE;
        }
        int rc = send_request(sock, v, argc, argv);
        if (rc == -EPIPE || rc == -ECONNRESET)
                rc = 0; /* dockd answered early (a refusal): read it */
        rc = rc < 0 ? 1 : show_reply(sock, v);
        close(sock);
        return rc;
}

static bool wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        return false;
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
                        return true;
        }
        return false;
}

/* The first words of the table, each once, in order. */
static bool first_seen(const struct verb *v)
{
        for (const struct verb *k = VERBS; k != v; k++)
                if (verb_word_is(k, v->name, strcspn(v->name, " ")))
                        return true;
        return false;
}

/* Writes the words of `args` that are options ("--json" of "[--json|--csv]"). */
static void options_of(const char *args, FILE *f)
{
        for (const char *p = args; (p = strstr(p, "--"));) {
                size_t n = strspn(p, "-abcdefghijklmnopqrstuvwxyz");
                fprintf(f, " %.*s", (int)n, p);
                p += n;
        }
}

/* `dockctl help --bash-completion`: completion made from the verb table, so
 * it knows every verb, subverb and option, and no more. */
static void bash_completion(FILE *f)
{
        fputs("# bash completion for dockctl, made from its verb table (dockctl help --bash-completion)\n"
              "_dockctl() {\n"
              "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} i verb= words=\n"
              "\tcase $prev in\n"
              "\t-c | --image) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
              "\t--state) COMPREPLY=($(compgen -d -- \"$cur\")); return ;;\n"
              "\tesac\n"
              "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
              "\t\tcase ${COMP_WORDS[i]} in\n"
              "\t\t-c | --state) ((i++)) ;;\n"
              "\t\t-*) ;;\n"
              "\t\t*) verb=${COMP_WORDS[i]}; break ;;\n"
              "\t\tesac\n"
              "\tdone\n"
              "\tcase $verb in\n"
              "\t'') words='--help --version -c --state -v",
              f);
        for (const struct verb *v = VERBS; v->name; v++)
                if (!first_seen(v))
                        fprintf(f, " %.*s", (int)strcspn(v->name, " "), v->name);
        fputs("' ;;\n", f);
        for (const struct verb *v = VERBS; v->name; v++) {
                if (first_seen(v))
                        continue;
                size_t n = strcspn(v->name, " ");
                fprintf(f, "\t%.*s) words='--help", (int)n, v->name);
                for (const struct verb *k = v; k->name; k++) {
                        if (!verb_word_is(k, v->name, n))
                                continue;
                        if (k->name[n] == ' ')
                                fprintf(f, " %s", k->name + n + 1); /* a subverb, or "--status" */
                        options_of(k->args, f);
                }
                fputs("' ;;\n", f);
        }
        fputs("\tesac\n"
              "\tif [ \"$verb\" = officers ] && [ \"$prev\" = import ]; then\n"
              "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
              "\t\treturn\n"
              "\tfi\n"
              "\tCOMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
              "}\n"
              "complete -F _dockctl dockctl\n",
              f);
}

static bool known_word(const char *w)
{
        for (const struct verb *v = VERBS; v->name; v++)
                if (verb_word_is(v, w, strlen(w)))
                        return true;
        return false;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' }, { "state", required_argument, NULL, 'S' },
                { "verbose", no_argument, NULL, 'v' },      { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },         {}
        };
        const char *config_path = NULL, *state = NULL;
        int ch;
        setenv("TZ", "UTC", 1);
        tzset();
        /* Text is UTF-8 (names are escaped to it): tables measure it by display width. */
        setlocale(LC_CTYPE, "C.UTF-8");
        log_set_ident("dockctl");
        while ((ch = getopt_long(argc, argv, "+c:vh", opts, NULL)) != -1)
                switch (ch) {
                case 'c': config_path = optarg; break;
                case 'S': state = optarg; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'V': printf("dockctl %s (control protocol %s)\n", DOCKD_VERSION, CTL_VERSION); return 0;
                case 'h': verbs_usage(stdout); return 0;
                default: verbs_usage(stderr); return EXIT_USAGE;
                }
        if (optind >= argc) {
                verbs_usage(stderr);
                return EXIT_USAGE;
        }
        int vargc = argc - optind;
        char **vargv = argv + optind;
        if (strcmp(vargv[0], "help") == 0) {
                if (vargc > 1 && strcmp(vargv[1], "--table") == 0) {
                        /* for scripts, the man page check and the role tests: verb, role, usage */
                        for (const struct verb *v = VERBS; v->name; v++) {
                                printf("%s\t%s\t", v->name, role_name(v->role));
                                for (const char *p = v->args; *p; p++) /* one line each */
                                        if (*p != '\n' && (*p != ' ' || p[1] != ' '))
                                                putchar(*p);
                                putchar('\n');
                        }
                } else if (vargc > 1 && strcmp(vargv[1], "--bash-completion") == 0) {
                        bash_completion(stdout);
                } else if (vargc > 1 && strcmp(vargv[1], "--roff") == 0) {
                        /* the VERBS section of dockctl(8), made from the table at build time */
                        for (const struct verb *v = VERBS; v->name; v++) {
                                printf(".TP\n.B %s", v->name);
                                if (v->args[0]) {
                                        fputs(" \\fR", stdout);
                                        for (const char *p = v->args; *p; p++)
                                                if (*p == '-')
                                                        fputs("\\-", stdout);
                                                else if (*p == '\n')
                                                        ;
                                                else if (*p != ' ' || p[1] != ' ')
                                                        putchar(*p);
                                }
                                printf("\n%s.\n[%s]\n", v->summary, role_name(v->role));
                        }
                } else if (vargc > 1 && known_word(vargv[1]))
                        verb_usage(stdout, vargv[1]);
                else
                        verbs_usage(stdout);
                return 0;
        }
        if (!known_word(vargv[0])) {
                fprintf(stderr, "dockctl: unknown verb '%s'; `dockctl --help` lists them\n", vargv[0]);
                return EXIT_USAGE;
        }
        if (wants_help(vargc, vargv)) {
                verb_usage(stdout, vargv[0]);
                return 0;
        }
        const struct verb *v = verb_find(vargc, vargv);
        if (!v) {
                verb_usage(stderr, vargv[0]);
                return EXIT_USAGE;
        }
        /* --image=PATH as two words, so the file is the word after --image. */
        char **args = xmalloc(sizeof(char *) * (size_t)(2 * vargc + 1));
        int nargs = 0;
        for (int i = 0; i < vargc; i++) {
                const char *eq = v->input && v->input[0] == '-' ? strchr(vargv[i], '=') : NULL;
                if (eq && (size_t)(eq - vargv[i]) == strlen(v->input) &&
                    strncmp(vargv[i], v->input, strlen(v->input)) == 0) {
                        args[nargs++] = (char *)v->input;
                        args[nargs++] = (char *)eq + 1;
                } else
                        args[nargs++] = vargv[i];
        }
        args[nargs] = NULL;
        /* --pdf FILE: the file is the caller's, written by dockctl with the
         * caller's rights; dockd writes the report to our stdout ("-"). */
        for (int i = 1; i + 1 < nargs; i++)
                if (strcmp(args[i], "--pdf") == 0 && strcmp(args[i + 1], "-") != 0) {
                        int fd = open(args[i + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
                                fprintf(stderr, "dockctl: cannot write %s: %s\n", args[i + 1], strerror(errno));
                                free(args);
                                return 1;
                        }
                        close(fd);
                        args[i + 1] = "-";
                }

        struct ctx c = { 0 };
        char err[512];
        if (config_load(&c.cfg, config_path, state, err, sizeof(err)) < 0) {
                fprintf(stderr, "dockctl: %s\n", err);
                free(args);
                return 1;
        }
        char socket[512];
        _cleanup_close_ int lockfd = -1;
        int mode = choose_mode(state, c.cfg.socket_path, socket, sizeof(socket), &lockfd);
        if (mode == MODE_OFFLINE && (v->flags & VERB_IN_DAEMON) && lockfd >= 0) {
                close(lockfd); /* nothing to do offline: hold no lock a starting dockd would wait for */
                lockfd = -1;
        }
        struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: a read sees the Ctrl-C */
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        int rc;
        if (mode < 0)
                rc = EXIT_UNREACHABLE;
        else if (mode == MODE_DAEMON) {
                bool watch = false, json = false;
                for (int i = 1; i < nargs && (v->flags & VERB_IN_DAEMON); i++) {
                        watch |= strcmp(args[i], "--watch") == 0;
                        json |= strcmp(args[i], "--json") == 0;
                }
                do {
                        if (watch && !json)
                                fputs("\033[H\033[2J", stdout); /* redraw in place */
                        rc = ask_dockd(socket, v, nargs, args);
                        if (watch && rc == 0 && !interrupted)
                                sleep(1);
                } while (watch && rc == 0 && !interrupted);
                if (watch && interrupted)
                        rc = 0;
        } else if (v->flags & VERB_IN_DAEMON) {
                fprintf(stderr, "dockctl %s: asks dockd, and none runs on %s\n", v->name, state);
                rc = EXIT_UNREACHABLE;
        } else {
                c.offline = true;
                c.progress = isatty(STDERR_FILENO);
                c.width = terminal_width();
                c.cancel = &interrupted;
                caller_name(c.caller, sizeof(c.caller));
                rc = verbs_run(&c, nargs, args);
                catalog_close(c.cat);
        }
        config_free(&c.cfg);
        free(args);
        return rc;
}
