-- wrk script: POST /e with a view event, a fresh page-view id per request
-- (so every request is a new view: the writer's worst case). The request
-- is built once around its 8-digit counter, and each request only formats
-- the counter: wrk and the server share the machine, and building every
-- request with string.format and wrk.format cost wrk more CPU per request
-- than the static pixel request (docs/performance.md).
local n = 0
local chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
math.randomseed(os.time())
local prefix = ""
for i = 1, 6 do
  local k = math.random(1, #chars)
  prefix = prefix .. chars:sub(k, k)
end
local paths = { "/kb/reset-password", "/kb/export-csv", "/kb/sso-saml",
                "/kb/display-language", "/kb/billing", "/kb/api-tokens" }
-- per path: the request up to the counter, and after it
local heads, tails = {}, {}
for i, p in ipairs(paths) do
  local body1 = '{"s":"bench","t":"view","v":"' .. prefix
  local body2 = '","u":"https://help.bench' .. p .. '",' ..
    '"r":"https://www.google.com/","ti":"A help article","w":640,' ..
    '"c":"accounts","l":"en-US","sw":1280}'
  local len = #body1 + 8 + #body2
  -- wrk.format sets Host and Content-Length; the body is cut off again
  local req = wrk.format("POST", "/e", { ["Content-Type"] = "text/plain" },
                         string.rep("x", len))
  heads[i] = req:sub(1, #req - len) .. body1
  tails[i] = body2
end

request = function()
  n = n + 1
  local i = (n % #paths) + 1
  return heads[i] .. string.format("%08d", n) .. tails[i]
end
