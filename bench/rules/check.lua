-- check.lua: appended to a rule by bench/rules_overhead.sh's cross-check. Wraps transform so the
-- result's after image is also written, sorted by column, into the column `check`: rules_bench
-- (inside Sluice, after marshalling) and four_step_peer.lua (plain lua5.4, tables built in Lua)
-- print it for the same row, and the script requires both lines to be equal.
local inner = transform
function transform(e)
  e = inner(e)
  local a, keys, parts = e.after, {}, {}
  for k in pairs(a) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(a[k]) end
  a.check = table.concat(parts, " ")
  return e
end
