/*
 * delay_proxy: a TCP proxy on loopback that holds every byte DELAY_MS
 * milliseconds in each direction, order kept: a relay one round trip of
 * 2 x DELAY_MS away, for bench/relay/run.sh.
 *
 *   delay_proxy LISTEN_PORT TARGET_PORT DELAY_MS
 *
 * One thread, epoll, level-triggered.  What is read is stamped and queued
 * in one FIFO (the delay is the same for all, so the FIFO is in due order);
 * when due it is appended to its direction's output and written.  An EOF is
 * passed on (shutdown) as late as the bytes before it.  Built to stay far
 * from being the bottleneck: no copy but the one into the output, no
 * per-byte work.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pair;

struct dir {
	struct pair	*p;
	int		 from, to;
	char		*out;		/* due bytes not yet written */
	size_t		 len, cap, off;
	int		 eof_due;	/* the EOF came through: shut down after out */
	int		 done;		/* shut down */
};

struct pair {
	struct dir	 d[2];		/* 0: client -> server, 1: back */
	int		 fds[2];
	int		 pending;	/* chunks still queued */
	int		 dead;
};

struct chunk {
	struct chunk	*next;
	double		 due;
	struct dir	*dir;
	size_t		 len;		/* 0: EOF */
	char		 data[];
};

static struct chunk *head, *tail;
static int ep;
static double delay;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
pair_kill(struct pair *p)
{
	if (p->dead)
		return;
	p->dead = 1;
	close(p->fds[0]);
	close(p->fds[1]);
	free(p->d[0].out);
	free(p->d[1].out);
	p->d[0].out = p->d[1].out = NULL;
	/* the struct stays (a few hundred bytes per connection closed): an
	   event of this batch or a queued chunk may still point at it */
}

/* fd's epoll registration: read interest for the dir it feeds, write
 * interest when the dir writing to it has bytes left. */
static void
update(struct pair *p, int side)
{
	struct epoll_event ev;
	struct dir *rd = &p->d[side];		/* reads fds[side] */
	struct dir *wr = &p->d[1 - side];	/* writes fds[side] */

	memset(&ev, 0, sizeof(ev));
	ev.events = (rd->eof_due || rd->done ? 0 : EPOLLIN) |
	    (wr->off < wr->len ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)(uintptr_t)p | (uint64_t)side;
	epoll_ctl(ep, EPOLL_CTL_MOD, p->fds[side], &ev);
}

static void
flush_dir(struct dir *d)
{
	struct pair *p = d->p;

	while (d->off < d->len) {
		ssize_t n = write(d->to, d->out + d->off, d->len - d->off);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			pair_kill(p);
			return;
		}
		d->off += (size_t)n;
	}
	if (d->off == d->len) {
		d->off = d->len = 0;
		if (d->eof_due == 2 && !d->done) {
			shutdown(d->to, SHUT_WR);
			d->done = 1;
			if (p->d[0].done && p->d[1].done) {
				pair_kill(p);
				return;
			}
		}
	}
	update(p, d == &p->d[0] ? 1 : 0);
}

static void
deliver(struct chunk *c)
{
	struct dir *d = c->dir;
	struct pair *p = d->p;

	p->pending--;
	if (p->dead)
		return;
	if (c->len == 0)
		d->eof_due = 2;
	else {
		if (d->len + c->len > d->cap) {
			d->cap = (d->len + c->len) * 2;
			d->out = realloc(d->out, d->cap);
			if (d->out == NULL)
				die("realloc");
		}
		memcpy(d->out + d->len, c->data, c->len);
		d->len += c->len;
	}
	flush_dir(d);
}

static void
enqueue(struct dir *d, const char *data, size_t len)
{
	struct chunk *c = malloc(sizeof(*c) + len);

	if (c == NULL)
		die("malloc");
	c->next = NULL;
	c->due = now() + delay;
	c->dir = d;
	c->len = len;
	memcpy(c->data, data, len);
	d->p->pending++;
	if (tail)
		tail->next = c;
	else
		head = c;
	tail = c;
}

static void
read_side(struct pair *p, int side)
{
	struct dir *d = &p->d[side];
	char buf[65536];

	for (;;) {
		ssize_t n = read(d->from, buf, sizeof(buf));

		if (n > 0) {
			enqueue(d, buf, (size_t)n);
			if ((size_t)n < sizeof(buf))
				return;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			pair_kill(p);
			return;
		}
		d->eof_due = 1;		/* passed on when due */
		enqueue(d, NULL, 0);
		update(p, side);
		return;
	}
}

static int
listen_on(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 1024) < 0)
		die("bind/listen");
	return fd;
}

static void
accept_one(int lfd, int tport)
{
	struct sockaddr_in a;
	struct epoll_event ev;
	struct pair *p;
	int c, s, one = 1, i;

	c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	if (c < 0)
		return;
	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)tport);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(c);
		if (s >= 0)
			close(s);
		return;
	}
	fcntl(s, F_SETFL, O_NONBLOCK);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		die("calloc");
	p->fds[0] = c;
	p->fds[1] = s;
	p->d[0].p = p->d[1].p = p;
	p->d[0].from = c;
	p->d[0].to = s;
	p->d[1].from = s;
	p->d[1].to = c;
	for (i = 0; i < 2; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.u64 = (uint64_t)(uintptr_t)p | (uint64_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, p->fds[i], &ev);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256], ev;
	int lfd, tport, n, i;

	if (argc != 4) {
		fprintf(stderr, "usage: delay_proxy LISTEN_PORT TARGET_PORT "
		    "DELAY_MS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	tport = (int)strtol(argv[2], NULL, 10);
	delay = strtod(argv[3], NULL) / 1000.0;
	lfd = listen_on((int)strtol(argv[1], NULL, 10));
	if ((ep = epoll_create1(0)) < 0)
		die("epoll");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("READY %s\n", argv[1]);
	fflush(stdout);
	for (;;) {
		double t = now();
		int wait = -1;

		while (head && head->due <= t) {
			struct chunk *c = head;

			head = c->next;
			if (head == NULL)
				tail = NULL;
			deliver(c);
			free(c);
		}
		if (head) {
			double ms = (head->due - t) * 1000.0;

			wait = ms < 1 ? 1 : (int)ms;
		}
		n = epoll_wait(ep, evs, 256, wait);
		for (i = 0; i < n; i++) {
			uint64_t u = evs[i].data.u64;
			struct pair *p = (struct pair *)(uintptr_t)(u & ~1ull);
			int side = (int)(u & 1);

			if (u == 0) {
				accept_one(lfd, tport);
				continue;
			}
			if (p->dead)
				continue;
			if (evs[i].events & EPOLLOUT)
				flush_dir(&p->d[1 - side]);
			if (!p->dead && (evs[i].events & (EPOLLIN | EPOLLHUP |
			    EPOLLERR)) && !p->d[side].eof_due)
				read_side(p, side);
			else if (!p->dead && (evs[i].events & EPOLLERR))
				pair_kill(p);
		}
	}
}
