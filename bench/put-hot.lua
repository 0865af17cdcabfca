-- bench/put-hot.lua - PUT /api/data/hot-0 .. hot-31 in turn, all as the
-- first bench user: each replaces an existing key, one user's writes.
local common = dofile("bench/common.lua")
local reqs, i = {}, 0
setup = common.setup
function init(args)
	local token = common.users()[1][2]
	for k = 0, 31 do
		reqs[#reqs + 1] = wrk.format("PUT", "/api/data/hot-" .. k, common.json_headers(token),
			string.format('{"slot":%d,"note":"replaced by put-hot","n":[1,2,3]}', k))
	end
	i = common.tid() * 13
end
function request()
	i = i % #reqs + 1
	return reqs[i]
end
done = common.done
