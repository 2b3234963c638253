#!/usr/bin/env bash
# pcond and file descriptors: the soft open-file limit is raised to the hard
# one at start; client limits that cannot fit are refused at start and
# `limit N` beyond the descriptors is refused; out of descriptors, pcond
# stops accepting (no spinning on a listener that stays readable), counts
# the sample rounds that fail meanwhile, and serves again once a
# descriptor is free.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond descriptors"
if ! command -v prlimit >/dev/null; then
	skip "pcond descriptors" "needs prlimit"; done_testing; exit 0
fi
status_field() { ask "$S" status | tr ' ' '\n' | sed -n "s/^$1=//p"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

S=$dir/pcond.sock
prlimit --nofile=1024:4096 $PCOND --socket "$S" -H cpu 2>"$dir/log" &
pids+=($!)
main=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond starts" [ -S "$S" ]
soft=$(awk '/Max open files/ {print $4}' "/proc/$main/limits")
check "the soft open-file limit is raised to the hard one (got $soft)" [ "$soft" = 4096 ]
out=$(ask "$S" "limit 100000" "limit 50")
check "limit beyond the descriptors: err ERANGE" grep -q "^err ERANGE the open-file limit allows at most [0-9]* containers" <<<"$out"
check "limit within them: ok" grep -qx "ok 50" <<<"$out"

out=$(prlimit --nofile=300:300 $PCOND --socket "$dir/b.sock" --max-clients 256 2>&1); rc=$?
check "--max-clients beyond the open-file limit: exit 1 (got $rc)" [ $rc -eq 1 ]
check "with a clear error" grep -q "need [0-9]* descriptors, more than the open-file limit of 300 allows" <<<"$out"
check "and no socket" [ ! -e "$dir/b.sock" ]

# Take pcond's descriptors away: its limit lowered to what it holds now + 3.
nfd=$(ls "/proc/$main/fd" | wc -l)
prlimit --pid "$main" --nofile=$((nfd + 3)):$((nfd + 3))
"$PY" - "$S" >"$dir/hold" <<'PYEOF' &
import socket, sys, time
conns = []
for _ in range(20):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); conns.append(s)
print('connected', flush=True)
time.sleep(7)
PYEOF
holder=$!
pids+=($holder)
for _ in $(seq 50); do [ -s "$dir/hold" ] && break; sleep 0.1; done
t0=$(cpu_ticks $main)
sleep 6 # a sample round falls in here
t1=$(cpu_ticks $main)
echo "# out of descriptors for 6 s: pcond used $((t1 - t0)) ticks of CPU"
check "out of descriptors, pcond does not spin ($((t1 - t0)) ticks in 6 s)" [ $((t1 - t0)) -lt 60 ]
wait $holder
# (its hard limit cannot be raised again without CAP_SYS_RESOURCE: the
# descriptors the holder frees are what pcond gets back)
out=$(ask "$S" ping status)
check "once descriptors are free again, pcond serves" grep -qx "ok pcond .*" <<<"$out"
check "it counted running out" grep -q " fd_exhausted=[1-9]" <<<"$out"
check "and the sample round that failed meanwhile" grep -q " failed_rounds=[1-9]" <<<"$out"
check "the log says so once" [ "$(grep -c "out of file descriptors" "$dir/log")" = 1 ]

kill -TERM $main; wait $main; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
pids=()
done_testing
