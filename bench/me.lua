-- bench/me.lua - GET /api/me, each request as the next of the bench users
-- (bearer token): token check, revocation and the user's record.
local common = dofile("bench/common.lua")
local reqs, i = {}, 0
setup = common.setup
function init(args)
	for n, u in ipairs(common.users()) do
		reqs[n] = wrk.format("GET", "/api/me", common.bearer(u[2]))
	end
	i = common.tid() * 7919
end
function request()
	i = i % #reqs + 1
	return reqs[i]
end
done = common.done
