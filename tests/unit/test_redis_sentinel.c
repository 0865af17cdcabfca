/*
 * test_redis_sentinel.c - unit tests of the Sentinel discovery of
 * lib/redis.c and lib/redis_sentinel.c: the REDIS_SENTINELS parser, the
 * reply parsers, and the connection path against fakes - a tiny Sentinel
 * and tiny Redis servers speaking RESP on loopback sockets, each a forked
 * child that reads what to answer (the master's address; its role) from a
 * file at every command, so the test can fail a master over under a live
 * client.
 */
#include "redis.h"
#include "redis_sentinel.h"
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PW "sentinel-s3cret"

/* ---- parsers ---- */

static void test_list(void)
{
	struct redis r;
	char err[256] = "";

	CHECK(redis_init(&r, "redis://:pw@ignored.example:6379/1", err, sizeof(err)) == 0);
	CHECK(redis_sentinel_init(&r, " 127.0.0.1:26379, [::1]:26380 ,s3.example:1", "mymaster",
		  PW, err, sizeof(err)) == 0);
	CHECK(r.nsentinels == 3);
	CHECK_STR(r.sentinels[0].host, "127.0.0.1");
	CHECK(r.sentinels[0].port == 26379);
	CHECK_STR(r.sentinels[1].host, "::1");
	CHECK(r.sentinels[1].port == 26380);
	CHECK_STR(r.sentinels[2].host, "s3.example");
	CHECK(r.sentinels[2].port == 1);
	CHECK_STR(r.master_name, "mymaster");
	CHECK_STR(r.sentinel_password, PW);
	CHECK_MSG(r.host == NULL, "with Sentinels REDIS_URL's host is not used");
	CHECK_STR(r.password, "pw");
	CHECK(r.db == 1);
	redis_close(&r);
	CHECK(r.nsentinels == 0 && r.master_name == NULL && r.sentinel_password == NULL);

	CHECK(redis_init(&r, "redis://127.0.0.1:6380", err, sizeof(err)) == 0);
	CHECK_MSG(redis_sentinel_init(&r, "", "mymaster", NULL, err, sizeof(err)) == 0 &&
		  r.nsentinels == 0 && r.host != NULL && r.port == 6380,
	    "an empty REDIS_SENTINELS leaves REDIS_URL in charge");
	CHECK(redis_sentinel_init(&r, "  ", "mymaster", NULL, err, sizeof(err)) == 0 && r.nsentinels == 0);
	redis_close(&r);
}

static void test_bad_lists(void)
{
	static const char *const bad[] = { "host", "host:0", "host:65536", ":26379", "a:b:1",
		"[::1]", "[::1]26379", "[]:1", "h:1,,h:2", "h:1,", "h :1", "h:1x", "h:-1",
		"u@h:1", "h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8,h:9", NULL };
	char err[256], msg[128];
	struct redis r;

	for (int i = 0; bad[i] != NULL; i++) {
		err[0] = '\0';
		redis_init(&r, "redis://127.0.0.1", err, sizeof(err));
		snprintf(msg, sizeof(msg), "REDIS_SENTINELS \"%s\" is refused", bad[i]);
		CHECK_MSG(redis_sentinel_init(&r, bad[i], "m", PW, err, sizeof(err)) == -1 &&
			  strstr(err, "REDIS_SENTINELS") != NULL && strstr(err, PW) == NULL,
		    msg);
		CHECK_MSG(r.host == NULL && r.nsentinels == 0, "a refused list leaves nothing to free");
		redis_close(&r);
	}
	redis_init(&r, "redis://127.0.0.1", err, sizeof(err));
	CHECK(redis_sentinel_init(&r, "h:1", "", NULL, err, sizeof(err)) == -1 &&
	      strstr(err, "REDIS_MASTER_NAME") != NULL);
	redis_close(&r);
	redis_init(&r, "redis://127.0.0.1", err, sizeof(err));
	CHECK(redis_sentinel_init(&r, "h:1", "my master", NULL, err, sizeof(err)) == -1);
	redis_close(&r);
}

static redisReply str_reply(const char *s)
{
	redisReply r = { .type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s) };

	return r;
}

static void test_reply_parsers(void)
{
	redisReply a = str_reply("10.217.0.1"), p = str_reply("23379"), bad = str_reply("0");
	redisReply big = str_reply("70000"), role = str_reply("master"), slave = str_reply("slave");
	redisReply *two[2] = { &a, &p }, *badport[2] = { &a, &bad }, *bigport[2] = { &a, &big };
	redisReply arr = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = two };
	redisReply arr_bad = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = badport };
	redisReply arr_big = { .type = REDIS_REPLY_ARRAY, .elements = 2, .element = bigport };
	redisReply one = { .type = REDIS_REPLY_ARRAY, .elements = 1, .element = two };
	redisReply nil = { .type = REDIS_REPLY_NIL };
	redisReply *rm[1] = { &role }, *rs[1] = { &slave };
	redisReply role_m = { .type = REDIS_REPLY_ARRAY, .elements = 1, .element = rm };
	redisReply role_s = { .type = REDIS_REPLY_ARRAY, .elements = 1, .element = rs };
	char host[64], tiny[4];
	int port = 0;

	CHECK(redis_sentinel_parse_master(&arr, host, sizeof(host), &port) == 0);
	CHECK_STR(host, "10.217.0.1");
	CHECK(port == 23379);
	CHECK(redis_sentinel_parse_master(&nil, host, sizeof(host), &port) == -1);
	CHECK(redis_sentinel_parse_master(NULL, host, sizeof(host), &port) == -1);
	CHECK(redis_sentinel_parse_master(&one, host, sizeof(host), &port) == -1);
	CHECK(redis_sentinel_parse_master(&arr_bad, host, sizeof(host), &port) == -1);
	CHECK(redis_sentinel_parse_master(&arr_big, host, sizeof(host), &port) == -1);
	CHECK_MSG(redis_sentinel_parse_master(&arr, tiny, sizeof(tiny), &port) == -1,
	    "an address longer than the buffer is refused, not cut");
	CHECK(redis_role_is_master(&role_m) == 1);
	CHECK(redis_role_is_master(&role_s) == 0);
	CHECK(redis_role_is_master(&nil) == 0);
	CHECK(redis_role_is_master(NULL) == 0);
}

/* ---- fakes ---- */

enum fake_kind { FAKE_SENTINEL, FAKE_REDIS };

struct fake {
	pid_t pid;
	int port;
	char file[64]; /* sentinel: "<host> <port>"; redis: "master" or "slave" */
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

static void read_file(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (f != NULL) {
		if (fgets(out, (int)outlen, f) == NULL)
			out[0] = '\0';
		fclose(f);
	}
}

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Reads one RESP array of bulk strings; argc, or -1 at EOF / on junk. */
static int read_command(FILE *in, char argv[4][128])
{
	char line[160];
	int argc;

	if (fgets(line, sizeof(line), in) == NULL || line[0] != '*' || (argc = atoi(line + 1)) < 1 ||
	    argc > 8)
		return -1;
	for (int i = 0; i < argc; i++) {
		int len;
		char buf[160];

		if (fgets(line, sizeof(line), in) == NULL || line[0] != '$' ||
		    (len = atoi(line + 1)) < 0 || len > 150 || fread(buf, 1, (size_t)len + 2, in) != (size_t)len + 2)
			return -1;
		if (i < 4) {
			memcpy(argv[i], buf, (size_t)(len < 127 ? len : 127));
			argv[i][len < 127 ? len : 127] = '\0';
		}
	}
	return argc;
}

static void answer(enum fake_kind kind, const char *file, int fd, int argc, char argv[4][128])
{
	char state[128], out[512], host[100];
	int port;

	read_file(file, state, sizeof(state));
	if (strcasecmp(argv[0], "AUTH") == 0) {
		put(fd, kind == FAKE_REDIS || (argc == 2 && strcmp(argv[1], PW) == 0)
			? "+OK\r\n"
			: "-WRONGPASS invalid username-password pair\r\n");
	} else if (kind == FAKE_SENTINEL && strcasecmp(argv[0], "SENTINEL") == 0) {
		if (argc == 3 && strcmp(argv[2], "mymaster") == 0 &&
		    sscanf(state, "%99s %d", host, &port) == 2) {
			char ptext[16];

			snprintf(ptext, sizeof(ptext), "%d", port);
			snprintf(out, sizeof(out), "*2\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(host), host,
			    strlen(ptext), ptext);
			put(fd, out);
		} else {
			put(fd, "*-1\r\n");
		}
	} else if (kind == FAKE_REDIS && strcasecmp(argv[0], "ROLE") == 0) {
		put(fd, strncmp(state, "master", 6) == 0
			? "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
			: "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:1\r\n$9\r\nconnected\r\n:0\r\n");
	} else if (kind == FAKE_REDIS && strcasecmp(argv[0], "PING") == 0) {
		put(fd, "+PONG\r\n");
	} else if (kind == FAKE_REDIS && strcasecmp(argv[0], "SET") == 0) {
		put(fd, strncmp(state, "master", 6) == 0
			? "+OK\r\n"
			: "-READONLY You can't write against a read only replica.\r\n");
	} else if (kind == FAKE_REDIS && strcasecmp(argv[0], "GET") == 0) {
		put(fd, "$1\r\n1\r\n");
	} else {
		put(fd, "-ERR unknown command\r\n");
	}
}

/* The child: serves connections one at a time until killed. */
static void serve(enum fake_kind kind, int lfd, const char *file)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		FILE *in;
		char argv[4][128];
		int argc;

		if (fd < 0)
			continue;
		if ((in = fdopen(dup(fd), "r")) == NULL) {
			close(fd);
			continue;
		}
		while ((argc = read_command(in, argv)) > 0)
			answer(kind, file, fd, argc, argv);
		fclose(in);
		close(fd);
	}
}

/* A listening loopback socket on a free port; the fd, or -1. */
static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int fake_start(struct fake *f, enum fake_kind kind, const char *state, int n)
{
	int lfd = listen_any(&f->port);

	snprintf(f->file, sizeof(f->file), "/tmp/pc-fake-%d-%d", (int)getpid(), n);
	write_file(f->file, state);
	if (lfd < 0)
		return -1;
	f->pid = fork();
	if (f->pid == 0) {
		serve(kind, lfd, f->file);
		_exit(0);
	}
	close(lfd);
	return f->pid > 0 ? 0 : -1;
}

static void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	unlink(f->file);
	f->pid = 0;
}

/* A port nothing listens on (bound, then closed). */
static int dead_port(void)
{
	int port = 0, fd = listen_any(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

static int connects; /* calls of count_connect() */

static int count_connect(struct redis *r, void *arg)
{
	(void)r;
	(void)arg;
	connects++;
	return 0;
}

static void test_live(void)
{
	struct fake sent, a, b;
	struct redis r;
	char err[256], list[128], state[64];
	struct redis_pipe pipe = { 0 };
	const char *set[] = { "SET", "k", "v" }, *ping[] = { "PING" }, *get[] = { "GET", "k" };
	redisReply *rep;

	if (fake_start(&a, FAKE_REDIS, "master", 1) != 0 || fake_start(&b, FAKE_REDIS, "master", 2) != 0) {
		CHECK_MSG(0, "the fake Redis servers start");
		return;
	}
	snprintf(state, sizeof(state), "127.0.0.1 %d", a.port);
	if (fake_start(&sent, FAKE_SENTINEL, state, 3) != 0) {
		CHECK_MSG(0, "the fake Sentinel starts");
		return;
	}
	/* The first Sentinel is down: the next one is asked. */
	snprintf(list, sizeof(list), "127.0.0.1:%d,127.0.0.1:%d", dead_port(), sent.port);
	CHECK(redis_init(&r, "redis://:data-pw@127.0.0.1:1/0", err, sizeof(err)) == 0);
	CHECK(redis_sentinel_init(&r, list, "mymaster", PW, err, sizeof(err)) == 0);

	CHECK_MSG(redis_conn(&r) != NULL, "connects to the master a Sentinel names");
	CHECK_MSG(r.host != NULL && strcmp(r.host, "127.0.0.1") == 0 && r.port == a.port,
	    "the master's address is the Sentinel's answer");
	CHECK_MSG(r.outage_seen == 0, "a first connection is not a master change");
	CHECK(redis_ping(&r) == 1);

	/* One more on_connect, once, when the resync time of the connection has come. */
	r.on_connect = count_connect;
	r.synced = 1;
	connects = 0;
	CHECK_MSG(r.resync_at.tv_sec != 0, "a Sentinel connection sets its resync time");
	CHECK_MSG(redis_synced(&r) != NULL && connects == 0, "before the resync time, no resync");
	clock_gettime(CLOCK_MONOTONIC, &r.resync_at);
	r.outage_seen = 0;
	CHECK_MSG(redis_synced(&r) != NULL && connects == 1, "at the resync time on_connect runs again");
	CHECK_MSG(r.outage_seen == 1, "and the resync counts as an outage (the epoch moves)");
	CHECK_MSG(redis_synced(&r) != NULL && connects == 1, "only once per connection");
	CHECK(r.resync_at.tv_sec == 0 && r.resync_at.tv_nsec == 0);
	r.on_connect = NULL;
	r.outage_seen = 0;

	/* The master is demoted under the connection: -READONLY drops it. */
	write_file(a.file, "slave");
	rep = redis_command_argv(&r, 3, set, NULL);
	CHECK_MSG(rep == NULL, "-READONLY is returned as a broken connection");
	freeReplyObject(rep);
	CHECK_MSG(r.ctx == NULL && r.backoff.down == 1, "-READONLY drops the connection");

	/* The Sentinel still names the demoted server: ROLE refuses it. */
	redis_retry_now(&r);
	r.outage_seen = 0;
	CHECK_MSG(redis_conn(&r) == NULL && r.ctx == NULL, "a server whose ROLE is slave is not used");

	/* Failover: the Sentinel names b. */
	snprintf(state, sizeof(state), "127.0.0.1 %d", b.port);
	write_file(sent.file, state);
	CHECK_MSG(redis_conn(&r) == NULL, "right after a failure the client waits REDIS_RETRY_MS");
	redis_retry_now(&r);
	r.outage_seen = 0;
	CHECK_MSG(redis_conn(&r) != NULL && r.port == b.port, "after a failover the new master is found");
	CHECK_MSG(r.outage_seen == 1, "a master change counts as an outage (epoch bump, replay)");
	rep = redis_command_argv(&r, 3, set, NULL);
	CHECK_MSG(rep != NULL && rep->type == REDIS_REPLY_STATUS, "writes go to the new master");
	freeReplyObject(rep);

	/* A switchover leaves the old master up: the periodic check moves on. */
	write_file(a.file, "master");
	snprintf(state, sizeof(state), "127.0.0.1 %d", a.port);
	write_file(sent.file, state);
	r.outage_seen = 0;
	CHECK_MSG(redis_ping(&r) == 1 && r.port == b.port,
	    "between checks a live connection stays where it is");
	clock_gettime(CLOCK_MONOTONIC, &r.check_at);
	CHECK_MSG(redis_ping(&r) == 1 && r.port == a.port,
	    "the periodic check follows the Sentinels to the new master");
	CHECK_MSG(r.outage_seen == 1, "and counts it as a master change");

	/* A pipeline whose connection was replaced midway fails at once. */
	{
		struct redis_pipe p2 = { 0 };
		struct timespec t0, t1;

		CHECK(redis_pipe_append(&r, &p2, 2, get, NULL) == 0);
		snprintf(state, sizeof(state), "127.0.0.1 %d", b.port);
		write_file(sent.file, state);
		clock_gettime(CLOCK_MONOTONIC, &r.check_at);
		CHECK(redis_ping(&r) == 1 && r.port == b.port);
		CHECK_MSG(redis_pipe_append(&r, &p2, 1, ping, NULL) == -1,
		    "no command joins a pipeline on another connection");
		clock_gettime(CLOCK_MONOTONIC, &t0);
		CHECK_MSG(redis_pipe_flush(&r, &p2) == -1 && redis_pipe_reply(&p2, 0) == NULL,
		    "a pipeline whose connection was replaced fails");
		clock_gettime(CLOCK_MONOTONIC, &t1);
		CHECK_MSG((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 500,
		    "without waiting for replies that will never come");
		CHECK_MSG(r.ctx != NULL && r.backoff.down == 0, "and leaves the new connection alone");
		redis_pipe_free(&p2);
	}

	/* A pipeline with one -READONLY reply: none of its replies is trusted. */
	write_file(b.file, "slave");
	CHECK(redis_pipe_append(&r, &pipe, 2, get, NULL) == 0);
	CHECK(redis_pipe_append(&r, &pipe, 3, set, NULL) == 1);
	CHECK(redis_pipe_append(&r, &pipe, 1, ping, NULL) == 2);
	CHECK_MSG(redis_pipe_flush(&r, &pipe) == -1, "a pipeline with a -READONLY reply fails");
	CHECK_MSG(redis_pipe_reply(&pipe, 0) == NULL && redis_pipe_reply(&pipe, 2) == NULL,
	    "its read replies are not served (the demoted server may lag)");
	CHECK(r.ctx == NULL);
	redis_pipe_free(&pipe);

	/* No Sentinel answers: down, and the caller falls back. */
	fake_stop(&sent);
	write_file(b.file, "master");
	redis_retry_now(&r);
	CHECK_MSG(redis_conn(&r) == NULL && r.backoff.down == 1, "no Sentinel answering means Redis is down");
	redis_close(&r);

	/* A wrong Sentinel password: no answer is taken from it. */
	snprintf(state, sizeof(state), "127.0.0.1 %d", b.port);
	if (fake_start(&sent, FAKE_SENTINEL, state, 4) == 0) {
		snprintf(list, sizeof(list), "127.0.0.1:%d", sent.port);
		CHECK(redis_init(&r, "redis://127.0.0.1:1", err, sizeof(err)) == 0);
		CHECK(redis_sentinel_init(&r, list, "mymaster", "wrong", err, sizeof(err)) == 0);
		CHECK_MSG(redis_conn(&r) == NULL, "a Sentinel that refuses our password gives no master");
		redis_close(&r);
		CHECK(redis_init(&r, "redis://127.0.0.1:1", err, sizeof(err)) == 0);
		CHECK(redis_sentinel_init(&r, list, "othername", PW, err, sizeof(err)) == 0);
		CHECK_MSG(redis_conn(&r) == NULL, "an unknown master name gives no master");
		redis_close(&r);
	}
	fake_stop(&sent);
	fake_stop(&a);
	fake_stop(&b);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_list();
	test_bad_lists();
	test_reply_parsers();
	test_live();
	return check_summary();
}
