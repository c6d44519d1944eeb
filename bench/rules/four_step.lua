-- four_step.lua: the 4-step rule of bench/rules_overhead.sh, in plain Lua (only the string
-- library), so that the identical function also runs under the stock lua5.4 interpreter
-- (four_step_peer.lua). On the after image of every event:
--   1. trim the name                    "  Ann Smith 7 " -> "Ann Smith 7"
--   2. lower-case the email             "Ann.7@Example3.COM" -> "ann.7@example3.com"
--   3. mask the phone but its last 4 digits "+1 (555) 012-3456" -> "+* (***) ***-3456"
--   4. add a computed column email_domain   "example3.com"
-- NULL columns stay NULL (step 4 then adds nothing).

local function trim(s)
  return (s:match("^%s*(.-)%s*$"))
end

local function mask_phone(s)
  -- where the last 4 digits start, found from the end (linear: no backtracking)
  local _, e = s:reverse():find("^%D*%d%D*%d%D*%d%D*%d")
  if not e then return s end             -- fewer than 4 digits: nothing to mask
  local cut = #s - e + 1
  return (s:sub(1, cut - 1):gsub("%d", "*")) .. s:sub(cut)
end

function transform(e)
  local a = e.after
  if a == nil then return e end
  if type(a.name) == "string" then a.name = trim(a.name) end
  local email = a.email
  if type(email) == "string" then
    email = email:lower()
    a.email = email
    a.email_domain = email:match("@([^@]+)$")
  end
  if type(a.phone) == "string" then a.phone = mask_phone(a.phone) end
  return e
end
