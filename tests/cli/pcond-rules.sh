#!/usr/bin/env bash
# pcond --rules: a process another user starts lands in its container
# within 100 ms; a rule whose destination is missing is reported once and
# makes nothing; SIGHUP reads the rules again, and a file with an error is
# refused with its line while the rules in force stay.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"
need_root_and_python "pcond --rules"
id nobody >/dev/null 2>&1 || { skip "pcond --rules" "no user nobody"; done_testing; exit 0; }
json=$(hierarchies_json)
H=$(jq -r '[.[] | select(.version == 1 and (.controllers | index("cpu")))][0].name // empty' <<<"$json")
H=${H:-$(jq -r '[.[] | select(.version == 2)][0].name' <<<"$json")}
$PCON create "$H:/$PFX-r/nobody" "$H:/$PFX-r/two" >/dev/null
cp "$(command -v sleep)" "$dir/$PFX-napper" # a copy: the rules see the executable's real name
# in_within PID PATH: is PID in PATH of $H within 2 s?
in_within() {
	for _ in $(seq 200); do
		grep -q ":$2\$" "/proc/$1/cgroup" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}
cat >"$dir/rules" <<RULES
# one user's processes to a container of its name; a missing one is said
nobody:$PFX-napper   $H   $PFX-r/%u
root:$PFX-napper     $H   $PFX-r/missing
RULES
printf 'nosuchuser-pcon cpu x/\n' >"$dir/bad"
$PCOND --socket "$dir/s0" --rules "$dir/bad" 2>"$dir/err0"; rc=$?
check "a bad rules file stops the start (rc $rc), naming its line" \
	bash -c "[ $rc -ne 0 ] && grep -q \"line 1: no user 'nosuchuser-pcon'\" '$dir/err0' && [ ! -S '$dir/s0' ]"
$PCOND --socket "$dir/s" -H "$H" --rules "$dir/rules" 2>"$dir/log" & pids+=($!); pd=$!
for _ in $(seq 50); do [ -S "$dir/s" ] && break; sleep 0.1; done
sleep 0.3
setpriv --reuid=nobody --regid=nogroup --clear-groups "$dir/$PFX-napper" 100 & pids+=($!); n=$!
# (its cgroup file read directly: a pcon process per poll would be the delay measured)
t0=$(date +%s%N)
while ! grep -q ":/$PFX-r/nobody\$" "/proc/$n/cgroup" 2>/dev/null; do
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -gt 2000 ] && break
	sleep 0.005
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# (how fast is a figure for the note, not a test: the check only says it
# came at the event, long before any poll would have)
echo "# placed after ${ms} ms"
check "another user's process lands in its container (${ms} ms)" bash -c "$PCON tasks '$H:/$PFX-r/nobody' | grep -qx $n"
check "  at its exec, within 2 s" [ "$ms" -le 2000 ]
"$dir/$PFX-napper" 100 & pids+=($!)
"$dir/$PFX-napper" 100 & pids+=($!)
sleep 0.5
check "a missing destination is reported" grep -q "line 3: $H:/$PFX-r/missing: no such container" "$dir/log"
check "  once" [ "$(grep -c "$PFX-r/missing" "$dir/log")" -eq 1 ]
check "  and never made" bash -c "! $PCON ls '$H:/$PFX-r/missing' 2>/dev/null"
cp "$dir/bad" "$dir/rules"; kill -HUP $pd; sleep 0.5
check "SIGHUP with a bad file: refused, naming the line" grep -q "line 1: no user 'nosuchuser-pcon'; the rules in force stay" "$dir/log"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$dir/$PFX-napper" 100 & pids+=($!); n2=$!
check "  and the old rules still place" in_within $n2 "/$PFX-r/nobody"
printf 'nobody:%s %s %s-r/two\n' "$PFX-napper" "$H" "$PFX" >"$dir/rules"; kill -HUP $pd; sleep 0.5
setpriv --reuid=nobody --regid=nogroup --clear-groups "$dir/$PFX-napper" 100 & pids+=($!); n3=$!
check "SIGHUP reads new rules" in_within $n3 "/$PFX-r/two"
check "pcond still answers" $PCON --socket "$dir/s" loadavg "$H:/"
st=$(ask "$dir/s" status)
check "status counts the rules and their moves" bash -c "grep -q ' rules=1 ' <<<'$st' && grep -Eq ' rules_moved=[1-9]' <<<'$st' && grep -Eq ' rules_failed=[1-9]' <<<'$st'"
done_testing
