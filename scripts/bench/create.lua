-- wrk: POST /leads with an email and a name unique to the thread and request, so the
-- duplicate check runs and finds nothing (as crmbench's create-lead does).
local counter = 0
local tid = 0
local threads = {}

function setup(thread)
  tid = tid + 1
  thread:set("tid", tid)
end

function init(args)
  token = os.getenv("CRM_BENCH_TOKEN")
  run = os.getenv("CRM_BENCH_RUN") or "0"
end

function request()
  counter = counter + 1
  local key = string.format("w%s-%d-%d", run, tid, counter)
  local body = string.format('{"source":"manual","name":"Bench %s","email":"%s@bench.example"}', key, key)
  return wrk.format("POST", "/leads", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
