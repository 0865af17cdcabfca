/*
 * metrics.c - the shared counter file and its exposition; see metrics.h.
 *
 * Layout of the file (struct metrics_map): a header, then plain arrays of
 * _Atomic uint64_t indexed by the compile-time label tables below.  A
 * histogram keeps one non-cumulative count per bucket plus the sum in
 * nanoseconds, so an observation is two fetch-adds; the exposition adds the
 * buckets up (cumulative `le`), and `_count` is the +Inf bucket, so the two
 * always agree.  Process slots hold one 64-bit word each (pid, the low bits
 * of the process' start time, the responder), claimed and freed with
 * compare-and-swap; a scrape counts a slot as alive only when
 * /proc/<pid>/stat still shows that start time, so a crashed process or a
 * reused pid is never counted.
 */
#include "metrics.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2,
    "64-bit atomics must be lock-free to live in shared memory");

#define MAGIC "PCMETRIC"
#define LAYOUT_VERSION 2u
#define SLOTS 256
#define HIST_BOUNDS 13

/*
 * The fixed label sets.  The last entry of each is the fold for the rest.
 * Routes and responders are the route manifest's (routes.def), an entry a
 * row: a label that several rows share counts at its first entry
 * (index_of) and is listed once (first_of).
 */
static const char *const routes[] = {
#define ROUTE(responder, method, template, policy, auth, handler, hook) template,
#include "routes.def"
	"other",
};
static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "other",
};
static const int statuses[] = {
	200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 429, 500, 503,
	0, /* other */
};
static const char *const responders[] = {
#define ROUTE(responder, method, template, policy, auth, handler, hook) #responder,
#include "routes.def"
	"other",
};
static const char *const layers[] = { "memory", "redis" };
static const char *const results[] = { "hit", "miss" };
static const char *const policies[] = { "auth", "api" };
static const char *const login_results[] = { "success", "failure", "locked" };
static const char *const backends[] = { "postgres", "redis" };

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NROUTES N(routes)
#define NMETHODS N(methods)
#define NSTATUSES N(statuses)
#define NRESPONDERS N(responders)
_Static_assert(NRESPONDERS < 256, "a process slot keeps its responder in 8 bits");

/*
 * Buckets of the request histogram: from a memory-cache hit (well under a
 * millisecond) to a bcrypt-bound login (a quarter second at cost 12) and a
 * backend timeout.  The `le` text is kept as written, never printed from a
 * double.
 */
static const uint64_t request_bounds[HIST_BOUNDS] = {
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000u, 5000000000u,
};
static const char *const request_le[HIST_BOUNDS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5",
};
/* bcrypt: about 1 ms at cost 4, 250 ms at 12, doubling with each step. */
static const uint64_t hash_bounds[HIST_BOUNDS] = {
	1000000, 2500000, 5000000, 10000000, 25000000, 50000000, 100000000,
	250000000, 500000000, 1000000000, 2500000000u, 5000000000u, 10000000000u,
};
static const char *const hash_le[HIST_BOUNDS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "10",
};

struct hist {
	_Atomic uint64_t bucket[HIST_BOUNDS + 1]; /* non-cumulative; the last is +Inf */
	_Atomic uint64_t sum_ns;
};

struct header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	uint64_t layout;       /* hash of the label sets and buckets */
	uint64_t created_unix; /* when these counters started */
};

struct metrics_map {
	struct header h;
	_Atomic uint64_t requests[NROUTES][NMETHODS][NSTATUSES];
	struct hist duration[NROUTES];
	_Atomic uint64_t cache[N(layers)][N(results)];
	_Atomic uint64_t rate_limited[N(policies)];
	_Atomic uint64_t logins[N(login_results)];
	_Atomic uint64_t backend_errors[N(backends)];
	struct hist password_hash;
	_Atomic uint64_t starts[NRESPONDERS];
	/* pid (bits 0-31) | start time, low 24 bits (32-55) | responder (56-63); 0: free */
	_Atomic uint64_t slots[SLOTS];
	/* CPU time (µs) of the processes that stopped cleanly, by responder */
	_Atomic uint64_t exited_cpu_us[NRESPONDERS];
};

#ifndef PORTCULLIS_VERSION
#define PORTCULLIS_VERSION "unknown"
#endif
#ifndef PORTCULLIS_COMMIT
#define PORTCULLIS_COMMIT "unknown"
#endif

/* Where this process counts, and what a scrape from it reads. */
static struct metrics_map local;
static struct metrics_map *cnt = &local;
static const struct metrics_map *view = &local;
static struct metrics_map *mapped; /* the shared mapping, or NULL */
static int mapped_writable;
static uint64_t my_slot_word;
static _Atomic uint64_t *my_slot;

#define add(counter) atomic_fetch_add_explicit(&(counter), 1, memory_order_relaxed)
#define load(counter) atomic_load_explicit(&(counter), memory_order_relaxed)

/* ---- labels and buckets ---- */

static size_t index_of(const char *const *set, size_t n, const char *s)
{
	if (s != NULL)
		for (size_t i = 0; i + 1 < n; i++)
			if (strcmp(set[i], s) == 0)
				return i;
	return n - 1;
}

/* 1 when set[i] is the first entry with its label (the one that counts). */
static int first_of(const char *const *set, size_t n, size_t i)
{
	return index_of(set, n, set[i]) == i;
}

static size_t status_index(int status)
{
	for (size_t i = 0; i + 1 < NSTATUSES; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUSES - 1;
}

size_t metrics_bucket_index(const uint64_t *bounds_ns, size_t n, uint64_t value_ns)
{
	size_t lo = 0, hi = n;

	/* The first bound >= value: a binary search over the sorted bounds. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (value_ns <= bounds_ns[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static uint64_t to_ns(double seconds)
{
	if (!(seconds > 0))
		return 0;
	if (seconds >= 1e9)
		return (uint64_t)1e18;
	return (uint64_t)(seconds * 1e9 + 0.5);
}

static void observe(struct hist *h, const uint64_t *bounds, double seconds)
{
	uint64_t ns = to_ns(seconds);

	add(h->bucket[metrics_bucket_index(bounds, HIST_BOUNDS, ns)]);
	atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

int metrics_escape_label(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		const char *rep = *in == '\\' ? "\\\\" : *in == '"' ? "\\\"" : *in == '\n' ? "\\n" : NULL;
		size_t k = rep != NULL ? 2 : 1;

		if (n + k >= outlen)
			return -1;
		if (rep != NULL)
			memcpy(out + n, rep, 2);
		else
			out[n] = *in;
		n += k;
	}
	if (outlen == 0)
		return -1;
	out[n] = '\0';
	return (int)n;
}

/* ---- counting: no system call, no lock ---- */

void metrics_request(const char *route, const char *method, int status, double seconds)
{
	size_t r = index_of(routes, NROUTES, route);

	add(cnt->requests[r][index_of(methods, NMETHODS, method)][status_index(status)]);
	observe(&cnt->duration[r], request_bounds, seconds);
}

void metrics_cache_lookup(enum metrics_layer layer, int hit)
{
	if ((size_t)layer < N(layers))
		add(cnt->cache[layer][hit ? 0 : 1]);
}

void metrics_rate_limited(enum rl_policy policy)
{
	if (policy == POLICY_AUTH)
		add(cnt->rate_limited[0]);
	else if (policy == POLICY_API)
		add(cnt->rate_limited[1]);
}

void metrics_login(const char *result)
{
	for (size_t i = 0; result != NULL && i < N(login_results); i++)
		if (strcmp(login_results[i], result) == 0)
			add(cnt->logins[i]);
}

void metrics_backend_error(enum metrics_backend backend)
{
	if ((size_t)backend < N(backends))
		add(cnt->backend_errors[backend]);
}

void metrics_password_hash(double seconds)
{
	observe(&cnt->password_hash, hash_bounds, seconds);
}

double metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no system call */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the file ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_strings(uint64_t h, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = fnv(h, set[i], strlen(set[i]) + 1);
	return h;
}

/* What the header of a file of this build's layout must say. */
static uint64_t layout_hash(void)
{
	uint64_t h = 0xcbf29ce484222325ULL, size = sizeof(struct metrics_map);
	uint32_t v = LAYOUT_VERSION;

	h = fnv(h, &v, sizeof(v));
	h = fnv(h, &size, sizeof(size));
	h = fnv_strings(h, routes, NROUTES);
	h = fnv_strings(h, methods, NMETHODS);
	h = fnv(h, statuses, sizeof(statuses));
	h = fnv_strings(h, responders, NRESPONDERS);
	h = fnv_strings(h, layers, N(layers));
	h = fnv_strings(h, policies, N(policies));
	h = fnv_strings(h, login_results, N(login_results));
	h = fnv_strings(h, backends, N(backends));
	h = fnv(h, request_bounds, sizeof(request_bounds));
	h = fnv(h, hash_bounds, sizeof(hash_bounds));
	return h;
}

static void header_fill(struct header *h)
{
	memcpy(h->magic, MAGIC, sizeof(h->magic));
	h->version = LAYOUT_VERSION;
	h->header_size = (uint32_t)sizeof(*h);
	h->file_size = sizeof(struct metrics_map);
	h->layout = layout_hash();
	h->created_unix = (uint64_t)time(NULL);
}

static int header_ok(const struct header *h)
{
	return memcmp(h->magic, MAGIC, sizeof(h->magic)) == 0 && h->version == LAYOUT_VERSION &&
	    h->header_size == sizeof(*h) && h->file_size == sizeof(struct metrics_map) &&
	    h->layout == layout_hash();
}

/* What a scrape reads of one process in /proc/<pid>/stat. */
struct proc_info {
	uint64_t cpu_ticks;  /* utime + stime (fields 14, 15) */
	uint64_t start;      /* start time, clock ticks since boot (22); 0: unknown */
	uint64_t rss_pages;  /* resident set (24) */
};

/* Reads /proc/<pid>/stat into `pi`; 0, or -1 when there is no such process. */
static int proc_read(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[1024], *p;
	unsigned long long v[25] = { 0 };
	ssize_t n;
	int fd;

	memset(pi, 0, sizeof(*pi));
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name in parentheses may hold spaces: fields count from the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* Field 3 (the state) follows ") "; numeric fields from 4 on. */
	for (int field = 3; field <= 24; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -1;
		if (field >= 4 && sscanf(p + 1, "%llu", &v[field]) != 1)
			return -1;
	}
	pi->cpu_ticks = v[14] + v[15];
	pi->start = v[22];
	pi->rss_pages = v[24];
	return 0;
}

/* Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or 0. */
static uint64_t proc_starttime(pid_t pid)
{
	struct proc_info pi;

	return proc_read(pid, &pi) == 0 ? pi.start : 0;
}

/* Entries of /proc/<pid>/fd, or -1 when they cannot be listed. */
static long proc_open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Boot time (Unix seconds) from the btime line of /proc/stat, or 0. */
static uint64_t boot_time(void)
{
	char line[256];
	unsigned long long t = 0;
	FILE *f = fopen("/proc/stat", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %llu", &t) == 1)
			break;
	fclose(f);
	return t;
}

static uint64_t slot_word(pid_t pid, uint64_t start, size_t responder)
{
	return (uint64_t)(uint32_t)pid | (start & 0xffffffULL) << 32 | (uint64_t)responder << 56;
}

/* Whether the process a slot names is still the one that took it. */
static int slot_alive(uint64_t w)
{
	pid_t pid = (pid_t)(uint32_t)w;
	uint64_t start = (w >> 32) & 0xffffffULL;
	uint64_t now;

	if (pid <= 0)
		return 0;
	now = proc_starttime(pid);
	if (now == 0) /* no /proc: the pid alone */
		return access("/proc/self/stat", F_OK) != 0 && (kill(pid, 0) == 0 || errno == EPERM);
	return (now & 0xffffffULL) == start;
}

static void slot_take(struct metrics_map *m, size_t responder)
{
	pid_t pid = getpid();
	uint64_t word = slot_word(pid, proc_starttime(pid), responder);

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < SLOTS; i++) {
			uint64_t seen = load(m->slots[i]);

			/* First pass: free slots only; second: those of dead processes. */
			if (seen != 0 && (pass == 0 || slot_alive(seen)))
				continue;
			if (atomic_compare_exchange_strong(&m->slots[i], &seen, word)) {
				my_slot = &m->slots[i];
				my_slot_word = word;
				return;
			}
		}
	}
	/* Every slot held by a live process: this one goes uncounted in the gauge. */
}

/* Creates a fresh file under a temporary name and links it in as `path`. */
static int create_file(const char *path)
{
	char tmp[4096];
	struct metrics_map *m;
	int fd, rc = -1, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	unlink(tmp); /* only a dead process of the same pid can have left one */
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0640) != 0 || ftruncate(fd, (off_t)sizeof(*m)) != 0)
		goto out;
	m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		goto out;
	header_fill(&m->h);
	munmap(m, sizeof(*m));
	/* link(2) publishes the file whole, and fails when another process won. */
	rc = link(tmp, path);
out:
	err = errno;
	close(fd);
	unlink(tmp);
	errno = err;
	return rc;
}

static void warn_file(const char *what, const char *path, int err)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "metrics_file", path);
	if (err != 0)
		cJSON_AddStringToObject(f, "error", strerror(err));
	log_event(LOG_WARN, what, f);
}

/*
 * Maps `path`: 0 and `mapped` set, or -1 with errno (EPROTO: a file of
 * another layout that this process may not replace).
 */
static int map_file(const char *path)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		struct metrics_map *m;
		struct stat st;
		int fd, writable = 1, bad;

		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == EACCES) {
			writable = 0;
			fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0 && errno == ENOENT) {
			if (create_file(path) != 0 && errno != EEXIST)
				return -1;
			continue; /* ours or another's: open it */
		}
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (st.st_uid != geteuid() && st.st_uid != 0 && geteuid() != 0) ||
		    (st.st_mode & S_IWOTH) != 0) {
			close(fd);
			errno = EPERM;
			return -1;
		}
		bad = st.st_size != (off_t)sizeof(*m);
		m = bad ? MAP_FAILED
			: mmap(NULL, sizeof(*m), PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
		close(fd);
		if (!bad && m == MAP_FAILED)
			return -1;
		if (!bad && header_ok(&m->h)) {
			mapped = m;
			mapped_writable = writable;
			return 0;
		}
		if (m != MAP_FAILED)
			munmap(m, sizeof(*m));
		if (!writable) {
			errno = EPROTO;
			return -1;
		}
		/* Another layout: replace it, unless another process already did. */
		{
			struct stat again;

			if (lstat(path, &again) == 0 && again.st_ino == st.st_ino && again.st_dev == st.st_dev) {
				warn_file("metrics file of another layout replaced", path, 0);
				unlink(path);
			}
		}
	}
	errno = EAGAIN;
	return -1;
}

static void default_path(char *out, size_t len)
{
	struct stat st;
	const char *dir = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";

	snprintf(out, len, "%s/portcullis-metrics-%lu", dir, (unsigned long)geteuid());
}

int metrics_open(const char *path, const char *responder)
{
	char def[128];
	size_t r = index_of(responders, NRESPONDERS, responder);

	metrics_close();
	if (path == NULL || *path == '\0') {
		default_path(def, sizeof(def));
		path = def;
	}
	if (map_file(path) != 0) {
		warn_file("metrics file unavailable: this process counts alone", path, errno);
		memset(&local, 0, sizeof(local));
		header_fill(&local.h);
		cnt = &local;
		view = &local;
		add(cnt->starts[r]);
		slot_take(cnt, r);
		return -1;
	}
	view = mapped;
	cnt = mapped_writable ? mapped : &local;
	if (!mapped_writable)
		warn_file("metrics file is read-only here: this process counts alone", path, 0);
	add(cnt->starts[r]);
	slot_take(cnt, r);
	return mapped_writable ? 0 : -1;
}

void metrics_close(void)
{
	/* A forked child inherits the parent's slot but must not free it. */
	if (my_slot != NULL && (pid_t)(uint32_t)my_slot_word == getpid()) {
		uint64_t mine = my_slot_word;
		size_t r = (size_t)(my_slot_word >> 56);
		struct rusage ru;

		/* The slot goes first: a scrape in between misses this process' CPU
		 * for an instant rather than counting it twice. */
		if (atomic_compare_exchange_strong(my_slot, &mine, 0) && r < NRESPONDERS &&
		    getrusage(RUSAGE_SELF, &ru) == 0)
			atomic_fetch_add_explicit(&cnt->exited_cpu_us[r],
			    (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
				(uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec,
			    memory_order_relaxed);
	}
	my_slot = NULL;
	if (mapped != NULL)
		munmap(mapped, sizeof(*mapped));
	mapped = NULL;
	cnt = &local;
	view = &local;
}

/* ---- exposition ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Prints `"<escaped value>"`; the fixed label values always fit. */
static void label(FILE *f, const char *name, const char *value)
{
	char esc[256];

	if (metrics_escape_label(value, esc, sizeof(esc)) < 0)
		esc[0] = '\0';
	fprintf(f, "%s=\"%s\"", name, esc);
}

static void put_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

/* One histogram series, with one label `lname`=`lvalue` (or none: NULL) before `le`. */
static void hist_series(FILE *f, const char *name, const char *lname, const char *lvalue,
    const struct hist *h, const char *const *le)
{
	uint64_t cum = 0;

	for (size_t i = 0; i <= HIST_BOUNDS; i++) {
		cum += load(h->bucket[i]);
		fprintf(f, "%s_bucket{", name);
		if (lname != NULL) {
			label(f, lname, lvalue);
			fputc(',', f);
		}
		label(f, "le", i < HIST_BOUNDS ? le[i] : "+Inf");
		fprintf(f, "} %" PRIu64 "\n", cum);
	}
	fprintf(f, "%s_sum", name);
	if (lname != NULL) {
		fputc('{', f);
		label(f, lname, lvalue);
		fputc('}', f);
	}
	fputc(' ', f);
	put_seconds(f, load(h->sum_ns));
	fprintf(f, "\n%s_count", name);
	if (lname != NULL) {
		fputc('{', f);
		label(f, lname, lvalue);
		fputc('}', f);
	}
	fprintf(f, " %" PRIu64 "\n", cum);
}

/* A counter with one label over a fixed set. */
static void counter1(FILE *f, const char *name, const char *help, const char *lname,
    const char *const *values, const _Atomic uint64_t *counts, size_t n)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		if (!first_of(values, n, i))
			continue;
		fprintf(f, "%s{", name);
		label(f, lname, values[i]);
		fprintf(f, "} %" PRIu64 "\n", load(counts[i]));
	}
}

static void render(FILE *f, const struct metrics_map *m)
{
	uint64_t alive[NRESPONDERS] = { 0 }, cpu_us[NRESPONDERS] = { 0 }, rss[NRESPONDERS] = { 0 };
	uint64_t open_fds[NRESPONDERS] = { 0 }, start[NRESPONDERS] = { 0 }, btime = boot_time();
	long tck = sysconf(_SC_CLK_TCK), pg = sysconf(_SC_PAGESIZE);
	uint64_t ticks = tck > 0 ? (uint64_t)tck : 100, page = pg > 0 ? (uint64_t)pg : 4096;
	char status[16];

	family(f, "portcullis_http_requests_total", "counter",
	    "HTTP requests answered by the responders, by route template, method and status.");
	for (size_t r = 0; r < NROUTES; r++)
		for (size_t k = 0; k < NMETHODS && first_of(routes, NROUTES, r); k++)
			for (size_t s = 0; s < NSTATUSES; s++) {
				uint64_t v = load(m->requests[r][k][s]);

				if (v == 0)
					continue;
				if (statuses[s] != 0)
					snprintf(status, sizeof(status), "%d", statuses[s]);
				else
					snprintf(status, sizeof(status), "other");
				fputs("portcullis_http_requests_total{", f);
				label(f, "route", routes[r]);
				fputc(',', f);
				label(f, "method", methods[k]);
				fputc(',', f);
				label(f, "status", status);
				fprintf(f, "} %" PRIu64 "\n", v);
			}

	family(f, "portcullis_http_request_duration_seconds", "histogram",
	    "Time from reading a request to having sent its answer, by route template.");
	for (size_t r = 0; r < NROUTES; r++)
		if (first_of(routes, NROUTES, r))
			hist_series(f, "portcullis_http_request_duration_seconds", "route", routes[r],
			    &m->duration[r], request_le);

	family(f, "portcullis_cache_lookups_total", "counter",
	    "Data cache lookups by tier (memory: this process' LRU; redis) and result.");
	for (size_t l = 0; l < N(layers); l++)
		for (size_t h = 0; h < N(results); h++) {
			fputs("portcullis_cache_lookups_total{", f);
			label(f, "layer", layers[l]);
			fputc(',', f);
			label(f, "result", results[h]);
			fprintf(f, "} %" PRIu64 "\n", load(m->cache[l][h]));
		}

	counter1(f, "portcullis_rate_limit_rejections_total",
	    "Requests refused with 429 by a rate-limit policy.", "policy", policies,
	    m->rate_limited, N(policies));
	counter1(f, "portcullis_logins_total",
	    "Credential checks (logins, and password changes' current password) by result.",
	    "result", login_results, m->logins, N(login_results));
	counter1(f, "portcullis_backend_errors_total",
	    "Failed connects and commands per backend.", "backend", backends,
	    m->backend_errors, N(backends));

	family(f, "portcullis_password_hash_duration_seconds", "histogram",
	    "Time spent in one bcrypt computation (hashing or verifying a password).");
	hist_series(f, "portcullis_password_hash_duration_seconds", NULL, NULL,
	    &m->password_hash, hash_le);

	for (size_t i = 0; i < NRESPONDERS; i++)
		cpu_us[i] = load(m->exited_cpu_us[i]);
	for (size_t i = 0; i < SLOTS; i++) {
		uint64_t w = load(m->slots[i]);
		size_t r = (size_t)(w >> 56);
		pid_t pid = (pid_t)(uint32_t)w;
		struct proc_info pi;
		long fds;

		if (w == 0 || !slot_alive(w))
			continue;
		r = r < NRESPONDERS ? r : NRESPONDERS - 1;
		alive[r]++;
		if (proc_read(pid, &pi) != 0)
			continue;
		cpu_us[r] += pi.cpu_ticks * 1000000u / ticks;
		rss[r] += pi.rss_pages * page;
		if ((fds = proc_open_fds(pid)) > 0)
			open_fds[r] += (uint64_t)fds;
		if (pi.start != 0 && (start[r] == 0 || pi.start < start[r]))
			start[r] = pi.start;
	}
	family(f, "portcullis_responder_processes", "gauge",
	    "Responder processes alive on this host, by responder.");
	for (size_t r = 0; r < NRESPONDERS; r++) {
		if (!first_of(responders, NRESPONDERS, r))
			continue;
		fputs("portcullis_responder_processes{", f);
		label(f, "responder", responders[r]);
		fprintf(f, "} %" PRIu64 "\n", alive[r]);
	}
	counter1(f, "portcullis_responder_starts_total",
	    "Responder processes started on this host, by responder.", "responder", responders,
	    m->starts, NRESPONDERS);

	family(f, "portcullis_metrics_start_time_seconds", "gauge",
	    "Unix time at which these shared counters started from zero.");
	fprintf(f, "portcullis_metrics_start_time_seconds %" PRIu64 "\n", m->h.created_unix);

	/* Process metrics as prom-client names them, summed over each responder's processes. */
	family(f, "process_cpu_seconds_total", "counter",
	    "User and system CPU time of the responder's processes: those alive plus those that stopped cleanly.");
	for (size_t r = 0; r < NRESPONDERS; r++) {
		if (!first_of(responders, NRESPONDERS, r))
			continue;
		fputs("process_cpu_seconds_total{", f);
		label(f, "responder", responders[r]);
		fprintf(f, "} %" PRIu64 ".%06" PRIu64 "\n", cpu_us[r] / 1000000u, cpu_us[r] % 1000000u);
	}
	family(f, "process_resident_memory_bytes", "gauge",
	    "Resident memory of the responder's live processes, summed.");
	for (size_t r = 0; r < NRESPONDERS; r++) {
		if (!first_of(responders, NRESPONDERS, r))
			continue;
		fputs("process_resident_memory_bytes{", f);
		label(f, "responder", responders[r]);
		fprintf(f, "} %" PRIu64 "\n", rss[r]);
	}
	family(f, "process_open_fds", "gauge",
	    "Open file descriptors of the responder's live processes, summed.");
	for (size_t r = 0; r < NRESPONDERS; r++) {
		if (!first_of(responders, NRESPONDERS, r))
			continue;
		fputs("process_open_fds{", f);
		label(f, "responder", responders[r]);
		fprintf(f, "} %" PRIu64 "\n", open_fds[r]);
	}
	family(f, "process_start_time_seconds", "gauge",
	    "Unix time at which the responder's oldest live process started (absent with none).");
	for (size_t r = 0; r < NRESPONDERS; r++) {
		if (start[r] == 0 || btime == 0 || !first_of(responders, NRESPONDERS, r))
			continue;
		fputs("process_start_time_seconds{", f);
		label(f, "responder", responders[r]);
		fprintf(f, "} %" PRIu64 ".%02" PRIu64 "\n", btime + start[r] / ticks,
		    (start[r] % ticks) * 100 / ticks);
	}

	family(f, "portcullis_build_info", "gauge",
	    "Always 1; the labels name the version and the commit the binaries were built from.");
	fputs("portcullis_build_info{", f);
	label(f, "version", PORTCULLIS_VERSION);
	fputc(',', f);
	label(f, "commit", PORTCULLIS_COMMIT);
	fputs("} 1\n", f);
}

int metrics_render(char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (f == NULL)
		return -1;
	render(f, view);
	if (ferror(f) || fclose(f) != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}
