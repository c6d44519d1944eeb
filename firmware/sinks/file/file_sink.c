/* file_sink: Debezium JSON lines to a file or stdout (see file_sink.h). */
#include "sinks/file/file_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_SINK_BUFFER (1 << 20)   /* write out whenever this much is pending */

typedef struct file_sink {
    int fd;
    int owns_fd;
    int is_regular;              /* fsync only makes sense for files */
    char *path;
    debezium_encoder *enc;
    buf pending;                 /* encoded lines not yet written */
    uint64_t committed_end;      /* end LSN of the last transaction fully in pending */
    ack_tracker *ack;
    size_t ack_index;
} file_sink;

static int64_t file_sink_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int file_sink_write_out(file_sink *fs, char *err, size_t errlen)
{
    size_t off = 0;
    while (off < fs->pending.len) {
        ssize_t n = write(fs->fd, fs->pending.data + off, fs->pending.len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(err, errlen, "cannot write %s: %s", fs->path, strerror(errno));
            return -1;
        }
        off += (size_t)n;
    }
    buf_reset(&fs->pending);
    return 0;
}

static int file_sink_change(void *self, const event *ev, char *err, size_t errlen)
{
    file_sink *fs = self;
    debezium_encode_value(fs->enc, &fs->pending, ev, file_sink_now_us(), NULL);
    buf_append(&fs->pending, "\n", 1);
    if (fs->pending.len >= FILE_SINK_BUFFER)
        return file_sink_write_out(fs, err, errlen);
    return 0;
}

static int file_sink_commit(void *self, const tx_info *tx, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    file_sink *fs = self;
    fs->committed_end = tx->end_lsn;
    return 0;
}

static int file_sink_flush(void *self, int wait, char *err, size_t errlen)
{
    (void)wait; /* every flush is synchronous */
    file_sink *fs = self;
    uint64_t durable = fs->committed_end;
    if (file_sink_write_out(fs, err, errlen) < 0)
        return -1;
    if (fs->is_regular && fsync(fs->fd) < 0) {
        snprintf(err, errlen, "cannot fsync %s: %s", fs->path, strerror(errno));
        return -1;
    }
    ack_tracker_durable(fs->ack, fs->ack_index, durable);
    return 0;
}

static void file_sink_destroy(void *self)
{
    file_sink *fs = self;
    if (!fs)
        return;
    if (fs->owns_fd && fs->fd >= 0)
        close(fs->fd);
    buf_free(&fs->pending);
    debezium_encoder_destroy(fs->enc);
    free(fs->path);
    free(fs);
}

static const sink_ops file_sink_ops = {
    .name = "file",
    .change = file_sink_change,
    .commit = file_sink_commit,
    .flush = file_sink_flush,
    .destroy = file_sink_destroy,
};

int file_sink_create(const file_sink_options *o, ack_tracker *ack, size_t ack_index, sink *out,
                     char *err, size_t errlen)
{
    file_sink *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fs->fd = -1;
    fs->ack = ack;
    fs->ack_index = ack_index;
    fs->enc = debezium_encoder_create(&o->encoding);
    fs->path = strdup(strcmp(o->path, "-") == 0 ? "standard output" : o->path);
    if (!fs->enc || !fs->path) {
        snprintf(err, errlen, "out of memory");
        file_sink_destroy(fs);
        return -1;
    }
    if (strcmp(o->path, "-") == 0) {
        fs->fd = STDOUT_FILENO;
    } else {
        fs->fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fs->fd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", o->path, strerror(errno));
            file_sink_destroy(fs);
            return -1;
        }
        fs->owns_fd = 1;
    }
    struct stat sb;
    fs->is_regular = fstat(fs->fd, &sb) == 0 && S_ISREG(sb.st_mode);
    out->ops = &file_sink_ops;
    out->self = fs;
    return 0;
}
