-- lighttpd/errors.lua - lighttpd's own error answers in the contract's
-- JSON envelope; run by mod_magnet on every response just before its
-- headers go out (magnet.attract-response-start-to in lighttpd.conf.in, at
-- the top level: lighttpd runs it for its own parse errors too, which see
-- no conditional block but $SERVER["socket"] and $HTTP["remoteip"]).
--
-- A status of 400 or more whose body is lighttpd's own page (text/html, or
-- none at all) gets the envelope instead, with Cache-Control: no-store and
-- an X-Request-Id that error.request_id repeats: a well-formed incoming
-- X-Request-Id (1-64 of [A-Za-z0-9._-]) is echoed, else one is made.  The
-- responders answer in JSON themselves and are never touched: their
-- Content-Type is application/json.  A 503 (a responder down, or the
-- per-address cap of conn_cap.lua) adds Retry-After.

local r = lighty.r
local status = r.req_item["http_status"]
if status < 400 then
	return 0
end
local ct = r.resp_header["Content-Type"]
if ct ~= nil and ct ~= "" and not string.match(ct, "^text/html") then
	return 0
end

-- Each status is answered with a status and code of the contract's table;
-- one whose code the contract does not have goes out as the nearest that
-- has one, as lib/web_error.c answers Apache's (403 as 404 not_found; 408,
-- 417, 501 and 505 as 400 bad_request; 502 as 500; 504 as 503).
local answers = {
	[400] = { 400, "bad_request", "the request is malformed" },
	[403] = { 404, "not_found", "no such resource" },
	[404] = { 404, "not_found", "no such resource" },
	[405] = { 405, "method_not_allowed", "method not allowed" },
	[408] = { 400, "bad_request", "the request took too long" },
	[411] = { 411, "length_required", "send Content-Length (Content-Length: 0 with an empty POST)" },
	[413] = { 413, "payload_too_large", "the request body is over the limit" },
	[414] = { 414, "uri_too_long", "the request URI is over the limit" },
	[417] = { 400, "bad_request", "the Expect header cannot be met" },
	[431] = { 431, "header_fields_too_large", "the request header section is over the limit" },
	[500] = { 500, "internal_error", "internal error" },
	[501] = { 400, "bad_request", "the request method is not supported" },
	[502] = { 500, "internal_error", "internal error" },
	[503] = { 503, "service_unavailable", "the service is unavailable" },
	[504] = { 503, "service_unavailable", "the service is unavailable" },
	[505] = { 400, "bad_request", "HTTP version not supported" },
}
local entry = answers[status]
if entry == nil then
	entry = status < 500 and { 400, "bad_request", "the request was refused" }
		or { 500, "internal_error", "internal error" }
end
status = entry[1]

local id = r.req_header["X-Request-Id"]
if id == nil or #id < 1 or #id > 64 or string.find(id, "[^A-Za-z0-9._-]") then
	id = string.format("%08x%08x%08x%08x", lighty.c.rand() % 4294967296,
		lighty.c.rand() % 4294967296, lighty.c.rand() % 4294967296,
		lighty.c.rand() % 4294967296)
end

local h = r.resp_header
h["Content-Type"] = "application/json; charset=utf-8"
h["Cache-Control"] = "no-store"
h["X-Request-Id"] = id
if status == 503 then
	h["Retry-After"] = "1"
end
r.resp_body.set({ '{"error":{"code":"' .. entry[2] .. '","message":"' .. entry[3]
	.. '","request_id":"' .. id .. '"}}' })
-- Returning the status sets it and marks the new body complete (it is
-- sent with its Content-Length, not chunked without an end).
return status
