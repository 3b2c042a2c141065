/* baywatch — the bays benchmark's stopwatch, so that what is timed is dockd
 * and not the shell that times it (a bash loop reading /status.json one byte
 * per read(2), twenty times a second, took a tenth of the two cores).
 *
 *   baywatch PORT COUNT DEVICE...
 *
 * Started before the recorders dock: notes each block device's read counter
 * (/sys/block/NAME/stat), then polls the counters every 5 ms and dockd's
 * http://127.0.0.1:PORT/status.json every 50 ms, until COUNT bays say
 * "safe_to_remove":true. Prints, in CLOCK_REALTIME nanoseconds:
 *   first NAME NS   the first poll that saw NAME's read counter move
 *   last NAME NS    the last poll that saw it move (the bay's last read:
 *                   how evenly the disk served the bays shows in these)
 *   done NS         the first poll that saw COUNT bays safe to remove
 * Exits 0; 1 if a bay failed or was interrupted (and prints the page), 2 on
 * bad arguments or a device it cannot read. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS 64
#define PAGE_MAX (4 << 20)

static int64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The sectors read so far: the third field of /sys/block/NAME/stat. */
static long long sectors_read(int fd)
{
        char buf[256];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        long long f[3];
        if (sscanf(buf, "%lld %lld %lld", &f[0], &f[1], &f[2]) != 3)
                return -1;
        return f[2];
}

/* GET /status.json into page; its length, or -1 if dockd did not answer. */
static ssize_t fetch(int port, char *page, size_t size)
{
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -1;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        static const char req[] = "GET /status.json HTTP/1.0\r\n\r\n";
        size_t got = 0;
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || write(s, req, sizeof(req) - 1) != sizeof(req) - 1) {
                close(s);
                return -1;
        }
        for (ssize_t n; got < size - 1 && (n = read(s, page + got, size - 1 - got)) != 0;) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        close(s);
                        return -1;
                }
                got += (size_t)n;
        }
        close(s);
        page[got] = '\0';
        return (ssize_t)got;
}

static unsigned count(const char *hay, const char *needle)
{
        unsigned n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

int main(int argc, char **argv)
{
        if (argc < 4 || argc - 3 > MAX_DEVS) {
                fprintf(stderr, "usage: baywatch PORT COUNT DEVICE... (at most %d devices)\n", MAX_DEVS);
                return 2;
        }
        int port = atoi(argv[1]);
        unsigned want = (unsigned)atoi(argv[2]);
        int ndev = argc - 3;
        int fds[MAX_DEVS];
        int64_t first[MAX_DEVS] = { 0 }, last[MAX_DEVS] = { 0 };
        long long seen[MAX_DEVS]; /* each counter as last polled */
        for (int i = 0; i < ndev; i++) {
                const char *name = strrchr(argv[3 + i], '/') ? strrchr(argv[3 + i], '/') + 1 : argv[3 + i];
                char path[256];
                snprintf(path, sizeof(path), "/sys/block/%s/stat", name);
                fds[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[i] < 0 || (seen[i] = sectors_read(fds[i])) < 0) {
                        fprintf(stderr, "baywatch: %s: %s\n", path, strerror(errno));
                        return 2;
                }
        }
        char *page = malloc(PAGE_MAX);
        if (!page)
                return 2;
        printf("ready\n");
        fflush(stdout);
        for (unsigned tick = 0;; tick++) {
                int64_t t = now_ns();
                for (int i = 0; i < ndev; i++) {
                        long long n = sectors_read(fds[i]);
                        if (n < 0 || n == seen[i])
                                continue;
                        seen[i] = n;
                        if (!first[i])
                                first[i] = t;
                        last[i] = t;
                }
                if (tick % 10 == 0 && fetch(port, page, PAGE_MAX) > 0) {
                        if (strstr(page, "\"state\":\"failed\"") || strstr(page, "\"state\":\"interrupted\"")) {
                                fprintf(stderr, "baywatch: a bay failed:\n%s\n", page);
                                return 1;
                        }
                        if (count(page, "\"safe_to_remove\":true") >= want) {
                                for (int i = 0; i < ndev; i++)
                                        printf("first %s %lld\nlast %s %lld\n", argv[3 + i], (long long)first[i],
                                               argv[3 + i], (long long)last[i]);
                                printf("done %lld\n", (long long)t);
                                return 0;
                        }
                }
                struct timespec nap = { 0, 5000000 };
                nanosleep(&nap, NULL);
        }
}
