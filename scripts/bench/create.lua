-- wrk: POST /leads with an email and a name unique to the thread and request, so the
-- duplicate check runs and finds nothing (as crmbench's create-lead does).
--
-- tid must be a global: thread:set writes the thread's globals, and a `local tid`
-- here would shadow it, leaving every thread at the same number — the threads then
-- sent the same emails, and about one create in eight met its twin (409).
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  token = os.getenv("CRM_BENCH_TOKEN")
  run = os.getenv("CRM_BENCH_RUN") or "0"
  if tid == nil then
    error("create.lua: no thread number (setup did not run)")
  end
end

function request()
  counter = counter + 1
  local key = string.format("w%s-%d-%d", run, tid, counter)
  local body = string.format('{"source":"manual","name":"Bench %s","email":"%s@bench.example"}', key, key)
  return wrk.format("POST", "/leads", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
