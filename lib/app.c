/*
 * app.c - see app.h.
 */
#include "app.h"

#include "denylist.h"
#include "log.h"
#include "metrics.h"
#include "prefork.h"
#include "redis_sentinel.h"
#include "routes.h"
#include "web_error.h"

#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

_Static_assert(ROUTE_KEYS_MAX <= AUTH_EXTRA_MAX, "a hook's keys ride on the revocation MGET");

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void usage(const char *name)
{
	fprintf(stderr,
	    "usage: %s [--check-config] [--listen ADDR] [--workers N]\n"
	    "       %s --list-config | --print-config[=raw] | --check-config=stack | --list-routes\n"
	    "  Started by a web server under FastCGI, serves requests until stopped.\n"
	    "  Started as a CGI program, serves the one request in its environment.\n"
	    "  --check-config  load and validate the configuration, then exit\n"
	    "  --listen ADDR   serve FastCGI on ADDR (:9000, 127.0.0.1:9000, /path.sock)\n"
	    "  --workers N     fork N processes that serve the one socket (1 to 256; 1:\n"
	    "                  this process serves it)\n"
	    "  --list-config   print the configuration table (tab separated), then exit\n"
	    "  --print-config  print every setting's value and source (secrets masked;\n"
	    "                  =raw: unmasked, for scripts/), then exit\n"
	    "  --check-config=stack  validate the local stack's own settings, then exit\n"
	    "  --list-routes   print every responder's routes (responder, method, template,\n"
	    "                  rate-limit policy, auth; tab separated), then exit\n",
	    name, name);
}

static void log_warning(const char *msg)
{
	log_msg(LOG_WARN, msg);
}

void app_unavailable(struct ctx *c)
{
	resp_error(c->resp, c->req, 503, "service_unavailable",
	    "a backend service is unavailable; try again shortly", NULL);
}

/*
 * The rate limit a request falls under: its row's, or by its path when no
 * row serves it (routes.def); none when the client is not known.
 */
static enum rl_policy request_policy(const struct ctx *c)
{
	if (!c->req->client_known)
		return POLICY_NONE;
	return c->route != NULL ? c->route->policy : routes_policy_unrouted(c->req->method, c->req->path);
}

void app_rate_limit_refund(struct ctx *c)
{
	enum rl_policy policy = request_policy(c);

	if (policy != POLICY_NONE)
		rl_refund(&c->app->cfg, &c->app->redis, c->app->rl_memory, policy, &c->req->client);
}

/* Runs what a handler left for after its answer (see struct app). */
static void run_deferred(struct app *app)
{
	void (*fn)(struct app *) = app->deferred;

	app->deferred = NULL;
	if (fn != NULL) {
		redis_request_begin(&app->redis);
		fn(app);
		db_end_request(&app->db);
	}
}

/* The request line every exchange leaves in the log. */
static void log_request(const struct request *req, const struct response *resp)
{
	enum log_level level = resp->status == 503 ? LOG_WARN
				 : resp->status >= 500 ? LOG_ERROR : LOG_INFO;
	cJSON *f;

	if (!log_enabled(level))
		return;
	f = cJSON_CreateObject();
	if (f == NULL)
		return;
	cJSON_AddStringToObject(f, "request_id", req->id);
	cJSON_AddStringToObject(f, "route", req->route);
	cJSON_AddStringToObject(f, "method", req->method[0] != '\0' ? req->method : "-");
	cJSON_AddNumberToObject(f, "status", resp->status);
	cJSON_AddNumberToObject(f, "duration_ms", (double)(long)(req_elapsed_ms(req) * 1000) / 1000);
	cJSON_AddStringToObject(f, "client", req->client_hash);
	if (req->user_id[0] != '\0')
		cJSON_AddStringToObject(f, "user_id", req->user_id);
	log_event(level, "request", f);
}

/* The RateLimit fields of decision `d` under policy `name` (sent unless a handler drops them). */
static void rate_limit_headers(struct response *resp, const char *name, const struct rl_decision *d)
{
	snprintf(resp->rate_limit_fields, sizeof(resp->rate_limit_fields),
	    "RateLimit-Policy: \"%s\";q=%ld;w=%ld\r\n"
	    "RateLimit: \"%s\";r=%ld;t=%ld\r\n"
	    "RateLimit-Limit: %ld\r\n"
	    "RateLimit-Remaining: %ld\r\n"
	    "RateLimit-Reset: %ld\r\n",
	    name, d->limit, d->window, name, d->remaining, d->reset, d->limit, d->remaining,
	    d->reset);
}

/*
 * The rate-limit verdict, once the round trip is back: the RateLimit
 * fields, and a 429 (returning 1) when the client is over its limit.
 */
static int rate_limited(struct app *app, struct ctx *c, enum rl_policy policy,
    const struct rl_pending *pending)
{
	struct rl_decision d;

	if (!pending->enabled ||
	    rl_finish(&app->redis, &c->pipe, app->rl_memory, &app->rl_stats, pending, &d) != 0)
		return 0;
	rate_limit_headers(c->resp, rl_policy_name(policy), &d);
	if (d.allowed)
		return 0;
	resp_headerf(c->resp, "Retry-After", "%ld", d.retry_after);
	resp_error(c->resp, c->req, 429, "rate_limited", "too many requests; try again later", NULL);
	return 1;
}

/*
 * A token route's first half: the token, verified locally, and the keys of
 * the route's hook, queued with the revocation lookup.
 */
static void auth_prepare(struct ctx *c, struct auth_pending *pending)
{
	struct route_keys keys = { .n = 0 };
	const char *ptrs[ROUTE_KEYS_MAX];

	auth_begin(c, pending);
	if (pending->result != AUTH_OK)
		return;
	c->auth = pending->a;
	if (c->route->hook != NULL)
		c->route->hook(c, &keys);
	for (int i = 0; i < keys.n; i++)
		ptrs[i] = keys.key[i];
	auth_queue(c, pending, ptrs, keys.n);
}

/*
 * A token route's second half, after the round trip: the token's verdict
 * (401, or 503 when revocation could not be checked) and the cross-site
 * rule for a write by cookie (403).  Returns 1 when it answered.
 */
static int auth_refused(struct ctx *c, struct auth_pending *pending)
{
	enum auth_result ar = auth_finish(c, pending, c->fetched);

	if (ar != AUTH_OK) {
		auth_reply(c, ar);
		return 1;
	}
	c->auth = pending->a;
	return auth_refuse_cross_site(c, c->auth.via_cookie);
}

/*
 * Serves one request.  Returns 0 when its input was read to its end (so the
 * connection can be closed at once), -1 when some was left unread.
 */
static int handle(struct app *app, struct io *io)
{
	struct request req;
	struct response resp;
	struct route_match m;
	enum route_result rr;
	struct ctx c;
	const struct config *cfg = &app->cfg;
	struct auth_pending auth = { .result = AUTH_MISSING, .index = -1 };
	struct rl_pending limit = { .enabled = 0 };
	enum rl_policy policy;
	int token_route;
	size_t drain_max;
	int drained;

	redis_request_begin(&app->redis);
	req_init(&req, io, &app->trusted_proxies, cfg->ip_hash_secret, strlen(cfg->ip_hash_secret));
	resp_init(&resp);
	c = (struct ctx){ .app = app, .cfg = cfg, .req = &req, .resp = &resp };

	if (web_error(&req, &resp))
		goto answer;
	if (req.method[0] == '\0' || req.path_too_long) {
		resp_error(&resp, &req, 404, "not_found", "no such resource", NULL);
		goto answer;
	}
	rr = route_match(app->responder->routes, app->responder->nroutes, req.method, req.path, &m);
	if (m.template != NULL)
		req.route = m.template;
	c.route = rr == ROUTE_FOUND ? m.route : NULL;
	c.param = m.param;
	c.param_len = m.param_len;

	/* What the request needs from Redis, queued for one round trip. */
	policy = request_policy(&c);
	token_route = c.route != NULL && c.route->auth == ROUTE_AUTH_TOKEN;
	if (token_route)
		auth_prepare(&c, &auth);
	if (policy != POLICY_NONE)
		rl_append(&app->cfg, &app->redis, &c.pipe, policy, &req.client, &limit);
	redis_pipe_flush(&app->redis, &c.pipe);

	/* The verdicts, in order: rate limit, route, token; then the handler. */
	if (rate_limited(app, &c, policy, &limit))
		goto answer;
	switch (rr) {
	case ROUTE_NOT_FOUND:
		resp_error(&resp, &req, 404, "not_found", "no such resource", NULL);
		goto answer;
	case ROUTE_METHOD_NOT_ALLOWED:
		resp_header(&resp, "Allow", m.allow);
		resp_error(&resp, &req, 405, "method_not_allowed", "method not allowed here", NULL);
		goto answer;
	case ROUTE_FOUND:
		break;
	}
	if (token_route && auth_refused(&c, &auth))
		goto answer;
	c.route->handler(&c);
answer:
	/* Bounded like the web servers' own request limit (scripts/lib/config.sh). */
	drain_max = 2 * (size_t)(cfg->max_body_bytes > cfg->data_max_value_bytes
				     ? cfg->max_body_bytes
				     : cfg->data_max_value_bytes) +
	    65536;
	req_drain(&req, drain_max);
	/* Up to the end of the input stream, so a kept connection stays usable. */
	drained = io_finish_input(io, drain_max);
	resp_send(&resp, &req);
	metrics_request(req.route, req.method, resp.status, req_elapsed_ms(&req) / 1000);
	log_request(&req, &resp);
	free(c.hook_state);
	redis_pipe_free(&c.pipe);
	db_end_request(&app->db);
	resp_free(&resp);
	req_free(&req);
	return drained;
}

/*
 * Runs on every fresh Redis connection before it is trusted: the
 * responder's hooks, in order (struct responder).
 */
static int on_redis_connect(struct redis *r, void *arg)
{
	struct app *app = arg;
	redis_connect_hook *const *hook = app->responder->on_redis_connect;

	for (size_t i = 0; i < RESPONDER_CONNECT_HOOKS_MAX && hook[i] != NULL; i++)
		if (hook[i](app) != 0)
			return -1;
	r->outage_seen = 0;
	return 0;
}

/* The password deny list, checked (and its filter built when needed) at startup. */
static int open_denylist(struct app *app, const char *argv0)
{
	char err[CFG_ERR_MAX];

	if (deny_open(&app->cfg, argv0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", app->name, err);
		return 2;
	}
	return 0;
}

/* Opens the configuration and everything that lives as long as the process. */
static int app_open(struct app *app, const char *argv0, int check_only)
{
	char env_file[4096], err[CFG_ERR_MAX];

	if (cfg_default_env_file(argv0, env_file, sizeof(env_file)) != 0) {
		fprintf(stderr, "%s: configuration error: the .env path is too long\n", app->name);
		return 2;
	}
	if (cfg_load(&app->cfg, env_file, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", app->name, err);
		return 2;
	}
	if (addr_list_parse(app->cfg.trusted_proxies, &app->trusted_proxies, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: TRUSTED_PROXIES: %s\n", app->name, err);
		return 2;
	}
	if (redis_init(&app->redis, app->cfg.redis_url, err, sizeof(err)) != 0 ||
	    redis_sentinel_init(&app->redis, app->cfg.redis_sentinels, app->cfg.redis_master_name,
		app->cfg.redis_sentinel_password, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: configuration error: %s\n", app->name, err);
		return 2;
	}
	if (check_only)
		return open_denylist(app, argv0);
	if (db_init(&app->db, app->cfg.database_url, app->name) != 0) {
		fprintf(stderr, "%s: out of memory\n", app->name);
		return 1;
	}
	app->db.unnamed_only = !app->cfg.database_prepared;
	app->redis.on_connect = on_redis_connect;
	app->redis.on_connect_arg = app;
	app->rl_memory = calloc(1, sizeof(*app->rl_memory));
	if (app->rl_memory == NULL) {
		fprintf(stderr, "%s: out of memory\n", app->name);
		return 1;
	}
	if (log_init(app->name, app->cfg.log_level, app->cfg.log_file) != 0)
		fprintf(stderr, "%s: cannot open LOG_FILE (%s); logging to standard error\n",
		    app->name, strerror(errno));
	log_limit(app->cfg.log_max_bytes);
	cfg_warnings(&app->cfg, log_warning);
	if (open_denylist(app, argv0) != 0)
		return 2;
	metrics_open(app->cfg.metrics_file, app->name);
	return 0;
}

static void app_close(struct app *app)
{
	deny_close();
	metrics_close();
	db_close(&app->db);
	redis_close(&app->redis);
	addr_list_free(&app->trusted_proxies);
	free(app->rl_memory);
	app->rl_memory = NULL;
	cfg_free(&app->cfg);
	log_close();
}

static int serve_fastcgi(struct app *app, int listen_fd)
{
	FCGX_Request r;
	struct io io;
	unsigned long served = 0;

	if (FCGX_InitRequest(&r, listen_fd, 0) != 0) {
		log_msg(LOG_ERROR, "cannot initialise the FastCGI request");
		return 1;
	}
	io_init_fcgi(&io, &r);
	while (!stopping) {
		if (FCGX_Accept_r(&r) < 0)
			break;
		/*
		 * libfcgi closes a connection by shutting down its side and then
		 * waiting, up to 2 s, until the web server closes too, so that
		 * unread input cannot turn the close into a reset.  With the
		 * input read to its end there is nothing to reset: a detached
		 * request is closed at once, and the process is free for the
		 * next one instead of waiting on the web server's scheduling.
		 */
		if (handle(app, &io) == 0)
			(void)FCGX_Detach(&r);
		else
			(void)FCGX_Attach(&r);
		FCGX_Finish_r(&r);
		served++;
		run_deferred(app);
	}
	FCGX_Free(&r, 1);
	{
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "requests", (double)served);
		log_event(LOG_INFO, "stopping", f);
	}
	return 0;
}

/* A worker of the pool that died (prefork.c restarts it). */
static void note_worker_exit(const char *msg, long pid, int status)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "pid", (double)pid);
	if (WIFEXITED(status))
		cJSON_AddNumberToObject(f, "exit_status", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		cJSON_AddNumberToObject(f, "signal", WTERMSIG(status));
	log_event(LOG_WARN, msg, f);
}

static void log_starting(const char *mode, int workers)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddNumberToObject(f, "pid", (double)getpid());
	cJSON_AddStringToObject(f, "mode", mode);
	if (workers > 1)
		cJSON_AddNumberToObject(f, "workers", workers);
	log_event(LOG_INFO, workers > 1 ? "starting workers" : "starting", f);
}

/*
 * Serves the socket with `workers` processes: this one, or a pool forked
 * from it (prefork.h), each worker counted in the metrics as a process.
 */
static int serve_pool(struct app *app, int listen_fd, const char *mode, int workers)
{
	if (workers <= 1) {
		log_starting(mode, 1);
		return serve_fastcgi(app, listen_fd);
	}
	log_starting(mode, workers);
	switch (prefork_run(workers, note_worker_exit)) {
	case PREFORK_WORKER:
		metrics_open(app->cfg.metrics_file, app->name);
		log_starting(mode, 1);
		return serve_fastcgi(app, listen_fd);
	case PREFORK_DONE:
		return 0;
	case PREFORK_FAILED:
		break;
	}
	log_msg(LOG_ERROR, "cannot start the workers");
	return 1;
}

int app_main(int argc, char **argv, const struct responder *responder)
{
	const char *name = responder->name;
	struct app app = { .name = name, .responder = responder };
	const char *listen_addr = NULL;
	int check_only = 0, rc, listen_fd = 0, workers = 1;
	struct sigaction sa;

	if (argc == 2 && (rc = cfg_option(argv[1], argv[0], name)) >= 0)
		return rc;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0) {
			check_only = 1;
		} else if (strcmp(argv[i], "--list-routes") == 0) {
			if (routes_list(stdout) != 0) {
				fprintf(stderr, "%s: cannot write the route list\n", name);
				return 1;
			}
			return 0;
		} else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_addr = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			if ((workers = prefork_parse_workers(argv[++i])) < 0) {
				fprintf(stderr, "%s: --workers takes 1 to %d\n", name, PREFORK_MAX);
				return 1;
			}
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(name);
			return 0;
		} else {
			usage(name);
			return 1;
		}
	}
	rc = app_open(&app, argv[0], check_only);
	if (rc != 0 || check_only) {
		if (rc == 0)
			printf("%s: configuration ok\n", name);
		app_close(&app);
		return rc;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (FCGX_Init() != 0) {
		log_msg(LOG_ERROR, "cannot initialise libfcgi");
		app_close(&app);
		return 1;
	}
	if (listen_addr != NULL) {
		listen_fd = FCGX_OpenSocket(listen_addr, 128);
		if (listen_fd < 0) {
			fprintf(stderr, "%s: cannot listen on %s\n", name, listen_addr);
			app_close(&app);
			return 1;
		}
	} else if (FCGX_IsCGI()) {
		struct io io;

		io_init_cgi(&io);
		handle(&app, &io);
		if (app.deferred != NULL) {
			/* The answer is complete once standard output is closed. */
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0 && dup2(fd, STDOUT_FILENO) >= 0)
				run_deferred(&app);
			if (fd > STDOUT_FILENO)
				close(fd);
		}
		app_close(&app);
		return 0;
	}
	rc = serve_pool(&app, listen_fd, listen_addr != NULL ? "fastcgi-socket" : "fastcgi", workers);
	app_close(&app);
	return rc;
}
