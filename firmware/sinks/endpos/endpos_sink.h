/* endpos_sink: wraps another sink and raises a stop flag once a transaction whose commit ends at
 * or after a given LSN has been handed over, so `sluice capture --end-lsn LSN` stops cleanly at a
 * known point of the WAL (like pg_recvlogical --endpos). Everything else is forwarded unchanged;
 * the capture then flushes and confirms as on any stop. It sees transactions only: if no
 * captured transaction commits at or after the LSN the flag is never raised (a keepalive-aware
 * stop needs the capture's stream position; see docs/BENCHMARKS.md). */
#ifndef SLUICE_SINKS_ENDPOS_SINK_H
#define SLUICE_SINKS_ENDPOS_SINK_H

#include <signal.h>
#include <stdint.h>
#include "pipeline/sink.h"

/* Wrap *inner (taken over: destroying the wrapper destroys it) into *out; *stop is set to 1
 * once a commit's end LSN reaches end_lsn. 0, or -1 with the reason in err. */
int endpos_sink_create(sink *inner, uint64_t end_lsn, volatile sig_atomic_t *stop, sink *out,
                       char *err, size_t errlen);

#endif
