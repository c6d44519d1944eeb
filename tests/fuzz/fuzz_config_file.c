/* libFuzzer target: the configuration file parser and the checks behind `sluice check` must
 * report problems, never crash, on any input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    conf_entries entries = {0};
    conf_problems problems = {0};
    config_text_read("fuzz.conf", text, &entries, &problems);
    conf_entries_check(&entries, &problems);
    conf_entries_free(&entries);
    conf_problems_free(&problems);
    free(text);
    return 0;
}
