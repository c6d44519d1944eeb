/* rules_settings: the `rules.*` configuration map (see rules_settings.h). */
#include "rules/rules_settings.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const conf_setting rules_settings[] = {
    {"rules.instruction_limit", CONF_INT, "1000000", 1000, 1000000000, NULL,
     "Lua VM instructions one call of a rule may run (transform or route for one event); a rule "
     "that runs longer is stopped and the event goes to the dead letters.", NULL},
    {"rules.memory_limit", CONF_INT, "16", 1, 4096, NULL,
     "MiB of memory each rule's sandbox may use; an allocation beyond it fails the call and the "
     "event goes to the dead letters.", NULL},
    {"rules.replay_writes_transaction", CONF_BOOL, "true", 0, 0, NULL,
     "When dead letters are requested for replay, write a transactional logical message "
     "(pg_logical_emit_message) to the source so that a transaction carries the replays within "
     "about a second even when the source is idle; off: they wait for the next source transaction.",
     NULL},
};

const conf_module rules_conf_module = {
    "rules", "Transformation rules (Lua): the limits of each rule's sandbox, dead-letter replays.", rules_settings,
    COUNT(rules_settings)};

void rules_limits_from_config(const config *cfg, rules_limits *out)
{
    out->instructions = (uint64_t)config_int(cfg, "rules.instruction_limit");
    out->memory_bytes = (size_t)config_int(cfg, "rules.memory_limit") << 20;
}
