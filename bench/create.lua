-- bench/create.lua - PUT of a key that never existed (c<run>-<thread>-<n>)
-- as a random one of the bench users: every request creates a key.
local common = dofile("bench/common.lua")
local users, tokens, n, prefix = nil, {}, 0, ""
setup = common.setup
function init(args)
	for i, u in ipairs(common.users()) do
		tokens[i] = common.json_headers(u[2])
	end
	prefix = "/api/data/c" .. (os.getenv("BENCH_RUN") or os.time()) .. "-" .. common.tid() .. "-"
	math.randomseed(os.time() * 7 + common.tid())
end
function request()
	n = n + 1
	return wrk.format("PUT", prefix .. n, tokens[math.random(#tokens)], '{"created":true}')
end
done = common.done
