#!/usr/bin/env bash
# pcond for service managers: --log-level filters its messages; when
# standard error is the journal (JOURNAL_STREAM) each line carries its
# priority prefix; it says READY=1 and STOPPING=1 on NOTIFY_SOCKET; it
# serves sockets passed by socket activation (LISTEN_FDS) without creating
# or removing a socket file of its own.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond operations"

# --- log levels ------------------------------------------------------------------
S=$dir/log.sock
$PCOND --socket "$S" -H cpu --log-level warning 2>"$dir/quiet" & q=$!
$PCOND --socket "$dir/log2.sock" -H cpu 2>"$dir/loud" & l=$!
pids+=($q $l)
for _ in $(seq 50); do [ -S "$S" ] && [ -S "$dir/log2.sock" ] && break; sleep 0.1; done
ask "$S" ping >/dev/null; ask "$dir/log2.sock" ping >/dev/null # past their start
kill -TERM $q $l; wait $q $l
check "at the default level the start is logged" grep -q "^pcond: watching " "$dir/loud"
check "--log-level warning leaves it out" bash -c "! grep -q watching '$dir/quiet'"
out=$($PCOND --log-level chatty 2>&1); rc=$?
check "an unknown level is a usage error (exit $rc)" [ $rc -eq 2 ]
check "naming the levels" grep -q "not one of err, warning, notice, info, debug" <<<"$out"

# --- the journal's priority prefixes -----------------------------------------------
: >"$dir/journal"
JOURNAL_STREAM=$(stat -c %d:%i "$dir/journal") $PCOND --socket "$dir/j.sock" -H cpu \
	2>>"$dir/journal" & j=$!
pids+=($j)
for _ in $(seq 50); do [ -S "$dir/j.sock" ] && break; sleep 0.1; done
ask "$dir/j.sock" ping >/dev/null
JOURNAL_STREAM=$(stat -c %d:%i "$dir/journal") $PCOND --socket "$dir/j.sock" -H cpu 2>>"$dir/journal"
kill -TERM $j; wait $j
check "to the journal: info with <6>, no name prefix" grep -q "^<6>watching " "$dir/journal"
check "errors with <3>" grep -q "^<3>.*another pcond" "$dir/journal"
check "stderr elsewhere keeps the plain prefix" bash -c "! grep -q '^<' '$dir/loud'"

# --- readiness -----------------------------------------------------------------------
"$PY" - "$dir/notify" "$PCOND" "$dir/n.sock" >"$dir/notified" <<'PYEOF'
import os, socket, subprocess, sys, time
n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); n.bind(sys.argv[1]); n.settimeout(10)
env = dict(os.environ, NOTIFY_SOCKET=sys.argv[1])
p = subprocess.Popen([sys.argv[2], '--socket', sys.argv[3], '-H', 'cpu'], env=env,
                     stderr=subprocess.DEVNULL)
msgs = []
try:
    msgs.append(n.recv(4096).decode())
    ready = os.path.exists(sys.argv[3])
    p.terminate()
    msgs.append(n.recv(4096).decode())
except socket.timeout:
    p.kill(); ready = False
p.wait(timeout=10)
print(p.pid, int(ready), '|'.join(m.replace('\n', ';') for m in msgs))
PYEOF
read -r npid ready msgs <"$dir/notified"
check "READY=1 on NOTIFY_SOCKET ($msgs)" grep -q "^READY=1;" <<<"$msgs"
check "sent once the socket listens" [ "$ready" = 1 ]
check "with its pid" grep -q "MAINPID=$npid" <<<"$msgs"
check "STOPPING=1 when told to stop" grep -q "|STOPPING=1" <<<"$msgs"

# --- socket activation ------------------------------------------------------------
# A manager's part, as systemd plays it: bind and listen, then start pcond
# with the socket as fd 3. A client that connects before pcond runs waits
# in the backlog and is answered.
A=$dir/act.sock
"$PY" - "$A" "$PCOND" "$dir/unused/pcond.sock" >"$dir/act" 2>"$dir/act.err" <<'PYEOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(16); os.chmod(sys.argv[1], 0o666)
early = socket.socket(socket.AF_UNIX); early.connect(sys.argv[1]); early.sendall(b'ping\n')
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3); os.set_inheritable(3, True)
    os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))
    os.execv(sys.argv[2], [sys.argv[2], '--socket', sys.argv[3], '-H', 'cpu'])
s.close()
early.settimeout(10)
print(pid, early.recv(100).decode().strip(), flush=True)
time.sleep(10)
PYEOF
mgr=$!
pids+=($mgr)
for _ in $(seq 100); do [ -s "$dir/act" ] && break; sleep 0.1; done
read -r apid answer <"$dir/act"
check "a client that connected before pcond started is answered ($answer)" grep -q "^ok pcond" <<<"$answer"
check "pcond serves the passed socket" grep -qx "ok pcond .*" <(ask "$A" ping)
check "it made no socket or lock of its own" [ ! -e "$dir/unused" ]
kill -TERM "$apid"; for _ in $(seq 50); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
check "at exit it leaves the manager's socket file" [ -S "$A" ]
kill $mgr 2>/dev/null; wait $mgr 2>/dev/null

check "no sanitizer or error report" bash -c "! cat '$dir'/*err '$dir/journal' '$dir/loud' | grep -qiE 'sanitizer|runtime error'"
pids=()
done_testing
