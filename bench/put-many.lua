-- bench/put-many.lua - PUT /api/data/w0 .. w3 as a random one of the bench
-- users: keys replaced, writes spread over many users.
local common = dofile("bench/common.lua")
local reqs = {}
setup = common.setup
function init(args)
	for _, u in ipairs(common.users()) do
		for k = 0, 3 do
			reqs[#reqs + 1] = wrk.format("PUT", "/api/data/w" .. k, common.json_headers(u[2]),
				string.format('{"slot":%d,"note":"replaced by put-many"}', k))
		end
	end
	math.randomseed(os.time() * 17 + common.tid())
end
function request()
	return reqs[math.random(#reqs)]
end
done = common.done
