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
echo "# flood: ${flood_ms} ms, pcond CPU $((t1 - t0)) ticks; root ping: $n answers, ${best}..${worst} ms"
check "root's ping answered throughout the flood (worst ${worst} ms)" \
	awk -v n="$n" -v w="$worst" 'BEGIN { exit !(n > 20 && w < 1000) }'

kill -TERM $main; wait $main; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
pids=()
done_testing
