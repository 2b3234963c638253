#!/usr/bin/env bash
# pcond's taskstats request: a container's and its subtree's thread counts
# from a fresh walk, the same as pcon counts on its own; every user may ask,
# and other users' requests walk at most 10 times a second.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond taskstats"
CG=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -z "$CG" ]; then
	skip "pcond taskstats" "no unified hierarchy here"; done_testing; exit 0
fi
S=$dir/pcond.sock
C=unified:/$PFX
$PCON create -p "$C/a/b" "$C/c" >/dev/null
# every hierarchy: other users' requests must not walk them all in turn
$PCOND --socket "$S" 2>"$dir/log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$S" ] && break; sleep 0.1; done
check "pcond starts" [ -S "$S" ]

# made after pcond's first sample: the request's own walk finds them
$PCON create "$C/a/new" >/dev/null
sh -c "echo \$\$ > $CG/$PFX/a/cgroup.procs; exec sleep 60" & pids+=($!)
sh -c "echo \$\$ > $CG/$PFX/a/b/cgroup.procs; exec sleep 60" & pids+=($!)
sh -c "echo \$\$ > $CG/$PFX/a/new/cgroup.procs; kill -STOP \$\$; exec sleep 60" & stopped=$!
pids+=($stopped)
sleep 0.3

out=$(ask "$S" "taskstats -r $C")
field() { sed -n "s/.* path=$(sed 's/[/]/\\&/g' <<<"$1") .* $2=\([0-9]*\).*/\1/p" <<<"$out"; }
check "-r: the container and its 4 descendants, then ok 5" \
	[ "$(grep -c '^taskstats ' <<<"$out")" = 5 ] && grep -q '^ok 5 backend=' <<<"$out"
check "pre-order, siblings by name" \
	[ "$(sed -n 's/^taskstats path=\([^ ]*\) .*/\1/p' <<<"$out" | tr '\n' ' ')" = "/$PFX /$PFX/a /$PFX/a/b /$PFX/a/new /$PFX/c " ]
check "a: its own sleeper" [ "$(field "/$PFX/a" sleeping)" = 1 ] && [ "$(field "/$PFX/a" total)" = 1 ]
check "a/new, made after pcond started: its stopped thread" [ "$(field "/$PFX/a/new" stopped)" = 1 ]
check "the top's sum holds the subtree's 3 threads" [ "$(field "/$PFX" sum_total)" = 3 ]
check "a's sum: 2 sleeping, 1 stopped" \
	[ "$(field "/$PFX/a" sum_sleeping)" = 2 ] && [ "$(field "/$PFX/a" sum_stopped)" = 1 ]
age=$(sed -n 's/^ok .* age_us=\([0-9]*\)$/\1/p' <<<"$out")
check "root's answer comes from a walk made for it (${age} us ago)" [ -n "$age" ] && [ "$age" -lt 100000 ]

# --- pcon stats asks pcond, and says so ---
cols=CONTAINER,TOTAL,RUNNING,SLEEPING,UNINTERRUPTIBLE,STOPPED,OTHER,CONTAINERS
via=$($PCON --socket "$S" stats --tree -J -o $cols,SOURCE "$C")
here=$($PCON --socket "$S" stats --tree -J -o $cols,SOURCE --direct "$C")
flat() { jq -c '[.containers[] | recurse(.children[]?) | del(.children)]' <<<"$1"; }
check "stats --tree: pcond answered every row" jq -e '[.[] | .source] | length == 5 and all(. == "pcond")' <<<"$(flat "$via")"
check "stats --tree --direct: pcon walked" jq -e 'all(.[]; .source == "pcon")' <<<"$(flat "$here")"
check "stats --tree: pcond's rows are pcon's own, count for count" \
	[ "$(flat "$via" | jq -c 'map(del(.source))')" = "$(flat "$here" | jq -c 'map(del(.source))')" ]
check "stats --tree --depth 1 from pcond: 3 rows, the top summing 5 containers" \
	jq -e '[.containers[] | recurse(.children[]?)] | length == 3 and .[0].containers == 5' \
	<<<"$($PCON --socket "$S" stats --tree --depth 1 -J -o $cols "$C")"
check "the seed's line from pcond is pcon's own" \
	[ "$($PCON --socket "$S" stats -r "$C")" = "$($PCON --socket "$S" stats -r --direct "$C")" ]
check "stats -r: 3 threads, 2 sleeping, 1 stopped" \
	grep -qx "sleeping 2, blocked 0, running 0, stopped 1, uninterruptible 0" <<<"$($PCON --socket "$S" stats -r "$C")"
check "stats -v says pcond answered" grep -q "pcond answered from its walk" <<<"$($PCON --socket "$S" stats -v "$C" 2>&1 >/dev/null)"
check "stats -B proc does not ask pcond" \
	jq -e '.containers[0].source == "pcon" and .containers[0].backend == "proc"' <<<"$($PCON --socket "$S" stats -B proc -J "$C")"
# a name with a backslash and a tab, as pcon prints it: pcond reads it the same way
$PCON create "$C/c/b\\\\s\\tt" >/dev/null
check "a name with a backslash and a tab: pcond answers for it" \
	jq -e '.containers[0].source == "pcond" and .containers[0].total == 0' \
	<<<"$($PCON --socket "$S" stats -J -o SOURCE,TOTAL "$C/c/b\\\\s\\tt")"
check "no pcond at the socket: pcon walks" \
	jq -e '.containers[0].source == "pcon"' <<<"$($PCON --socket "$S.none" stats -J "$C")"

one=$(ask "$S" "taskstats $C/a/b")
check "without -r: one line" [ "$(grep -c '^taskstats ' <<<"$one")" = 1 ] && grep -q '^ok 1 ' <<<"$one"
check "an unknown container: ENOENT" grep -q '^err ENOENT' <<<"$(ask "$S" "taskstats $C/nosuch")"
h1=$(hierarchies_json | jq -r '[.[] | select(.version == 1)][0].name // empty')
[ -n "$h1" ] && check "two hierarchies: EINVAL" grep -q '^err EINVAL' <<<"$(ask "$S" "taskstats unified,$h1:/")"
check "no such hierarchy: ENODEV" grep -q '^err ENODEV' <<<"$(ask "$S" "taskstats nosuch:/")"

walks() { ask "$S" status | sed -n 's/.* taskstats_walks=\([0-9]*\) .*/\1/p'; }
if command -v setpriv >/dev/null; then
	# the roots of every hierarchy in turn, 20 ms apart for 1.5 s: each
	# one's last walk is always older than 100 ms when asked again
	roots=$(hierarchies_json | jq -r '.[].name + ":/"' | tr '\n' ' ')
	w0=$(walks)
	cat >"$dir/burst.py" <<'PYEOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
f = s.makefile('rb'); roots = sys.argv[2].split(); ok = 0; end = time.time() + 1.5; i = 0
while time.time() < end:
    s.sendall(b'taskstats ' + roots[i % len(roots)].encode() + b'\n'); i += 1
    while True:
        line = f.readline()
        if not line or line.startswith(b'ok') or line.startswith(b'err'): break
    ok += line.startswith(b'ok 1 ')
    time.sleep(0.02)
print(i, ok)
PYEOF
	read -r asked answered < <(setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$dir/burst.py" "$S" "$roots")
	w1=$(walks)
	check "another user may ask: $answered of $asked answered" [ "${asked:-0}" -gt 20 ] && [ "$answered" = "$asked" ]
	check "its $asked requests over 1.5 s walked at most 20 times ($((w1 - w0)))" [ $((w1 - w0)) -le 20 ]
	out=$(ask "$S" "taskstats $C")
	age=$(sed -n 's/^ok .* age_us=\([0-9]*\)$/\1/p' <<<"$out")
	check "root still gets a fresh walk after that (${age} us)" [ -n "$age" ] && [ "$age" -lt 100000 ]
else
	skip "pcond taskstats: other users" "needs setpriv"
fi
kill -CONT "$stopped" 2>/dev/null
done_testing
