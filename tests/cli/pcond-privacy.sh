#!/usr/bin/env bash
# What a subscriber sees of other users' tasks is what /proc shows it: an
# unprivileged subscriber gets the forks, execs and exits of root's tasks in
# its container, but not their exit codes, signals or command names; of its
# own tasks it gets them all; root gets everything.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond privacy"
if ! command -v setpriv >/dev/null; then
	skip "pcond privacy" "needs setpriv to act as an unprivileged user"; done_testing; exit 0
fi
CG=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -z "$CG" ]; then
	skip "pcond privacy" "no unified hierarchy here"; done_testing; exit 0
fi
S=$dir/pcond.sock
C=unified:/$PFX/p
$PCON create "$C" >/dev/null
$PCOND --socket "$S" -H unified 2>"$dir/log" &
pids+=($!)
main=$!
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond starts" [ -S "$S" ]

# sub SOCKET CONTAINER: subscribe on a raw connection for 4 s, print every line
cat >"$dir/sub.py" <<'PYEOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'subscribe ' + sys.argv[2].encode() + b'\n')
out = sys.stdout.buffer; end = time.time() + 4
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        d = s.recv(65536)
    except socket.timeout:
        break
    if not d: break
    out.write(d); out.flush()
PYEOF
"$PY" "$dir/sub.py" "$S" "$C" >"$dir/root.ev" & r=$!
setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$dir/sub.py" "$S" "$C" >"$dir/nobody.ev" & n=$!
pids+=($r $n)
for _ in $(seq 50); do
	[ "$(cat "$dir/root.ev" "$dir/nobody.ev" | grep -c '^ok')" = 2 ] && break; sleep 0.1
done

procs=$CG/$PFX/p/cgroup.procs
# root's tasks: one exits 42 after an exec, one is killed by SIGUSR1
sh -c "echo \$\$ > $procs; exec sh -c 'sleep 0.1; exit 42'"
{ sh -c "echo \$\$ > $procs; sleep 0.1; kill -USR1 \$\$"; } 2>/dev/null
# nobody's own task (it forks nothing), moved in by root before it execs
# and exits 7
setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c \
	'import os, time; time.sleep(0.5); os.execvp("sh", ["sh", "-c", "exit 7"])' & own=$!
echo $own >"$procs"
wait $own
wait $r $n

pid_lines() { grep " pid=$2 " "$1"; }
check "root sees the exit code of root's task" grep -q " code=42$" "$dir/root.ev"
check "root sees the signal of root's task" grep -q " signal=10$" "$dir/root.ev"
check "root sees the command name of root's exec" grep -q "type=exec .* comm=sh$" "$dir/root.ev"
check "nobody sees root's tasks exit" [ "$(grep -c "type=exit .*withheld=1" "$dir/nobody.ev")" -ge 2 ]
check "but no exit code of root's task" bash -c "! grep -q ' code=42' '$dir/nobody.ev'"
check "nor a signal of root's task" bash -c "! grep -q ' signal=' '$dir/nobody.ev'"
check "nor the command name of root's exec" bash -c "! grep \"type=exec\" '$dir/nobody.ev' | grep -v ' pid=$own ' | grep -q comm="
check "nobody sees its own task's exit code" grep -q " pid=$own .* code=7$" "$dir/nobody.ev"
# (the name itself may be unknown: the library reads it from /proc, and the
# task may be gone by then, for root too)
check "and its own last exec is not withheld" bash -c "grep 'type=exec .* pid=$own ' '$dir/nobody.ev' | tail -1 | grep -qv withheld"
if [ -n "${VERBOSE:-}" ]; then sed 's/^/#   /' "$dir/root.ev" "$dir/nobody.ev"; fi

kill -TERM $main; wait $main; rc=$?
check "SIGTERM: exit 0" [ $rc -eq 0 ]
check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
pids=()
done_testing
