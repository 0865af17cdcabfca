-- lighttpd/cors.lua - CORS for portcullis, run by mod_magnet on every HTTPS
-- request before routing (magnet.attract-raw-url-to in lighttpd.conf.in).
--
-- The allowed origins are CORS_ALLOWED_ORIGINS from lighttpd's environment:
-- the very variable the responders read (web.sh starts lighttpd with their
-- environment), split on commas and trimmed as lib/auth.c does, compared
-- exactly.  A request whose Origin is one of them gets
-- Access-Control-Allow-Origin (that origin), -Allow-Credentials, -Expose-Headers
-- and Vary: Origin; an OPTIONS from it is a preflight, answered 204 here with
-- the allowed methods and headers, so it never reaches a responder and is
-- never counted by the rate limits.  A foreign origin gets no CORS header
-- at all; its preflight (an OPTIONS with Origin and
-- Access-Control-Request-Method) is answered 204 here too, without them (the
-- browser then refuses), so no preflight ever reaches a responder.  Any
-- other request passes untouched (an OPTIONS that is no preflight reaches
-- the application, which answers 405).  apache/httpd.conf.in does the same.

local r = lighty.r
if r.req_attr["uri.scheme"] ~= "https" then
	return 0
end
local origin = r.req_header["Origin"]
if origin == nil then
	return 0
end
local preflight = r.req_attr["request.method"] == "OPTIONS"
	and r.req_header["Access-Control-Request-Method"] ~= nil
local list = os.getenv("CORS_ALLOWED_ORIGINS") or ""

local allowed = false
for item in string.gmatch(list, "[^,]+") do
	if item:match("^[ \t]*(.-)[ \t]*$") == origin then
		allowed = true
		break
	end
end
if not allowed then
	return preflight and 204 or 0
end

local h = r.resp_header
h["Access-Control-Allow-Origin"] = origin
h["Access-Control-Allow-Credentials"] = "true"
h["Access-Control-Expose-Headers"] = "ETag, RateLimit, RateLimit-Policy, RateLimit-Limit, "
	.. "RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id"
h["Vary"] = "Origin"

if r.req_attr["request.method"] == "OPTIONS" then
	h["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
	h["Access-Control-Allow-Headers"] = "Content-Type, Authorization, If-Match, If-None-Match, X-Request-Id"
	h["Access-Control-Max-Age"] = "600"
	return 204
end
return 0
