/*
 * mod_portcullis_fcgid_gate.c - the queue mod_fcgid lacks, for the Apache
 * front of portcullis (APACHE_MODE=fcgid).
 *
 * mod_fcgid 2.3.9 has no queue: a request that finds every process of its
 * responder (its "class") busy sleeps a whole second (fcgid_bridge.c,
 * handle_request, hard-coded) before it looks again, and a pool grows only
 * after such a sleep.  Under a load of more connections than processes,
 * some requests take a second or more while the others are served at once.
 * This module lets at most N requests of a responder into mod_fcgid at
 * once, N being the responder's pool (the MaxProcesses mod_fcgid has for
 * it); the others wait here, in arrival order, and each is let in the
 * moment a request before it leaves.  With the pool started at N processes
 * (see warm-up below), a request that enters mod_fcgid always finds an idle
 * process, and never sleeps.
 *
 *   PortcullisFcgidGate SCRIPT N     at most N requests of SCRIPT (the
 *                                    absolute path mod_fcgid runs, r->filename)
 *                                    inside mod_fcgid at once; a script not
 *                                    named is not gated
 *   PortcullisFcgidGateTimeout SECS  the longest a request waits (default 60,
 *                                    as FcgidIOTimeout); then it is answered
 *                                    503 with the contract's JSON envelope
 *                                    and Retry-After (refuse_body)
 *   PortcullisFcgidGateWarmup TOKEN  turns the warm-up on (below); TOKEN is a
 *                                    secret of the configuration
 *
 * How a request is gated: a handler hook ordered before mod_fcgid's takes
 * a slot of the request's script (waiting for one if need be), marks the
 * request (a note), and runs the handler hooks itself (ap_run_handler):
 * this hook sees the note and declines, mod_fcgid's handler serves the
 * request; then the slot is given back (to the first waiter, if any) and
 * the status returned.  A request that mod_fcgid answered normally has
 * given its process back by then (mod_fcgid returns it as soon as the
 * output filters read the responder's FCGI_END_REQUEST, which they do
 * while the handler passes the response on).  On an error mod_fcgid keeps
 * the process until the request's pool is destroyed: the slot is then
 * given back by a cleanup registered before mod_fcgid's, so it runs after
 * mod_fcgid's has freed the process.
 *
 * Warm-up: mod_fcgid starts a process only after a request has slept its
 * second finding the pool busy, and has no directive to start a pool
 * ahead.  A request from loopback carrying the header X-Portcullis-Warmup
 * with TOKEN holds its process (an output filter waits before the response
 * is read) until N such requests of its script hold one each, or 10
 * seconds have passed: sending N of them at once (scripts/lib/apache.sh,
 * after Apache starts) makes each one after the first find the pool busy
 * and have a process started, so the pool reaches N in one or two seconds.
 * The header is removed before the responder sees the request, and the
 * request is given PORTCULLIS_WEB_ERROR=404, so any portcullis responder
 * answers it with its JSON 404 before it looks at anything else (no rate
 * limit, no Redis, no database).
 *
 * The counts live in the memory of the server process, behind a mutex:
 * right only when one process serves every request, so the module refuses
 * to start (post_config) under an MPM that may run more than one (as
 * mod_portcullis_conncap does).  apache/httpd.conf.in runs the event MPM
 * as one process of many threads.  A waiting request holds its worker
 * thread, as it would inside mod_fcgid.  mod_fcgid reads a request body
 * inside its handler, so a client sending its body slowly holds its slot
 * meanwhile (as a proxy-fcgi pool connection is held while the body is
 * streamed); RequestReadTimeout (httpd.conf) bounds how slowly.
 *
 * Built by the project's Makefile with the flags of apxs (apache2-dev) into
 * build/apache/mod_portcullis_fcgid_gate.so; loaded by absolute path.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_request.h"
#include "util_filter.h"
#include "ap_mpm.h"
#include "portcullis_one_process.h"

#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_time.h"

#include <string.h>

#ifndef APR_HAS_THREADS
#error "mod_portcullis_fcgid_gate needs APR with threads"
#endif

module AP_MODULE_DECLARE_DATA portcullis_fcgid_gate_module;

#define GATE_CLASSES_MAX 64
#define GATE_LIMIT_MAX 4096
#define GATE_TIMEOUT_DEFAULT 60
#define GATE_TIMEOUT_MAX 3600
#define GATE_WARMUP_HOLD apr_time_from_sec(10)
#define GATE_TOKEN_MIN 16
#define GATE_TOKEN_MAX 128
#define GATE_NOTE "portcullis-fcgid-gate"
#define GATE_REFUSED_NOTE "portcullis-fcgid-gate-refused"
#define GATE_WARMUP_HEADER "X-Portcullis-Warmup"
#define GATE_WARMUP_FILTER "PORTCULLIS_FCGID_WARMUP"
#define GATE_RETRY_AFTER "5"	/* as the responders' 503 (lib/response.c) */

/* A request waiting for a slot: on its own stack, linked in its class' queue. */
struct gate_waiter {
	apr_thread_cond_t *cond;
	int granted;			/* the slot was handed to it */
	struct gate_waiter *next;
};

/* One gated script. */
struct gate_class {
	const char *script;
	int limit;
	int inside;			/* requests inside mod_fcgid */
	struct gate_waiter *head, *tail;	/* waiting, in arrival order */
	/* The warm-up barrier: requests holding their process, and its round. */
	int warm_held;
	unsigned int warm_round;
};

struct gate_conf {
	apr_array_header_t *classes;	/* of struct gate_class */
	int timeout;			/* seconds */
	const char *token;		/* NULL: no warm-up */
};

/* What a gated request gives back, once. */
struct gate_held {
	struct gate_class *cls;
	int released;
};

/* The main server's settings (post_config) and this process' lock (child_init). */
static struct gate_conf *settings;
static apr_thread_mutex_t *gate_mutex;
static apr_thread_cond_t *warm_cond;

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
	struct gate_conf *conf = apr_pcalloc(p, sizeof(*conf));

	(void)s;
	conf->classes = apr_array_make(p, 8, sizeof(struct gate_class));
	conf->timeout = GATE_TIMEOUT_DEFAULT;
	return conf;
}

static struct gate_conf *main_conf(server_rec *s)
{
	return ap_get_module_config(s->module_config, &portcullis_fcgid_gate_module);
}

static const char *parse_int(cmd_parms *cmd, const char *arg, long min, long max, int *out)
{
	char *end;
	apr_int64_t v = apr_strtoi64(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || v < min || v > max)
		return apr_psprintf(cmd->pool, "%s: \"%s\" is not an integer from %ld to %ld",
		    cmd->cmd->name, arg, min, max);
	*out = (int)v;
	return NULL;
}

static const char *cmd_gate(cmd_parms *cmd, void *dummy, const char *script, const char *n)
{
	struct gate_conf *conf = main_conf(cmd->server);
	const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
	struct gate_class *cls;
	int limit;

	(void)dummy;
	if (err != NULL)
		return err;
	if (script[0] != '/')
		return "PortcullisFcgidGate: the script must be an absolute path";
	for (int i = 0; i < conf->classes->nelts; i++)
		if (strcmp(APR_ARRAY_IDX(conf->classes, i, struct gate_class).script, script) == 0)
			return apr_psprintf(cmd->pool, "PortcullisFcgidGate: %s named twice", script);
	if (conf->classes->nelts >= GATE_CLASSES_MAX)
		return apr_psprintf(cmd->pool, "PortcullisFcgidGate: more than %d scripts",
		    GATE_CLASSES_MAX);
	err = parse_int(cmd, n, 1, GATE_LIMIT_MAX, &limit);
	if (err != NULL)
		return err;
	cls = apr_array_push(conf->classes);
	memset(cls, 0, sizeof(*cls));
	cls->script = apr_pstrdup(cmd->pool, script);
	cls->limit = limit;
	return NULL;
}

static const char *cmd_timeout(cmd_parms *cmd, void *dummy, const char *arg)
{
	const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

	(void)dummy;
	if (err != NULL)
		return err;
	return parse_int(cmd, arg, 1, GATE_TIMEOUT_MAX, &main_conf(cmd->server)->timeout);
}

static const char *cmd_warmup(cmd_parms *cmd, void *dummy, const char *arg)
{
	const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
	size_t len = strlen(arg);

	(void)dummy;
	if (err != NULL)
		return err;
	if (len < GATE_TOKEN_MIN || len > GATE_TOKEN_MAX)
		return apr_psprintf(cmd->pool, "PortcullisFcgidGateWarmup: the token must have "
		    "%d to %d characters", GATE_TOKEN_MIN, GATE_TOKEN_MAX);
	main_conf(cmd->server)->token = apr_pstrdup(cmd->pool, arg);
	return NULL;
}

static const command_rec gate_cmds[] = {
	AP_INIT_TAKE2("PortcullisFcgidGate", cmd_gate, NULL, RSRC_CONF,
	    "a mod_fcgid script (absolute path) and how many of its requests may be "
	    "inside mod_fcgid at once (its MaxProcesses)"),
	AP_INIT_TAKE1("PortcullisFcgidGateTimeout", cmd_timeout, NULL, RSRC_CONF,
	    "seconds a request waits for its turn before it is answered 503 (default 60)"),
	AP_INIT_TAKE1("PortcullisFcgidGateWarmup", cmd_warmup, NULL, RSRC_CONF,
	    "the token of the warm-up requests (header " GATE_WARMUP_HEADER ", from loopback)"),
	{ NULL }
};

/* Refuses to start when the counts could be split over several server processes. */
static int gate_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
    server_rec *s)
{
	struct gate_conf *conf = main_conf(s);

	(void)pconf;
	(void)plog;
	(void)ptemp;
	settings = conf;
	if (conf->classes->nelts == 0)
		return OK;
	return portcullis_one_process(s, "PortcullisFcgidGate");
}

static apr_status_t gate_forget(void *arg)
{
	(void)arg;
	gate_mutex = NULL;
	warm_cond = NULL;
	return APR_SUCCESS;
}

static void gate_child_init(apr_pool_t *pchild, server_rec *s)
{
	struct gate_conf *conf = main_conf(s);

	if (conf->classes->nelts == 0)
		return;
	if (apr_thread_mutex_create(&gate_mutex, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS ||
	    apr_thread_cond_create(&warm_cond, pchild) != APR_SUCCESS) {
		gate_mutex = NULL;
		warm_cond = NULL;
		ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
		    "PortcullisFcgidGate: cannot create its lock; no gate in this process");
		return;
	}
	/* Registered after the mutex's own: runs before it is destroyed. */
	apr_pool_cleanup_register(pchild, NULL, gate_forget, apr_pool_cleanup_null);
}

static struct gate_class *class_of(const struct gate_conf *conf, const char *script)
{
	if (script == NULL)
		return NULL;
	for (int i = 0; i < conf->classes->nelts; i++) {
		struct gate_class *cls = &APR_ARRAY_IDX(conf->classes, i, struct gate_class);

		if (strcmp(cls->script, script) == 0)
			return cls;
	}
	return NULL;
}

static void unlink_waiter(struct gate_class *cls, struct gate_waiter *w)
{
	struct gate_waiter **pp = &cls->head, *prev = NULL;

	for (; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp != w)
			continue;
		*pp = w->next;
		if (cls->tail == w)
			cls->tail = prev;
		return;
	}
}

/*
 * Takes a slot of `cls`, waiting at most `timeout` for one.  Returns
 * APR_SUCCESS with the slot taken, APR_TIMEUP when the wait ran out, or
 * another status when the lock failed (the request then goes in ungated).
 */
static apr_status_t gate_acquire(struct gate_class *cls, apr_pool_t *pool, apr_interval_time_t timeout)
{
	struct gate_waiter w = { NULL, 0, NULL };
	apr_time_t deadline = apr_time_now() + timeout;
	apr_status_t rv;

	if ((rv = apr_thread_mutex_lock(gate_mutex)) != APR_SUCCESS)
		return rv;
	if (cls->inside < cls->limit && cls->head == NULL) {
		cls->inside++;
		apr_thread_mutex_unlock(gate_mutex);
		return APR_SUCCESS;
	}
	if ((rv = apr_thread_cond_create(&w.cond, pool)) != APR_SUCCESS) {
		apr_thread_mutex_unlock(gate_mutex);
		return rv;
	}
	if (cls->tail != NULL)
		cls->tail->next = &w;
	else
		cls->head = &w;
	cls->tail = &w;
	while (!w.granted) {
		apr_time_t left = deadline - apr_time_now();

		if (left <= 0)
			break;
		rv = apr_thread_cond_timedwait(w.cond, gate_mutex, left);
		if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv))
			break;
	}
	if (!w.granted)
		unlink_waiter(cls, &w);
	apr_thread_mutex_unlock(gate_mutex);
	apr_thread_cond_destroy(w.cond);
	return w.granted ? APR_SUCCESS : APR_TIMEUP;
}

/* Gives a slot back: to the first waiter, or to the class. */
static apr_status_t gate_release(void *arg)
{
	struct gate_held *held = arg;
	struct gate_class *cls = held->cls;
	struct gate_waiter *w;

	if (held->released || gate_mutex == NULL)
		return APR_SUCCESS;
	held->released = 1;
	if (apr_thread_mutex_lock(gate_mutex) != APR_SUCCESS)
		return APR_SUCCESS;
	w = cls->head;
	if (w != NULL) {
		/* Handed on: `inside` stays as it is. */
		cls->head = w->next;
		if (cls->head == NULL)
			cls->tail = NULL;
		w->next = NULL;
		w->granted = 1;
		apr_thread_cond_signal(w->cond);
	} else if (cls->inside > 0) {
		cls->inside--;
	}
	apr_thread_mutex_unlock(gate_mutex);
	return APR_SUCCESS;
}

/* Equal strings, in a time that does not depend on where they differ. */
static int token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return d == 0;
}

static int is_loopback(const apr_sockaddr_t *sa)
{
	if (sa == NULL)
		return 0;
	if (sa->family == APR_INET)
		return ((const unsigned char *)&sa->sa.sin.sin_addr)[0] == 127;
#if APR_HAVE_IPV6
	if (sa->family == APR_INET6) {
		static const unsigned char one[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
		const unsigned char *b = (const unsigned char *)&sa->sa.sin6.sin6_addr;

		return memcmp(b, one, 16) == 0 || (memcmp(b, mapped, 12) == 0 && b[12] == 127);
	}
#endif
	return 0;
}

/*
 * The warm-up filter: the first time the response passes, waits until
 * every slot of its class is held by a warm-up request (or the hold time
 * is over), then steps aside.  Until then the responder's output is
 * unread, so mod_fcgid keeps its process busy.
 */
static apr_status_t warmup_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
	struct gate_class *cls = f->ctx;
	apr_time_t deadline = apr_time_now() + GATE_WARMUP_HOLD;

	ap_remove_output_filter(f);
	if (gate_mutex != NULL && warm_cond != NULL &&
	    apr_thread_mutex_lock(gate_mutex) == APR_SUCCESS) {
		unsigned int round = cls->warm_round;

		if (++cls->warm_held >= cls->limit) {
			cls->warm_held = 0;
			cls->warm_round++;
			apr_thread_cond_broadcast(warm_cond);
		}
		while (cls->warm_round == round) {
			apr_time_t left = deadline - apr_time_now();
			apr_status_t rv;

			if (left <= 0) {
				cls->warm_held--;
				break;
			}
			rv = apr_thread_cond_timedwait(warm_cond, gate_mutex, left);
			if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv)) {
				cls->warm_held--;
				break;
			}
		}
		apr_thread_mutex_unlock(gate_mutex);
	}
	return ap_pass_brigade(f->next, bb);
}

/* A warm-up request: from loopback, with the configured token. */
static int is_warmup(const struct gate_conf *conf, request_rec *r)
{
	const char *v;

	if (conf->token == NULL)
		return 0;
	v = apr_table_get(r->headers_in, GATE_WARMUP_HEADER);
	if (v == NULL)
		return 0;
	apr_table_unset(r->headers_in, GATE_WARMUP_HEADER);
	return is_loopback(r->connection->client_addr) && token_equal(v, conf->token);
}

/*
 * The envelope of the 503, as the ErrorDocument strings of site.conf make
 * theirs (500, 408, 414): an ErrorDocument URL cannot serve it here, since
 * mod_rewrite does not run again for the error document of a request its
 * END flag routed.  The Header lines of site.conf make it JSON, no-store,
 * with X-Request-Id; the request id is the time and the client's port.
 */
static void refuse_body(request_rec *r)
{
	apr_time_exp_t t;
	char when[16];
	apr_size_t len;
	apr_port_t port = r->connection->client_addr != NULL ? r->connection->client_addr->port : 0;

	if (apr_time_exp_lt(&t, r->request_time) != APR_SUCCESS ||
	    apr_strftime(when, &len, sizeof(when), "%Y%m%d%H%M%S", &t) != APR_SUCCESS)
		apr_cpystrn(when, "0", sizeof(when));
	apr_table_setn(r->err_headers_out, "Retry-After", GATE_RETRY_AFTER);
	ap_custom_response(r, HTTP_SERVICE_UNAVAILABLE, apr_psprintf(r->pool,
	    "{\"error\":{\"code\":\"service_unavailable\",\"message\":\"the service is unavailable\","
	    "\"request_id\":\"%s-%u\"}}", when, (unsigned int)port));
}

static int gate_handler(request_rec *r)
{
	struct gate_conf *conf = settings;
	struct gate_class *cls;
	struct gate_held *held;
	apr_pool_t *pool;
	apr_status_t rv;
	int status;

	if (conf == NULL || gate_mutex == NULL || r->handler == NULL ||
	    strcmp(r->handler, "fcgid-script") != 0 || apr_table_get(r->notes, GATE_NOTE) != NULL)
		return DECLINED;
	cls = class_of(conf, r->filename);
	if (cls == NULL)
		return DECLINED;
	apr_table_setn(r->notes, GATE_NOTE, "1");
	/* The error document of a request refused here is not made to wait again. */
	if (r->prev != NULL && apr_table_get(r->prev->notes, GATE_REFUSED_NOTE) != NULL)
		return DECLINED;

	/* The pool mod_fcgid registers its cleanup on (it frees the process there). */
	pool = r->main != NULL ? r->main->pool : r->pool;
	rv = gate_acquire(cls, r->pool, apr_time_from_sec(conf->timeout));
	if (APR_STATUS_IS_TIMEUP(rv)) {
		ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
		    "PortcullisFcgidGate: no turn for %s within %d s; answered 503",
		    cls->script, conf->timeout);
		apr_table_setn(r->notes, GATE_REFUSED_NOTE, "1");
		refuse_body(r);
		return HTTP_SERVICE_UNAVAILABLE;
	}
	if (rv != APR_SUCCESS) {
		ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
		    "PortcullisFcgidGate: cannot take the lock; %s goes in ungated", cls->script);
		return DECLINED;
	}
	held = apr_pcalloc(pool, sizeof(*held));
	held->cls = cls;
	/* Before mod_fcgid's cleanup, so it runs after it (cleanups run in reverse). */
	apr_pool_cleanup_register(pool, held, gate_release, apr_pool_cleanup_null);

	if (is_warmup(conf, r)) {
		/* Answered at once by any responder (lib/web_error.c): no rate limit, no store. */
		apr_table_setn(r->subprocess_env, "PORTCULLIS_WEB_ERROR", "404");
		ap_add_output_filter(GATE_WARMUP_FILTER, cls, r, r->connection);
	}
	status = ap_run_handler(r);
	/*
	 * Served (OK): mod_fcgid has given its process back already.  Else it
	 * may hold it until the pool goes: the cleanup gives the slot back then.
	 */
	if (status == OK)
		apr_pool_cleanup_run(pool, held, gate_release);
	return status;
}

static void gate_register_hooks(apr_pool_t *p)
{
	static const char *const before[] = { "mod_fcgid.c", NULL };

	(void)p;
	ap_hook_post_config(gate_post_config, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_child_init(gate_child_init, NULL, NULL, APR_HOOK_MIDDLE);
	ap_hook_handler(gate_handler, NULL, before, APR_HOOK_FIRST);
	ap_register_output_filter(GATE_WARMUP_FILTER, warmup_filter, NULL, AP_FTYPE_RESOURCE);
}

AP_DECLARE_MODULE(portcullis_fcgid_gate) = {
	STANDARD20_MODULE_STUFF,
	NULL,			/* per-directory config */
	NULL,			/* merge per-directory */
	create_server_conf,
	NULL,			/* merge per-server: the main server's is used */
	gate_cmds,
	gate_register_hooks,
	AP_MODULE_FLAG_NONE
};
