#!/usr/bin/env bash
# /metrics off the API's path: fifty parallel scrapes of a large body (900
# containers) cost one rendering per sample and leave root's ping quick;
# scrapers that never read hold a bounded amount of kernel socket memory.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond scrapes"
if ! command -v ss >/dev/null; then
	skip "pcond scrapes" "needs ss (iproute2) to read socket queues"; done_testing; exit 0
fi
status_field() { ask "$S" status | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# 300 containers in each of cpu, cpuacct and memory (made directly: faster)
hiers=
for h in cpu cpuacct memory; do
	m=$(awk -v h="$h" '$9 == "cgroup" && ("," $NF ",") ~ ("," h ",") {print $5; exit}' /proc/self/mountinfo)
	[ -n "$m" ] || continue
	mkdir "$m/$PFX" && (cd "$m/$PFX" && mkdir c{1..300}) && hiers=$hiers${hiers:+,}$h
done
if [ -z "$hiers" ]; then
	skip "pcond scrapes" "no v1 cpu, cpuacct or memory hierarchy here"; done_testing; exit 0
fi

S=$dir/pcond.sock
port=$((20000 + ($$ + 11) % 20000))
$PCOND --socket "$S" --metrics "127.0.0.1:$port" -H "$hiers" 2>"$dir/log" &
pids+=($!)
main=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond starts" [ -S "$S" ]
renders0=$(status_field metrics_renders)
rounds0=$(status_field rounds)

# 50 scrapers, each scraping for 3 s; root pings meanwhile.
"$PY" - "$port" >"$dir/scrapes" <<'PYEOF' &
import socket, sys, threading, time
port = int(sys.argv[1]); end = time.time() + 3; res = []
def scraper():
    n = bad = 0; size = 0
    while time.time() < end:
        try:
            s = socket.create_connection(('127.0.0.1', port), timeout=10)
            s.sendall(b'GET /metrics HTTP/1.0\r\n\r\n'); buf = b''
            while True:
                d = s.recv(1 << 16)
                if not d: break
                buf += d
            s.close()
            head, _, body = buf.partition(b'\r\n\r\n')
            length = int([l for l in head.split(b'\r\n') if l.lower().startswith(b'content-length:')][0].split(b':')[1])
            if head.startswith(b'HTTP/1.0 200') and len(body) == length and body.endswith(b'# EOF\n'):
                n += 1; size = len(body)
            else:
                bad += 1
        except Exception:
            bad += 1
    res.append((n, bad, size))
ts = [threading.Thread(target=scraper) for _ in range(50)]
for t in ts: t.start()
for t in ts: t.join()
print(sum(r[0] for r in res), sum(r[1] for r in res), max(r[2] for r in res))
PYEOF
scr=$!
"$PY" - "$S" >"$dir/ping" <<'PYEOF'
import socket, sys, time
time.sleep(0.3)
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
end = time.time() + 2.4; lat = []
while time.time() < end:
    t0 = time.time(); s.sendall(b'ping\n'); buf = b''
    while not buf.endswith(b'\n'):
        buf += s.recv(4096)
    lat.append((time.time() - t0) * 1000); time.sleep(0.01)
print(len(lat), '%.1f' % min(lat), '%.1f' % max(lat))
PYEOF
wait $scr
rss=$(awk '/VmRSS/ {print $2}' "/proc/$main/status")
read -r good bad size <"$dir/scrapes"
read -r n best worst <"$dir/ping"
renders=$(($(status_field metrics_renders) - renders0))
rounds=$(($(status_field rounds) - rounds0))
render_ms=$(($(status_field metrics_render_us) / 1000))
echo "# $good scrapes of $size bytes ($bad bad) in 3 s; $renders renderings (the last ${render_ms} ms) over $rounds samples; root ping ${best}..${worst} ms; pcond RSS $rss kB"
check "every scrape got the whole body ($good good, $bad bad)" bash -c "[ $good -ge 50 ] && [ $bad = 0 ]"
check "the body is large ($size bytes)" [ "$size" -gt 100000 ]
check "one rendering per sample, not per scrape ($renders for $good scrapes)" [ "$renders" -le $((rounds + 1)) ]
check "root's ping stays quick meanwhile (worst ${worst} ms)" awk -v w="$worst" 'BEGIN { exit !(w < 1000) }'

# 40 scrapers that never read: each socket's queue stays small.
for _ in $(seq 50); do [ "$(status_field http_clients)" = 0 ] && break; sleep 0.1; done
"$PY" - "$port" <<'PYEOF' &
import socket, sys, time
conns = []
for _ in range(40):
    s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b'GET /metrics HTTP/1.0\r\n\r\n'); conns.append(s)
time.sleep(4)
PYEOF
idle=$!
pids+=($idle)
sleep 2
q=$(ss -tnH state established "( sport = :$port )" | awk '{ if ($2 > m) m = $2; s += $2 } END { print m + 0, s + 0 }')
read -r qmax qsum <<<"$q"
echo "# 40 scrapers that never read: pcond's send queues ${qmax} bytes at most, ${qsum} in all"
check "the scrapers that never read were served (queues hold $qsum bytes)" [ "$qsum" -gt 1000000 ]
check "a scraper that never reads holds at most 256 KiB of send queue (max $qmax)" [ "$qmax" -le 262144 ]
check "pcond answers meanwhile" grep -qx "ok pcond .*" <(ask "$S" ping)
kill $idle; wait $idle 2>/dev/null

kill -TERM $main; wait $main; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
pids=()
done_testing
