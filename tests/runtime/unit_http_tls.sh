#!/usr/bin/env bash
# The TLS transport (firmware/core/http_tls.c) against real TLS peers: Python's http.server wrapped
# in OpenSSL (ssl module) and openssl s_server, with a CA and certificates made here by the openssl
# CLI. The driver tests/tools/http_tls_get does the GETs. Checks: the right CA gives 200 and the exact
# body (by name and by IP address), keep-alive, a large body; refusal in words for an unknown CA, the
# system CA bundle, a name mismatch, an expired and a not-yet-valid certificate, a TLS 1.1-only
# server; a silent server fails within the deadline and a plain-HTTP server fails fast.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR must point to the build directory (ctest sets it)}"

get="$SLUICE_BUILD_DIR/tests/http_tls_get"
[ -x "$get" ] || fail "$get not built (tests/tools/http_tls_get.c)"
command -v openssl >/dev/null 2>&1 || fail "openssl not found: run packaging/install-deps.sh --test"
command -v python3 >/dev/null 2>&1 || fail "python3 not found: run packaging/install-deps.sh --test"
python3 -c 'import ssl, http.server' || fail "python3 lacks the ssl or http.server module"
cd "$test_tmp"

# ---- certificates ----

# new_key FILE: a P-256 private key.
new_key() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null || fail "openssl genpkey"
}

# new_ca NAME CN: NAME.key, NAME.pem (self-signed CA) and what `openssl ca` needs to sign with it.
new_ca() {
    new_key "$1.key"
    openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$1.pem" 2>/dev/null || fail "openssl req (CA $2)"
    mkdir -p "$1.db/certs"
    : >"$1.db/index.txt"
    echo 1000 >"$1.db/serial"
}

cat >leaf.cnf <<'EOF'
[ca]
default_ca = test_ca
[test_ca]
database = $ENV::CADB/index.txt
new_certs_dir = $ENV::CADB/certs
serial = $ENV::CADB/serial
default_md = sha256
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $ENV::SAN
EOF

# new_leaf NAME CA CN SAN [STARTDATE ENDDATE]: NAME.key and NAME.pem, a server certificate signed
# by CA (openssl x509 for the current time, openssl ca for given dates such as an expired one).
new_leaf() {
    local name=$1 ca=$2 cn=$3 san=$4
    new_key "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$cn" -out "$name.csr" 2>/dev/null || fail "openssl req ($name)"
    if [ $# -eq 4 ]; then
        printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" "subjectAltName=$san" >"$name.ext"
        openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial -days 2 \
            -extfile "$name.ext" -out "$name.pem" 2>/dev/null || fail "openssl x509 ($name)"
    else
        CADB="$ca.db" SAN="$san" openssl ca -batch -notext -config leaf.cnf -extensions leaf_ext \
            -cert "$ca.pem" -keyfile "$ca.key" -startdate "$5" -enddate "$6" \
            -in "$name.csr" -out "$name.pem" 2>/dev/null || fail "openssl ca ($name)"
    fi
}

new_ca ca "Sluice Test CA"
new_ca other_ca "Some Other CA"
new_leaf good ca localhost "DNS:localhost,IP:127.0.0.1"
new_leaf stranger other_ca localhost "DNS:localhost,IP:127.0.0.1"
new_leaf elsewhere ca other.example "DNS:other.example"
new_leaf expired ca localhost "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200201000000Z
new_leaf future ca localhost "DNS:localhost,IP:127.0.0.1" 20990101000000Z 20991231000000Z
openssl verify -CAfile ca.pem good.pem >/dev/null || fail "openssl does not accept the test server certificate"

# ---- peers ----

cat >server.py <<'EOF'
# server.py MODE PORTFILE [CERT KEY]: MODE tls (HTTP/1.1 over TLS), plain (HTTP without TLS) or
# silent (accepts TCP connections, never answers). Writes its port to PORTFILE once listening.
import http.server, os, socket, ssl, sys, time

BIG = b"".join(b"%07d\n" % i for i in range(25000))

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests = 0

    def do_GET(self):
        self.requests += 1   # one handler per connection: counts requests on it
        if self.path == "/hello":
            body = b"hello over tls\n"
        elif self.path == "/count":
            body = b"request %d on this connection\n" % self.requests
        elif self.path == "/big":
            body = BIG
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle(self):   # report how each connection ended, on stderr
        try:
            super().handle()
            how = "with close_notify"
        except (ssl.SSLError, OSError) as e:
            how = "without close_notify (%s)" % type(e).__name__
        sys.stderr.write("connection closed %s\n" % how)
        sys.stderr.flush()

    def log_message(self, *args):
        pass

mode, portfile = sys.argv[1], sys.argv[2]
if mode == "silent":
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
else:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, suppress_ragged_eofs=False)
    port = srv.server_address[1]
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % port)
os.rename(portfile + ".tmp", portfile)
if mode == "silent":
    time.sleep(3600)
else:
    srv.serve_forever()
EOF

# start_server NAME MODE [CERT KEY]: runs server.py, sets port_NAME.
start_server() {
    local name=$1 i
    shift
    python3 server.py "$1" "$name.port" "${@:2}" 2>"$name.log" &
    test_pids+=($!)
    for ((i = 0; i < 100; i++)); do
        [ -s "$name.port" ] && break
        sleep 0.1
    done
    [ -s "$name.port" ] || fail "server $name did not start: $(cat "$name.log")"
    printf -v "port_$name" '%s' "$(cat "$name.port")"
}

start_server good tls good.pem good.key
start_server stranger tls stranger.pem stranger.key
start_server elsewhere tls elsewhere.pem elsewhere.key
start_server expired tls expired.pem expired.key
start_server future tls future.pem future.key
start_server plain plain
start_server silent silent

# ---- checks ----

# expect_ok WHAT EXPECTED ARGS...: the driver succeeds and prints exactly EXPECTED.
expect_ok() {
    local what=$1 want=$2 out rc=0
    shift 2
    out=$("$get" "$@" 2>&1) || rc=$?
    [ "$rc" -eq 0 ] || fail "$what: driver failed ($rc): $out"
    [ "$out" = "$want" ] || fail "$what: expected '$want', got '$out'"
    pass "$what"
}

# expect_error WHAT EXPECTED ARGS...: the driver fails and its whole output is "error: EXPECTED".
expect_error() {
    local what=$1 want=$2 out rc=0
    shift 2
    out=$("$get" "$@" 2>&1) || rc=$?
    [ "$rc" -eq 1 ] || fail "$what: expected the driver to fail (exit 1), got $rc: $out"
    [ "$out" = "error: $want" ] || fail "$what: expected 'error: $want', got '$out'"
    pass "$what: $want"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

expect_ok "GET by name with the test CA" $'status 200\nhello over tls' \
    --ca ca.pem localhost "$port_good" /hello
expect_ok "GET by IP address (iPAddress subjectAltName)" $'status 200\nhello over tls' \
    --ca ca.pem 127.0.0.1 "$port_good" /hello
expect_ok "two requests on one connection (keep-alive)" \
    $'status 200\nrequest 1 on this connection\nstatus 200\nrequest 2 on this connection' \
    --ca ca.pem --repeat 2 localhost "$port_good" /count

"$get" --ca ca.pem localhost "$port_good" /big >big.out 2>&1 || fail "GET /big: $(cat big.out)"
{
    echo "status 200"
    python3 -c 'import sys; sys.stdout.buffer.write(b"".join(b"%07d\n" % i for i in range(25000)))'
} >big.want
cmp -s big.out big.want || fail "GET /big: body differs from the server's 200000 bytes ($(wc -c <big.out) bytes)"
pass "a 200000-byte body arrives intact"

# Those four connections ended with our close_notify (Python's server, not suppressing ragged EOFs,
# tells a bare TCP close apart).
for ((i = 0; i < 30; i++)); do
    [ "$(grep -c '^connection closed' good.log)" -ge 4 ] && break
    sleep 0.1
done
closes=$(grep '^connection closed' good.log || true)
[ "$(grep -c '^connection closed with close_notify$' <<<"$closes")" -eq 4 ] ||
    fail "expected 4 connections closed with close_notify, the server saw: $closes"
pass "connections end with close_notify"

expect_error "certificate from another CA" \
    "localhost:$port_stranger: server certificate refused: certificate not trusted" \
    --ca ca.pem localhost "$port_stranger" /hello
expect_error "test certificate against the system CA bundle" \
    "localhost:$port_good: server certificate refused: certificate not trusted" \
    localhost "$port_good" /hello
expect_error "certificate for another name" \
    "localhost:$port_elsewhere: server certificate refused: name mismatch" \
    --ca ca.pem localhost "$port_elsewhere" /hello
expect_error "certificate for another name, by IP address" \
    "127.0.0.1:$port_elsewhere: server certificate refused: name mismatch" \
    --ca ca.pem 127.0.0.1 "$port_elsewhere" /hello
expect_error "expired certificate" \
    "localhost:$port_expired: server certificate refused: expired" \
    --ca ca.pem localhost "$port_expired" /hello
expect_error "certificate not yet valid" \
    "localhost:$port_future: server certificate refused: not yet valid" \
    --ca ca.pem localhost "$port_future" /hello

out=$("$get" --ca "$test_tmp/missing.pem" localhost "$port_good" /hello 2>&1) && fail "a missing CA file was accepted"
[ "$out" = "error: localhost:$port_good: CA file $test_tmp/missing.pem: No such file or directory" ] ||
    fail "missing CA file: unexpected message: $out"
pass "a missing CA file is named: ${out#error: }"

start=$(now_ms)
out=$("$get" --ca ca.pem --timeout-ms 1000 127.0.0.1 "$port_silent" /hello 2>&1) &&
    fail "a server that never answers the handshake was accepted"
took=$(($(now_ms) - start))
[ "$out" = "error: 127.0.0.1:$port_silent: TLS handshake timed out" ] ||
    fail "silent server: unexpected message: $out"
[ "$took" -ge 900 ] && [ "$took" -lt 3000 ] || fail "silent server: failed after $took ms, deadline was 1000 ms"
pass "a silent server fails at the deadline ($took ms for 1000 ms)"

start=$(now_ms)
out=$("$get" --ca ca.pem --timeout-ms 10000 127.0.0.1 "$port_plain" /hello 2>&1) &&
    fail "a plain-HTTP server was accepted"
took=$(($(now_ms) - start))
[[ "$out" == "error: 127.0.0.1:$port_plain: TLS handshake failed: "*"(is it a TLS 1.2+ server?)" ]] ||
    fail "plain-HTTP server: unexpected message: $out"
[ "$took" -lt 5000 ] || fail "plain-HTTP server: took $took ms to fail (deadline 10000 ms): it waited instead"
pass "a plain-HTTP server fails at once ($took ms): ${out#error: }"

# TLS 1.1 only: openssl s_server must be able to speak it (its own client connects first), and then
# our client, which requires TLS 1.2, must refuse.
port_old=$(free_port)
openssl s_server -accept "127.0.0.1:$port_old" -cert good.pem -key good.key -tls1_1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -www -quiet >old.log 2>&1 </dev/null &
test_pids+=($!)
for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port_old") 2>/dev/null && break
    sleep 0.1
done
echo | openssl s_client -connect "127.0.0.1:$port_old" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
    -CAfile ca.pem >old_client.log 2>&1 ||
    fail "openssl s_server -tls1_1 does not serve TLS 1.1 to openssl s_client: $(tail -5 old_client.log)"
grep -q "Protocol *: TLSv1.1" old_client.log || fail "openssl s_client did not negotiate TLS 1.1: $(cat old_client.log)"
out=$("$get" --ca ca.pem localhost "$port_old" / 2>&1) && fail "a TLS 1.1-only server was accepted: $out"
[[ "$out" == "error: localhost:$port_old: TLS handshake failed: "* ]] ||
    fail "TLS 1.1-only server: unexpected message: $out"
pass "a TLS 1.1-only server is refused: ${out#error: }"
