/*
 * redis_sentinel.h - finding the Redis master through Redis Sentinel.
 *
 * With REDIS_SENTINELS set, a process does not connect to REDIS_URL's host:
 * before every new connection it asks the Sentinels, in the order given,
 * `SENTINEL get-master-addr-by-name REDIS_MASTER_NAME`, takes the first
 * answer, connects there (REDIS_URL's credentials and database), and
 * checks with `ROLE` that the server is a master before using it.  A
 * connection that breaks, or a `-READONLY` reply (the server was demoted),
 * drops the connection (redis.c); the next one asks the Sentinels again.
 * A live connection is also checked against the Sentinels' answer at most
 * every REDIS_SENTINEL_CHECK_MS, at its next use, and dropped when they name
 * another master.
 * When the answer names another server than this process used before, the
 * connection is treated like one after an outage (redis.h's outage_seen):
 * the data cache epoch moves forward and revocations are replayed from
 * PostgreSQL before Redis is trusted, because a promoted replica may lack
 * the last writes of the old master.
 */
#ifndef PORTCULLIS_REDIS_SENTINEL_H
#define PORTCULLIS_REDIS_SENTINEL_H

#include "redis.h"

#include <stddef.h>

#define REDIS_SENTINEL_TIMEOUT_MS 300
/*
 * How often a live connection is checked against the Sentinels' answer: a
 * planned switchover (SENTINEL FAILOVER) leaves the old master up and
 * writable until Sentinel converts it, seconds later, and keeps our
 * connection to it open meanwhile.
 */
#define REDIS_SENTINEL_CHECK_MS 250
/* A fresh connection's second replay: well past every process' check. */
#define REDIS_SENTINEL_RESYNC_MS (8 * REDIS_SENTINEL_CHECK_MS)
#define REDIS_HOST_MAX 256

/*
 * Switches `r` (already set up by redis_init) to Sentinel discovery:
 * `list` is "host:port,host:port,..." (IPv6 as [addr]:port; blanks around
 * entries ignored; at most REDIS_SENTINELS_MAX), `master_name` the
 * Sentinels' name of the master, `password` the Sentinels' own password
 * (NULL: none).  An empty `list` leaves `r` as it was.  Returns 0, or -1
 * with a message naming the variable in `err` (never a password).
 */
int redis_sentinel_init(struct redis *r, const char *list, const char *master_name,
    const char *password, char *err, size_t errlen);

/*
 * The master's address from a reply to SENTINEL get-master-addr-by-name
 * (an array of two strings: address and port).  0 with `host` and `port`
 * set, -1 when the reply is anything else (nil: the name is unknown).
 */
int redis_sentinel_parse_master(const redisReply *rep, char *host, size_t hostlen, int *port);

/* 1 when a reply to ROLE says "master", else 0. */
int redis_role_is_master(const redisReply *rep);

/*
 * Asks the Sentinels of `r` for the master's address: first the one that
 * answered last, over the connection kept open to it, then each in turn.
 * 0 with `host`/`port` from the first that answers with one, -1 when none
 * does.
 */
int redis_sentinel_locate(struct redis *r, char *host, size_t hostlen, int *port);

/* Closes the kept Sentinel connection.  Idempotent. */
void redis_sentinel_close(struct redis *r);

#endif
