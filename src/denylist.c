/*
 * denylist.c - bin/portcullis-denylist: builds the passwdqc filter of a
 * plain list of common passwords (one a line), normalised as the responders
 * look passwords up (denylist.h), with pwqfilter.
 *
 *   portcullis-denylist LIST FILTER
 *
 * `make` uses it for the shipped list (scripts/build-denylist.sh); the
 * responders do the same by themselves for PASSWORD_DENYLIST.
 */
#include "denylist.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	char err[CFG_ERR_MAX] = "";
	long n;

	if (argc != 3) {
		fprintf(stderr, "usage: portcullis-denylist LIST FILTER\n");
		return 2;
	}
	if ((n = deny_build(argv[1], argv[2], err, sizeof(err))) < 0) {
		fprintf(stderr, "portcullis-denylist: %s\n", err);
		return 1;
	}
	printf("portcullis-denylist: %ld entries from %s into %s\n", n, argv[1], argv[2]);
	return 0;
}
