-- four_step_helpers.lua: the same 4 steps as four_step.lua, written with Sluice's C helpers
-- (sluice.trim, sluice.lower, sluice.mask_phone) as a rule author would. Runs only inside Sluice.

function transform(e)
  local a = e.after
  if a == nil then return e end
  if type(a.name) == "string" then a.name = sluice.trim(a.name) end
  local email = a.email
  if type(email) == "string" then
    email = sluice.lower(email)
    a.email = email
    a.email_domain = email:match("@([^@]+)$")
  end
  if type(a.phone) == "string" then a.phone = sluice.mask_phone(a.phone) end
  return e
end
