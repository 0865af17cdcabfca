-- bench/health.lua - GET /api/health: the responder touches no backend.
local common = dofile("bench/common.lua")
wrk.method = "GET"
wrk.path = "/api/health"
done = common.done
