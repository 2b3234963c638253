#!/usr/bin/env bash
# pcond fans events out to subscribers: `pcon events` through pcond sees a
# container's fork/exec/exit in order and nothing of a sibling, two
# subscribers both get them, a subscriber that never reads stalls nobody and
# later learns what it missed, a removed container ends its stream with
# "gone", bad subscribe requests get err, and the events handle lives only
# while someone subscribes.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"
PCON_PLAIN=${PCON_PLAIN:-$PCON}

need_root_and_python "pcond events"
if ! hierarchies_json | jq -e "any(.[]; .version == 2)" >/dev/null; then
	skip "pcond events" "no unified hierarchy here"; done_testing; exit 0
fi
CG=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)

status_field() { ask "$S" status | tr ' ' '\n' | sed -n "s/^$1=//p"; }
wait_field() { # wait_field KEY VALUE [TENTHS]: up to 5 s, or TENTHS/10 s
	for _ in $(seq "${3:-50}"); do [ "$(status_field "$1")" = "$2" ] && return 0; sleep 0.1; done
	return 1
}

S=$dir/pcond.sock
$PCON create "unified:/$PFX/a" "unified:/$PFX/b" "unified:/$PFX/churn" "unified:/$PFX/g" >/dev/null
$PCOND --socket "$S" -H unified 2>"$dir/log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond starts" [ -S "$S" ]
check "no events handle before the first subscriber" [ "$(status_field events)" = 0 ]

# --- bad requests ---------------------------------------------------------
out=$(ask "$S" "subscribe" "subscribe a b" "subscribe -r" "subscribe %zz" \
	"subscribe unified:/$PFX/none" "subscribe nosuchhier:/x" ping)
check "subscribe without a container: err EINVAL" grep -qx "err EINVAL subscribe needs a container (HIER:PATH)" <<<"$out"
check "subscribe with two containers: err EINVAL" grep -qx "err EINVAL subscribe takes one container (and -r)" <<<"$out"
check "subscribe with a bad escape: err EINVAL" grep -qx "err EINVAL bad %XX escape in container name" <<<"$out"
check "subscribe to a missing container: err ENOENT" grep -qx "err ENOENT no such container" <<<"$out"
check "subscribe to an unknown hierarchy: err ENODEV" grep -qx "err ENODEV no such hierarchy" <<<"$out"
check "the connection goes on after errors" grep -qx "ok pcond .*" <<<"$out"
check "a failed subscribe loads no events handle" [ "$(status_field event_loads)" = 0 ]

# --- order, sibling, two subscribers --------------------------------------
ev=$dir/ev
$PCON --socket "$S" events --json "unified:/$PFX/a" >"$ev.1" 2>"$ev.1.err" & e1=$!
setpriv --reuid=65534 --regid=65534 --clear-groups \
	$PCON_PLAIN --socket "$S" events --json "unified:/$PFX/a" >"$ev.2" 2>"$ev.2.err" & e2=$!
$PCON --socket "$S" events "unified:/$PFX/b" >"$ev.b" 2>&1 & eb=$!
pids+=($e1 $e2 $eb)
if wait_field subscriptions 3; then ok "three subscribers, through pcond (one of them nobody)"
else not_ok "three subscribers through pcond"; ask "$S" status | sed 's/^/#   /'; fi
check "one events handle for all" [ "$(status_field events)" = 1 ]
sh -c "echo \$\$ > $CG/$PFX/a/cgroup.procs; sleep 0.2; exit 3"
sleep 1
kill $e1 $e2 $eb; wait $e1 $e2 $eb 2>/dev/null
for i in 1 2; do
	types=$(jq -r 'select(.type|test("^(fork|exec|exit)$")) | .type' "$ev.$i" | tr '\n' ' ')
	if [ "$types" = "fork exec exit exit " ]; then ok "subscriber $i: fork exec exit exit, in order"
	else not_ok "subscriber $i: fork exec exit exit"; echo "#   got [$types]"; sed 's/^/#   /' "$ev.$i" "$ev.$i.err"; fi
	# nobody (2) sees root's tasks come and go, not their status or names
	want_code=3 want_comm='"sleep"' 
	[ $i = 2 ] && want_code=null want_comm=null
	check "subscriber $i: the shell's exit status ($want_code)" [ "$(jq -r 'select(.type=="exit") | .code' "$ev.$i" | tail -1)" = $want_code ]
	check "subscriber $i: every line is JSON with the library's fields" \
		jq -s -e 'map(select(.type=="exec")) | length == 1 and all(.comm == '$want_comm' and .container == "unified:/'"$PFX"'/a" and (.pid|type) == "number" and .cached == false)' "$ev.$i"
done
check "subscriber 2: the withheld fields are marked" jq -s -e 'map(select(.type=="exit" or .type=="exec")) | length > 0 and all(.withheld == true)' "$ev.2"
check "the unprivileged subscriber got no error" [ ! -s "$ev.2.err" ]
# loss reports concern the whole machine and reach every subscriber
if ! grep -qv '^[0-9:.]* *lost ' "$ev.b"; then ok "nothing for the sibling"; else not_ok "nothing for the sibling"; sed 's/^/#   /' "$ev.b"; fi
# kept a while (5-10 s) so that subscribing in a loop does not reload it
check "the handle is kept right after the last subscriber leaves" [ "$(status_field events)" = 1 ]
check "the handle is freed a while after the last subscriber leaves" wait_field events 0 120
check "no subscriptions left" [ "$(status_field subscriptions)" = 0 ]

# --direct keeps pcon off pcond
$PCON --socket "$S" events --direct "unified:/$PFX/a" >/dev/null 2>&1 & ed=$!
pids+=($ed)
sleep 0.5
check "--direct does not subscribe through pcond" [ "$(status_field subscriptions)" = 0 ]
kill $ed; wait $ed 2>/dev/null

# --- a subscriber that never reads ----------------------------------------
# It subscribes with a small receive buffer and sleeps while the container
# churns; another client's loadavg must stay quick; once it reads, it is
# told how many events pcond dropped for it.
"$PY" - "$S" "unified:/$PFX/churn" "$dir/go" >"$dir/slow" 2>&1 <<'PYEOF' &
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b'subscribe -r ' + sys.argv[2].encode() + b'\n')
while not os.path.exists(sys.argv[3]):
    time.sleep(0.1)
s.settimeout(2)
buf = b''
try:
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        buf += d
except socket.timeout:
    pass
lines = buf.decode('latin-1').splitlines()
print('first', lines[0] if lines else '')
print('events', sum(1 for l in lines if l.startswith('event ')))
for l in lines:
    if ' type=lost ' in l:
        print(l)
PYEOF
slow=$!
pids+=($slow)
wait_field subscriptions 1 >/dev/null
sh -c "echo \$\$ > $CG/$PFX/churn/cgroup.procs; end=\$((\$(date +%s) + 4)); while [ \$(date +%s) -lt \$end ]; do /bin/true; /bin/true; /bin/true; /bin/true; done" & churn=$!
pids+=($churn)
rss0=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")
sleep 1
worst=0
for _ in 1 2 3 4 5; do
	t0=$(date +%s%N)
	$PCON --socket "$S" loadavg "unified:/" >/dev/null || worst=999999
	t=$((($(date +%s%N) - t0) / 1000000)); [ $t -gt $worst ] && worst=$t
	sleep 0.3
done
if [ $worst -lt 1000 ]; then ok "loadavg stays quick while a subscriber does not read (worst ${worst} ms)"
else not_ok "loadavg stalled by a subscriber that does not read (worst ${worst} ms)"; fi
rss=$(awk '/VmRSS/ {print $2}' "/proc/${pids[0]}/status")
# the backlog is bounded at 256 KiB; allow for a sanitizer's quarantine
check "pcond's memory stays bounded (+$((rss - rss0)) kB)" [ $((rss - rss0)) -lt 32768 ]
wait $churn
touch "$dir/go"
wait $slow
check "the slow subscriber was answered ok" grep -q '^first ok 1 ' "$dir/slow"
lost=$(sed -n 's/.* type=lost count=\([0-9]*\) source=pcond$/\1/p' "$dir/slow" | head -1)
if [ "${lost:-0}" -gt 0 ]; then ok "then it gets a lost line counting what it missed ($lost)"
else not_ok "the slow subscriber gets a lost line"; sed 's/^/#   /' "$dir/slow"; fi

# --- a container removed under its subscribers ----------------------------
$PCON --socket "$S" events "unified:/$PFX/g" >"$ev.g" 2>&1 & eg=$!
pids+=($eg)
wait_field subscriptions 1 >/dev/null
rmdir "$CG/$PFX/g"
rc=99
for _ in $(seq 50); do kill -0 $eg 2>/dev/null || { wait $eg; rc=$?; break; }; sleep 0.1; done
check "a removed container: a gone line" grep -q "gone *unified:/$PFX/g$" "$ev.g"
check "then pcon events exits 0" [ $rc = 0 ]
check "and pcond ends that subscription" wait_field subscriptions 0
check "pcond still answers" grep -qx "ok pcond .*" <(ask "$S" ping)
done_testing
