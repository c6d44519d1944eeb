#!/usr/bin/env bash
# silver_freshness: lake freshness (source commit to visible in silver) at a fixed event rate.
# Starts a private PostgreSQL 15 and the appliance (`sluice run`, Release build) writing only the
# silver layer to a local lake, then for each commit interval drives pgbench at a fixed rate of
# transactions of 10 rows each (default 2,000 tx/s = 20,000 events/s) on public.ev for D seconds.
# Freshness is measured two ways:
#   - independently of sluice: a sampler commits a marker row into public.marker every 200 ms and
#     polls that silver table's metadata (version-hint.text -> vN.metadata.json -> current
#     snapshot -> summary "sluice.lsn") until the snapshot includes the marker's commit;
#   - by sluice itself: the histogram sluice_silver_commit_to_visible_seconds (/metrics).
# Also: achieved events/s, slot lag, sluice's CPU and peak RSS, snapshots and commit durations.
# Prints a Markdown table.
# Then, per interval, the capacity: --capacity transactions (default 60,000 = 600,000 events)
# written while sluice is stopped, and the time the restarted daemon takes to commit them all.
#   bash bench/silver_freshness.sh [--rate TX_PER_S] [--seconds D] [--intervals "1s 5s"]
#       [--workload insert|mixed] [--capacity TX (0: skip)] [--sluice BIN]
set -euo pipefail

rate=2000
seconds=60
intervals="1s 5s"
workload=insert
capacity=60000
sluice_bin=
while [ $# -gt 0 ]; do
    case "$1" in
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --intervals) intervals=$2; shift 2 ;;
    --workload) workload=$2; shift 2 ;;
    --capacity) capacity=$2; shift 2 ;;
    --sluice) sluice_bin=$2; shift 2 ;;
    -h | --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    *) echo "silver_freshness: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case "$workload" in insert | mixed) ;; *) echo "silver_freshness: --workload is insert or mixed" >&2; exit 2 ;; esac
for iv in $intervals; do
    [[ "$iv" =~ ^[1-9][0-9]*s$ ]] || { echo "silver_freshness: interval '$iv' is not N s (e.g. 1s)" >&2; exit 2; }
done

source "$(dirname "$0")/lib.bash"
pgbench=$pg_bin/pgbench
[ -x "$pgbench" ] || pgbench=$(command -v pgbench) || die "pgbench not found"
command -v python3 >/dev/null || die "python3 not found"
bench_build_sluice
bench_pg_start 2
# The daemon started in the background and the sampler do not outlive the script.
bg_pid=
sampler_pid=
trap '[ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null || true
      [ -z "$bg_pid" ] || kill "$bg_pid" 2>/dev/null || true; bench_cleanup' EXIT

q "CREATE TABLE public.ev (id bigserial PRIMARY KEY, payload text NOT NULL, n int NOT NULL);
   CREATE TABLE public.marker (id int PRIMARY KEY, t timestamptz NOT NULL);"

# ---- the sampler and the report (python3, standard library only) --------------------------------
cat >"$tmp/fresh.py" <<'PY'
import json, os, socket, struct, sys, time

class PG:
    """Just enough of the PostgreSQL protocol (trust authentication, simple queries)."""
    def __init__(self, host, port, user, db):
        self.s = socket.create_connection((host, port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        body = struct.pack("!i", 196608) + b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                                                    for k, v in (("user", user), ("database", db))) + b"\0"
        self.s.sendall(struct.pack("!i", len(body) + 4) + body)
        self._until_ready()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("PostgreSQL closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _until_ready(self):
        rows, error = [], None
        while True:
            kind = self._read(1)
            body = self._read(struct.unpack("!i", self._read(4))[0] - 4)
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise RuntimeError("PostgreSQL asks for a password (the benchmark uses trust)")
            if kind == b"E":
                error = body.decode(errors="replace")
            elif kind == b"D":
                n, pos, row = struct.unpack("!h", body[:2])[0], 2, []
                for _ in range(n):
                    ln = struct.unpack("!i", body[pos:pos + 4])[0]
                    pos += 4
                    row.append(None if ln < 0 else body[pos:pos + ln].decode())
                    pos += max(ln, 0)
                rows.append(row)
            elif kind == b"Z":
                if error:
                    raise RuntimeError("PostgreSQL: " + error)
                return rows

    def query(self, sql):
        b = sql.encode() + b"\0"
        self.s.sendall(b"Q" + struct.pack("!i", len(b) + 4) + b)
        return self._until_ready()

def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)

class Table:
    """An Iceberg table's metadata as a path reader sees it: version-hint.text, then vN.metadata.json."""
    def __init__(self, d):
        self.d, self.version, self.snapshots = d, None, {}

    def poll(self):
        """The new current snapshot (dict, plus the hint's mtime) if the version changed, else None."""
        hint = os.path.join(self.d, "metadata", "version-hint.text")
        try:
            with open(hint) as f:
                v = f.read().strip()
            mtime = os.stat(hint).st_mtime
            if not v or v == self.version:
                return None
            with open(os.path.join(self.d, "metadata", "v%s.metadata.json" % v)) as f:
                m = json.load(f)
        except (OSError, ValueError):
            return None   # not there yet, or being replaced: next poll
        self.version = v
        cur = m.get("current-snapshot-id")
        snap = next((s for s in m.get("snapshots", []) if s.get("snapshot-id") == cur), None)
        if snap is None:
            return None
        snap = dict(snap, hint_mtime=mtime, nsnapshots=len(m.get("snapshots", [])))
        return snap

def find_table(lake, name):
    base = os.path.join(lake, "silver")
    for src in (os.listdir(base) if os.path.isdir(base) else []):
        d = os.path.join(base, src, "public", name)
        if os.path.isdir(d):
            return d
    return None

def proc_stats(pid):
    """(VmRSS KiB, VmHWM KiB, CPU seconds) of pid."""
    rss = hwm = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss, hwm, cpu

def sample(a):
    port, slot, lake, seconds, pid, out = int(a[0]), a[1], a[2], float(a[3]), int(a[4]), a[5]
    drain_max = float(a[6])
    every, poll = 0.2, 0.01
    db = PG("127.0.0.1", port, "postgres", "bench")
    mk = Table(find_table(lake, "marker"))
    ev_cur, ev_hist = Table(find_table(lake, "ev")), Table(find_table(lake, "ev_history") or "/nonexistent")
    # Start from the snapshots the warm-up left.
    mk.poll(), ev_cur.poll(), ev_hist.poll()
    markers, lags, procs, ev_snaps = [], [], [], []
    k = int(db.query("SELECT coalesce(max(id), 0) FROM public.marker")[0][0])
    vis_lsn = 0
    t0 = time.time()
    next_marker, next_lag = t0, t0
    cpu0 = proc_stats(pid)[2]
    wpid = int(db.query("SELECT active_pid FROM pg_replication_slots WHERE slot_name = '%s'" % slot)[0][0])

    def probe():
        """Slot lag (confirmed) and the walsender's send lag, in bytes of WAL."""
        r = db.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), "
                     "pg_wal_lsn_diff(pg_current_wal_lsn(), r.sent_lsn) FROM pg_replication_slots s "
                     "LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = '%s'" % slot)
        f = lambda v: float(v) if v is not None else None
        return {"lag": f(r[0][0]), "sent_lag": f(r[0][1])} if r else {"lag": None, "sent_lag": None}

    def schedstat(path):
        """(seconds on a CPU, seconds runnable but waiting for one) from a schedstat file."""
        try:
            with open(path) as f:
                run, wait = f.read().split()[:2]
            return [int(run) / 1e9, int(wait) / 1e9]
        except (OSError, ValueError):
            return [0.0, 0.0]

    def cpu_snapshot():
        """Machine busy/total jiffies; on-CPU and run-queue seconds of the walsender and of every
        sluice thread."""
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        threads = {}
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    name = f.read().strip()
            except OSError:
                continue
            threads["%s/%s" % (name, tid)] = schedstat("/proc/%d/task/%s/schedstat" % (pid, tid))
        return {"busy": sum(v) - v[3] - v[4], "total": sum(v), "walsender": schedstat("/proc/%d/schedstat" % wpid),
                "threads": threads}
    cpu_start = cpu_snapshot()
    end_lsn = None
    end_t = t0 + seconds
    drain_done = None

    def check_visible(now):
        for m in markers:
            if m["vis"] is None and vis_lsn >= m["lsn_lb"]:
                m["vis"] = now

    while True:
        now = time.time()
        if now < end_t and now >= next_marker:
            k += 1
            t_before = time.time()
            # The marker's own insert LSN (read before COMMIT, after its row's WAL record) is a
            # lower bound of its commit record's LSN and above the previous marker's commit: the
            # marker table's sluice.lsn (the commit LSN of the last marker transaction in the
            # snapshot) includes this marker iff sluice.lsn >= lsn_lb.
            r = db.query("INSERT INTO public.marker VALUES (%d, clock_timestamp()) "
                         "RETURNING pg_current_wal_insert_lsn()::text, extract(epoch FROM t)" % k)
            t_after = time.time()   # COMMIT has returned (the implicit transaction's ReadyForQuery)
            markers.append({"id": k, "t_before": t_before, "t_server": float(r[0][1]), "t": t_after,
                            "lsn_lb": lsn(r[0][0]), "vis": None})
            next_marker += every
            if next_marker < time.time():
                next_marker = time.time() + every
        if now >= next_lag:
            lags.append(dict(probe(), t=now - t0))
            rss, hwm, cpu = proc_stats(pid)
            procs.append({"t": now - t0, "rss_kib": rss, "hwm_kib": hwm, "cpu_s": cpu - cpu0})
            next_lag += 1.0
        s = mk.poll()
        if s is not None:
            vis_lsn = max(vis_lsn, lsn(s["summary"]["sluice.lsn"]))
            check_visible(time.time())
        for tbl, kind in ((ev_cur, "current"), (ev_hist, "history")):
            s = tbl.poll()
            if s is not None:
                ev_snaps.append({"kind": kind, "seen": time.time(), "hint_mtime": s["hint_mtime"],
                                 "timestamp_ms": s["timestamp-ms"], "lsn": s["summary"].get("sluice.lsn"),
                                 "added": int(s["summary"].get("added-records", 0) or 0),
                                 "nsnapshots": s["nsnapshots"]})
        if now >= end_t:
            if end_lsn is None:
                end_lsn = lsn(db.query("SELECT pg_current_wal_lsn()::text")[0][0])
                end_cpu = proc_stats(pid)[2] - cpu0
                end_wall = time.time()
                end_probe = probe()
                c1 = cpu_snapshot()
                load_cpu = {"machine_busy": (c1["busy"] - cpu_start["busy"]) / max(1, c1["total"] - cpu_start["total"]),
                       "walsender": [a - b for a, b in zip(c1["walsender"], cpu_start["walsender"])],
                       "threads": {k: [a - b for a, b in zip(v, cpu_start["threads"].get(k, [0, 0]))]
                                   for k, v in c1["threads"].items()}}
            if drain_done is None:
                c = db.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '%s'" % slot)
                if c and c[0][0] and lsn(c[0][0]) >= end_lsn:
                    drain_done = time.time()
            if (drain_done is not None and all(m["vis"] is not None for m in markers)) or now > end_t + drain_max:
                break
        time.sleep(poll)
    rss, hwm, cpu = proc_stats(pid)
    json.dump({"t0": t0, "seconds": seconds, "markers": markers, "lags": lags, "procs": procs,
               "ev_snapshots": ev_snaps, "end_wall": end_wall, "cpu_load_s": end_cpu,
               "end_probe": end_probe, "cpu": load_cpu,
               "drain_s": (drain_done - end_t) if drain_done else None, "hwm_kib": hwm}, open(out, "w"))

def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    i = q * (len(xs) - 1)
    lo = int(i)
    return xs[lo] + (xs[min(lo + 1, len(xs) - 1)] - xs[lo]) * (i - lo)

def buckets(path, name):
    out = {}
    for line in open(path):
        if line.startswith(name + "_bucket{"):
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(None, 1)[1])
    return out

def counter(path, name):
    for line in open(path):
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0

def hist_quantile(b, q):
    """Like Prometheus' histogram_quantile: linear within the bucket the rank falls in."""
    les = sorted(b)
    total = b[float("inf")]
    if total <= 0:
        return float("nan")
    rank, prev_le, prev_c = q * total, 0.0, 0.0
    for le in les:
        if b[le] >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * ((rank - prev_c) / (b[le] - prev_c) if b[le] > prev_c else 1)
        prev_le, prev_c = le, b[le]
    return prev_le

def report(a):
    interval, tps, samp, m0, m1, logf = a[0], float(a[1]), json.load(open(a[2])), a[3], a[4], a[5]
    iv = float(interval.rstrip("s"))
    name = "sluice_silver_commit_to_visible_seconds"
    b0, b1 = buckets(m0, name), buckets(m1, name)
    b = {le: b1[le] - b0.get(le, 0) for le in b1}
    commits = counter(m1, "sluice_silver_commits_total") - counter(m0, "sluice_silver_commits_total")
    rows = counter(m1, "sluice_silver_rows_total") - counter(m0, "sluice_silver_rows_total")
    ms = samp["markers"]
    fr = [m["vis"] - m["t"] for m in ms if m["vis"] is not None]
    missing = sum(1 for m in ms if m["vis"] is None)
    commit_err = max((m["t"] - m["t_server"] for m in ms), default=0)
    # Freshness over the run: p50 per third.
    n = len(ms)
    thirds = []
    for i in range(3):
        part = [m["vis"] - m["t"] for m in ms[i * n // 3:(i + 1) * n // 3] if m["vis"] is not None]
        thirds.append(quantile(part, 0.5))
    lags = [x["lag"] for x in samp["lags"] if x["lag"] is not None and x["t"] <= samp["seconds"]]
    sent = [x["sent_lag"] for x in samp["lags"] if x["sent_lag"] is not None and x["t"] <= samp["seconds"]]
    endp = samp["end_probe"]
    c = samp["cpu"]
    busy_threads = sorted(c["threads"].items(), key=lambda kv: -kv[1][0])[:3]
    pct = lambda x: 100 * x / samp["seconds"]
    threads = ", ".join("%s on CPU %d%% + waiting for a CPU %d%%" % (k.split("/")[0], pct(v[0]), pct(v[1]))
                        for k, v in busy_threads if v[0] >= 0.01 * samp["seconds"])
    # ev's pair commits: the history table's hint is written last; duration = its mtime - the
    # snapshot's timestamp-ms (taken when the pair's commit started).
    hist = [s for s in samp["ev_snapshots"] if s["kind"] == "history"]
    cur = [s for s in samp["ev_snapshots"] if s["kind"] == "current"]
    durs = [s["hint_mtime"] - s["timestamp_ms"] / 1000 for s in (hist or cur)]
    gaps = [b_["timestamp_ms"] / 1000 - a_["timestamp_ms"] / 1000 for a_, b_ in zip(cur, cur[1:])]
    cpu_pct = 100 * samp["cpu_load_s"] / samp["seconds"]
    fmt = lambda x: "%.2f" % x
    row = "| %s | %d | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %d%% | %d | %d |" % (
        interval, round(tps * 10), fmt(quantile(fr, .5)), fmt(quantile(fr, .9)), fmt(quantile(fr, .99)),
        fmt(max(fr) if fr else float("nan")), quantile(fr, .5) / iv,
        fmt(hist_quantile(b, .5)), fmt(hist_quantile(b, .99)),
        fmt(max(lags) / 2**20) if lags else "-",
        fmt(samp["drain_s"]) if samp["drain_s"] is not None else "> %d" % (samp["seconds"]),
        cpu_pct, samp["hwm_kib"] // 1024, len(cur))
    detail = ("interval %s: markers %d (%d never visible), marker commit-time bound %.1f ms, freshness p50 by "
              "third of the run %s s; ev snapshots %d, pair commit duration p50 %.3f s max %.3f s, gap between "
              "snapshots p50 %.2f s max %.2f s; silver commits (all tables) %d, silver rows %d; histogram "
              "transactions %d; slot lag max %.1f MiB, at the end of the load %.1f MiB (walsender's send lag max %.1f MiB, at the end %.1f MiB); sluice RSS at the end %d MiB; CPU during the load: machine %d%% busy, walsender on CPU %d%% + waiting for a CPU %d%%, sluice threads: %s"
              % (interval, n, missing, commit_err * 1000, " / ".join(fmt(x) for x in thirds), len(cur),
                 quantile(durs, .5), max(durs, default=float("nan")), quantile(gaps, .5),
                 max(gaps, default=float("nan")), commits, rows, b.get(float("inf"), 0),
                 max(lags, default=0) / 2**20, (endp["lag"] or 0) / 2**20, max(sent, default=0) / 2**20,
                 (endp["sent_lag"] or 0) / 2**20, samp["procs"][-1]["rss_kib"] // 1024 if samp["procs"] else 0,
                 100 * c["machine_busy"], pct(c["walsender"][0]), pct(c["walsender"][1]), threads))
    print(row)
    with open(logf, "a") as f:
        f.write(detail + "\n")

{"sample": sample, "report": report}[sys.argv[1]](sys.argv[2:])
PY

# ---- the workload ----------------------------------------------------------------------------------
if [ "$workload" = insert ]; then
    cat >"$tmp/tx.sql" <<'SQL'
INSERT INTO public.ev (payload, n)
SELECT 'payload-' || g || '-' || md5(clock_timestamp()::text), (random() * 1000000)::int
FROM generate_series(1, 10) AS g;
SQL
    mix="10-row inserts"
else
    # 5 inserts and 5 updates of existing rows (ids 1..100000, inserted before the load).
    cat >"$tmp/tx.sql" <<'SQL'
\set a random(1, 99996)
INSERT INTO public.ev (payload, n)
SELECT 'payload-' || g || '-' || md5(clock_timestamp()::text), (random() * 1000000)::int
FROM generate_series(1, 5) AS g;
UPDATE public.ev SET n = n + 1, payload = 'updated-' || md5(clock_timestamp()::text) WHERE id BETWEEN :a AND :a + 4;
SQL
    mix="5 inserts + 5 updates per transaction"
fi

wal_lsn() { q "SELECT pg_current_wal_lsn()"; }
# wait_confirmed SLOT LSN SECS: until the slot's confirmed_flush_lsn >= LSN (silver confirms only
# what committed snapshots hold).
wait_confirmed() {
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        [ "$(q "SELECT confirmed_flush_lsn >= '$2' FROM pg_replication_slots WHERE slot_name = '$1'")" = t ] && return 0
        kill -0 "$bg_pid" 2>/dev/null || { tail -30 "$log" >&2; die "sluice run exited"; }
        sleep 0.1
    done
    tail -30 "$log" >&2
    die "slot $1 not confirmed past $2 in $3 s"
}

# start_daemon: `sluice run` on this interval's state and configuration, until its slot streams.
start_daemon() {
    local i
    "$sluice_bin" run --state-dir "$state" --config "$tmp/sluice_$idx.conf" >>"$log" 2>&1 &
    bg_pid=$!
    for ((i = 0; i < 600; i++)); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$http/readyz" || true)" = 200 ] && break
        kill -0 "$bg_pid" 2>/dev/null || { tail -30 "$log" >&2; die "sluice run exited"; }
        sleep 0.1
    done
    for ((i = 0; i < 600; i++)); do
        [ "$(q "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] && return 0
        kill -0 "$bg_pid" 2>/dev/null || { tail -30 "$log" >&2; die "sluice run exited"; }
        sleep 0.1
    done
    die "slot $slot not streaming"
}
stop_daemon() {
    kill -TERM "$bg_pid"
    wait "$bg_pid" || { bg_pid=; tail -30 "$log" >&2; die "sluice run did not stop cleanly"; }
    bg_pid=
}
# cpu_s PID: user + system CPU seconds of PID.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"; }

rows=()
cap_rows=()
details=$tmp/details.txt
: >"$details"
idx=0
for iv in $intervals; do
    idx=$((idx + 1))
    slot=silver_$idx
    state=$tmp/state_$idx
    lake=$tmp/lake_$idx
    log=$tmp/run_$idx.log
    http=127.0.0.1:$(free_port)
    q "TRUNCATE public.ev, public.marker RESTART IDENTITY"
    cat >"$tmp/sluice_$idx.conf" <<CONF
console.listen = "$http"
source.conninfo = "$conninfo"
source.slot = "$slot"
source.publication = "$slot"
source.tables = "public.ev,public.marker"
source.snapshot_mode = "never"
lake.store = "local"
lake.path = "$lake"
silver.enabled = "true"
silver.commit_interval = "$iv"
bronze.enabled = "false"
CONF
    say "interval $iv: starting sluice run (silver only, local lake)"
    start_daemon
    # Warm-up: both silver tables exist (and, for the mixed load, the rows it updates).
    q "INSERT INTO public.marker VALUES (0, now())"
    if [ "$workload" = mixed ]; then
        q "INSERT INTO public.ev (payload, n) SELECT 'payload-' || g, g FROM generate_series(1, 100000) AS g"
    else
        q "INSERT INTO public.ev (payload, n) VALUES ('warm-up', 0)"
    fi
    wait_confirmed "$slot" "$(wal_lsn)" 120
    curl -fsS "http://$http/metrics" >"$tmp/metrics0_$idx.txt" || die "GET /metrics failed"

    say "interval $iv: pgbench $rate tx/s ($mix, $((rate * 10)) events/s) for $seconds s, markers every 200 ms"
    python3 "$tmp/fresh.py" sample "$port" "$slot" "$lake" "$seconds" "$bg_pid" "$tmp/sample_$idx.json" \
        $((${iv%s} * 4 + 120)) 2>"$tmp/sampler_$idx.err" &
    sampler_pid=$!
    "$pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -d bench -f "$tmp/tx.sql" -R "$rate" -T "$seconds" \
        -c 4 -j 2 >"$tmp/pgbench_$idx.log" 2>&1 || { cat "$tmp/pgbench_$idx.log" >&2; die "pgbench failed"; }
    tps=$(awk '/^tps = / { print $3 }' "$tmp/pgbench_$idx.log")
    wait "$sampler_pid" || { sampler_pid=; cat "$tmp/sampler_$idx.err" >&2; die "the sampler failed"; }
    sampler_pid=
    curl -fsS "http://$http/metrics" >"$tmp/metrics1_$idx.txt" || die "GET /metrics failed"
    stop_daemon
    rows+=("$(python3 "$tmp/fresh.py" report "$iv" "$tps" "$tmp/sample_$idx.json" "$tmp/metrics0_$idx.txt" \
        "$tmp/metrics1_$idx.txt" "$details")")
    if grep -v "one-time password" "$log" | grep -Eiq "warn|error|fail"; then
        say "interval $iv: the daemon logged warnings or errors:"
        grep -v "one-time password" "$log" | grep -Ei "warn|error|fail" | head -20 >&2
    fi
    if [ "$capacity" -gt 0 ]; then
        # Capacity: the same transactions written as fast as pgbench can while sluice is stopped,
        # then the time the restarted daemon takes to have them all in committed snapshots (its
        # slot confirmed past the last one), with the two cores to itself and the walsender.
        say "interval $iv: capacity: $capacity transactions ($((capacity * 10)) events) written with sluice stopped"
        "$pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -d bench -f "$tmp/tx.sql" -t $((capacity / 4)) \
            -c 4 -j 2 >"$tmp/pgbench_cap_$idx.log" 2>&1 || { cat "$tmp/pgbench_cap_$idx.log" >&2; die "pgbench failed"; }
        end=$(wal_lsn)
        wal_mib=$(q "SELECT round(pg_wal_lsn_diff('$end', confirmed_flush_lsn) / 1048576) FROM pg_replication_slots WHERE slot_name = '$slot'")
        say "interval $iv: capacity: restarting sluice on $wal_mib MiB of WAL"
        t_start=$(now_ns)
        start_daemon
        wait_confirmed "$slot" "$end" 1200
        t_end=$(now_ns)
        cap_cpu=$(cpu_s "$bg_pid")
        cap_hwm=$(awk '/^VmHWM:/ { printf "%d", $2 / 1024 }' "/proc/$bg_pid/status")
        curl -fsS "http://$http/metrics" >"$tmp/metrics_cap_$idx.txt" || die "GET /metrics failed"
        stop_daemon
        cap_commits=$(awk '/^sluice_silver_commits_total / { print $2 }' "$tmp/metrics_cap_$idx.txt")
        cap_rows+=("$(awk -v iv="$iv" -v n=$((capacity / 4 * 4 * 10)) -v ns=$((t_end - t_start)) -v cpu="$cap_cpu" \
            -v rss="$cap_hwm" -v wal="$wal_mib" -v c="$cap_commits" 'BEGIN {
                s = ns / 1e9
                printf "| %s | %d | %d | %.1f | %d | %.1f (%d%%) | %d | %d |", iv, n, wal, s, n / s, cpu, 100 * cpu / s, rss, c }')")
    fi
    if [ -n "${SILVER_FRESHNESS_KEEP:-}" ]; then   # keep the run's logs, samples and metrics
        mkdir -p "$SILVER_FRESHNESS_KEEP"
        cp "$tmp"/*_"$idx".* "$SILVER_FRESHNESS_KEEP"/
    fi
    q "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    rm -rf "$lake" "$state"
done

echo
bench_machine
echo "workload: $rate tx/s x 10 rows ($mix) = $((rate * 10)) events/s offered, $seconds s per interval; silver history on"
echo
echo "| commit interval | events/s achieved | freshness p50 (s) | p90 (s) | p99 (s) | max (s) | p50 / interval | histogram p50 (s) | histogram p99 (s) | slot lag max (MiB) | drain after load (s) | sluice CPU (one core) | peak RSS (MiB) | ev snapshots |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
if [ "${#cap_rows[@]}" -gt 0 ]; then
    echo
    echo "Capacity (backlog written with sluice stopped, then drained; no other load):"
    echo
    echo "| commit interval | events | WAL (MiB) | drain time (s) | events/s | sluice CPU, s (of wall) | peak RSS (MiB) | silver commits |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${cap_rows[@]}"
fi
echo
sed 's/^/- /' "$details"
