/*
 * data_key.c - see data_key.h.
 */
#include "data_key.h"

#include "crypto.h"

static int is_key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '~' || c == '-';
}

int data_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > DATA_KEY_LEN_MAX)
		return 0;
	if ((len == 1 && key[0] == '.') || (len == 2 && key[0] == '.' && key[1] == '.'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_key_char((unsigned char)key[i]))
			return 0;
	return 1;
}

int data_key_decode(const char *raw, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)raw[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			if ((hi = crypto_hex_digit(raw[i + 1])) < 0 || (lo = crypto_hex_digit(raw[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (!is_key_char((unsigned char)c) || n >= DATA_KEY_LEN_MAX)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return data_key_valid(out, n) ? 0 : -1;
}
