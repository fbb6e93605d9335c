// SPDX-License-Identifier: GPL-2.0-only
/*
 * nettool - traffic for the network tests and benchmarks, with the data
 * checked at the receiving end.
 *
 *   nettool tcp-recv PORT TIMEOUT_S        accept one stream, check every
 *                                          byte, print "recv BYTES ok
 *                                          GBIT" (or "recv ... CORRUPT")
 *   nettool tcp-send ADDR PORT BYTES       send BYTES of the pattern
 *                                          (ADDR IPv4 or IPv6; receivers
 *                                          listen on both)
 *   nettool udp-recv PORT SECONDS          count datagrams for SECONDS
 *   nettool udp-send ADDR PORT SECONDS SIZE  send as fast as possible
 *
 * The stream is a position-dependent pattern, so a lost, duplicated or
 * corrupted byte anywhere shows. Throughput is measured by the receiver
 * from the first byte to the last. Every mode bounds itself in time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The stream: byte pos is table[pos % PERIOD], PERIOD a prime, so a lost,
 * duplicated or reordered stretch shows unless it is a multiple of PERIOD
 * bytes long. The table is long enough that any 64 KiB window starting
 * below PERIOD is contiguous: sending and checking are a memcpy/memcmp.
 */
#define PERIOD 65521u
#define CHUNK 65536u
static uint8_t table[PERIOD + CHUNK];

static void init_table(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		table[i] = (uint8_t)(x >> 24);
	}
	for (i = PERIOD; i < PERIOD + CHUNK; i++)
		table[i] = table[i - PERIOD];
}

static const uint8_t *pattern_at(uint64_t pos)
{
	return table + pos % PERIOD;
}

/* A peer's address: IPv6 when it has a ':', else IPv4. */
static int parse_peer(const char *host, const char *port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	uint16_t p = htons((uint16_t)atoi(port));

	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = p;
		*len = sizeof(*v6);
		return inet_pton(AF_INET6, host, &v6->sin6_addr) == 1 ? 0 : -1;
	}
	v4->sin_family = AF_INET;
	v4->sin_port = p;
	*len = sizeof(*v4);
	return inet_pton(AF_INET, host, &v4->sin_addr) == 1 ? 0 : -1;
}

/* A socket bound to port on every address, IPv6 and IPv4 where IPv6 is. */
static int bound_socket(const char *port, int type)
{
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in v4 = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	int s, one = 1, zero = 0;

	v6.sin6_port = v4.sin_port = htons((uint16_t)atoi(port));
	s = socket(AF_INET6, type, 0);
	if (s >= 0) {
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(s, (void *)&v6, sizeof(v6)))
			return s;
		close(s);
	}
	s = socket(AF_INET, type, 0);
	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (void *)&v4, sizeof(v4))) {
		close(s);
		return -1;
	}
	return s;
}

static int tcp_recv(const char *port, int timeout_s)
{
	static uint8_t buf[1 << 16];
	struct pollfd pfd;
	uint64_t pos = 0;
	double t0 = 0, t1 = 0, deadline;
	int ls, s;
	ssize_t n;
	size_t i;

	ls = bound_socket(port, SOCK_STREAM);
	if (ls < 0 || listen(ls, 1)) {
		perror("listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	deadline = now_s() + timeout_s;
	pfd.fd = ls;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_s * 1000) != 1) {
		printf("recv 0 TIMEOUT\n");
		return 1;
	}
	s = accept(ls, NULL, NULL);
	if (s < 0) {
		perror("accept");
		return 1;
	}
	pfd.fd = s;
	for (;;) {
		int left = (int)((deadline - now_s()) * 1000);

		if (left <= 0 || poll(&pfd, 1, left) != 1) {
			printf("recv %llu TIMEOUT\n", (unsigned long long)pos);
			return 1;
		}
		n = read(s, buf, sizeof(buf));
		if (n < 0) {
			printf("recv %llu ERROR %s\n", (unsigned long long)pos,
			       strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		if (pos == 0)
			t0 = now_s();
		t1 = now_s();
		if (memcmp(buf, pattern_at(pos), (size_t)n)) {
			for (i = 0; buf[i] == pattern_at(pos)[i]; i++)
				;
			printf("recv %llu CORRUPT at %llu\n",
			       (unsigned long long)pos,
			       (unsigned long long)(pos + i));
			return 1;
		}
		pos += (uint64_t)n;
	}
	printf("recv %llu ok %.3f Gbit/s\n", (unsigned long long)pos,
	       t1 > t0 ? (double)pos * 8 / (t1 - t0) / 1e9 : 0.0);
	return 0;
}

static int tcp_send(const char *host, const char *port, uint64_t bytes)
{
	static uint8_t buf[256];
	struct sockaddr_storage sa;
	socklen_t salen;
	struct timeval tmo = { 30, 0 };
	uint64_t pos = 0;
	int s, tries;

	if (parse_peer(host, port, &sa, &salen)) {
		fprintf(stderr, "bad address %s\n", host);
		return 1;
	}
	/* The receiver may still be starting: retry for a few seconds. */
	for (tries = 0;; tries++) {
		s = socket(sa.ss_family, SOCK_STREAM, 0);
		if (!connect(s, (void *)&sa, salen))
			break;
		close(s);
		if (tries == 50) {
			perror("connect");
			return 1;
		}
		usleep(100000);
	}
	/* Bounded: a peer that went away must not keep us for ever. */
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	while (pos < bytes) {
		size_t len = CHUNK;
		ssize_t n;

		if (bytes - pos < len)
			len = (size_t)(bytes - pos);
		n = write(s, pattern_at(pos), len);
		if (n <= 0) {
			perror("write");
			return 1;
		}
		pos += (uint64_t)n;
		if ((size_t)n < len) {
			/* Partial write: the rest again, same positions. */
			continue;
		}
	}
	shutdown(s, SHUT_WR);
	/* Wait for the receiver's close so every byte was taken. */
	while (read(s, buf, sizeof(buf)) > 0)
		;
	close(s);
	return 0;
}

static int udp_recv(const char *port, int seconds)
{
	static uint8_t buf[65536];
	struct timeval tv = { 0, 100000 };
	unsigned long long pkts = 0;
	double end, first = 0, last = 0;
	int s;

	s = bound_socket(port, SOCK_DGRAM);
	if (s < 0) {
		perror("bind");
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	printf("listening\n");
	fflush(stdout);
	end = now_s() + seconds;
	while (now_s() < end) {
		if (recv(s, buf, sizeof(buf), 0) > 0) {
			if (!pkts)
				first = now_s();
			last = now_s();
			pkts++;
		}
	}
	printf("udp %llu packets %.0f pps\n", pkts,
	       last > first ? (double)(pkts - 1) / (last - first) : 0.0);
	return 0;
}

static int udp_send(const char *host, const char *port, int seconds,
		    size_t size)
{
	static uint8_t buf[65536];
	struct sockaddr_storage sa;
	socklen_t salen;
	unsigned long long sent = 0;
	double end;
	int s;

	if (parse_peer(host, port, &sa, &salen) || size > sizeof(buf))
		return 1;
	s = socket(sa.ss_family, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, (void *)&sa, salen)) {
		perror("connect");
		return 1;
	}
	end = now_s() + seconds;
	while (now_s() < end) {
		unsigned int i;

		for (i = 0; i < 64; i++)
			if (send(s, buf, size, 0) > 0)
				sent++;
	}
	printf("udp sent %llu\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	init_table();
	if (argc == 4 && !strcmp(argv[1], "tcp-recv"))
		return tcp_recv(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "tcp-send"))
		return tcp_send(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "udp-recv"))
		return udp_recv(argv[2], atoi(argv[3]));
	if (argc == 6 && !strcmp(argv[1], "udp-send"))
		return udp_send(argv[2], argv[3], atoi(argv[4]),
				(size_t)atoi(argv[5]));
	fprintf(stderr, "usage: see tests/net/nettool.c\n");
	return 2;
}
