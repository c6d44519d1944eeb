-- four_step_peer.lua: the peer of bench/rules_overhead.sh. Runs the transform of four_step.lua
-- under the stock lua5.4 interpreter over Lua tables built beforehand (the rows rules_bench
-- builds, in the shape Sluice's marshalling gives them): no marshalling, no sandbox, no limits.
-- Each event gets its row's original values back before the call (the transform changes the
-- table in place); that reset is timed on its own and subtracted. CPU time is os.clock().
--   lua5.4 bench/rules/four_step_peer.lua RULE_FILE [EVENTS [ROWS [RUNS]]]
--   lua5.4 bench/rules/four_step_peer.lua RULE_FILE --check ROW   (with bench/rules/check.lua)
local rule_file = assert(arg[1], "usage: four_step_peer.lua RULE_FILE [EVENTS [ROWS [RUNS]]]")
local check = arg[2] == "--check" and tonumber(arg[3]) or nil
local events = check and 1 or tonumber(arg[2] or 1000000)
local nrows = check and (check + 1) or math.min(tonumber(arg[3] or 100000), events)
local runs = tonumber(arg[4] or 3)

dofile(rule_file)   -- defines the global transform

local first_names = {"Ann", "Bob", "Chloé", "Dmitri", "Eve", "Fatima", "Gus", "Hana"}
local last_names = {"Smith", "Okafor", "Müller", "Nguyen", "García", "Kowalski"}
local currencies = {"EUR", "USD", "GBP", "JPY"}

-- Row i (from 0) as rules_marshal pushes it (see row_text in tests/tools/rules_bench.c).
local function row(i)
  local cents = (i % 100000) * 137 + 1
  local secs = 1704067200 + i * 5 // 4
  local frac = (i % 4) * 25
  return {
    id = i + 1,
    email = string.format("%s.%d@Example%d.COM", first_names[i % 8 + 1], i, i % 50),
    phone = (i % 10 ~= 9) and string.format("+1 (555) %03d-%04d", (i // 10000) % 1000, i % 10000) or nil,
    name = string.format("  %s %s %d ", first_names[i % 8 + 1], last_names[i % 6 + 1], i),
    amount = string.format("%d.%02d", cents // 100, cents % 100),
    currency = currencies[i % 4 + 1],
    created_at = os.date("!%Y-%m-%dT%H:%M:%S", secs) .. string.format(".%06dZ", frac * 10000),
    active = i % 3 == 0,
    attrs = (i % 5 ~= 4) and string.format('{"qty": %d, "sku": "SKU-%d", "note": "x", "tags": ["a", "b%d"]}',
                                          i % 7 + 1, i % 5000, i % 11) or nil,
    qty = i % 7 + 1,
  }
end

local evs, orig = {}, {}
for i = 0, nrows - 1 do
  local r = row(i)
  orig[i + 1] = {name = r.name, email = r.email, phone = r.phone}
  evs[i + 1] = {op = "c", after = r,
                source = {schema = "public", table = "customers", lsn = 0x16C0000 + i * 64, txId = 771,
                          ts_ms = 1709287200000, snapshot = "false"}}
end

if check then
  dofile((rule_file:gsub("[^/]*$", "")) .. "check.lua")
  print(string.format("check row %d: %s", check, transform(evs[check + 1]).after.check))
  return
end

local function reset(k)
  local a, o = evs[k].after, orig[k]
  a.name, a.email, a.phone, a.email_domain = o.name, o.email, o.phone, nil
end

local function timed(with_transform)
  local t0 = os.clock()
  local k = 0
  for _ = 1, events do
    k = k + 1
    if k > nrows then k = 1 end
    reset(k)
    if with_transform then
      local e = transform(evs[k])
      if e == nil then error("dropped") end
    end
  end
  return os.clock() - t0
end

local best_all, best_reset, all = math.huge, math.huge, {}
for _ = 1, runs do
  local t = timed(true)
  best_all = math.min(best_all, t)
  best_reset = math.min(best_reset, timed(false))
  all[#all + 1] = t
end
local net = best_all - best_reset
local per = {}
for i, t in ipairs(all) do per[i] = string.format("%.0f", (t - best_reset) * 1e9 / events) end
print(string.format("peer events=%d rows=%d runs=%d cpu_s=%.4f reset_s=%.4f net_ns_per_event=%.1f events_per_s=%.0f all_runs_ns=%s %s",
                    events, nrows, runs, best_all, best_reset, net * 1e9 / events, events / net,
                    table.concat(per, ","), _VERSION))
