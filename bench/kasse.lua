-- wrk script for `make bench` (server/benches/throughput.rs runs it).
--
-- wrk -s bench/kasse.lua URL -- MODE RATE FILE
--   MODE  post:    POST the body in FILE to URL's path, every request alike
--                  (session creation, the baseline);
--         confirm: pay the checkout sessions listed in FILE.<thread>, one
--                  "id client_secret" per line, each once, in order.
--   RATE  0: as fast as the connections go (saturation). Otherwise the
--         requests per second this thread offers on a fixed schedule: the
--         next request is due every 1/RATE seconds whether or not earlier
--         ones were answered (an open model, as wrk2 paces), and any free
--         connection takes it. A request sent late, because every
--         connection was busy, is counted in "late": then queueing would
--         be hidden, so the harness reports it.
--   HEADERS come from wrk's -H flags.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } kasse_timespec;
  int clock_gettime(int clock, kasse_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("kasse_timespec")
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local CARD = '{"card":{"number":"4242 4242 4242 4242","exp_month":12,'
  .. '"exp_year":2040,"cvc":"123","name":"Ada Lovelace"}}'

local sessions, next_session = {}, 1
late, used, exhausted = 0, 0, 0

local function paced_delay()
  local now = now_ms()
  due = due or now
  local slot = due
  due = due + interval
  if slot < now - 1 then
    late = late + 1
  end
  return math.max(0, math.floor(slot - now + 0.5))
end

local function confirm_request()
  local s = sessions[next_session]
  if s == nil then
    -- Out of sessions: repeat the last, which answers 409 and shows as an
    -- error in the figures rather than passing unnoticed.
    exhausted = exhausted + 1
    s = sessions[#sessions]
  else
    next_session = next_session + 1
    used = used + 1
  end
  return wrk.format("POST", "/v1/pay/" .. s[1] .. "/confirm",
    { ["Kasse-Client-Secret"] = s[2], ["Content-Type"] = "application/json" }, CARD)
end

function init(args)
  local mode, rate, file = args[1], tonumber(args[2]), args[3]
  if mode == "confirm" then
    for line in io.lines(file .. "." .. id) do
      local sid, secret = line:match("^(%S+) (%S+)$")
      table.insert(sessions, { sid, secret })
    end
    request = confirm_request
  elseif mode == "post" then
    local body = read_file(file)
    local fixed = wrk.format("POST", nil, nil, body)
    request = function() return fixed end
  else
    error("mode must be post or confirm, not " .. tostring(mode))
  end
  if rate > 0 then
    interval = 1000 / rate
    delay = paced_delay
  end
end

function done(summary, latency, requests)
  local late_total, exhausted_total = 0, 0
  for _, thread in ipairs(threads) do
    late_total = late_total + thread:get("late")
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'KASSE-BENCH {"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,'
      .. '"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"late":%d,"exhausted":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    late_total, exhausted_total))
end
