-- bench/get-many.lua - GET /api/data/item as a random one of the bench
-- users (at least 1,000, each with its own "item"; bench.sh warms the
-- caches first).
local common = dofile("bench/common.lua")
local reqs = {}
setup = common.setup
function init(args)
	for n, u in ipairs(common.users()) do
		reqs[n] = wrk.format("GET", "/api/data/item", common.bearer(u[2]))
	end
	math.randomseed(os.time() * 31 + common.tid())
end
function request()
	return reqs[math.random(#reqs)]
end
done = common.done
