-- four_step_steps_helpers.lua: the same 4 steps as four_step_steps.lua written as a transform with
-- the sluice helpers. rules_bench checks that both give identical rows before timing (f).
function transform(e)
  local a = e.after
  if a == nil then return e end
  sluice.rename(e, "email", "contact_email")
  a.amount = sluice.cast(a.amount, "double")
  if a.phone ~= nil then a.phone = sluice.mask_phone(a.phone) end
  a.origin = "crm"
  return e
end
