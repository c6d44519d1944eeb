-- normalize.lua: tidies text on its way to the lake, in both images (before and after):
--   every string is trimmed of leading and trailing whitespace      "  Ann Lee " -> "Ann Lee"
--   email-like columns (email, *_email) are lower-cased              "Ann@Example.COM" -> "ann@example.com"
--   timestamps with a time zone become UTC in Debezium's form        "2024-03-01 10:00:00+02" -> "2024-03-01T08:00:00Z"
-- sluice.lower changes ASCII letters only. Empty strings stay empty (not NULL). A value that looks
-- like a timestamp with a zone but is not a valid one (2024-02-30) is an error: the event goes to
-- the dead-letter store rather than into the lake half-normalized.
-- Only valid UTF-8 is touched: bytea columns arrive as raw bytes and must not be trimmed.

local function is_email_column(column)
  local name = string.lower(column)
  return name == "email" or name:sub(-6) == "_email"
end

-- A date, a time and a zone: "2024-03-01T10:00:00.5+02:00", "2024-03-01 10:00-05", "...Z".
local function has_zone(s)
  if not s:match("^%d%d%d%d%-%d%d%-%d%d[Tt ]%d%d:%d%d") then return false end
  return s:match("[Zz]$") or s:match("[+-]%d%d:?%d%d$") or s:match("[+-]%d%d$")
end

local function to_utc(s)
  local utc = sluice.time_format(sluice.time_parse(s))   -- "2024-03-01T08:00:00.500000Z"
  return (utc:gsub("%.?0+Z$", "Z"))                        -- Debezium omits trailing zeros
end

local function normalize_row(row)
  if row == nil then return end
  for column, value in pairs(row) do
    if type(value) == "string" and utf8.len(value) then
      value = sluice.trim(value)
      if is_email_column(column) then
        value = sluice.lower(value)
      elseif has_zone(value) then
        value = to_utc(value)
      end
      row[column] = value
    end
  end
end

function transform(event)
  normalize_row(event.before)
  normalize_row(event.after)
  return event
end
