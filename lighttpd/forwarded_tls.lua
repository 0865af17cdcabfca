-- lighttpd/forwarded_tls.lua - a request that a trusted proxy forwarded
-- over plain HTTP from its own TLS (a TLS-terminating proxy or ingress in
-- front) is served as an HTTPS request.  Run by mod_magnet first, and only
-- for the peers of TRUSTED_PROXIES (the $HTTP["remoteip"] blocks web.sh
-- writes into lighttpd.conf): a client's own X-Forwarded-Proto is never read.
--
-- The header counts only under its own name and as one value, exactly
-- "https" (case aside): two headers (lighttpd joins them with ", "), a list
-- or anything else leave the request plain, and plain HTTP only redirects
-- to HTTPS.  The scheme set here is what the rest of the configuration
-- sees: no redirect, edge.lua's and cors.lua's work, and HTTPS=on for the
-- responders; the HTTPS headers (HSTS, nosniff) are set here.

local r = lighty.r
if r.req_attr["uri.scheme"] ~= "http" then
	return 0
end
local proto = r.req_header["X-Forwarded-Proto"]
if proto ~= nil and string.lower(proto) == "https" then
	r.req_attr["uri.scheme"] = "https"
	-- The HTTPS headers of lighttpd.conf (setenv.set-response-header):
	-- mod_setenv has already taken this request for a plain one.
	r.resp_header["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
	r.resp_header["X-Content-Type-Options"] = "nosniff"
end
return 0
