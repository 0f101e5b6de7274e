-- wrk script: POST /e with a view event, a fresh page-view id per request
-- (so every request is a new view: the writer's worst case).
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

request = function()
  n = n + 1
  local body = string.format(
    '{"s":"bench","t":"view","v":"%s%08d","u":"https://help.bench%s",' ..
    '"r":"https://www.google.com/","ti":"A help article","w":640,' ..
    '"c":"accounts","l":"en-US","sw":1280}',
    prefix, n, paths[(n % #paths) + 1])
  return wrk.format("POST", "/e", { ["Content-Type"] = "text/plain" }, body)
end
