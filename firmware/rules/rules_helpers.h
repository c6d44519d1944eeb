/* rules_helpers: the `sluice` table a rule sees. A read-only table of helpers: sha256, hmac_sha256,
 * mask, mask_email, mask_phone, trim, lower, upper, json_encode, json_decode, time_parse,
 * time_format, lookup, rename, drop, cast, and the JSON null sentinel `null`. Each checks its
 * arguments and raises a clear error ("bad argument #1 to 'sha256' (string expected, got nil)",
 * "json_decode: ..."). */
#ifndef SLUICE_RULES_RULES_HELPERS_H
#define SLUICE_RULES_RULES_HELPERS_H

#include <lua.h>

#include "rules/rules_vm.h"

/* Define the global `sluice` in L. lookups (copied; may be NULL: sluice.lookup then errors) backs
 * sluice.lookup. Raises Lua errors (out of memory): call it in protected mode, as rules_vm_create
 * does. */
void rules_helpers_open(lua_State *L, const rules_lookup_ops *lookups);

/* The sentinel sluice.null (a light userdata, the same in every state): JSON null, both ways. */
void rules_helpers_push_null(lua_State *L);
int rules_helpers_is_null(lua_State *L, int idx);

#endif
