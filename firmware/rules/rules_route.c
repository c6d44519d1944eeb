/* rules_route: route's answer read and checked (see rules_route.h). */
#include "rules/rules_route.h"

#include <string.h>

#include "core/errbuf.h"
#include "pipeline/event_route.h"

/* The string field value at the top of the stack into *s and *len (key names it for errors). */
static int route_field(lua_State *L, const char *key, const char **s, size_t *len, char *err, size_t errlen)
{
    if (lua_type(L, -1) != LUA_TSTRING)
        return err_setf(err, errlen, "route: %s must be a string, not a %s", key, lua_typename(L, lua_type(L, -1)));
    *s = lua_tolstring(L, -1, len);
    return 0;
}

/* The fields of the table at idx (absolute): only topic and table. Leaves the stack as it was. */
static int route_fields(lua_State *L, int idx, rules_route *out, char *err, size_t errlen)
{
    if (!lua_checkstack(L, 2))
        return err_setf(err, errlen, "route: Lua stack exhausted");
    int rc = 0;
    lua_pushnil(L);
    while (rc == 0 && lua_next(L, idx)) {   /* key at -2, value at -1 */
        const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        if (key && strcmp(key, "topic") == 0)
            rc = route_field(L, key, &out->topic, &out->topic_len, err, errlen);
        else if (key && strcmp(key, "table") == 0)
            rc = route_field(L, key, &out->table, &out->table_len, err, errlen);
        else if (key)
            rc = err_setf(err, errlen, "route: unknown field '%.80s' (a route table has topic and table)", key);
        else
            rc = err_setf(err, errlen, "route: a route table has only the fields topic and table, not a %s key",
                          lua_typename(L, lua_type(L, -2)));
        lua_pop(L, rc == 0 ? 1 : 2);   /* the value; on an error the key too: the walk ends */
    }
    return rc;
}

int rules_route_read(lua_State *L, int idx, rules_route *out, char *err, size_t errlen)
{
    char why[512];
    idx = lua_absindex(L, idx);
    memset(out, 0, sizeof *out);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return 0;
    case LUA_TSTRING:
        out->form = RULES_ROUTE_NAME;
        out->table = lua_tolstring(L, idx, &out->table_len);
        break;
    case LUA_TTABLE:
        out->form = RULES_ROUTE_FIELDS;
        if (route_fields(L, idx, out, err, errlen) < 0) {
            memset(out, 0, sizeof *out);
            return -1;
        }
        break;
    default:
        return err_setf(err, errlen, "route must return a string, a table {topic = ..., table = ...} or nil, not a %s",
                        lua_typename(L, lua_type(L, idx)));
    }
    if ((out->topic && event_route_topic_check(out->topic, out->topic_len, why, sizeof why) < 0) ||
        (out->table && event_route_table_check(out->table, out->table_len, why, sizeof why) < 0)) {
        memset(out, 0, sizeof *out);
        return err_setf(err, errlen, "route: %s", why);
    }
    return 0;
}
