#!/usr/bin/env bash
# CLI tests of pcond and `pcon loadavg`: the socket API (reads for anyone,
# changes for root only), bad and partial requests, many clients, discovery
# of new and removed containers, the tracking cap, /metrics, clean exit.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond"


S=$dir/pcond.sock
port=$((20000 + $$ % 20000))
# What the hierarchy holding cpu is called here (cpu, cpu,cpuacct, unified),
# and one that pcond -H cpu,unified does not watch (none on a pure v2 host).
hj=$(hierarchies_json)
CH=$(jq -r '[.[] | select(.controllers | index("cpu"))] | (map(select(.version == 1)) + .)[0].name' <<<"$hj")
other=$(jq -r --arg ch "$CH" '[.[] | select(.name != $ch and .version == 1 and (.controllers | length) > 0)][0].name // empty' <<<"$hj")

# --- no daemon --------------------------------------------------------------
fails_with "loadavg without pcond says so and how to start it" "no pcond is running on $S" \
	$PCON --socket "$S" loadavg
PCON_SOCKET=$S fails_with "PCON_SOCKET is honoured" "start it with" $PCON loadavg cpu:/

# --- start ------------------------------------------------------------------
$PCOND --socket "$S" --metrics "127.0.0.1:$port" -H cpu,unified 2>"$dir/log" &
pids+=($!)
main=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond creates its socket" [ -S "$S" ]
check "socket is open to every local user" [ "$(stat -c %a "$S")" = 666 ]
out=$($PCOND --socket "$S" 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *"another pcond (pid $main) is already serving this socket"* ]]; then
	ok "a second pcond on the same socket refuses, naming the first"
else
	not_ok "a second pcond on the same socket refuses"; echo "#   rc=$rc out=[$out]"
fi
check "the first pcond still serves" grep -qx "ok pcond .*" <(ask "$S" ping)

# --- queries ----------------------------------------------------------------
out=$($PCON --socket "$S" loadavg)
check "pcon loadavg prints a header" grep -Eqx ' *CONTAINER +LOAD1 +LOAD5 +LOAD15 +TASKS' <<<"$(head -1 <<<"$out")"
check "pcon loadavg prints the default root" grep -Eq '^[a-z=,]+:/ +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+$' <<<"$(tail -1 <<<"$out")"
json=$($PCON --socket "$S" loadavg --json cpu:/)
check "--json parses, with numbers" jq -e '.containers[0].container == "'"$CH"':/" and (.containers[0].load1 | type) == "number" and .containers[0].tasks > 0' <<<"$json"
check "-o, --raw, -n" grep -Eqx "$CH:/ [0-9]+ [0-9]+" <<<"$($PCON --socket "$S" loadavg -n --raw -o container,id,samples cpu:/)"
check "--list-columns" grep -q '^UNINTERRUPTIBLE ' <<<"$($PCON loadavg --list-columns)"
fails_with "-o: unknown column named" "unknown column 'LOAD2'" $PCON --socket "$S" loadavg -o LOAD2
fails_with "--output without its value" "option '--output' needs a value" $PCON loadavg --output

$PCON create "cpu:/$PFX/a/b" "cpu:/$PFX/c d" 'cpu:/'"$PFX"'-u/ff\xffname' >/dev/null
fails_with "a container pcond has not seen yet" "not tracked yet" $PCON --socket "$S" loadavg "cpu:/$PFX"
check "rescan (root) picks up new containers" grep -q '^ok ' <(ask "$S" rescan)
out=$($PCON --socket "$S" loadavg -n -r "cpu:/$PFX")
check "loadavg -r lists the subtree" [ "$(wc -l <<<"$out")" -eq 4 ]
check "names with spaces survive the protocol" grep -q "^$CH:/$PFX/c d  *0.00 " <<<"$out"
out=$($PCON --socket "$S" top -b -c 1 --sort path -o container,load1,load5,load15,%cpu,memory "cpu:/$PFX")
check "pcon top shows pcond's load for every row" \
	[ "$(awk 'NR > 1 && $(NF-4) ~ /^[0-9]+\.[0-9][0-9]$/' <<<"$out" | wc -l)" -eq 4 ]
out=$($PCON --socket "$S.none" top -b -c 1 --sort path -o container,load1,load5,load15,%cpu,memory "cpu:/$PFX")
check "pcon top without pcond shows '-' for load" \
	[ "$(awk 'NR > 1 && $(NF-4) == "-"' <<<"$out" | wc -l)" -eq 4 ]
fails_with "unknown hierarchy" "no such hierarchy" $PCON --socket "$S" loadavg nosuch:/
if [ -n "$other" ]; then
	fails_with "hierarchy not watched" "not watched" $PCON --socket "$S" loadavg "$other:/"
else
	skip "hierarchy not watched" "every hierarchy here is watched (one v2 tree)"
fi

# --- access control (SO_PEERCRED) --------------------------------------------
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
out=$(nobody env PY="$PY" bash -c "$(declare -f ask); ask '$S' status rescan 'limit 5'")
check "anyone may read" grep -q '^status version=' <<<"$out"
check "only root may change: rescan refused" [ "$(grep -c '^err EPERM' <<<"$out")" -eq 2 ]
check "pcon loadavg works for an unprivileged user" nobody $PCON_PLAIN --socket "$S" loadavg cpu:/

# --- bad requests ------------------------------------------------------------
out=$(ask "$S" "bogus" "" "loadavg" "loadavg a b c" "limit x" $'ping\x01' "ping")
check "bad requests get error replies, the connection goes on" \
	[ "$(grep -c '^err ' <<<"$out")" -eq 6 ] && grep -q '^ok pcond' <<<"$out"
out=$("$PY" - "$S" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b'x' * 20000)
buf = b''
try:
    while True:
        d = s.recv(4096)
        if not d: break
        buf += d
except Exception as e:
    print('exception', e)
print(buf.decode().strip())
PYEOF
)
check "an oversized request gets E2BIG and a closed connection" grep -q '^err E2BIG' <<<"$out"
# A client that sends half a request and waits, and one that never reads,
# must not delay others.
"$PY" - "$S" <<'PYEOF' &
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1]); a.sendall(b'loadav')
b = socket.socket(socket.AF_UNIX); b.connect(sys.argv[1])
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
b.setblocking(False)
try:
    for _ in range(20000): b.send(b'loadavg -r cpu:/\n')
except BlockingIOError:
    pass
time.sleep(4)
PYEOF
stall=$!
pids+=($stall)
sleep 0.5
t0=$(date +%s%N)
out=$(ask "$S" ping)
t1=$(date +%s%N)
check "a partial and a non-reading client do not stall others ($(( (t1 - t0) / 1000000 )) ms)" \
	[ "$out" = "ok pcond 0.1.0" ] && [ $(( (t1 - t0) / 1000000 )) -lt 1000 ]
out=$("$PY" - "$S" <<'PYEOF'
import socket, sys
socks = []
for i in range(200):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10); socks.append(s)
for s in socks: s.sendall(b'loadavg cpu:/\n')
good = 0
for s in socks:
    buf = b''
    while not buf.endswith(b'\n') or b'\nok' not in b'\n' + buf:
        d = s.recv(4096)
        if not d: break
        buf += d
    good += buf.startswith(b'container ') and b'\nok 1\n' in buf
print(good)
PYEOF
)
check "200 concurrent clients are all answered" [ "$out" = 200 ]
wait $stall 2>/dev/null

# --- removal -----------------------------------------------------------------
$PCON remove -r "cpu:/$PFX/a" >/dev/null
ask "$S" rescan >/dev/null
fails_with "a removed container is forgotten" "not tracked" $PCON --socket "$S" loadavg "cpu:/$PFX/a/b"

# --- metrics -----------------------------------------------------------------
m=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
# (also in a file: the body of a busy machine is past what one argument can hold)
printf '%s\n' "$m" >"$dir/metrics"
check "/metrics ends with # EOF" [ "$(tail -n1 <<<"$m")" = "# EOF" ]
check "/metrics has HELP and TYPE for load1" grep -q '^# TYPE pcon_load1 gauge' <<<"$m"
check "/metrics labels hierarchy and container" grep -q "^pcon_load1{hierarchy=\"$CH\",container=\"/$PFX/c d\"} 0$" <<<"$m"
check "/metrics has task states" grep -q '^pcon_threads{hierarchy="unified",container="/",state="sleeping"} [1-9]' <<<"$m"
check "/metrics: every sample belongs to a TYPE'd family" awk '/^# TYPE/ {t[$3]=1; next} /^#/ {next} {n=$1; sub(/[{ ].*/,"",n); b=n; sub(/_total$/,"",b); if (!(n in t) && !(b in t)) {print "untyped " n; exit 1}}' "$dir/metrics"

if [ -r /proc/pressure/cpu ]; then
	check "/metrics: the machine's stall seconds, a counter per resource and kind" \
		grep -Eq '^pcon_machine_pressure_stall_seconds_total\{resource="cpu",kind="some"\} [0-9]+\.[0-9]+$' <<<"$m"
	check "/metrics: a v2 container's stall seconds" \
		grep -Eq '^pcon_pressure_stall_seconds_total\{hierarchy="unified",container="/",resource="io",kind="full"\} [0-9.]+$' <<<"$m"
else
	check "/metrics: no PSI, no pressure samples (never zeros)" bash -c "! grep -q '^pcon_.*pressure_stall_seconds_total' '$dir/metrics'"
fi
check "/metrics is valid UTF-8 with a 0xFF name" python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8", "strict")' <<<"$m"
check "/metrics: the name in its reversible text form" grep -qF 'container="/'"$PFX"'-u/ff\\xffname"' <<<"$m"
check "/metrics is OpenMetrics" bash -c "curl -sI --max-time 5 http://127.0.0.1:$port/metrics | grep -qi '^content-type: application/openmetrics-text'"
check "other paths are 404" [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/nope")" = 404 ]
check "metrics listen on loopback only by default" bash -c "ss -ltn | grep -q '127.0.0.1:$port '"

# --- the tracking cap ----------------------------------------------------------
$PCOND --socket "$dir/cap.sock" -H cpu --max-containers 2 2>"$dir/cap.log" &
capd=$!
pids+=($capd)
for _ in $(seq 50); do [ -S "$dir/cap.sock" ] && break; sleep 0.1; done
out=$(ask "$dir/cap.sock" status)
check "the cap holds" grep -q ' tracked=2 ' <<<"$out"
check "the cap is reported" grep -q 'tracking cap of 2 containers reached' "$dir/cap.log"

# --- clean exit ----------------------------------------------------------------
kill -TERM $capd; wait $capd; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "SIGTERM: socket removed" [ ! -e "$dir/cap.sock" ]
kill -INT $main; wait $main; rc=$?
check "SIGINT: exit 0" [ $rc -eq 0 ]
check "SIGINT: socket and lock removed" [ ! -e "$S" ] && [ ! -e "$S.lock" ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log' '$dir/cap.log'"
pids=()
done_testing
