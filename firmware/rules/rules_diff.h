/* rules_diff: a line diff of two texts (rule sources) in the unified format (`diff -u`): a
 * "--- " and a "+++ " header, then hunks "@@ -a,n +b,m @@" with 3 lines of context. The edit
 * script is a longest common subsequence of the lines (after the common head and tail are set
 * aside); when the differing middle is too large for that (more than RULES_DIFF_CELLS line pairs)
 * it is shown as wholly replaced. A missing newline at the end of a text is not reported.
 * Ownership: appends to a caller's buffer. */
#ifndef SLUICE_RULES_RULES_DIFF_H
#define SLUICE_RULES_RULES_DIFF_H

#include "core/buf.h"

#define RULES_DIFF_CONTEXT 3
#define RULES_DIFF_CELLS (4u * 1024 * 1024)

/* Append the diff from a (labelled from) to b (labelled to) to out; nothing when the lines are
 * equal. Returns the number of lines removed plus added, or -1 when out of memory. */
long rules_diff_unified(const char *a, const char *b, const char *from, const char *to, buf *out);

#endif
