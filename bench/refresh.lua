-- bench/refresh.lua - POST /api/auth/refresh in bearer mode: each request
-- rotates a session's refresh token and the next request of that session
-- uses the new one.  BENCH_REFRESH_FILE holds sessions made for this run
-- (one per user, "username<TAB>refresh token"); each thread takes every
-- n-th of them.  A session is in flight at most once: request() takes an
-- idle one, response() puts it back with the token of the answer (it finds
-- the session by the username in the body).  An answer without one (the
-- ceiling's, or an error) gives back the oldest session in flight as it was.
local common = dofile("bench/common.lua")
local idle, inflight, byname = {}, {}, {}
setup = common.setup
function init(args)
	local tid, nthreads = common.tid(), tonumber(os.getenv("BENCH_THREADS")) or 1
	local rows = common.rows(os.getenv("BENCH_REFRESH_FILE"))
	for n, r in ipairs(rows) do
		if n % nthreads == tid % nthreads then
			local s = { name = r[1], token = r[2] }
			byname[s.name] = s
			idle[#idle + 1] = s
		end
	end
	assert(#idle > 0, "no sessions for this thread in BENCH_REFRESH_FILE")
end
local function take()
	local s = table.remove(idle, 1)
	if s == nil then
		s = table.remove(inflight, 1)
	end
	inflight[#inflight + 1] = s
	return s
end
local function give_back(s, token)
	for k, v in ipairs(inflight) do
		if v == s then
			table.remove(inflight, k)
			break
		end
	end
	if token ~= nil then
		s.token = token
	end
	idle[#idle + 1] = s
end
function request()
	local s = take()
	return wrk.format("POST", "/api/auth/refresh", common.json_headers(nil),
		'{"refresh_token":"' .. s.token .. '"}')
end
function response(status, headers, body)
	local name = body:match('"username":"([^"]+)"')
	local token = body:match('"refresh_token":"([^"]+)"')
	local s = name and byname[name]
	if s ~= nil and token ~= nil then
		give_back(s, token)
	elseif #inflight > 0 then
		give_back(inflight[1], nil)
	end
end
done = common.done
