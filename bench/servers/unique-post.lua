-- wrk script: POST a unique body per request (so deduplication never
-- short-circuits the durable path) and print a JSON summary at the end.
local threads = {}
local counter = 0
local run = tostring(os.time()) .. tostring(math.random(1e9))

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/octet-stream" },
    "bench entry " .. run .. " " .. id .. " " .. counter .. " padding-padding")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nJSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
