-- pii_steps.lua: PII masking declared as native steps: no Lua runs per event (the engine applies
-- the steps in C on the typed event). For tables with the columns email,
-- phone and ssn (a missing column is an error for the event: attach the rule to such tables only):
--   email -> "j***@example.com" (not an address: all masked)
--   phone -> every digit but the last four masked: "+* (***) ***-4567"
--   ssn   -> its SHA-256, 64 hex digits (joins still work on the hash)
-- NULLs stay NULL; an unchanged large value stays unchanged. A value that is not text is an error.
steps = {
  {"mask_email", "email"},
  {"mask_phone", "phone"},
  {"sha256", "ssn"},
}
