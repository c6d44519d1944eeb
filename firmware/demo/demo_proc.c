/* demo_proc: fork/exec of the demo's child processes, waits with timeouts and interrupts, and
 * termination with escalation to SIGKILL (see demo_proc.h). Between fork and exec the child
 * only makes async-signal-safe calls: sluice has other threads by then. */
#include "demo/demo_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Child side: report errno and the failing step through the pipe, then exit. */
static void child_fail(int pipe_fd, int step)
{
    int msg[2] = {step, errno};
    ssize_t w = write(pipe_fd, msg, sizeof msg);
    (void)w;
    _exit(127);
}

enum { STEP_PGRP = 1, STEP_GROUPS, STEP_GID, STEP_UID, STEP_PDEATH, STEP_STDIO, STEP_EXEC };

static const char *step_name(int step)
{
    switch (step) {
    case STEP_PGRP: return "setpgid";
    case STEP_GROUPS: return "setgroups";
    case STEP_GID: return "setgid";
    case STEP_UID: return "setuid";
    case STEP_PDEATH: return "prctl(PR_SET_PDEATHSIG)";
    case STEP_STDIO: return "redirecting output";
    default: return "exec";
    }
}

static void child_run(const demo_proc_spec *spec, pid_t parent, int pipe_fd, int max_fd)
{
    if (spec->new_group && setpgid(0, 0) < 0)
        child_fail(pipe_fd, STEP_PGRP);
    if (spec->switch_user) {
        if (setgroups(1, &spec->gid) < 0)
            child_fail(pipe_fd, STEP_GROUPS);
        if (setgid(spec->gid) < 0)
            child_fail(pipe_fd, STEP_GID);
        if (setuid(spec->uid) < 0)
            child_fail(pipe_fd, STEP_UID);
    }
    /* After the credential change: changing credentials clears the death signal. */
    if (spec->death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, spec->death_signal) < 0)
            child_fail(pipe_fd, STEP_PDEATH);
        if (getppid() != parent)
            _exit(1); /* sluice already died */
    }
    /* Signal state survives exec: unblock everything and undo SIG_IGN (handlers reset anyway). */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int s = 1; s < 65; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);

    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0)
        child_fail(pipe_fd, STEP_STDIO);
    int out = spec->out_fd >= 0 ? spec->out_fd : devnull;
    if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        child_fail(pipe_fd, STEP_STDIO);
    /* Do not leak sluice's descriptors (store, sockets) into the child. */
    for (int fd = 3; fd < max_fd; fd++)
        if (fd != pipe_fd)
            close(fd);
    execv(spec->path, spec->argv);
    child_fail(pipe_fd, STEP_EXEC);
}

int demo_proc_spawn(const demo_proc_spec *spec, pid_t *pid, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    struct rlimit rl;
    int max_fd = 65536; /* descriptors the child closes: up to the limit, at most this many */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536)
        max_fd = (int)rl.rlim_cur;
    pid_t parent = getpid();

    pid_t child = fork();
    if (child < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (child == 0) {
        close(fds[0]);
        child_run(spec, parent, fds[1], max_fd);
    }
    close(fds[1]);
    if (spec->new_group)
        setpgid(child, child); /* both sides, so there is no window; EACCES after exec is fine */

    int msg[2];
    ssize_t n;
    do {
        n = read(fds[0], msg, sizeof msg);
    } while (n < 0 && errno == EINTR);
    close(fds[0]);
    if (n == (ssize_t)sizeof msg) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        snprintf(err, errlen, "%s %s: %s", step_name(msg[0]),
                 msg[0] == STEP_EXEC ? spec->path : "failed", strerror(msg[1]));
        return -1;
    }
    *pid = child;
    return 0;
}

int demo_proc_wait(pid_t pid, long timeout_ms, demo_interrupt_fn interrupt, void *ctx, int *status)
{
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return DEMO_WAIT_EXITED;
        if (r < 0 && errno != EINTR)
            return DEMO_WAIT_ERROR;
        if (interrupt && interrupt(ctx))
            return DEMO_WAIT_INTERRUPTED;
        if (deadline >= 0 && now_ms() >= deadline)
            return DEMO_WAIT_TIMEOUT;
        sleep_ms(20);
    }
}

int demo_proc_terminate(pid_t pid, int sig, long grace_ms)
{
    int status;
    kill(pid, sig);
    if (demo_proc_wait(pid, grace_ms, NULL, NULL, &status) != DEMO_WAIT_TIMEOUT)
        return 0;
    kill(-pid, SIGKILL); /* its process group, when it has one */
    kill(pid, SIGKILL);
    demo_proc_wait(pid, 10000, NULL, NULL, &status);
    return 1;
}

void demo_proc_status_describe(int status, char *out, size_t outlen)
{
    if (WIFEXITED(status))
        snprintf(out, outlen, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, outlen, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, outlen, "wait status %d", status);
}

/* Move whatever the pipe holds into out; 1 at end of file. */
static int drain(int fd, buf *out)
{
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            buf_append(out, chunk, (size_t)n);
            continue;
        }
        if (n == 0)
            return 1;
        if (errno == EINTR)
            continue;
        return 0; /* EAGAIN */
    }
}

int demo_proc_run(const demo_proc_spec *spec, long timeout_ms, demo_interrupt_fn interrupt,
                  void *ctx, buf *out, char *err, size_t errlen)
{
    int fds[2];
    if (pipe(fds) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    demo_proc_spec s = *spec;
    s.out_fd = fds[1];
    pid_t pid;
    int rc = demo_proc_spawn(&s, &pid, err, errlen);
    close(fds[1]);
    if (rc < 0) {
        close(fds[0]);
        return -1;
    }

    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    int status = 0, eof = 0, outcome = DEMO_WAIT_TIMEOUT;
    for (;;) {
        if (!eof) {
            struct pollfd p = {fds[0], POLLIN, 0};
            if (poll(&p, 1, 50) > 0)
                eof = drain(fds[0], out);
        } else {
            sleep_ms(20);
        }
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            outcome = DEMO_WAIT_EXITED;
            break;
        }
        if (interrupt && interrupt(ctx)) {
            outcome = DEMO_WAIT_INTERRUPTED;
            break;
        }
        if (deadline >= 0 && now_ms() >= deadline)
            break;
    }
    if (outcome != DEMO_WAIT_EXITED)
        demo_proc_terminate(pid, SIGTERM, 5000);
    drain(fds[0], out);
    close(fds[0]);

    const char *name = strrchr(spec->path, '/') ? strrchr(spec->path, '/') + 1 : spec->path;
    if (outcome == DEMO_WAIT_INTERRUPTED) {
        snprintf(err, errlen, "%s interrupted", name);
        return -1;
    }
    if (outcome == DEMO_WAIT_TIMEOUT) {
        snprintf(err, errlen, "%s did not finish within %ld s", name, timeout_ms / 1000);
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char how[64];
        demo_proc_status_describe(status, how, sizeof how);
        snprintf(err, errlen, "%s failed (%s)", name, how);
        return -1;
    }
    return 0;
}
