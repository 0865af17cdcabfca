/*
 * env_file.c - fuzzes the `.env` parser and the typed configuration table
 * (lib/config.c) through cfg_load_text(), so no file is written.
 *
 * The process environment is emptied first: the input alone decides.  An
 * input naming a _FILE twin (JWT_SECRET_FILE=...) is skipped: that reads a
 * file, and a harness touches none.  A load that fails must leave a message; one that succeeds must hold values
 * within their documented bounds, and cfg_warnings() and cfg_free() must
 * cope with it.
 */
#include "config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return clearenv();
}

static void warn(const char *msg)
{
	FUZZ_ASSERT(msg != NULL && msg[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[CFG_ERR_MAX];

	if (memmem(data, size, "_FILE", 5) != NULL)
		return 0;
	err[0] = '\0';
	if (cfg_load_text(&cfg, (const char *)data, size, ".env", err, sizeof(err)) != 0) {
		FUZZ_ASSERT(err[0] != '\0' && strlen(err) < sizeof(err));
		return 0;
	}
	FUZZ_ASSERT(cfg.database_url != NULL && cfg.database_url[0] != '\0');
	FUZZ_ASSERT(cfg.redis_url != NULL && cfg.redis_url[0] != '\0');
	FUZZ_ASSERT(cfg.jwt_secret != NULL && strlen(cfg.jwt_secret) >= 32);
	FUZZ_ASSERT(cfg.ip_hash_secret != NULL && strlen(cfg.ip_hash_secret) >= 32);
	FUZZ_ASSERT(cfg.access_token_ttl >= 30 && cfg.access_token_ttl <= 86400);
	FUZZ_ASSERT(cfg.bcrypt_cost >= 4 && cfg.bcrypt_cost <= 31);
	FUZZ_ASSERT(cfg.password_min_length >= 1 && cfg.password_min_length <= 128);
	FUZZ_ASSERT(cfg.rate_limit_auth.limit >= 0 && cfg.rate_limit_api.limit >= 0);
	FUZZ_ASSERT(cfg_jwt_alg_name(cfg.jwt_algorithm) != NULL);
	for (const char *s = cfg.jwt_secret; *s != '\0'; s++)
		FUZZ_ASSERT((unsigned char)*s >= 0x20 && *s != 0x7f);
	cfg_warnings(&cfg, warn);
	cfg_free(&cfg);
	cfg_free(&cfg);
	return 0;
}
