-- lighttpd/edge.lua - the request as sent, for portcullis; run by mod_magnet
-- on every request after parsing, before routing (magnet.attract-raw-url-to
-- in lighttpd.conf.in; lighttpd 1.4.69 runs it at its "uri clean" step).
--
-- 1. A request header is read only under its own name.  lighttpd hands
--    every request header to FastCGI as HTTP_<NAME> with "-" turned into
--    "_", so X_Forwarded_For and X-Forwarded-For both become
--    HTTP_X_FORWARDED_FOR and the last one wins: behind a proxy that
--    forwards underscore headers a client could replace the address the
--    proxy added.  Every header whose name holds "_" is dropped here, as
--    Apache does.
-- 2. Routing sees the path as sent.  lighttpd matches $HTTP["url"] against
--    the decoded path with "." and ".." segments folded, so
--    /api/data/%2e%2e%2fx was matched as /api/x and /api/data/%ff%fe (not
--    UTF-8) matched nothing.  For a path under /api (and /metrics) the path
--    routed on becomes the raw one, with every byte outside
--    [A-Za-z0-9/_~%-] written as %XX ("." included, so no dot segment is
--    left and every byte is ASCII).  The responders read REQUEST_URI, which
--    is never changed.  Every such path goes to a FastCGI responder; none is
--    ever looked up on disk.
-- 3. /metrics goes to the metrics responder only from a loopback peer or
--    with an "Authorization: Bearer" header (METRICS_TOKEN, checked by the
--    responder); anyone else gets health's JSON 404 (routed as
--    /metrics-refused).  The responder checks the client and the token again.

local r = lighty.r

if r.req_attr["uri.scheme"] ~= "https" then
	return 0
end

-- 1. underscore headers
local drop = {}
for name, _ in pairs(r.req_header) do
	if string.find(name, "_", 1, true) then
		drop[#drop + 1] = name
	end
end
for _, name in ipairs(drop) do
	r.req_header[name] = nil
end

-- 2. route on the raw path
local target = r.req_attr["request.uri"] or ""
local raw = string.match(target, "^[^?#]*")
if raw == "/api" or string.sub(raw, 1, 5) == "/api/" or raw == "/metrics" then
	local path = string.gsub(raw, "[^A-Za-z0-9/_~%%-]", function(c)
		return string.format("%%%02X", string.byte(c))
	end)
	if path == "/metrics" then
		local peer = r.req_attr["request.remote-addr"] or ""
		local auth = r.req_header["Authorization"] or ""
		local loopback = string.match(peer, "^127%.") or peer == "::1"
			or string.match(peer, "^::[fF][fF][fF][fF]:127%.")
		if not loopback and not string.match(auth, "^[Bb][Ee][Aa][Rr][Ee][Rr] ") then
			path = "/metrics-refused"
		end
	end
	if path ~= r.req_attr["uri.path"] then
		r.req_attr["uri.path"] = path
	end
end
return 0
