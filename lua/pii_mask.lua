-- pii_mask.lua: masks personal data before it leaves the database. Columns are found by name, in
-- both images (before and after):
--   email, *_email         "john@example.com"  -> "j***@example.com"   (sluice.mask_email)
--   phone, *_phone         "+1 555 123-4567"   -> "+* *** ***-4567"    (sluice.mask_phone)
--   ssn, *_ssn             "123-45-6789"       -> its SHA-256, 64 hex digits (sluice.sha256)
-- Hashing keeps equal values equal, so hashed columns still join and count. Few SSNs exist, so a
-- plain hash can be reversed by trying them all: for real use prefer
-- sluice.hmac_sha256(secret, value) with a secret kept out of the rule.
-- NULLs stay NULL; values that are not strings (numbers, booleans) are left alone.

local UNCHANGED_TOAST = "__debezium_unavailable_value"   -- a large value PostgreSQL did not send

local function masker_for(column)
  local name = string.lower(column)
  if name == "email" or name:sub(-6) == "_email" then return sluice.mask_email end
  if name == "phone" or name:sub(-6) == "_phone" then return sluice.mask_phone end
  if name == "ssn" or name:sub(-4) == "_ssn" then return sluice.sha256 end
  return false
end

-- The masker of each column name, decided once per name (false: not masked).
local maskers = {}
local function masker(column)
  local mask = maskers[column]
  if mask == nil then
    mask = masker_for(column)
    maskers[column] = mask
  end
  return mask
end

local function mask_row(row)
  if row == nil then return end
  for column, value in pairs(row) do
    local mask = masker(column)
    if mask and type(value) == "string" and value ~= UNCHANGED_TOAST then
      row[column] = mask(value)
    end
  end
end

function transform(event)
  mask_row(event.before)
  mask_row(event.after)
  return event
end
