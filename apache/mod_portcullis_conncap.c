/*
 * mod_portcullis_conncap.c - at most N open connections per client address
 * (WEB_MAX_CONNS_PER_IP), for the Apache front of portcullis.
 *
 * Debian 12 ships no working module for this (mod_limitipconn is not
 * packaged, libapache2-mod-qos does not hold its limit there), so this one
 * does only that:
 *
 *   PortcullisConnCap N               the cap (0: off, the default)
 *   PortcullisConnCapExempt ADDR/CIDR ... addresses never counted
 *                                     (TRUSTED_PROXIES: a proxy carries many
 *                                     clients)
 *   PortcullisConnCapTable N          addresses tracked at once (default 8192)
 *
 * Every connection counts from the moment it is accepted, idle ones and
 * ones still in their TLS handshake or sending their request included: the
 * pre_connection hook adds it to its address's count before mod_ssl reads
 * a byte, and a cleanup on the connection's pool takes it off when Apache
 * closes it, however that happens.  A connection over the cap is closed at
 * once, before its handshake (c->aborted: the MPM skips the protocol and
 * goes straight to closing).  It is not answered 503 as lighttpd does:
 * under Apache a connection waiting for its first request holds a worker
 * thread until RequestReadTimeout drops it, so answering later would let
 * one address hold every thread.  An HTTP/2 connection counts once (its
 * streams are secondary connections, c->master set, and are not counted).
 * An IPv6 client counts by its /64, as the rate limits do; an IPv4-mapped
 * address counts as that IPv4 address.
 *
 * The counts live in one table in the memory of the server process, behind
 * a mutex, so they are right only when one process serves every
 * connection: the module refuses to start (post_config) under an MPM that
 * may run more than one server process (ServerLimit above 1, prefork).
 * apache/httpd.conf.in runs the event MPM as one process of many threads.
 * During a graceful restart the old process' connections are counted there,
 * not in the new one's table.
 *
 * The table is bounded: PortcullisConnCapTable addresses at most (about 40
 * bytes each).  When it is full, a connection from an address not in it is
 * let through uncounted and a warning is logged (at most once a minute):
 * that many distinct addresses at once are beyond what a per-address cap
 * can help with.
 *
 * Built by the project's Makefile with the flags of apxs (apache2-dev) into
 * build/apache/mod_portcullis_conncap.so; loaded by absolute path.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_log.h"
#include "ap_mpm.h"
#include "portcullis_one_process.h"

#include "apr_network_io.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "apr_time.h"

#include <string.h>

#ifndef APR_HAS_THREADS
#error "mod_portcullis_conncap needs APR with threads"
#endif

module AP_MODULE_DECLARE_DATA portcullis_conncap_module;

#define CONNCAP_BUCKETS 4096	/* hash buckets (a power of two) */
#define CONNCAP_TABLE_DEFAULT 8192
#define CONNCAP_TABLE_MAX 1048576
#define CONNCAP_EXEMPT_MAX 256	/* as TRUSTED_PROXIES (lib/client_addr.h) */
#define CONNCAP_WARN_EVERY apr_time_from_sec(60)

/* The identity a connection counts under: 4 bytes of IPv4 or 8 of an IPv6 /64. */
struct conncap_key {
	unsigned char family;	/* 4 or 6 */
	unsigned char b[8];
};

struct conncap_entry {
	struct conncap_key key;
	unsigned int count;
	struct conncap_entry *next;	/* in its bucket, or in the free list */
};

/* The one table of this server process (made in child_init). */
struct conncap_table {
	apr_thread_mutex_t *mutex;
	struct conncap_entry *buckets[CONNCAP_BUCKETS];
	struct conncap_entry *free_list;
	apr_time_t last_warning;
};

struct conncap_conf {
	int cap;			/* 0: off */
	int table_size;
	apr_array_header_t *exempt;	/* of apr_ipsubnet_t * */
};

/* What a counted connection's cleanup needs to find its entry again. */
struct conncap_held {
	struct conncap_key key;
};

/* The main server's settings (post_config) and this process' table (child_init). */
static struct conncap_conf *settings;
static struct conncap_table *table;

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
	struct conncap_conf *conf = apr_pcalloc(p, sizeof(*conf));

	(void)s;
	conf->table_size = CONNCAP_TABLE_DEFAULT;
	conf->exempt = apr_array_make(p, 4, sizeof(apr_ipsubnet_t *));
	return conf;
}

/* The settings are server-wide: every virtual host uses the main server's. */
static struct conncap_conf *main_conf(server_rec *s)
{
	return ap_get_module_config(s->module_config, &portcullis_conncap_module);
}

static const char *set_int(cmd_parms *cmd, int *out, const char *arg, long min, long max)
{
	char *end;
	apr_int64_t v;
	const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

	if (err != NULL)
		return err;
	v = apr_strtoi64(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < min || v > max)
		return apr_psprintf(cmd->pool, "%s: \"%s\" is not an integer from %ld to %ld",
		    cmd->cmd->name, arg, min, max);
	*out = (int)v;
	return NULL;
}

static const char *cmd_cap(cmd_parms *cmd, void *dummy, const char *arg)
{
	(void)dummy;
	return set_int(cmd, &main_conf(cmd->server)->cap, arg, 0, 65535);
}

static const char *cmd_table(cmd_parms *cmd, void *dummy, const char *arg)
{
	(void)dummy;
	return set_int(cmd, &main_conf(cmd->server)->table_size, arg, 16, CONNCAP_TABLE_MAX);
}

/* One exempt address or CIDR ("192.0.2.7", "10.0.0.0/8", "2001:db8::/32"). */
static const char *cmd_exempt(cmd_parms *cmd, void *dummy, const char *arg)
{
	struct conncap_conf *conf = main_conf(cmd->server);
	const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
	char *ip, *bits;
	apr_ipsubnet_t *subnet;
	apr_status_t rv;

	(void)dummy;
	if (err != NULL)
		return err;
	if (conf->exempt->nelts >= CONNCAP_EXEMPT_MAX)
		return apr_psprintf(cmd->pool, "PortcullisConnCapExempt: more than %d entries",
		    CONNCAP_EXEMPT_MAX);
	ip = apr_pstrdup(cmd->temp_pool, arg);
	bits = strchr(ip, '/');
	if (bits != NULL)
		*bits++ = '\0';
	/* apr_ipsubnet_create also takes "10.1" as a network: insist on a whole address. */
	if (strchr(ip, ':') == NULL) {
		int dots = 0;

		for (const char *q = ip; *q != '\0'; q++)
			dots += *q == '.';
		if (dots != 3)
			ip = NULL;
	}
	rv = ip == NULL ? APR_EINVAL : apr_ipsubnet_create(&subnet, ip, bits, cmd->pool);
	if (rv != APR_SUCCESS)
		return apr_psprintf(cmd->pool,
		    "PortcullisConnCapExempt: \"%s\" is not an address or CIDR", arg);
	*(apr_ipsubnet_t **)apr_array_push(conf->exempt) = subnet;
	return NULL;
}

static const command_rec conncap_cmds[] = {
	AP_INIT_TAKE1("PortcullisConnCap", cmd_cap, NULL, RSRC_CONF,
	    "connections one client address may hold open (0: no cap)"),
	AP_INIT_ITERATE("PortcullisConnCapExempt", cmd_exempt, NULL, RSRC_CONF,
	    "addresses or CIDRs whose connections are never counted (trusted proxies)"),
	AP_INIT_TAKE1("PortcullisConnCapTable", cmd_table, NULL, RSRC_CONF,
	    "client addresses tracked at once (default 8192)"),
	{ NULL }
};

/*
 * Refuses to start when the counts could be split over several server
 * processes (each would hold a table of its own, and the cap would be
 * multiplied by their number).
 */
static int conncap_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
    server_rec *s)
{
	struct conncap_conf *conf = main_conf(s);

	(void)pconf;
	(void)plog;
	(void)ptemp;
	settings = conf;
	if (conf->cap == 0)
		return OK;
	return portcullis_one_process(s, "PortcullisConnCap");
}

/* The process is going away: connections closed from now on count nowhere. */
static apr_status_t conncap_forget(void *arg)
{
	(void)arg;
	table = NULL;
	return APR_SUCCESS;
}

/* The table of this process: TableSize entries, all on the free list. */
static void conncap_child_init(apr_pool_t *pchild, server_rec *s)
{
	struct conncap_conf *conf = main_conf(s);
	struct conncap_table *t;
	struct conncap_entry *entries;

	if (conf->cap == 0)
		return;
	t = apr_pcalloc(pchild, sizeof(*t));
	entries = apr_pcalloc(pchild, sizeof(*entries) * (apr_size_t)conf->table_size);
	if (apr_thread_mutex_create(&t->mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
		ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
		    "PortcullisConnCap: cannot create its mutex; no cap in this process");
		return;
	}
	for (int i = 0; i < conf->table_size; i++) {
		entries[i].next = t->free_list;
		t->free_list = &entries[i];
	}
	/* Registered after the mutex's own: runs before it is destroyed. */
	apr_pool_cleanup_register(pchild, NULL, conncap_forget, apr_pool_cleanup_null);
	table = t;
}

/* The key of an address; 0, or -1 for a family other than IPv4 and IPv6. */
static int key_of(const apr_sockaddr_t *sa, struct conncap_key *k)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(k, 0, sizeof(*k));
	if (sa->family == APR_INET) {
		k->family = 4;
		memcpy(k->b, &sa->sa.sin.sin_addr, 4);
		return 0;
	}
#if APR_HAVE_IPV6
	if (sa->family == APR_INET6) {
		const unsigned char *b = (const unsigned char *)&sa->sa.sin6.sin6_addr;

		if (memcmp(b, mapped, sizeof(mapped)) == 0) {
			k->family = 4;
			memcpy(k->b, b + 12, 4);
		} else {
			k->family = 6;
			memcpy(k->b, b, 8);
		}
		return 0;
	}
#endif
	(void)mapped;
	return -1;
}

/* FNV-1a over the key, folded to a bucket. */
static unsigned int bucket_of(const struct conncap_key *k)
{
	unsigned int h = 2166136261u;
	const unsigned char *p = (const unsigned char *)k;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h & (CONNCAP_BUCKETS - 1);
}

/*
 * Adds one connection to the count of `k`.  Returns the new count, or 0
 * when the table is full and `k` is not in it (the connection then goes
 * uncounted).  Called with the mutex held.
 */
static unsigned int count_up(struct conncap_table *t, const struct conncap_key *k)
{
	unsigned int b = bucket_of(k);
	struct conncap_entry *e;

	for (e = t->buckets[b]; e != NULL; e = e->next)
		if (memcmp(&e->key, k, sizeof(*k)) == 0)
			return ++e->count;
	e = t->free_list;
	if (e == NULL)
		return 0;
	t->free_list = e->next;
	e->key = *k;
	e->count = 1;
	e->next = t->buckets[b];
	t->buckets[b] = e;
	return 1;
}

/* Takes one connection off the count of `k`; an entry at 0 is freed.  Mutex held. */
static void count_down(struct conncap_table *t, const struct conncap_key *k)
{
	struct conncap_entry **pp = &t->buckets[bucket_of(k)], *e;

	for (; (e = *pp) != NULL; pp = &e->next) {
		if (memcmp(&e->key, k, sizeof(*k)) != 0)
			continue;
		if (--e->count == 0) {
			*pp = e->next;
			e->next = t->free_list;
			t->free_list = e;
		}
		return;
	}
}

/* The connection's pool is going away: it no longer counts. */
static apr_status_t conncap_release(void *arg)
{
	struct conncap_held *held = arg;
	struct conncap_table *t = table;

	if (t == NULL || apr_thread_mutex_lock(t->mutex) != APR_SUCCESS)
		return APR_SUCCESS;
	count_down(t, &held->key);
	apr_thread_mutex_unlock(t->mutex);
	return APR_SUCCESS;
}

static int is_exempt(const struct conncap_conf *conf, apr_sockaddr_t *sa)
{
	for (int i = 0; i < conf->exempt->nelts; i++)
		if (apr_ipsubnet_test(APR_ARRAY_IDX(conf->exempt, i, apr_ipsubnet_t *), sa))
			return 1;
	return 0;
}

/*
 * Every new client connection: counted under its address, or closed at
 * once when that address already holds the cap.  Returns OK either way so
 * the other modules set the connection up as usual (the MPM then sees
 * c->aborted and only closes it).
 */
static int conncap_pre_connection(conn_rec *c, void *csd)
{
	struct conncap_conf *conf = settings;
	struct conncap_table *t = table;
	struct conncap_held *held;
	struct conncap_key k;
	unsigned int n;
	int warn = 0;

	(void)csd;
	/* Not counted: HTTP/2 streams (c->master), mod_proxy's own backend connections. */
	if (conf == NULL || conf->cap == 0 || t == NULL || c->master != NULL || c->outgoing ||
	    c->client_addr == NULL)
		return OK;
	if (is_exempt(conf, c->client_addr) || key_of(c->client_addr, &k) != 0)
		return OK;
	if (apr_thread_mutex_lock(t->mutex) != APR_SUCCESS)
		return OK;
	n = count_up(t, &k);
	if (n == 0 && apr_time_now() - t->last_warning > CONNCAP_WARN_EVERY) {
		t->last_warning = apr_time_now();
		warn = 1;
	}
	if (n > (unsigned int)conf->cap)
		count_down(t, &k);
	apr_thread_mutex_unlock(t->mutex);

	if (warn)
		ap_log_error(APLOG_MARK, APLOG_WARNING, 0, c->base_server,
		    "PortcullisConnCap: the table of %d addresses is full; new addresses "
		    "go uncounted (PortcullisConnCapTable)", conf->table_size);
	if (n == 0)
		return OK;
	if (n > (unsigned int)conf->cap) {
		/* No address in the log: the error log holds none in the clear. */
		ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c,
		    "PortcullisConnCap: a client address is over %d connections; closed",
		    conf->cap);
		c->aborted = 1;
		c->keepalive = AP_CONN_CLOSE;
		return OK;
	}
	held = apr_palloc(c->pool, sizeof(*held));
	held->key = k;
	apr_pool_cleanup_register(c->pool, held, conncap_release, apr_pool_cleanup_null);
	return OK;
}

static void conncap_register_hooks(apr_pool_t *p)
{
	(void)p;
	ap_hook_post_config(conncap_post_config, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_child_init(conncap_child_init, NULL, NULL, APR_HOOK_MIDDLE);
	/* First, before mod_ssl and mod_reqtimeout set the connection up. */
	ap_hook_pre_connection(conncap_pre_connection, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

AP_DECLARE_MODULE(portcullis_conncap) = {
	STANDARD20_MODULE_STUFF,
	NULL,			/* per-directory config */
	NULL,			/* merge per-directory */
	create_server_conf,
	NULL,			/* merge per-server: the main server's is used */
	conncap_cmds,
	conncap_register_hooks,
	AP_MODULE_FLAG_NONE
};
