/*
 * The chaos suite's traffic prober: one per lab host, inside a container. Every 10 ms it sends
 * one numbered UDP packet to each target listed in OUTDIR/targets ("<label> <ipv4>" per line,
 * re-read when the file changes) and counts what arrives on PORT from the other probers.
 *
 *   prober NAME PORT OUTDIR
 *
 * A packet says "XP1 <from> <label> <epoch> <seq>": the sender's name, the target's label, the
 * sender's start time (a restarted sender is a new epoch) and the number of packets sent so far
 * on that flow. A send that fails (no route, link down) still uses its number: the packet is
 * lost like any other. A sender that falls behind catches up in a burst, so a starved CPU shows
 * as a late packet, not as loss.
 *
 * Written for the runner to read from the host (OUTDIR is bind-mounted):
 *   OUTDIR/gaps    appended: "<now_ms> <flow> seq|restart <lost> <gap_ms>", one line per gap
 *                  seen when the first packet after it arrives (restart: the sender's epoch
 *                  changed; lost is estimated from the silence at 10 ms a packet)
 *   OUTDIR/status  rewritten every 200 ms: "<flow> <epoch> <seq> <received> <lost> <late> <last_rx_ms>"
 * A flow is "<from>><label>". Static, no libc beyond what -static links: runs in an empty image.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_TARGETS 64
#define MAX_FLOWS 256
#define TICK_MS 10
#define MAX_BACKLOG 100

/* fd: this target's own sending socket. With one socket for all, packets waiting for the ARP
 * answer of a cut-off host filled its send buffer and sends to every other host failed (EAGAIN)
 * until ARP gave up: 0.5 s of loss on flows the fault never touched (docs/faults.md). */
struct target { char label[64]; struct sockaddr_in addr; unsigned long seq; int fd; };
struct flow {
  char key[160];
  unsigned long long epoch;
  long seq;
  unsigned long received, lost, late;
  long long last_rx;
};

static struct target targets[MAX_TARGETS];
static int ntargets;
static struct flow flows[MAX_FLOWS];
static int nflows;
static char outdir[256], name[64];
static FILE *gaps;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keeps the sequence numbers of targets that stay in the file. */
static void load_targets(void) {
  char path[300], line[200], label[64], ip[64];
  struct target next[MAX_TARGETS];
  int n = 0;
  snprintf(path, sizeof path, "%s/targets", outdir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  while (n < MAX_TARGETS && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%63s %63s", label, ip) != 2) continue;
    memset(&next[n], 0, sizeof next[n]);
    next[n].fd = -1;
    snprintf(next[n].label, sizeof next[n].label, "%s", label);
    next[n].addr.sin_family = AF_INET;
    next[n].addr.sin_port = targets[0].addr.sin_port;
    if (inet_pton(AF_INET, ip, &next[n].addr.sin_addr) != 1) continue;
    for (int i = 0; i < ntargets; i++)
      if (!strcmp(targets[i].label, label)) { next[n].seq = targets[i].seq; next[n].fd = targets[i].fd; targets[i].fd = -1; }
    n++;
  }
  fclose(f);
  for (int i = 0; i < ntargets; i++) if (targets[i].fd >= 0) close(targets[i].fd);
  memcpy(targets, next, sizeof(next[0]) * n);
  ntargets = n;
}

static struct flow *flow_for(const char *key) {
  for (int i = 0; i < nflows; i++) if (!strcmp(flows[i].key, key)) return &flows[i];
  if (nflows == MAX_FLOWS) return NULL;
  struct flow *fl = &flows[nflows++];
  memset(fl, 0, sizeof *fl);
  snprintf(fl->key, sizeof fl->key, "%s", key);
  fl->seq = -1;
  return fl;
}

static void gap(struct flow *fl, const char *kind, unsigned long lost, long long t) {
  fprintf(gaps, "%lld %s %s %lu %lld\n", t, fl->key, kind, lost, fl->last_rx ? t - fl->last_rx : 0);
  fflush(gaps);
}

static void on_packet(const char *buf) {
  char from[64], label[64], key[160];
  unsigned long long epoch;
  long seq;
  if (sscanf(buf, "XP1 %63s %63s %llu %ld", from, label, &epoch, &seq) != 4) return;
  snprintf(key, sizeof key, "%s>%s", from, label);
  struct flow *fl = flow_for(key);
  if (!fl) return;
  long long t = now_ms();
  if (fl->seq >= 0 && epoch != fl->epoch) {
    long long silent = t - fl->last_rx;
    unsigned long est = silent > TICK_MS ? (unsigned long)(silent / TICK_MS - 1) : 0;
    gap(fl, "restart", est, t);
    fl->lost += est;
    fl->seq = -1;
  }
  if (fl->seq < 0) {
    fl->epoch = epoch;
  } else if (seq <= fl->seq) {
    fl->late++;
    return;
  } else if (seq > fl->seq + 1) {
    fl->lost += seq - fl->seq - 1;
    gap(fl, "seq", seq - fl->seq - 1, t);
  }
  fl->seq = seq;
  fl->received++;
  fl->last_rx = t;
}

static void write_status(void) {
  char path[300], tmp[310];
  snprintf(path, sizeof path, "%s/status", outdir);
  snprintf(tmp, sizeof tmp, "%s/status.tmp", outdir);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  for (int i = 0; i < nflows; i++) {
    struct flow *fl = &flows[i];
    fprintf(f, "%s %llu %ld %lu %lu %lu %lld\n", fl->key, fl->epoch, fl->seq, fl->received, fl->lost, fl->late, fl->last_rx);
  }
  fclose(f);
  rename(tmp, path);
}

static void send_all(unsigned long long epoch) {
  char buf[200];
  for (int i = 0; i < ntargets; i++) {
    int n = snprintf(buf, sizeof buf, "XP1 %s %s %llu %lu", name, targets[i].label, epoch, targets[i].seq++);
    if (targets[i].fd < 0) targets[i].fd = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(targets[i].fd, buf, n, MSG_DONTWAIT, (struct sockaddr *)&targets[i].addr, sizeof targets[i].addr);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: prober NAME PORT OUTDIR\n"); return 2; }
  snprintf(name, sizeof name, "%s", argv[1]);
  snprintf(outdir, sizeof outdir, "%s", argv[3]);
  int port = atoi(argv[2]);
  char path[300];
  snprintf(path, sizeof path, "%s/gaps", outdir);
  gaps = fopen(path, "a");
  if (!gaps) { perror(path); return 1; }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int big = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = { INADDR_ANY } };
  if (bind(fd, (struct sockaddr *)&any, sizeof any) < 0) { perror("bind"); return 1; }
  targets[0].addr.sin_port = htons(port);
  unsigned long long epoch = (unsigned long long)now_ms();
  long long seen_mtime = 0;
  long long next_tick = mono_ms(), next_status = 0, next_reload = 0;
  for (;;) {
    long long m = mono_ms();
    if (m >= next_reload) {
      struct stat st;
      snprintf(path, sizeof path, "%s/targets", outdir);
      long long mt;
      if (stat(path, &st) == 0 && (mt = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec) != seen_mtime) { seen_mtime = mt; load_targets(); }
      next_reload = m + 1000;
    }
    if (m - next_tick > MAX_BACKLOG * TICK_MS) next_tick = m;
    while (m >= next_tick) { send_all(epoch); next_tick += TICK_MS; }
    if (m >= next_status) { write_status(); next_status = m + 200; }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int wait = (int)(next_tick - mono_ms());
    if (poll(&p, 1, wait < 0 ? 0 : wait) > 0) {
      char buf[256];
      ssize_t n;
      while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) { buf[n] = 0; on_packet(buf); }
    }
  }
}
