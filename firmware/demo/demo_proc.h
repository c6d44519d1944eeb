/* demo_proc: child processes of `sluice demo` (initdb, postgres). A child may switch to another
 * user, get its own process group, and always receives a signal when sluice dies
 * (PR_SET_PDEATHSIG), so it never outlives the demo. Waits poll a caller's interrupt check. */
#ifndef SLUICE_DEMO_PROC_H
#define SLUICE_DEMO_PROC_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"

typedef struct demo_proc_spec {
    const char *path;       /* executable to run */
    char *const *argv;      /* argv[0] first, NULL-terminated */
    int switch_user;        /* 1: setgid(gid)/setuid(uid) before exec */
    uid_t uid;
    gid_t gid;
    int out_fd;             /* stdout and stderr go here; -1 = /dev/null */
    int new_group;          /* 1: run in a process group of its own (terminal ^C won't reach it) */
    int death_signal;       /* sent to the child when the spawning thread dies, e.g. SIGINT */
} demo_proc_spec;

/* Returns nonzero when a wait should give up (e.g. Ctrl-C arrived). */
typedef int (*demo_interrupt_fn)(void *ctx);

enum { DEMO_WAIT_EXITED = 0, DEMO_WAIT_TIMEOUT = 1, DEMO_WAIT_INTERRUPTED = 2, DEMO_WAIT_ERROR = -1 };

/* Start the child. A failing exec is reported here (not as a mysterious exit status).
 * 0 with *pid set, or -1 with the reason in err. */
int demo_proc_spawn(const demo_proc_spec *spec, pid_t *pid, char *err, size_t errlen);
/* Wait up to timeout_ms (< 0: no limit) for pid to exit, polling interrupt (may be NULL).
 * Returns one of DEMO_WAIT_*; *status is the waitpid() status when EXITED. */
int demo_proc_wait(pid_t pid, long timeout_ms, demo_interrupt_fn interrupt, void *ctx, int *status);
/* Send sig, wait up to grace_ms, then SIGKILL the child and its process group and reap it.
 * Returns 0 when it ended within the grace period, 1 when it had to be killed. */
int demo_proc_terminate(pid_t pid, int sig, long grace_ms);
/* Run spec to completion (out_fd is ignored: output is collected into out). On timeout or
 * interrupt the child is terminated. 0 when it exited with status 0, else -1 with the reason
 * in err (the output stays in out for the caller to show). */
int demo_proc_run(const demo_proc_spec *spec, long timeout_ms, demo_interrupt_fn interrupt,
                  void *ctx, buf *out, char *err, size_t errlen);
/* Describe a waitpid() status: "exit status 1", "killed by signal 9". */
void demo_proc_status_describe(int status, char *out, size_t outlen);

#endif
