/* rules_helpers_internal: how rules_helpers.c gathers the helper groups that live in their own
 * files (text and masking, JSON, time, columns). Each adds its functions to the table on top of the stack.
 * Not for use outside firmware/rules. */
#ifndef SLUICE_RULES_RULES_HELPERS_INTERNAL_H
#define SLUICE_RULES_RULES_HELPERS_INTERNAL_H

#include <lua.h>

void rules_helpers_add_text(lua_State *L);   /* mask, mask_email, mask_phone, trim, lower, upper, sha256,
                                              * hmac_sha256 */
void rules_helpers_add_json(lua_State *L);   /* json_encode, json_decode */
void rules_helpers_add_time(lua_State *L);   /* time_parse, time_format */
void rules_helpers_add_columns(lua_State *L);   /* rename, drop, cast */

#endif
