-- currency.lua: adds amount_usd to rows with amount and currency columns, converted with the rate
-- in the lookup table fx_rates (currency code -> US dollars per unit, e.g. EUR = "1.0823").
-- Decimals arrive and leave as strings and the arithmetic is exact (no floating point): amount_usd
-- has 2 fraction digits, rounded half away from zero ("10.005" USD -> "10.01").
-- Amount and rate may have 16 significant digits together (64-bit integers), e.g. 11 and 5.
-- A NULL amount gives a NULL amount_usd. A currency without a rate (or a NULL currency) is an
-- error: the event goes to the dead-letter store, to be replayed once the rate is there.

-- "-12.3400" -> -123400, 4: the digits as an integer, and how many of them are fractional.
local function parse_decimal(s)
  local sign, int, frac = string.match(s, "^%s*([+-]?)(%d*)%.?(%d*)%s*$")
  frac = frac and frac:gsub("0+$", "")   -- "12.3400" is 1234 hundredths
  if sign == nil or int .. frac == "" or #(int .. frac) > 18 then
    error("not a decimal number: '" .. s .. "'")
  end
  local n = tonumber(int .. frac)
  return sign == "-" and -n or n, #frac
end

local function pow10(k)
  local p = 1
  for _ = 1, k do p = p * 10 end
  return p
end

-- n * 10^-scale rounded half away from zero to 2 fraction digits: "-123.45".
local function format_cents(n, scale)
  local m = math.abs(n)
  if scale <= 2 then
    m = m * pow10(2 - scale)
  else
    local unit = pow10(scale - 2)
    m = (m + unit // 2) // unit
  end
  return string.format("%s%d.%02d", (n < 0 and m > 0) and "-" or "", m // 100, m % 100)
end

local function to_usd(amount, currency)
  local code = sluice.upper(sluice.trim(currency))
  local rate = code == "USD" and "1" or sluice.lookup("fx_rates", code)
  if rate == nil then error("no exchange rate for currency '" .. currency .. "' in fx_rates") end
  local a, a_scale = parse_decimal(amount)
  local r, r_scale = parse_decimal(rate)
  if #tostring(math.abs(a)) + #tostring(math.abs(r)) > 16 then   -- the product must fit 64 bits
    error("amount " .. amount .. " at rate " .. rate .. " has too many digits to convert exactly")
  end
  return format_cents(a * r, a_scale + r_scale)
end

local function add_usd(row)
  if row == nil or row.amount == nil then return end
  if type(row.currency) ~= "string" then error("amount " .. tostring(row.amount) .. " has no currency") end
  row.amount_usd = to_usd(tostring(row.amount), row.currency)
end

function transform(event)
  add_usd(event.before)
  add_usd(event.after)
  return event
end
