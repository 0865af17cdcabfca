-- bench/common.lua - shared by the wrk scripts of scripts/bench.sh.
--
-- Every scenario script loads it with dofile (wrk runs from the project
-- root) and sets `done = common.done`, which prints one machine-readable
-- line that bench.sh reads:
--   BENCH requests=N duration_us=N non2xx=N socket_errors=N p50_us=N p99_us=N max_us=N
-- non2xx is wrk's count of answers with a status of 400 or more (the
-- scenarios expect 200/201 only, never a redirect); socket_errors sums
-- connect, read, write and timeout errors.  Settings come from the
-- environment: BENCH_USERS_FILE (lines "username<TAB>access token"),
-- BENCH_REFRESH_FILE (lines "username<TAB>refresh token"), BENCH_PASSWORD,
-- BENCH_RUN (a tag that makes created keys unique across runs),
-- BENCH_THREADS (wrk's -t).
local M = {}

-- The lines of `path` split on tabs: a list of {field1, field2, ...}.
function M.rows(path)
	local rows = {}
	if path == nil or path == "" then
		return rows
	end
	local f = assert(io.open(path, "r"))
	for line in f:lines() do
		local row = {}
		for field in line:gmatch("[^\t]+") do
			row[#row + 1] = field
		end
		if #row > 0 then
			rows[#rows + 1] = row
		end
	end
	f:close()
	return rows
end

function M.users()
	local rows = M.rows(os.getenv("BENCH_USERS_FILE"))
	assert(#rows > 0, "BENCH_USERS_FILE has no users")
	return rows
end

-- Numbers each thread (1, 2, ...) so scripts can split work between them.
local threads = 0
function M.setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

function M.tid()
	return tonumber(wrk.thread:get("tid")) or 1
end

function M.bearer(token)
	return { ["Authorization"] = "Bearer " .. token }
end

function M.json_headers(token)
	local h = { ["Content-Type"] = "application/json" }
	if token ~= nil then
		h["Authorization"] = "Bearer " .. token
	end
	return h
end

function M.done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d max_us=%d\n",
		summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
		latency:percentile(50), latency:percentile(99), latency.max))
end

return M
