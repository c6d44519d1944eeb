/* rules_pattern: Lua 5.4 pattern matching for the rule sandbox, whose work counts against the
 * rule's instruction budget (see rules_pattern.h). A recursive backtracking matcher over the
 * pattern text, written from the reference manual: a pattern is a sequence of items (a single
 * character class, optionally followed by * + - ?; a capture; %n; %b; %f), tried left to right.
 * The recursion depth is bounded as in stock Lua (200 nested attempts: "pattern too complex"), and
 * malformed parts of a pattern raise their error when the matcher reaches them, as stock Lua does. */
#include "rules/rules_pattern.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "rules/rules_vm.h"

#define PAT_MAX_CAPTURES 32    /* LUA_MAXCAPTURES */
#define PAT_MAX_DEPTH 200      /* nested attempts before "pattern too complex" (Lua's MAXCCALLS) */
#define PAT_CAP_OPEN (-1)      /* capture length while its ')' is still ahead */
#define PAT_CAP_POSITION (-2)  /* capture length of a position capture () */
#define PAT_BATCH 1024         /* steps charged to the budget at a time */
#define PAT_CMP_CHUNK 64       /* bytes compared per step by plain find and back-references */
#define PAT_NO_MATCH SIZE_MAX  /* gmatch: no previous match yet */

typedef struct pat_capture {
    const char *start;
    ptrdiff_t len;   /* length, PAT_CAP_OPEN or PAT_CAP_POSITION */
} pat_capture;

typedef struct pat_state {
    lua_State *L;
    const char *fname;                 /* "string.find: pattern matching", for the limit error */
    const char *subj, *subj_end;       /* the whole subject (init only moves the first attempt) */
    const char *pat_end;               /* end of the pattern (an anchoring '^' is already skipped) */
    int depth_left;                    /* nested attempts still allowed */
    int ncap;                          /* captures opened so far */
    long credit;                       /* steps left before the next charge */
    pat_capture cap[PAT_MAX_CAPTURES];
} pat_state;

/* ---- the budget ---- */

/* Charge the steps used since the last charge. */
static void pat_charge(pat_state *ms)
{
    long used = PAT_BATCH - ms->credit;
    ms->credit = PAT_BATCH;
    if (used > 0)
        rules_vm_charge(ms->L, (uint64_t)used, ms->fname);
}

static inline void pat_steps(pat_state *ms, long n)
{
    ms->credit -= n;
    if (ms->credit <= 0)
        pat_charge(ms);
}

static void pat_state_init(pat_state *ms, lua_State *L, const char *fname, const char *s, size_t ls,
                           const char *p, size_t lp)
{
    ms->L = L;
    ms->fname = fname;
    ms->subj = s;
    ms->subj_end = s + ls;
    ms->pat_end = p + lp;
    ms->credit = PAT_BATCH;
    ms->ncap = 0;
    ms->depth_left = PAT_MAX_DEPTH;
}

/* Before each attempt at a new subject position. */
static void pat_state_reset(pat_state *ms)
{
    ms->ncap = 0;
    ms->depth_left = PAT_MAX_DEPTH;
}

/* ---- single characters ---- */

/* Does byte c belong to class letter cl (%a, %D, ...)? Any other cl stands for itself. The
 * classes are <ctype.h>'s (in the "C" locale, as Lua's); an upper-case letter is the complement. */
static int pat_class_has(int c, int cl)
{
    switch (cl) {
    case 'a': return isalpha(c) != 0;
    case 'A': return !isalpha(c);
    case 'c': return iscntrl(c) != 0;
    case 'C': return !iscntrl(c);
    case 'd': return isdigit(c) != 0;
    case 'D': return !isdigit(c);
    case 'g': return isgraph(c) != 0;
    case 'G': return !isgraph(c);
    case 'l': return islower(c) != 0;
    case 'L': return !islower(c);
    case 'p': return ispunct(c) != 0;
    case 'P': return !ispunct(c);
    case 's': return isspace(c) != 0;
    case 'S': return !isspace(c);
    case 'u': return isupper(c) != 0;
    case 'U': return !isupper(c);
    case 'w': return isalnum(c) != 0;
    case 'W': return !isalnum(c);
    case 'x': return isxdigit(c) != 0;
    case 'X': return !isxdigit(c);
    case 'z': return c == 0;   /* deprecated, still accepted by Lua 5.4 */
    case 'Z': return c != 0;
    default: return cl == c;
    }
}

/* Does byte c belong to the set [...] from p (its '[') to close (its ']')? */
static int pat_set_has(int c, const char *p, const char *close)
{
    int found = 1;
    p++;
    if (*p == '^') {
        found = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == '%') {
            p++;
            if (pat_class_has(c, (unsigned char)*p))
                return found;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return found;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return found;
        }
    }
    return !found;
}

/* The end of the single-character class starting at p (a byte, '.', %x or a set). */
static const char *pat_class_end(pat_state *ms, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[')
        return p;
    if (p < ms->pat_end && *p == '^')
        p++;
    for (;;) {   /* the first member may be ']' itself */
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*p++ == '%' && p < ms->pat_end)
            p++;
        if (p < ms->pat_end && *p == ']')
            return p + 1;
    }
}

/* Does the subject byte at s match the class from p to end (exclusive)? */
static inline int pat_single(const pat_state *ms, const char *s, const char *p, const char *end)
{
    if (s >= ms->subj_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case '%': return pat_class_has(c, (unsigned char)p[1]);
    case '[': return pat_set_has(c, p, end - 1);
    default: return (unsigned char)*p == c;
    }
}

/* ---- items ---- */

static const char *pat_match(pat_state *ms, const char *s, const char *p);

/* Class p..end followed by '*' (or '+' with s one past the first match): take as many as
 * possible, then give back one at a time until the rest of the pattern matches. */
static const char *pat_greedy(pat_state *ms, const char *s, const char *p, const char *end)
{
    size_t n = 0, stop;
    do {   /* a step per byte taken, charged a batch at a time */
        stop = n + PAT_BATCH;
        while (n < stop && pat_single(ms, s + n, p, end))
            n++;
        pat_steps(ms, (long)(n - (stop - PAT_BATCH)));
    } while (n == stop);
    for (;;) {
        const char *e = pat_match(ms, s + n, end + 1);
        if (e)
            return e;
        if (n == 0)
            return NULL;
        n--;
    }
}

/* Class p..end followed by '-': take as few as possible. */
static const char *pat_lazy(pat_state *ms, const char *s, const char *p, const char *end)
{
    for (;;) {
        const char *e = pat_match(ms, s, end + 1);
        if (e)
            return e;
        if (!pat_single(ms, s, p, end))
            return NULL;
        s++;
        pat_steps(ms, 1);
    }
}

/* '(' at p: open a capture (a position capture for "()") and match the rest. */
static const char *pat_capture_open(pat_state *ms, const char *s, const char *p)
{
    ptrdiff_t len = PAT_CAP_OPEN;
    p++;
    if (p < ms->pat_end && *p == ')') {
        len = PAT_CAP_POSITION;
        p++;
    }
    if (ms->ncap >= PAT_MAX_CAPTURES)
        luaL_error(ms->L, "too many captures");
    ms->cap[ms->ncap].start = s;
    ms->cap[ms->ncap].len = len;
    ms->ncap++;
    const char *e = pat_match(ms, s, p);
    if (!e)
        ms->ncap--;
    return e;
}

/* ')' before p: close the innermost open capture at s and match the rest. */
static const char *pat_capture_close(pat_state *ms, const char *s, const char *p)
{
    int i = ms->ncap - 1;
    while (i >= 0 && ms->cap[i].len != PAT_CAP_OPEN)
        i--;
    if (i < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->cap[i].len = s - ms->cap[i].start;
    const char *e = pat_match(ms, s, p);
    if (!e)
        ms->cap[i].len = PAT_CAP_OPEN;
    return e;
}

/* %bxy with p at x: a balanced run from x to its matching y, or NULL. */
static const char *pat_balance(pat_state *ms, const char *s, const char *p)
{
    if (p + 1 >= ms->pat_end)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->subj_end || *s != p[0])
        return NULL;
    char open = p[0], close = p[1];
    long depth = 1;
    const char *mark = s;   /* a step per byte scanned, charged a batch at a time */
    for (s++; s < ms->subj_end; s++) {
        if (s - mark == PAT_BATCH) {
            pat_steps(ms, PAT_BATCH);
            mark = s;
        }
        if (*s == close) {
            if (--depth == 0)
                break;
        } else if (*s == open) {
            depth++;
        }
    }
    pat_steps(ms, (long)(s - mark));
    return s < ms->subj_end ? s + 1 : NULL;
}

/* %f[set] with p at '[': 1 when s is at a frontier (the byte before s, or '\0' at the start, is
 * not in the set and the byte at s, or '\0' at the end, is); *next gets the item after the set. */
static int pat_frontier(pat_state *ms, const char *s, const char *p, const char **next)
{
    if (p >= ms->pat_end || *p != '[')
        luaL_error(ms->L, "missing '[' after '%%f' in pattern");
    const char *end = pat_class_end(ms, p);
    int before = s == ms->subj ? 0 : (unsigned char)s[-1];
    int at = s < ms->subj_end ? (unsigned char)*s : 0;
    *next = end;
    pat_steps(ms, 1);
    return !pat_set_has(before, p, end - 1) && pat_set_has(at, p, end - 1);
}

/* Compare n bytes of a and b, a step per PAT_CMP_CHUNK bytes (stops at the first difference). */
static int pat_equal(pat_state *ms, const char *a, const char *b, size_t n)
{
    while (n > 0) {
        size_t k = n < PAT_CMP_CHUNK ? n : PAT_CMP_CHUNK;
        pat_steps(ms, 1);
        if (memcmp(a, b, k) != 0)
            return 0;
        a += k;
        b += k;
        n -= k;
    }
    return 1;
}

/* %1-%9 (digit d): the text of capture d again at s, or NULL. %0, a capture not yet opened or one
 * still open is an error; a position capture never matches. */
static const char *pat_backref(pat_state *ms, const char *s, int d)
{
    int i = d - '1';
    if (i < 0 || i >= ms->ncap || ms->cap[i].len == PAT_CAP_OPEN)
        luaL_error(ms->L, "invalid capture index %%%d", i + 1);
    ptrdiff_t len = ms->cap[i].len;
    if (len == PAT_CAP_POSITION || ms->subj_end - s < len)
        return NULL;
    return pat_equal(ms, ms->cap[i].start, s, (size_t)len) ? s + len : NULL;
}

/* The escapes that are items of their own (%b, %f, %0-%9) at p. 1 when p is one of them, with
 * *s and *p moved past it (*s NULL when it does not match); 0 when p is an ordinary class. */
static int pat_special(pat_state *ms, const char **s, const char **p)
{
    const char *q = *p;
    if (q + 1 >= ms->pat_end)
        return 0;
    switch (q[1]) {
    case 'b':
        *s = pat_balance(ms, *s, q + 2);
        *p = q + 4;
        return 1;
    case 'f':
        if (!pat_frontier(ms, *s, q + 2, p))
            *s = NULL;
        return 1;
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        *s = pat_backref(ms, *s, (unsigned char)q[1]);
        *p = q + 2;
        return 1;
    default:
        return 0;
    }
}

/* A single-character class at p, maybe quantified: match it and the rest of the pattern. *s and
 * *p move past it when the rest is still to be matched (returns 0); otherwise returns 1 with the
 * end of the whole match (or NULL) in *s. */
static int pat_class_item(pat_state *ms, const char **s, const char **p)
{
    const char *end = (**p == '%' || **p == '[') ? pat_class_end(ms, *p) : *p + 1;
    char q = end < ms->pat_end ? *end : '\0';
    if (!pat_single(ms, *s, *p, end)) {
        if (q == '*' || q == '?' || q == '-') {   /* zero repetitions: go on after it */
            *p = end + 1;
            return 0;
        }
        *s = NULL;
        return 1;
    }
    switch (q) {
    case '?': {
        const char *e = pat_match(ms, *s + 1, end + 1);
        if (e) {
            *s = e;
            return 1;
        }
        *p = end + 1;
        return 0;
    }
    case '+': *s = pat_greedy(ms, *s + 1, *p, end); return 1;
    case '*': *s = pat_greedy(ms, *s, *p, end); return 1;
    case '-': *s = pat_lazy(ms, *s, *p, end); return 1;
    default:
        (*s)++;
        *p = end;
        return 0;
    }
}

/* Match the pattern from p against the subject from s: the end of the match, or NULL. */
static const char *pat_match_items(pat_state *ms, const char *s, const char *p)
{
    while (p < ms->pat_end) {
        pat_steps(ms, 1);
        switch (*p) {
        case '(':
            return pat_capture_open(ms, s, p);
        case ')':
            return pat_capture_close(ms, s, p + 1);
        case '$':
            if (p + 1 == ms->pat_end)
                return s == ms->subj_end ? s : NULL;
            break;   /* a '$' elsewhere is an ordinary character */
        case '%':
            if (pat_special(ms, &s, &p)) {
                if (!s)
                    return NULL;
                continue;
            }
            break;
        default:
            break;
        }
        if (pat_class_item(ms, &s, &p))
            return s;
    }
    return s;
}

static const char *pat_match(pat_state *ms, const char *s, const char *p)
{
    if (ms->depth_left-- == 0)
        luaL_error(ms->L, "pattern too complex");
    s = pat_match_items(ms, s, p);
    ms->depth_left++;
    return s;
}

/* ---- results ---- */

/* Capture i of a match from s to e (capture 0 is the whole match when there are none): its
 * start in *start and its length, or PAT_CAP_POSITION for a position capture. */
static ptrdiff_t pat_capture_get(pat_state *ms, int i, const char *s, const char *e, const char **start)
{
    if (i >= ms->ncap) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        *start = s;
        return e - s;
    }
    if (ms->cap[i].len == PAT_CAP_OPEN)
        luaL_error(ms->L, "unfinished capture");
    *start = ms->cap[i].start;
    return ms->cap[i].len;
}

static void pat_capture_push(pat_state *ms, int i, const char *s, const char *e)
{
    const char *start;
    ptrdiff_t len = pat_capture_get(ms, i, s, e, &start);
    if (len == PAT_CAP_POSITION)
        lua_pushinteger(ms->L, (start - ms->subj) + 1);
    else
        lua_pushlstring(ms->L, start, (size_t)len);
}

/* Push the captures (the whole match from s to e when there are none and s is set). */
static int pat_captures_push(pat_state *ms, const char *s, const char *e)
{
    int n = (ms->ncap == 0 && s) ? 1 : ms->ncap;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        pat_capture_push(ms, i, s, e);
    return n;
}

/* ---- find and match ---- */

/* Argument arg as a 0-based start offset into a subject of len bytes (may be > len). */
static size_t pat_init_arg(lua_State *L, int arg, size_t len)
{
    lua_Integer i = luaL_optinteger(L, arg, 1);
    if (i > 0)
        return (size_t)i - 1;
    if (i == 0 || i < -(lua_Integer)len)
        return 0;
    return len - (size_t)(-i);
}

/* Does the pattern (lp bytes and the '\0' every Lua string ends with) use any magic character?
 * Else find searches it as plain text. Scanned a '\0'-terminated piece at a time. */
static int pat_has_specials(const char *p, size_t lp)
{
    size_t i = 0;
    do {
        if (strpbrk(p + i, "^$*+?.([%-"))
            return 1;
        i += strlen(p + i) + 1;
    } while (i <= lp);
    return 0;
}

/* Plain search for p (lp bytes) in s (ls bytes): the first occurrence, or NULL. */
static const char *pat_plain_find(pat_state *ms, const char *s, size_t ls, const char *p, size_t lp)
{
    if (lp == 0)
        return s;
    if (lp > ls)
        return NULL;
    const char *last = s + (ls - lp);
    while (s <= last) {
        const char *hit = memchr(s, p[0], (size_t)(last - s) + 1);
        if (!hit) {
            pat_steps(ms, 1 + (last - s) / PAT_CMP_CHUNK);
            return NULL;
        }
        pat_steps(ms, 1 + (hit - s) / PAT_CMP_CHUNK);
        if (pat_equal(ms, hit + 1, p + 1, lp - 1))
            return hit;
        s = hit + 1;
    }
    return NULL;
}

static int pat_find_plain(lua_State *L, pat_state *ms, size_t init, const char *p, size_t lp)
{
    const char *s = ms->subj;
    const char *hit = pat_plain_find(ms, s + init, (size_t)(ms->subj_end - s) - init, p, lp);
    pat_charge(ms);
    if (!hit) {
        luaL_pushfail(L);
        return 1;
    }
    lua_pushinteger(L, (hit - s) + 1);
    lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
    return 2;
}

/* string.find (find = 1) and string.match (find = 0). */
static int pat_find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pat_init_arg(L, 3, ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    pat_state ms;
    const char *what = find ? "string.find: pattern matching" : "string.match: pattern matching";
    if (find && (lua_toboolean(L, 4) || !pat_has_specials(p, lp))) {
        pat_state_init(&ms, L, what, s, ls, p, lp);
        return pat_find_plain(L, &ms, init, p, lp);
    }
    int anchored = lp > 0 && p[0] == '^';
    if (anchored) {
        p++;
        lp--;
    }
    pat_state_init(&ms, L, what, s, ls, p, lp);
    for (const char *at = s + init;; at++) {
        pat_state_reset(&ms);
        const char *e = pat_match(&ms, at, p);
        if (e) {
            pat_charge(&ms);
            if (!find)
                return pat_captures_push(&ms, at, e);
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, e - s);
            return 2 + pat_captures_push(&ms, NULL, NULL);
        }
        if (anchored || at >= ms.subj_end)
            break;
    }
    pat_charge(&ms);
    luaL_pushfail(L);
    return 1;
}

int rules_pattern_find(lua_State *L)
{
    return pat_find_or_match(L, 1);
}

int rules_pattern_match(lua_State *L)
{
    return pat_find_or_match(L, 0);
}

/* ---- gmatch ---- */

typedef struct pat_gmatch {
    size_t pos;    /* where the next search starts (may be len + 1: nothing left) */
    size_t last;   /* end of the previous match, PAT_NO_MATCH before the first */
} pat_gmatch;

/* The iterator: upvalues subject, pattern, pat_gmatch. */
static int pat_gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    pat_gmatch *g = lua_touserdata(L, lua_upvalueindex(3));
    pat_state ms;
    pat_state_init(&ms, L, "string.gmatch: pattern matching", s, ls, p, lp);
    for (size_t at = g->pos; at <= ls; at++) {
        pat_state_reset(&ms);
        const char *e = pat_match(&ms, s + at, p);
        if (e && (size_t)(e - s) != g->last) {   /* no empty match right after the previous one */
            g->pos = g->last = (size_t)(e - s);
            pat_charge(&ms);
            return pat_captures_push(&ms, s + at, e);
        }
    }
    pat_charge(&ms);
    return 0;
}

int rules_pattern_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checklstring(L, 2, NULL);
    size_t init = pat_init_arg(L, 3, ls);
    lua_settop(L, 2);   /* subject and pattern become upvalues, kept alive by the iterator */
    pat_gmatch *g = lua_newuserdatauv(L, sizeof *g, 0);
    g->pos = init > ls ? ls + 1 : init;
    g->last = PAT_NO_MATCH;
    lua_pushcclosure(L, pat_gmatch_next, 3);
    return 1;
}

/* ---- gsub ---- */

/* Append the replacement string (argument 3) for the match s..e: %0-%9 are captures, %% is '%'. */
static void pat_template_add(pat_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = ms->L;
    size_t len;
    const char *t = lua_tolstring(L, 3, &len);
    const char *end = t + len;
    const char *pct;
    while ((pct = memchr(t, '%', (size_t)(end - t))) != NULL) {
        luaL_addlstring(b, t, (size_t)(pct - t));
        char c = pct + 1 < end ? pct[1] : '\0';
        if (c == '%') {
            luaL_addchar(b, '%');
        } else if (c == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)c)) {
            const char *start;
            ptrdiff_t n = pat_capture_get(ms, c - '1', s, e, &start);
            if (n == PAT_CAP_POSITION) {
                lua_pushinteger(L, (start - ms->subj) + 1);
                luaL_addvalue(b);
            } else {
                luaL_addlstring(b, start, (size_t)n);
            }
        } else {
            luaL_error(L, "invalid use of '%%' in replacement string");
        }
        t = pct + 2;
    }
    luaL_addlstring(b, t, (size_t)(end - t));
}

/* Append the replacement for the match s..e given by argument 3 of type tr; 1 when it replaced
 * the text, 0 when a table or function gave false or nil (the original text is kept). */
static int pat_replacement_add(pat_state *ms, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = ms->L;
    if (tr == LUA_TFUNCTION) {
        pat_charge(ms);   /* the function's own instructions are counted by the hook */
        lua_pushvalue(L, 3);
        int n = pat_captures_push(ms, s, e);
        lua_call(L, n, 1);
    } else if (tr == LUA_TTABLE) {
        pat_capture_push(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        pat_template_add(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

int rules_pattern_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int tr = lua_type(L, 3);
    lua_Integer max_n = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE,
                     3, "string/function/table");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int anchored = lp > 0 && p[0] == '^';
    if (anchored) {
        p++;
        lp--;
    }
    pat_state ms;
    pat_state_init(&ms, L, "string.gsub: pattern matching", s, ls, p, lp);
    const char *at = s, *last = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max_n) {
        pat_state_reset(&ms);
        const char *e = pat_match(&ms, at, p);
        if (e && e != last) {   /* no empty match right after the previous one */
            n++;
            changed |= pat_replacement_add(&ms, &b, at, e, tr);
            at = last = e;
        } else if (at < ms.subj_end) {
            luaL_addchar(&b, *at++);
            pat_steps(&ms, 1);
        } else {
            break;
        }
        if (anchored)
            break;
    }
    pat_charge(&ms);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, at, (size_t)(ms.subj_end - at));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* ---- installation ---- */

void rules_pattern_install(lua_State *L, int idx)
{
    static const luaL_Reg fns[] = {
        {"find", rules_pattern_find},
        {"match", rules_pattern_match},
        {"gmatch", rules_pattern_gmatch},
        {"gsub", rules_pattern_gsub},
        {NULL, NULL},
    };
    idx = lua_absindex(L, idx);
    for (const luaL_Reg *f = fns; f->name; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, idx, f->name);
    }
}
