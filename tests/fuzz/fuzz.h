/*
 * fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share.
 *
 * Each harness is one file with LLVMFuzzerTestOneInput() over one entry
 * point that takes bytes from the wire.  Inputs are copied into buffers of
 * exactly their size, so AddressSanitizer sees a read one byte past the end;
 * a harness frees everything it made (LeakSanitizer is on) and touches no
 * network and no file.  A harness that wants several strings from one input
 * splits it at '\n' with fuzz_split().
 */
#ifndef PORTCULLIS_FUZZ_H
#define PORTCULLIS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A malloc'd NUL-terminated copy of data[0..size), sized exactly. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * The next piece of *data up to a '\n' (or the end): a fuzz_str() copy the
 * caller frees, possibly holding NUL bytes (then it reads as shorter).
 * Advances *data / *size past the piece and its '\n'.  *len gets its length.
 */
static inline char *fuzz_split(const uint8_t **data, size_t *size, size_t *len)
{
	const uint8_t *nl = *size > 0 ? memchr(*data, '\n', *size) : NULL;
	size_t n = nl != NULL ? (size_t)(nl - *data) : *size;
	char *s = fuzz_str(*data, n);

	*len = n;
	*data += n;
	*size -= n;
	if (nl != NULL) {
		(*data)++;
		(*size)--;
	}
	return s;
}

/* Aborts (a crash libFuzzer keeps) when an invariant of the code under test fails. */
#define FUZZ_ASSERT(cond)                                                             \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz assertion failed: %s (%s:%d)\n", #cond, \
			    __FILE__, __LINE__);                                      \
			abort();                                                      \
		}                                                                     \
	} while (0)

#endif
