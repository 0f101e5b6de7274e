-- wrk script: constant-rate load for the p99 latency figure (wrk2 is not in
-- Debian). Request k is due at start + k / PACED_RATE seconds on the
-- monotonic clock (LuaJIT's ffi, as Debian's wrk is built with LuaJIT);
-- delay() holds each connection until the next due time, so the rate stays
-- PACED_RATE/s as long as the connections (-c) outnumber the requests in
-- flight. wrk times a request from its sending, not from its due time: a
-- stall of the server is under-counted (coordinated omission), which is
-- why the run's achieved rate is printed next to the percentile.
-- PACED_KIND=pixel: GET /p.gif; beacon: POST /e, a new view id each.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } dwell_timespec;
int clock_gettime(int clk, dwell_timespec *ts);
]]
local ts = ffi.new("dwell_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)            -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("PACED_RATE") or "1000")
local kind = os.getenv("PACED_KIND") or "pixel"
local gap = 1000 / rate
local due = nil
local n = 0
math.randomseed(os.time())
local prefix = string.format("P%05d", math.random(0, 99999))

delay = function()
  local now = now_ms()
  if due == nil then due = now end
  due = due + gap
  local wait = due - now
  if wait <= 0 then return 0 end
  return math.floor(wait + 0.5)
end

request = function()
  n = n + 1
  if kind == "pixel" then
    return wrk.format("GET", "/p.gif?s=bench&u=/kb/paced-article&t=Paced")
  end
  local body = string.format(
    '{"s":"bench","t":"view","v":"%s%010d","u":"https://help.bench/kb/paced",' ..
    '"r":"https://www.google.com/","ti":"A help article","w":640,' ..
    '"c":"accounts","l":"en-US","sw":1280}', prefix, n)
  return wrk.format("POST", "/e", { ["Content-Type"] = "text/plain" }, body)
end
