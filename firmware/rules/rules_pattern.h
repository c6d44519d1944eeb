/* rules_pattern: Lua 5.4 pattern matching for the rule sandbox. string.find, string.match,
 * string.gmatch and string.gsub with the semantics of stock Lua 5.4 (reference manual §6.4 and
 * §6.4.1: classes, sets, anchors, quantifiers, captures, position captures, back-references, %b,
 * %f; plain find; negative and out-of-range init; gsub with string, table and function
 * replacements and a maximum count; gmatch with init and the rule that an empty match right after
 * the previous match is skipped), including the errors for malformed patterns and the recursion
 * limit ("pattern too complex"), but written for Sluice so that the matcher's work is charged to
 * the rule's instruction budget (rules_vm_charge): the stock matcher runs in C where the count hook
 * never fires, so `("a"):rep(1e5):match("(.-)%s*$")` could stall a pipeline for minutes. Here it
 * ends with "string.match: pattern matching exceeded the instruction limit (1000000)".
 * Cost model (a step is charged like one VM instruction): a step per pattern item tried, per byte
 * a quantifier takes or %b scans, per 64 bytes compared by plain find and back-references; charged
 * in batches of 1024 steps, so a 100-byte trim costs about 400. On a state that is not a rules_vm
 * sandbox nothing is charged.
 * Ownership: the functions keep no state outside the Lua state (gmatch keeps its position in the
 * iterator's upvalues); they are reentrant (a gsub replacement function may match again). */
#ifndef SLUICE_RULES_RULES_PATTERN_H
#define SLUICE_RULES_RULES_PATTERN_H

#include <lua.h>

/* Replace find, match, gmatch and gsub in the table at index idx (a state's string library
 * table; the shared string metatable's __index is that table, so s:find(...) uses them too). */
void rules_pattern_install(lua_State *L, int idx);

/* The library functions themselves, as lua_CFunctions (arguments as in the manual). */
int rules_pattern_find(lua_State *L);
int rules_pattern_match(lua_State *L);
int rules_pattern_gmatch(lua_State *L);
int rules_pattern_gsub(lua_State *L);

#endif
