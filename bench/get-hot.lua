-- bench/get-hot.lua - GET /api/data/hot, always the same key of the first
-- bench user: the memory cache's best case.
local common = dofile("bench/common.lua")
local req
setup = common.setup
function init(args)
	req = wrk.format("GET", "/api/data/hot", common.bearer(common.users()[1][2]))
end
function request()
	return req
end
done = common.done
