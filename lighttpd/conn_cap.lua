-- lighttpd/conn_cap.lua - at most WEB_MAX_CONNS_PER_IP connections per
-- client address (default 32; 0 turns it off), run by mod_magnet on every
-- request before anything else (magnet.attract-raw-url-to in
-- lighttpd.conf.in).  The addresses of TRUSTED_PROXIES are exempt: for
-- them lighttpd.conf runs the same scripts without this one.
--
-- lighttpd 1.4.69 has no per-address limit of its own (mod_evasive is gone,
-- and it counted only connections past their request headers).  Here every
-- open connection of the client's address counts, idle ones and ones still
-- sending their request included (lighty.server.irequests() walks all of
-- them; an HTTP/2 connection is counted once, by its port); a request over
-- the cap is answered 503 and its connection closed.  What this cannot do:
-- close the idle connections themselves, or refuse a connection before it
-- sends a request (lighttpd offers no hook there): those are dropped by
-- server.max-read-idle (WEB_READ_TIMEOUT) and bounded overall by
-- server.max-connections.

local cap = tonumber(os.getenv("WEB_MAX_CONNS_PER_IP") or "32") or 32
if cap <= 0 then
	return 0
end
local r = lighty.r
local peer = r.req_attr["request.remote-addr"]
if peer == nil or peer == "" then
	return 0
end

local ports, n = {}, 0
for other in lighty.server.irequests() do
	if other.req_attr["request.remote-addr"] == peer then
		local port = other.req_attr["request.remote-port"]
		if not ports[port] then
			ports[port] = true
			n = n + 1
			if n > cap then
				break
			end
		end
	end
end
if n <= cap then
	return 0
end
-- (lighttpd/errors.lua turns the 503 into the JSON envelope, Retry-After too)
r.req_item["keep_alive"] = 0
return 503
