/*
 * apache/portcullis_one_process.h - shared by our Apache modules, whose
 * state (a table, a queue) lives in one server process: the check that the
 * MPM never runs more than one.  Included by each module's .c (each .so is
 * built alone by apxs).
 */
#ifndef PORTCULLIS_ONE_PROCESS_H
#define PORTCULLIS_ONE_PROCESS_H

#include "httpd.h"
#include "http_log.h"
#include "ap_mpm.h"

/*
 * OK when the MPM runs at most one server process; else logs why
 * `directive` cannot work and returns HTTP_INTERNAL_SERVER_ERROR, which
 * stops Apache at start.
 */
static int portcullis_one_process(server_rec *s, const char *directive)
{
	int daemons = 0;

	if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) == APR_SUCCESS && daemons == 1)
		return OK;
	ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s,
	    "%s needs one server process (a threaded MPM with ServerLimit 1); this MPM may run %d",
	    directive, daemons);
	return HTTP_INTERNAL_SERVER_ERROR;
}

#endif
