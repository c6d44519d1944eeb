-- four_step_steps.lua: scenario (f) of bench/rules_overhead.sh: the 4-step rule of issue 6's
-- contract (rename, cast, mask, add) declared as native steps: the engine runs them in C on the
-- typed event, with no Lua and no marshalling per event.
steps = {
  {"rename", "email", "contact_email"},
  {"cast", "amount", "double"},
  {"mask_phone", "phone"},
  {"add", "origin", "crm"},
}
