-- wrk script of `make bench` (tests/load/bench.sh): one request generator and
-- one status counter for every scenario, so that the ceilings and the
-- services cost the load generator the same per request.
--
--   wrk ... -s bench.lua URL -- get NONCE   the URL as given, with the -H headers
--   wrk ... -s bench.lua URL -- set NONCE   POST to the URL's path: a form body
--       setting one of NAMES secrets in one of SCOPES user scopes (a scope
--       never holds more than NAMES of them, and the SCOPES * NAMES = 1000
--       secrets match the 1000 rows the write ceiling upserts, so both see
--       the same row contention) with a unique Idempotency-Key per request
--       (the run's NONCE, a random number, the thread id and a counter)
--   wrk ... -s bench.lua URL -- create NONCE   POST to the URL's path: an identity
--       verification session (type=document, one metadata value), with a
--       unique Idempotency-Key per request as for set
--
-- done() prints one line for bench.sh to parse:
--   BENCH requests=N seconds=S p50_us=N p99_us=N ok=N non2xx=N connect=N read=N write=N timeout=N
-- and, when a response was not 2xx, the first one seen:
--   BENCH_FIRST_BAD STATUS BODY (newlines folded, cut to 500 bytes)

local NAMES = 5
local SCOPES = 200

local threads = {}

-- Runs in the main Lua state, once per thread, before the thread's init().
function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end

-- Globals from here on live in each thread's own Lua state; done() reads
-- them with thread:get().
function init(args)
    kind = args[1] or "get"
    ok, non2xx, bad_status, bad_body = 0, 0, 0, ""
    counter = 0
    headers = {}
    for name, value in pairs(wrk.headers) do
        headers[name] = value
    end
    if kind == "set" or kind == "create" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        math.randomseed(os.time() * 1000 + tid)
        key_prefix = string.format("bench-%s-%08x-%d-", args[2] or "0", math.random(0, 0x7fffffff), tid)
    elseif kind == "get" then
        static_request = wrk.format(nil, nil, headers)
    else
        error("bench.lua: the first argument must be get, set or create, not " .. tostring(kind))
    end
end

function request()
    if static_request then
        return static_request
    end
    counter = counter + 1
    headers["Idempotency-Key"] = key_prefix .. counter
    if kind == "create" then
        return wrk.format("POST", nil, headers,
            string.format("type=document&metadata%%5Bbench%%5D=%d-%d", tid, counter))
    end
    local slot = math.random(0, SCOPES * NAMES - 1)
    local body = string.format(
        "name=bench-set-%d&payload=bench-payload-%d-%d&scope%%5Btype%%5D=user&scope%%5Buser%%5D=usr_bench%d",
        slot % NAMES, tid, counter, math.floor(slot / NAMES))
    return wrk.format("POST", nil, headers, body)
end

function response(status, _, body)
    if status >= 200 and status < 300 then
        ok = ok + 1
        return
    end
    non2xx = non2xx + 1
    if bad_status == 0 then
        bad_status = status
        bad_body = string.sub(body or "", 1, 500)
    end
end

function done(summary, latency, _)
    local total_ok, total_bad, first_status, first_body = 0, 0, 0, ""
    for _, thread in ipairs(threads) do
        total_ok = total_ok + thread:get("ok")
        total_bad = total_bad + thread:get("non2xx")
        if first_status == 0 and thread:get("bad_status") ~= 0 then
            first_status = thread:get("bad_status")
            first_body = thread:get("bad_body")
        end
    end
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d seconds=%.3f p50_us=%d p99_us=%d ok=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
        total_ok, total_bad, e.connect, e.read, e.write, e.timeout))
    if first_status ~= 0 then
        io.write("BENCH_FIRST_BAD ", first_status, " ", (string.gsub(first_body, "[\r\n]+", " ")), "\n")
    end
end
