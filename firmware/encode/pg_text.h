/* pg_text: typed values as the text PostgreSQL prints for them under the capture's session
 * settings (DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3,
 * lc_monetary C), so a value rebuilt from another representation (a Debezium record, a rule's
 * number) can go through pg_value_parse and become the capture's own; and the proleptic
 * Gregorian calendar arithmetic they need. Every writer appends to out; nothing is kept. */
#ifndef SLUICE_ENCODE_PG_TEXT_H
#define SLUICE_ENCODE_PG_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* float4out / float8out (single: float4): the shortest digits that read back as the value,
 * "NaN", "Infinity", "-Infinity", "-0". */
void pg_text_float(buf *out, double d, int single);

/* numeric_out of sign, unscaled digits (no leading zeros, "0" for zero) and scale. -1 with *why
 * when it is beyond PostgreSQL's numeric range. */
int pg_text_numeric(buf *out, int neg, const char *digits, size_t n, int32_t scale, const char **why);

/* cash_out in the C locale: "$1,234.56", "-$0.01". */
void pg_text_money(buf *out, int64_t cents);

/* date_out of days since 1970-01-01 ("2026-11-26", "0044-03-15 BC"). */
void pg_text_date(buf *out, int64_t days);

/* timestamp_out / timestamptz_out (tz: "+00" appended) of microseconds since 1970-01-01;
 * INT64_MAX / INT64_MIN are "infinity" / "-infinity". */
void pg_text_timestamp(buf *out, int64_t us, int tz);

/* time_out of microseconds since midnight ("13:45:00.25"). */
void pg_text_time(buf *out, int64_t us);

/* A time zone offset of seconds east of UTC: "+HH[:MM[:SS]]". */
void pg_text_offset(buf *out, int32_t east);

/* interval_out, IntervalStyle postgres ("1 year 2 mons -3 days +04:05:06.78", "00:00:00"). */
void pg_text_interval(buf *out, int32_t months, int32_t days, int64_t us);

/* Calendar: floor division; days since 1970-01-01 to year/month/day and back; month lengths. */
int64_t pg_text_floor_div(int64_t a, int64_t b);
void pg_text_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
int64_t pg_text_days_from_civil(int64_t y, unsigned m, unsigned d);
unsigned pg_text_days_in_month(int64_t y, unsigned m);

#endif
