/*
 * etag.h - the entity tags of the data API and the conditions a request
 * puts on them (If-Match, If-None-Match).
 *
 * A value's ETag is its version in quotes ("3"), so a tag is parsed into
 * the version it names; a tag that is not one of ours ("abc", W/"x") names
 * nothing and so matches nothing.  At most ETAG_LIST_MAX tags of a header
 * are kept (the rest are ignored), so the store hands PostgreSQL one
 * bounded array.
 */
#ifndef PORTCULLIS_ETAG_H
#define PORTCULLIS_ETAG_H

#define ETAG_LIST_MAX 16

/* Conditions from If-Match / If-None-Match. */
struct etag_cond {
	int if_match;      /* header present */
	int if_match_any;  /* `*` */
	int if_match_n;
	long long if_match_v[ETAG_LIST_MAX];
	int if_none_match;
	int if_none_match_any;
	int if_none_match_n;
	long long if_none_match_v[ETAG_LIST_MAX];
};

/*
 * Parses an If-Match / If-None-Match value: `*`, or a list of entity tags
 * ("3", W/"4").  Tags that are not ours ("abc") match nothing.  `weak`
 * allows W/ tags (If-None-Match); If-Match compares strongly.
 */
void etag_parse_list(const char *header, int weak, int *present, int *any, int *n, long long *v);

#endif
