-- wrk script for bench/peer.sh: one file, three modes chosen by the environment.
--
--   WRK_MODE=static   (default) the same request every time: WRK_METHOD, the URL's path,
--                     the body read from WRK_BODY_FILE, WRK_CONTENT_TYPE, WRK_AUTH
--                     (the whole Authorization header value).
--   WRK_MODE=refresh  token rotation: WRK_TOKENS_FILE holds one token per line, split
--                     between the threads (WRK_THREADS): give one per connection plus
--                     one per thread, since wrk calls request() once per thread to
--                     verify the script, and that request is never sent.
--                     Each response's new token goes back to the thread's pool and is
--                     used by a later request, so a rotated token is never presented
--                     again. WRK_REFRESH_STYLE: baas (OAuth refresh_token grant),
--                     floor ({"refresh_token"}) or pocketbase (Authorization: <token>,
--                     answer {"token"}).
--   WRK_MODE=upload   a new key per request: PUT <the URL's path><thread>-<n> with the
--                     body of WRK_BODY_FILE.
--
-- done() prints one line: RESULT rps=… p50_ms=… p99_ms=… requests=… errors=… status_errors=…

local mode = os.getenv("WRK_MODE") or "static"
local style = os.getenv("WRK_REFRESH_STYLE") or "baas"

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local body_file = os.getenv("WRK_BODY_FILE")
local body = nil
if body_file and body_file ~= "" then body = read_file(body_file) end

wrk.method = os.getenv("WRK_METHOD") or "GET"
wrk.body = body
local content_type = os.getenv("WRK_CONTENT_TYPE")
if content_type and content_type ~= "" then wrk.headers["Content-Type"] = content_type end
local auth = os.getenv("WRK_AUTH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end

-- Main state: hand each thread its id and, in refresh mode, its share of the tokens.
local next_id = 0
local all_tokens = nil
function setup(thread)
  thread:set("thread_id", next_id)
  if mode == "refresh" then
    if all_tokens == nil then
      all_tokens = {}
      for t in string.gmatch(read_file(os.getenv("WRK_TOKENS_FILE")), "[^\r\n]+") do
        table.insert(all_tokens, t)
      end
    end
    local n = tonumber(os.getenv("WRK_THREADS") or "1")
    local mine = {}
    for i, t in ipairs(all_tokens) do
      if (i - 1) % n == next_id then table.insert(mine, t) end
    end
    thread:set("tokens", table.concat(mine, "\n"))
  end
  next_id = next_id + 1
end

if mode == "refresh" then
  local pool = nil
  local pattern = '"refresh_token"%s*:%s*"([^"]+)"'
  if style == "pocketbase" then pattern = '"token"%s*:%s*"([^"]+)"' end

  local function take()
    if pool == nil then
      pool = {}
      for t in string.gmatch(tokens or "", "[^\n]+") do table.insert(pool, t) end
    end
    -- An empty pool means earlier refreshes failed: send a token that is refused (counted).
    return table.remove(pool) or "exhausted"
  end

  request = function()
    local t = take()
    local headers = { ["Content-Type"] = "application/json" }
    local b = nil
    if style == "pocketbase" then
      headers["Authorization"] = t
    elseif style == "floor" then
      b = '{"refresh_token":"' .. t .. '"}'
    else
      b = '{"grant_type":"refresh_token","refresh_token":"' .. t .. '"}'
    end
    return wrk.format("POST", wrk.path, headers, b)
  end

  local reported = false
  response = function(status, headers, b)
    if status == 200 then
      local t = string.match(b, pattern)
      if t then table.insert(pool, t) end
    elseif not reported and os.getenv("WRK_DEBUG") then
      reported = true
      io.stderr:write("first refusal: " .. status .. " " .. string.sub(b or "", 1, 300) .. "\n")
    end
  end
elseif mode == "upload" then
  local n = 0
  request = function()
    n = n + 1
    return wrk.format("PUT", wrk.path .. thread_id .. "-" .. n, nil, body)
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d status_errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors, e.status))
end
