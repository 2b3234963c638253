#!/usr/bin/env bash
# pcond's connections at their edges: a client that sends many requests and
# shuts its writing side gets every answer, however long they take to send;
# a subscriber that reads, but slower than its events come, costs pcond
# bounded memory however long it goes on; an HTTP client that sends half a head and shuts its side is closed; a
# start-up error leaves no leak behind.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond-conn"

S=$dir/pcond.sock
port=$((20000 + ($$ + 3) % 20000))
# pcond's own buffers, not ASan's quarantine of freed ones, are measured below
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
$PCOND --socket "$S" --metrics "127.0.0.1:$port" -H cpu 2>"$dir/log" &
pids+=($!)
main=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done

# 1000 requests then EOF: their answers (~300 KiB) are more than pcond
# queues before it stops reading; every one must still come.
out=$("$PY" - "$S" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b'status\n' * 1000 + b'ping')  # and a partial last request
s.shutdown(socket.SHUT_WR)
buf = b''
try:
    while True:
        d = s.recv(65536)
        if not d: break
        buf += d
except Exception as e:
    print('exception', e)
print(buf.count(b'\nok 1\n') + buf.startswith(b'ok 1\n'), buf.count(b'ok pcond'))
PYEOF
)
check "every request sent before EOF is answered, not a partial one (got '$out')" [ "$out" = "1000 0" ]

out=$("$PY" - "$port" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(b'GET /metrics HTTP/1.0\r\n')
s.shutdown(socket.SHUT_WR)
t0 = time.time()
try:
    d = s.recv(4096)
    print('closed' if not d else 'answered')
except Exception as e:
    print('exception', e)
PYEOF
)
check "an HTTP client that shuts its side mid-head is closed (got '$out')" [ "$out" = closed ]

# A subscriber reading steadily, but slower than its container's threads
# come and go: pcond's send buffer never empties, yet must not grow with
# what the subscriber has read (~10 MB here).
CG=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -n "$CG" ]; then
	$PCON create "unified:/$PFX/churn" >/dev/null
	"$PY" - "$S" "unified:/$PFX/churn" >"$dir/slow" 2>&1 <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'subscribe -r ' + sys.argv[2].encode() + b'\n')
s.settimeout(3)
n = 0; end = time.time() + 6
try:
    while time.time() < end:
        d = s.recv(8192)
        if not d: break
        n += len(d)
        time.sleep(0.004)
except socket.timeout:
    pass
print('read', n)
PYEOF
	slow=$!
	pids+=($slow)
	sleep 0.5
	rss0=$(awk '/VmRSS/ {print $2}' "/proc/$main/status")
	"$PY" - "$CG/$PFX/churn/cgroup.procs" <<'PYEOF'
import os, sys, threading, time
open(sys.argv[1], 'w').write(str(os.getpid()))
end = time.time() + 5
while time.time() < end:
    ts = [threading.Thread(target=lambda: None) for _ in range(50)]
    for t in ts: t.start()
    for t in ts: t.join()
PYEOF
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$main/status")
	wait $slow
	check "a slow but steady subscriber costs bounded memory (+$((rss - rss0)) kB, $(cat "$dir/slow") bytes)" \
		[ $((rss - rss0)) -lt 4096 ]
else
	skip "slow steady subscriber" "no unified hierarchy here"
fi

out=$($PCOND --socket "$dir/none.sock" -H nosuchhier 2>&1); rc=$?
check "a start-up error exits 1 (got $rc)" [ $rc -eq 1 ]
check "a start-up error leaks nothing" bash -c '! grep -q LeakSanitizer <<<"$1"' _ "$out"

check "the daemon still serves" grep -qx "ok pcond .*" <(ask "$S" ping)
kill -TERM $main; wait $main; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
pids=()
done_testing
