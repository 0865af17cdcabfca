/*
 * test_log.c - unit tests of lib/log.c's lines.
 *
 * Each line is one JSON object: ts, level, msg, process, then the fields in
 * their order, escaped as cJSON escapes them, numbers as cJSON prints them,
 * and one newline.  The lines are written to a file in a temporary directory
 * and read back.
 */
#include "log.h"
#include "check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/portcullis-test-log-XXXXXX";
static char path[256];
static long offset;

/* The next line written to the log file since the last call (static buffer). */
static const char *next_line(void)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	buf[0] = '\0';
	if (f == NULL)
		return buf;
	if (fseek(f, offset, SEEK_SET) == 0 && fgets(buf, sizeof(buf), f) != NULL)
		n = strlen(buf);
	fclose(f);
	offset += (long)n;
	return buf;
}

/* The line cJSON itself would print for the same event, with `ts` replaced. */
static char *cjson_line(const char *ts, const char *level, const char *msg, cJSON *fields)
{
	cJSON *o = cJSON_CreateObject(), *it;
	char *s, *out;

	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "level", level);
	cJSON_AddStringToObject(o, "msg", msg);
	cJSON_AddStringToObject(o, "process", "unit");
	cJSON_ArrayForEach(it, fields)
		cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	out = malloc(strlen(s) + 2);
	sprintf(out, "%s\n", s);
	free(s);
	return out;
}

/* Logs `fields` (a copy) and checks the line against cJSON's own rendering. */
static void same_as_cjson(const char *what, cJSON *fields)
{
	const char *got;
	cJSON *parsed, *ts;
	char *want;

	log_event(LOG_INFO, "event", cJSON_Duplicate(fields, 1));
	got = next_line();
	parsed = cJSON_Parse(got);
	ts = cJSON_GetObjectItemCaseSensitive(parsed, "ts");
	CHECK_MSG(parsed != NULL && cJSON_IsString(ts), what);
	if (parsed == NULL || !cJSON_IsString(ts)) {
		cJSON_Delete(parsed);
		cJSON_Delete(fields);
		return;
	}
	want = cjson_line(ts->valuestring, "info", "event", fields);
	CHECK_MSG(strcmp(got, want) == 0, what);
	if (strcmp(got, want) != 0)
		printf("#   got  %s#   want %s", got, want);
	free(want);
	cJSON_Delete(parsed);
	cJSON_Delete(fields);
}

int main(void)
{
	cJSON *f;
	const char *got;
	char big[5000];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/log.jsonl", dir);
	CHECK(log_init("unit", LOG_INFO, path) == 0);

	/* The fixed members, in order, and a timestamp of the documented shape. */
	log_msg(LOG_WARN, "hello");
	got = next_line();
	CHECK(strncmp(got, "{\"ts\":\"", 7) == 0);
	CHECK(strlen(got) > 31 && got[17] == 'T' && got[30] == 'Z');
	CHECK(strstr(got, "\",\"level\":\"warn\",\"msg\":\"hello\",\"process\":\"unit\"}\n") != NULL);

	/* Below the threshold: nothing written, the fields still freed (ASan). */
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "x", "y");
	log_event(LOG_DEBUG, "quiet", f);
	CHECK_STR(next_line(), "");

	/* Strings: quotes, backslashes, every control character, bytes >= 0x80. */
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "quote", "a\"b\\c/d");
	cJSON_AddStringToObject(f, "controls", "\x01\b\f\n\r\t\x1f\x7f");
	cJSON_AddStringToObject(f, "utf8", "caf\xc3\xa9 \xe2\x82\xac");
	cJSON_AddStringToObject(f, "ke\"y\n", "value");
	cJSON_AddStringToObject(f, "empty", "");
	same_as_cjson("strings escaped as cJSON escapes them", f);

	/* Numbers: integers, the request's milliseconds, huge, tiny, negative, NaN. */
	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "status", 200);
	cJSON_AddNumberToObject(f, "zero", 0);
	cJSON_AddNumberToObject(f, "neg", -42);
	cJSON_AddNumberToObject(f, "duration_ms", 0.123);
	cJSON_AddNumberToObject(f, "third", 1.0 / 3.0);
	cJSON_AddNumberToObject(f, "big", 1e300);
	cJSON_AddNumberToObject(f, "tiny", 5e-324);
	cJSON_AddNumberToObject(f, "pid", 4194304);
	same_as_cjson("numbers printed as cJSON prints them", f);
	/* Integers beyond an int, which cJSON rounds to 15 digits, stay exact. */
	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "two53", 9007199254740992.0);
	cJSON_AddNumberToObject(f, "served", 3000000000.0);
	log_event(LOG_INFO, "event", f);
	got = next_line();
	CHECK(strstr(got, ",\"two53\":9007199254740992,\"served\":3000000000}\n") != NULL);
	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "nan", NAN);
	cJSON_AddNumberToObject(f, "inf", INFINITY);
	same_as_cjson("NaN and infinity as null", f);

	/* Literals and nested values. */
	f = cJSON_CreateObject();
	cJSON_AddTrueToObject(f, "t");
	cJSON_AddFalseToObject(f, "f");
	cJSON_AddNullToObject(f, "n");
	cJSON_AddItemToObject(f, "obj", cJSON_Parse("{\"a\":[1,\"x\\n\",{\"b\":null}]}"));
	same_as_cjson("literals and nested values", f);

	/* A line longer than the stack buffer. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "big", big);
	cJSON_AddStringToObject(f, "after", "\n");
	same_as_cjson("a long line", f);

	/* No fields at all. */
	log_event(LOG_ERROR, "bare", NULL);
	got = next_line();
	CHECK(strstr(got, "\"level\":\"error\",\"msg\":\"bare\",\"process\":\"unit\"}\n") != NULL);

	log_close();
	unlink(path);
	rmdir(dir);
	return check_summary();
}
