-- wrk: GET /leads/{id} for a random id of the seeded leads (one per line in
-- $CRM_BENCH_IDS).
local ids = {}

function init(args)
  token = os.getenv("CRM_BENCH_TOKEN")
  for line in io.lines(os.getenv("CRM_BENCH_IDS")) do ids[#ids + 1] = line end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/leads/" .. id, {["Authorization"] = "Bearer " .. token})
end
