#!/usr/bin/env bash
# pcond shares itself fairly among local users: a flood of pipelined bad
# subscriptions from an unprivileged user costs no kernel event sources and
# does not delay root's ping; one user's hundreds of connections (API or
# HTTP) leave root its own slots; a request must be complete within its
# deadline however slowly its bytes trickle in.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond fair sharing"
if ! command -v setpriv >/dev/null; then
	skip "pcond fair sharing" "needs setpriv to act as an unprivileged user"; done_testing; exit 0
fi
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

status_field() { ask "$S" status | tr ' ' '\n' | sed -n "s/^$1=//p"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

S=$dir/pcond.sock
port=$((20000 + ($$ + 7) % 20000))
$PCON create "cpu:/$PFX/a" >/dev/null
$PCOND --socket "$S" --metrics "127.0.0.1:$port" -H cpu 2>"$dir/log" &
pids+=($!)
main=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond starts" [ -S "$S" ]

# ping SECONDS: root pings on one connection for that long; prints the
# number of answers and the slowest and quickest round trip in ms.
cat >"$dir/ping.py" <<'PYEOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
end = time.time() + float(sys.argv[2]); lat = []
try:
    while time.time() < end:
        t0 = time.time(); s.sendall(b'ping\n'); buf = b''
        while not buf.endswith(b'\n'):
            d = s.recv(4096)
            if not d: raise EOFError
            buf += d
        lat.append((time.time() - t0) * 1000); time.sleep(0.01)
except Exception as e:
    print('error', e); sys.exit(0)
print(len(lat), '%.1f' % max(lat), '%.1f' % min(lat))
PYEOF

# flood ROUNDS: one write of 1,200 "subscribe /nosuch" lines per round and
# connection, ROUNDS connections one after another, for 8 s at most; prints
# the errors read.
cat >"$dir/flood.py" <<'PYEOF'
import socket, sys, time
got = 0; end = time.time() + 8
try:
    for _ in range(int(sys.argv[2])):
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
        s.sendall(b'subscribe /nosuch\n' * 1200)
        buf = b''
        while buf.count(b'\n') < 1200:
            s.settimeout(max(0.01, end - time.time()))
            d = s.recv(65536)
            if not d: break
            buf += d
        got += buf.count(b'err ENOENT no such container\n')
        s.close()
except Exception:
    pass
print(got)
PYEOF

# --- finding: a flood of pipelined subscriptions -----------------------------
t0=$(cpu_ticks $main)
"$PY" "$dir/ping.py" "$S" 2 >"$dir/ping.out" & pinger=$!
start=$(date +%s%N)
got=$(as_nobody "$PY" "$dir/flood.py" "$S" 5)
flood_ms=$((($(date +%s%N) - start) / 1000000))
wait $pinger
t1=$(cpu_ticks $main)
check "6,000 pipelined subscribes of a missing container all get ENOENT (got $got)" [ "$got" = 6000 ]
check "no kernel event source was loaded for them" [ "$(status_field event_loads)" = 0 ]
read -r n worst best <"$dir/ping.out"
echo "# flood: ${flood_ms} ms, pcond CPU $((t1 - t0)) ticks, RSS $(awk '/VmRSS/ {print $2}' "/proc/$main/status") kB; root ping: $n answers, ${best}..${worst} ms"
check "root's ping answered throughout the flood (worst ${worst} ms)" \
	awk -v n="$n" -v w="$worst" 'BEGIN { exit !(n > 20 && w < 1000) }'

# hold KIND N [LINE]: open N connections (unix socket or tcp port), send LINE
# on each, wait, print how many were served and how many refused, then
# hold them open for 20 s at most (until killed).
cat >"$dir/hold.py" <<'PYEOF'
import socket, sys, time, select
kind, n = sys.argv[1], int(sys.argv[2])
line = sys.argv[3].encode() + b'\n' if len(sys.argv) > 3 else b''
conns = []
for _ in range(n):
    try:
        if kind.startswith('/'):
            s = socket.socket(socket.AF_UNIX); s.connect(kind)
        else:
            s = socket.create_connection(('127.0.0.1', int(kind)))
        if line: s.sendall(line)
        conns.append(s)
    except OSError:
        pass
time.sleep(1)
served = refused = 0
for s in conns:
    r, _, _ = select.select([s], [], [], 0)
    d = s.recv(256, socket.MSG_PEEK) if r else b''
    if d.startswith(b'err EBUSY') or d.startswith(b'HTTP/1.0 503'):
        refused += 1
    else:
        served += 1
print(served, refused, flush=True)
time.sleep(20)
PYEOF
# hold_start VAR KIND N [LINE]: as nobody, in the background; its pid in VAR
hold_start() {
	local var=$1; shift
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$dir/hold.py" "$@" >"$dir/hold.$var" &
	eval "$var=\$!"; pids+=($!)
	for _ in $(seq 100); do [ -s "$dir/hold.$var" ] && break; sleep 0.1; done
}

# --- finding: one user's connections lock everyone out ---------------------
hold_start subs "$S" 20 "subscribe cpu:/$PFX/a"
hold_start plain "$S" 300
read -r subs_served subs_refused <"$dir/hold.subs"
read -r served refused <"$dir/hold.plain"
echo "# nobody holds $subs_served subscribers + $served connections; $((subs_refused + refused)) refused"
check "nobody's subscribers count against its limit (20 + $served served)" [ $((subs_served + served)) -eq 32 ]
check "nobody's connections over its limit are refused with EBUSY" [ "$refused" -eq $((300 - served)) ]
check "root still connects and gets ping answered" grep -qx "ok pcond .*" <(ask "$S" ping)
out=$(setpriv --reuid=65533 --regid=65533 --clear-groups "$PY" - "$S" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1]); s.sendall(b'ping\n')
print(s.recv(100).decode().strip())
PYEOF
)
check "another unprivileged user is still served (got '$out')" [ "${out%% *}" = ok ]
kill $plain $subs; wait $plain $subs 2>/dev/null
for _ in $(seq 50); do [ "$(status_field clients)" = 1 ] && break; sleep 0.1; done

hold_start http "$port" 300
read -r served refused <"$dir/hold.http"
echo "# nobody holds $served HTTP connections; $refused refused with 503"
check "nobody's HTTP connections are limited per user too: 32 held, 268 refused with 503" \
	[ "$served:$refused" = 32:268 ]
check "root's API ping does not depend on the HTTP pool" grep -qx "ok pcond .*" <(ask "$S" ping)
# another user fills the rest of the shared HTTP slots; root's remain
setpriv --reuid=65533 --regid=65533 --clear-groups "$PY" "$dir/hold.py" "$port" 300 >"$dir/hold.http2" &
http2=$!; pids+=($http2)
for _ in $(seq 100); do [ -s "$dir/hold.http2" ] && break; sleep 0.1; done
read -r served2 refused2 <"$dir/hold.http2"
check "a second user gets the shared HTTP slots left ($served2), not root's" [ "$served2" = 28 ]
out=$("$PY" - "$port" <<'PYEOF'
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(b'GET /metrics HTTP/1.0\r\n\r\n'); buf = b''
while True:
    d = s.recv(65536)
    if not d: break
    buf += d
print(buf.split(b'\r\n')[0].decode(), buf.endswith(b'# EOF\n'))
PYEOF
)
check "root still scrapes /metrics over HTTP (got '$out')" [ "$out" = "HTTP/1.0 200 OK True" ]
kill $http $http2; wait $http $http2 2>/dev/null

# A request's bytes trickling in, one a second: closed at its deadline
# (--request-timeout 2, checked at every 5 s sample), not kept alive by them.
T=$dir/short.sock
$PCOND --socket "$T" -H cpu --request-timeout 2 2>>"$dir/log" &
short=$!; pids+=($short)
for _ in $(seq 50); do [ -S "$T" ] && break; sleep 0.1; done
out=$(as_nobody "$PY" - "$T" <<'PYEOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); t0 = time.time()
try:
    for i in range(15):
        s.sendall(b'loadavg /'[i % 9:i % 9 + 1]); time.sleep(1)
        s.setblocking(False)
        try:
            if s.recv(100) == b'': break
        except BlockingIOError: pass
        s.setblocking(True)
except OSError:
    pass
print(int(time.time() - t0))
PYEOF
)
check "a request trickling in a byte a second is closed at its deadline (after ${out} s)" [ "$out" -lt 10 ]
kill -TERM $short; wait $short

kill -TERM $main; wait $main; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
grep -iE -A12 'sanitizer|runtime error' "$dir/log" | head -30 | sed 's/^/#   /'
pids=()
done_testing
