-- bench/login.lua - POST /api/auth/login (bearer transport) as each bench
-- user in turn, right password: one bcrypt a request.
local common = dofile("bench/common.lua")
local reqs, i = {}, 0
setup = common.setup
function init(args)
	local pass = os.getenv("BENCH_PASSWORD")
	for n, u in ipairs(common.users()) do
		reqs[n] = wrk.format("POST", "/api/auth/login", common.json_headers(nil),
			string.format('{"username":"%s","password":"%s","token_transport":"bearer"}', u[1], pass))
	end
	i = common.tid() * 101
end
function request()
	i = i % #reqs + 1
	return reqs[i]
end
done = common.done
