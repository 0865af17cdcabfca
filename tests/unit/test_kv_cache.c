/*
 * test_kv_cache.c - unit tests of lib/kv_cache.c without Redis or
 * PostgreSQL: the keys a GET queues, the parsers of the stamp and the Redis
 * entry, the entry's payload, and the decisions of kv_cache_get() (which
 * tier answers, when PostgreSQL is asked, when the tiers are refilled or
 * the epoch started), kv_cache_written() and kv_cache_on_reconnect().
 *
 * The file includes kv_cache.c itself (as test_cache_memory.c does) to reach
 * its static parsers, with Redis and the PostgreSQL read replaced by fakes
 * that record what they were given: a script run, INFO, a PostgreSQL read.
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define redis_script_run fake_script_run
#define redis_command_argv fake_command_argv
#define redis_retry_now fake_retry_now
#define redis_fail fake_redis_fail
#define kv_store_get fake_kv_get
#include "kv_cache.c"
#undef redis_script_run
#undef redis_command_argv
#undef redis_retry_now
#undef redis_fail
#undef kv_store_get

#define AT "2026-01-02T03:04:05.678Z"

/* ---- the fakes ---- */

#define SCRIPT_ARGS_MAX 8

static struct {
	int runs;                       /* calls of the script runner */
	struct redis_script *script;    /* of the last call */
	int nkeys, nargs;
	char args[SCRIPT_ARGS_MAX][512];
	size_t lens[SCRIPT_ARGS_MAX];
	int fail;                       /* the next this-many runs return NULL */
	const char *answer;             /* a string reply; NULL: an integer 1 */
	int infos;                      /* calls of INFO */
	const char *run_id;             /* in INFO's answer; NULL: INFO fails */
	int retries, fails;             /* calls of redis_retry_now, redis_fail */
	int pg_reads;                   /* calls of kv_store_get */
	enum kv_store_result pg_result;
	long long pg_version;
	const char *pg_value;
} fake;

static redisReply *new_reply(int type, const char *str)
{
	redisReply *r = calloc(1, sizeof(*r));

	if (r == NULL)
		abort();
	r->type = type;
	if (str != NULL) {
		r->len = strlen(str);
		if ((r->str = strdup(str)) == NULL)
			abort();
	} else {
		r->integer = 1;
	}
	return r;
}

redisReply *fake_script_run(struct redis *r, struct redis_script *s, int nkeys, int nargs,
    const char **args, const size_t *lens)
{
	(void)r;
	fake.runs++;
	fake.script = s;
	fake.nkeys = nkeys;
	fake.nargs = nargs;
	for (int i = 0; i < nargs && i < SCRIPT_ARGS_MAX; i++) {
		size_t n = lens != NULL ? lens[i] : strlen(args[i]);

		fake.lens[i] = n;
		snprintf(fake.args[i], sizeof(fake.args[i]), "%.*s", (int)n, args[i]);
	}
	if (fake.fail > 0) {
		fake.fail--;
		return NULL;
	}
	return fake.answer != NULL ? new_reply(REDIS_REPLY_STRING, fake.answer)
				   : new_reply(REDIS_REPLY_INTEGER, NULL);
}

redisReply *fake_command_argv(struct redis *r, int argc, const char **argv, const size_t *lens)
{
	char info[200];

	(void)r;
	(void)lens;
	fake.infos++;
	if (fake.run_id == NULL || argc != 2 || strcmp(argv[0], "INFO") != 0)
		return NULL;
	snprintf(info, sizeof(info), "# Server\r\nredis_version:7.0.0\r\nrun_id:%s\r\ntcp_port:6379\r\n",
	    fake.run_id);
	return new_reply(REDIS_REPLY_STRING, info);
}

void fake_retry_now(struct redis *r)
{
	(void)r;
	fake.retries++;
}

void fake_redis_fail(struct redis *r)
{
	(void)r;
	fake.fails++;
}

enum kv_store_result fake_kv_get(struct app *app, const char *user, const char *key,
    struct kv_store_item *out)
{
	(void)app;
	(void)user;
	fake.pg_reads++;
	if (fake.pg_result != KV_STORE_OK)
		return fake.pg_result;
	if ((out->value = strdup(fake.pg_value != NULL ? fake.pg_value : "0")) == NULL)
		abort();
	out->value_len = strlen(out->value);
	out->version = fake.pg_version;
	snprintf(out->updated_at, sizeof(out->updated_at), "%s", AT);
	snprintf(out->key, sizeof(out->key), "%s", key);
	return KV_STORE_OK;
}

/* ---- helpers ---- */

static struct app app;

/* A fresh process: empty memory tier, nothing dirty, fakes reset. */
static void reset(void)
{
	if (memory_ready == 1)
		cache_free(&memory);
	memory_ready = 0;
	dirty = 0;
	memset(&fake, 0, sizeof(fake));
	fake.run_id = "0123456789abcdef0123456789abcdef01234567";
	memset(&app, 0, sizeof(app));
	app.cfg.cache_ttl = 60;
	app.cfg.cache_max_entries = 100;
	app.cfg.cache_max_bytes = 1 << 20;
}

/* A string reply on the stack, as the request's pipe would hold it. */
static redisReply str_reply(const char *s)
{
	redisReply r;

	memset(&r, 0, sizeof(r));
	r.type = REDIS_REPLY_STRING;
	r.str = (char *)s;
	r.len = strlen(s);
	return r;
}

static redisReply nil_reply(void)
{
	redisReply r;

	memset(&r, 0, sizeof(r));
	r.type = REDIS_REPLY_NIL;
	return r;
}

static struct kv_store_item item_of(const char *value, long long version)
{
	struct kv_store_item it;

	memset(&it, 0, sizeof(it));
	it.value = (char *)value;
	it.value_len = strlen(value);
	it.version = version;
	snprintf(it.updated_at, sizeof(it.updated_at), "%s", AT);
	return it;
}

/* ---- the parsers ---- */

static void test_memory_key(void)
{
	char out[16], big[KV_CACHE_KEY_MAX + 8];

	CHECK(memory_key("u1", "k", out, sizeof(out)) == 4 && strcmp(out, "u1:k") == 0);
	CHECK_MSG(memory_key("user-1234567", "key", out, sizeof(out)) == -1,
	    "a memory key that does not fit is none");
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(memory_key("u", big, out, sizeof(out)) == -1);
}

static void test_reply_int(void)
{
	redisReply r;
	long long v = 0;

	r = str_reply("1733112345000000");
	CHECK(reply_int(&r, &v) == 0 && v == 1733112345000000LL);
	r = str_reply("12a");
	CHECK_MSG(reply_int(&r, &v) == -1, "trailing bytes: no number");
	r = str_reply("");
	CHECK(reply_int(&r, &v) == -1);
	r = str_reply("123456789012345678901");
	CHECK_MSG(reply_int(&r, &v) == -1, "more than 20 digits: no number");
	r = nil_reply();
	CHECK(reply_int(&r, &v) == -1);
	CHECK(reply_int(NULL, &v) == -1);
	memset(&r, 0, sizeof(r));
	r.type = REDIS_REPLY_INTEGER;
	r.integer = 5;
	CHECK_MSG(reply_int(&r, &v) == -1, "an integer reply is not the string the epoch is stored as");
}

static void test_parse_stamp(void)
{
	redisReply r;
	long long e = 0, g = 0;
	char big[80];

	r = str_reply("17:42");
	CHECK(parse_stamp(&r, &e, &g) == 0 && e == 17 && g == 42);
	r = str_reply("17");
	CHECK_MSG(parse_stamp(&r, &e, &g) == -1, "no colon: no stamp");
	r = str_reply("x:1");
	CHECK(parse_stamp(&r, &e, &g) == -1);
	r = str_reply("1:2x");
	CHECK(parse_stamp(&r, &e, &g) == -1);
	r = str_reply("1:2:3");
	CHECK_MSG(parse_stamp(&r, &e, &g) == -1, "an entry's head is not a stamp");
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[3] = ':';
	r = str_reply(big);
	CHECK_MSG(parse_stamp(&r, &e, &g) == -1, "a stamp longer than its buffer is refused");
	r = nil_reply();
	CHECK(parse_stamp(&r, &e, &g) == -1);
	CHECK(parse_stamp(NULL, &e, &g) == -1);
}

static void test_parse_entry(void)
{
	redisReply r;
	struct kv_store_item out;
	char buf[256];

	r = str_reply("5:8:4:" AT "\n{\"a\":\"x\\ny\"}");
	memset(&out, 0, sizeof(out));
	CHECK(parse_entry(&r, 5, 8, "k1", &out) == 0);
	CHECK_STR(out.value, "{\"a\":\"x\\ny\"}");
	CHECK(out.value_len == strlen("{\"a\":\"x\\ny\"}") && out.version == 4);
	CHECK_STR(out.updated_at, AT);
	CHECK_STR(out.key, "k1");
	kv_store_item_free(&out);

	/* A value holding a raw line break after the head stays whole. */
	r = str_reply("5:8:4:" AT "\n\"a\nb\"");
	CHECK(parse_entry(&r, 5, 8, "k", &out) == 0 && out.value_len == 5 && memcmp(out.value, "\"a\nb\"", 5) == 0);
	kv_store_item_free(&out);
	r = str_reply("5:8:4:" AT "\n");
	CHECK_MSG(parse_entry(&r, 5, 8, "k", &out) == 0 && out.value_len == 0 && out.value[0] == '\0',
	    "an empty value parses");
	kv_store_item_free(&out);

	r = str_reply("5:8:4:" AT "\n1");
	CHECK_MSG(parse_entry(&r, 6, 8, "k", &out) == -1, "another epoch's entry is not served");
	CHECK_MSG(parse_entry(&r, 5, 10, "k", &out) == -1, "another generation's entry is not served");
	r = str_reply("5:8:4:" AT);
	CHECK_MSG(parse_entry(&r, 5, 8, "k", &out) == -1, "no line break: no entry");
	r = str_reply("5:8:" AT "\n1");
	CHECK_MSG(parse_entry(&r, 5, 8, "k", &out) == -1, "a head without its version is refused");
	memset(buf, '9', 200);
	snprintf(buf + 200, sizeof(buf) - 200, "\n1");
	r = str_reply(buf);
	CHECK_MSG(parse_entry(&r, 5, 8, "k", &out) == -1, "a head over 127 bytes is refused");
	r = nil_reply();
	CHECK(parse_entry(&r, 5, 8, "k", &out) == -1);
}

static void test_entry_payload(void)
{
	struct kv_store_item it = item_of("[1,2]", 21);
	size_t len = 0;
	char *p = entry_payload(&it, &len);
	const char *want = "42:21:" AT "\n[1,2]";

	CHECK_MSG(p != NULL && len == strlen(want) && strcmp(p, want) == 0,
	    "the payload is gen (2 x version), version, updated_at, a line break, the value");
	free(p);
}

/* ---- the decisions ---- */

static void test_lookup_keys(void)
{
	struct kv_cache_lookup l;
	struct kv_store_item it = item_of("1", 3);

	reset();
	kv_cache_lookup_keys(&app, "u1", "k1", &l);
	CHECK_STR(l.key_ptrs[0], "pc:epoch");
	CHECK_STR(l.key_ptrs[1], "pc:dv:u1:k1");
	CHECK_STR(l.key_ptrs[2], "pc:dc:u1:k1");
	CHECK_MSG(l.n == 3 && !l.memory_known, "memory empty: the Redis entry is fetched too");
	memory_put(&app, "u1", "k1", 9, &it);
	kv_cache_lookup_keys(&app, "u1", "k1", &l);
	CHECK_MSG(l.n == 2 && l.memory_known, "memory has an entry: only epoch and stamp");
	kv_cache_lookup_keys(&app, "u1", "k2", &l);
	CHECK(l.n == 3);
}

/* kv_cache_get() of u1/k1 with the replies epoch, stamp, entry (NULL: nil). */
static enum kv_store_result get(const char *epoch, const char *stamp, const char *entry,
    struct kv_store_item *out, enum kv_cache_tier *tier)
{
	struct kv_cache_lookup l;
	redisReply r[3];
	const redisReply *replies[3];
	const char *texts[3] = { epoch, stamp, entry };

	kv_cache_lookup_keys(&app, "u1", "k1", &l);
	for (int i = 0; i < 3; i++) {
		r[i] = texts[i] != NULL ? str_reply(texts[i]) : nil_reply();
		replies[i] = &r[i];
	}
	return kv_cache_get(&app, "u1", "k1", &l, replies, out, tier);
}

static void test_get_without_redis(void)
{
	struct kv_cache_lookup l;
	struct kv_store_item out;
	enum kv_cache_tier tier = KV_CACHE_MEMORY;
	const redisReply *none[3] = { NULL, NULL, NULL };

	reset();
	fake.pg_value = "\"pg\"";
	fake.pg_version = 2;
	kv_cache_lookup_keys(&app, "u1", "k1", &l);
	CHECK(kv_cache_get(&app, "u1", "k1", &l, NULL, &out, &tier) == KV_STORE_OK);
	CHECK_MSG(tier == KV_CACHE_POSTGRES && fake.pg_reads == 1, "no Redis replies: PostgreSQL answers");
	CHECK_STR(out.value, "\"pg\"");
	kv_store_item_free(&out);
	CHECK_MSG(fake.runs == 0 && fake.infos == 0, "and nothing is sent to Redis");
	kv_cache_lookup_keys(&app, "u1", "k1", &l);
	CHECK_MSG(l.n == 3, "and memory is not filled (it cannot be checked)");
	CHECK(kv_cache_get(&app, "u1", "k1", &l, none, &out, &tier) == KV_STORE_OK && tier == KV_CACHE_POSTGRES);
	kv_store_item_free(&out);
	CHECK(fake.pg_reads == 2 && fake.runs == 0);
}

static void test_get_tiers(void)
{
	struct kv_store_item out;
	enum kv_cache_tier tier;
	struct kv_store_item it = item_of("\"mem\"", 4);

	/* A current Redis entry: served from Redis, then memory holds it. */
	reset();
	CHECK(get("5", "5:8", "5:8:4:" AT "\n\"redis\"", &out, &tier) == KV_STORE_OK);
	CHECK_MSG(tier == KV_CACHE_REDIS && fake.pg_reads == 0, "a current Redis entry answers");
	CHECK_STR(out.value, "\"redis\"");
	CHECK(out.version == 4);
	kv_store_item_free(&out);
	CHECK(get("5", "5:8", NULL, &out, &tier) == KV_STORE_OK);
	CHECK_MSG(tier == KV_CACHE_MEMORY && fake.pg_reads == 0, "then the memory tier answers");
	CHECK_STR(out.value, "\"redis\"");
	CHECK(out.version == 4 && strcmp(out.updated_at, AT) == 0 && strcmp(out.key, "k1") == 0);
	kv_store_item_free(&out);

	/* Memory carries (epoch, gen); it answers only when both equal the stamp. */
	reset();
	memory_put(&app, "u1", "k1", 5, &it);
	CHECK(get("5", "5:8", NULL, &out, &tier) == KV_STORE_OK && tier == KV_CACHE_MEMORY);
	CHECK_STR(out.value, "\"mem\"");
	kv_store_item_free(&out);
	fake.pg_value = "\"pg\"";
	fake.pg_version = 5;
	CHECK(get("5", "5:10", NULL, &out, &tier) == KV_STORE_OK);
	CHECK_MSG(tier == KV_CACHE_POSTGRES && fake.pg_reads == 1,
	    "a newer stamp than memory's entry: PostgreSQL answers");
	CHECK_STR(out.value, "\"pg\"");
	kv_store_item_free(&out);
	CHECK_MSG(fake.runs == 1 && fake.script == &fill_script && strcmp(fake.args[3], "5") == 0 &&
		strcmp(fake.args[4], "10") == 0,
	    "and refills stamp and entry in the epoch it saw, gen 2 x version");
	CHECK_MSG(strcmp(fake.args[7], "5:10:5:" AT "\n\"pg\"") == 0 && fake.lens[7] == strlen(fake.args[7]),
	    "the refilled entry is <epoch>:<payload>");
	CHECK(get("5", "5:10", NULL, &out, &tier) == KV_STORE_OK && tier == KV_CACHE_MEMORY);
	kv_store_item_free(&out);
	reset();
	memory_put(&app, "u1", "k1", 4, &it);
	fake.pg_value = "1";
	CHECK(get("5", "5:8", NULL, &out, &tier) == KV_STORE_OK);
	CHECK_MSG(tier == KV_CACHE_POSTGRES, "memory's entry of an older epoch is not served");
	kv_store_item_free(&out);
}

static void test_get_stamps(void)
{
	struct kv_store_item out;
	enum kv_cache_tier tier;
	struct kv_store_item it = item_of("\"mem\"", 4);

	/* An odd gen is a delete: not found, without PostgreSQL, and memory forgets the key. */
	reset();
	memory_put(&app, "u1", "k1", 5, &it);
	CHECK(get("5", "5:9", NULL, &out, &tier) == KV_STORE_NOT_FOUND);
	CHECK_MSG(tier == KV_CACHE_REDIS && fake.pg_reads == 0, "a delete stamp answers 404 from Redis");
	{
		struct kv_cache_lookup l;

		kv_cache_lookup_keys(&app, "u1", "k1", &l);
		CHECK_MSG(l.n == 3, "and drops the memory entry");
	}

	/* A stamp of another epoch, or none: PostgreSQL, then a refill. */
	reset();
	fake.pg_value = "7";
	fake.pg_version = 1;
	CHECK(get("6", "5:8", "5:8:4:" AT "\n\"old\"", &out, &tier) == KV_STORE_OK);
	CHECK_MSG(tier == KV_CACHE_POSTGRES && strcmp(out.value, "7") == 0,
	    "a stamp of an older epoch: the Redis entry is not used");
	kv_store_item_free(&out);
	CHECK(fake.runs == 1 && fake.script == &fill_script && strcmp(fake.args[3], "6") == 0);
	reset();
	fake.pg_value = "7";
	CHECK(get("6", NULL, "6:0:0:" AT "\n\"x\"", &out, &tier) == KV_STORE_OK && tier == KV_CACHE_POSTGRES);
	kv_store_item_free(&out);
	CHECK_MSG(fake.runs == 1 && fake.script == &fill_script, "no stamp: PostgreSQL, then a refill");

	/* PostgreSQL has no such key: nothing is refilled. */
	reset();
	fake.pg_result = KV_STORE_NOT_FOUND;
	CHECK(get("6", NULL, NULL, &out, &tier) == KV_STORE_NOT_FOUND && fake.runs == 0);

	/* No epoch in Redis (flushed): PostgreSQL, and an epoch is started. */
	reset();
	fake.pg_value = "7";
	CHECK(get(NULL, "5:8", "5:8:4:" AT "\n\"old\"", &out, &tier) == KV_STORE_OK && tier == KV_CACHE_POSTGRES);
	kv_store_item_free(&out);
	CHECK_MSG(fake.runs == 1 && fake.script == &bump_script && strcmp(fake.args[2], "1") == 0,
	    "no epoch: the bump script starts one, forced");
	reset();
	fake.pg_result = KV_STORE_DOWN;
	CHECK(get(NULL, NULL, NULL, &out, &tier) == KV_STORE_DOWN);
	CHECK_MSG(fake.runs == 0, "no epoch and PostgreSQL down: no epoch is started");
	reset();
	fake.pg_result = KV_STORE_NOT_FOUND;
	CHECK(get("garbage", NULL, NULL, &out, &tier) == KV_STORE_NOT_FOUND);
	CHECK_MSG(fake.runs == 1 && fake.script == &bump_script, "an epoch that is no number counts as none");
}

static void test_written(void)
{
	struct kv_store_item it = item_of("{\"v\":1}", 3), out;
	enum kv_cache_tier tier;

	/* A write: stamp gen 2 x version and the payload; memory is left to reads. */
	reset();
	fake.answer = "77";
	kv_cache_written(&app, "u1", "k1", 3, &it);
	CHECK(fake.runs == 1 && fake.script == &write_script && fake.nkeys == 3 && fake.nargs == 7);
	CHECK_STR(fake.args[0], "pc:epoch");
	CHECK_STR(fake.args[1], "pc:dv:u1:k1");
	CHECK_STR(fake.args[2], "pc:dc:u1:k1");
	CHECK_STR(fake.args[3], "6");
	CHECK_STR(fake.args[4], "86400");
	CHECK_STR(fake.args[5], "60");
	CHECK_STR(fake.args[6], "6:3:" AT "\n{\"v\":1}");
	CHECK(dirty == 0 && fake.fails == 0);
	{
		struct kv_cache_lookup l;

		kv_cache_lookup_keys(&app, "u1", "k1", &l);
		CHECK_MSG(l.n == 3, "a write leaves nothing of the key in memory");
	}
	/* The next read takes the entry from Redis, and memory from there. */
	CHECK(get("77", "77:6", "77:6:3:" AT "\n{\"v\":1}", &out, &tier) == KV_STORE_OK &&
	    tier == KV_CACHE_REDIS);
	CHECK_STR(out.value, "{\"v\":1}");
	kv_store_item_free(&out);
	CHECK(get("77", "77:6", NULL, &out, &tier) == KV_STORE_OK && tier == KV_CACHE_MEMORY);
	kv_store_item_free(&out);

	/* A delete: gen 2 x version + 1, no payload, memory dropped. */
	kv_cache_written(&app, "u1", "k1", 3, NULL);
	CHECK_STR(fake.args[3], "7");
	CHECK_MSG(fake.lens[6] == 0, "a delete sends an empty payload");
	{
		struct kv_cache_lookup l;

		kv_cache_lookup_keys(&app, "u1", "k1", &l);
		CHECK_MSG(l.n == 3, "a delete drops the memory entry");
	}

	/* CACHE_TTL=0: no entry is cached, the stamp still moves. */
	reset();
	app.cfg.cache_ttl = 0;
	fake.answer = "77";
	kv_cache_written(&app, "u1", "k1", 3, &it);
	CHECK_MSG(fake.runs == 1 && fake.lens[6] == 0 && strcmp(fake.args[3], "6") == 0,
	    "CACHE_TTL=0: the stamp moves, no entry");

	/* Redis fails once: one retry at once on a fresh connection. */
	reset();
	fake.answer = "77";
	fake.fail = 1;
	kv_cache_written(&app, "u1", "k1", 3, &it);
	CHECK_MSG(fake.runs == 2 && fake.retries == 1 && dirty == 0 && fake.fails == 0,
	    "a failed write to Redis is retried once at once");

	/* Redis fails twice: dirty, and the connection is failed. */
	reset();
	fake.fail = 2;
	kv_cache_written(&app, "u1", "k1", 3, &it);
	CHECK_MSG(dirty == 1 && fake.fails == 1, "Redis missed the write: the epoch must move on reconnect");
	{
		struct kv_cache_lookup l;

		kv_cache_lookup_keys(&app, "u1", "k1", &l);
		CHECK_MSG(l.n == 3, "and memory holds nothing of it");
	}
	/* An answer that is no epoch: dirty too, but the connection stays. */
	reset();
	fake.answer = NULL; /* an integer reply */
	kv_cache_written(&app, "u1", "k1", 3, &it);
	CHECK(dirty == 1 && fake.fails == 0);
}

/* kv_cache_on_reconnect() on a connection after an outage (`outage`) or not. */
static int reconnect(int outage)
{
	app.redis.outage_seen = outage;
	return kv_cache_on_reconnect(&app);
}

static void test_reconnect(void)
{
	struct kv_store_item it = item_of("1", 1);
	struct kv_cache_lookup l;

	reset();
	fake.answer = "100";
	CHECK(reconnect(0) == 0);
	CHECK_MSG(fake.runs == 1 && fake.script == &bump_script && strcmp(fake.args[2], "0") == 0 &&
		strcmp(fake.args[3], fake.run_id) == 0,
	    "a clean reconnect asks for a bump only if the server changed (its run_id)");

	memory_put(&app, "u1", "k1", 5, &it);
	CHECK(reconnect(1) == 0 && strcmp(fake.args[2], "1") == 0);
	kv_cache_lookup_keys(&app, "u1", "k1", &l);
	CHECK_MSG(l.n == 3, "after an outage the epoch is forced on and memory cleared");

	reset();
	fake.answer = "100";
	dirty = 1;
	CHECK(reconnect(0) == 0 && strcmp(fake.args[2], "1") == 0);
	CHECK_MSG(dirty == 0, "a missed write forces the bump once, then is forgotten");

	reset();
	fake.answer = "100";
	fake.run_id = NULL;
	CHECK(reconnect(0) == 0);
	CHECK_MSG(strcmp(fake.args[2], "1") == 0 && fake.args[3][0] == '\0',
	    "a server that cannot be told apart forces the bump");

	reset();
	dirty = 1;
	fake.fail = 1;
	CHECK_MSG(reconnect(1) == -1 && dirty == 1,
	    "a failed bump is -1 and keeps the write missed");
	fake.answer = NULL;
	CHECK_MSG(reconnect(0) == -1, "a bump whose answer is no epoch is -1");
}

int main(void)
{
	test_memory_key();
	test_reply_int();
	test_parse_stamp();
	test_parse_entry();
	test_entry_payload();
	test_lookup_keys();
	test_get_without_redis();
	test_get_tiers();
	test_get_stamps();
	test_written();
	test_reconnect();
	reset(); /* frees the memory tier */
	return check_summary();
}
