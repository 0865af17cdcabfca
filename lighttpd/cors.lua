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
-- never counted by the rate limits.  Any other request passes untouched: a
-- foreign origin gets no CORS header at all, and its OPTIONS reaches the
-- application, which answers 405.  apache/httpd.conf.in does the same.

local origin = lighty.r.req_header["Origin"]
if origin == nil then
	return 0
end
local list = os.getenv("CORS_ALLOWED_ORIGINS")
if list == nil then
	return 0
end

local allowed = false
for item in string.gmatch(list, "[^,]+") do
	if item:match("^[ \t]*(.-)[ \t]*$") == origin then
		allowed = true
		break
	end
end
if not allowed then
	return 0
end

local h = lighty.r.resp_header
h["Access-Control-Allow-Origin"] = origin
h["Access-Control-Allow-Credentials"] = "true"
h["Access-Control-Expose-Headers"] = "ETag, RateLimit, RateLimit-Policy, RateLimit-Limit, "
	.. "RateLimit-Remaining, RateLimit-Reset, Retry-After, X-Request-Id"
h["Vary"] = "Origin"

if lighty.r.req_attr["request.method"] == "OPTIONS" then
	h["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
	h["Access-Control-Allow-Headers"] = "Content-Type, Authorization, If-Match, If-None-Match, X-Request-Id"
	h["Access-Control-Max-Age"] = "600"
	return 204
end
return 0
