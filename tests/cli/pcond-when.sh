#!/usr/bin/env bash
# pcon events --when: threshold events evaluated by pcond at each sample
# (running>1 turns on with two busy loops and off when they end), the
# kernel's PSI trigger for pressure (a CPU-bound fixture in a v2 container
# crosses cpu.some within the trigger's window), --on-event, an expression
# that never holds sends nothing, a bad one is one clear error.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"
fails_with "a bad expression is one clear error" "bad expression 'load9>1'" $PCON events --when 'load9>1' /
fails_with "--on-event without --when" "--on-event goes with --when" $PCON events --on-event true /
fails_with "no pcond: said so" "--when needs pcond" $PCON --socket "$dir/none" events --when 'load1>1' /
need_root_and_python "threshold events"
json=$(hierarchies_json)
H=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
[ -n "$H" ] || { skip "threshold events" "no cgroup v2 hierarchy"; done_testing; exit 0; }
C="$H:/$PFX-w"
$PCON create "$C/busy" "$C/quiet" >/dev/null
$PCOND --socket "$dir/s" -H "$H" 2>"$dir/log" & pids+=($!)
for _ in $(seq 50); do [ -S "$dir/s" ] && break; sleep 0.1; done
sleep 1 # the first sample tracks the containers
P=( $PCON --socket "$dir/s" )
fails_with "an unknown container: pcond says so" "no such container" "${P[@]}" events --when 'running>1' "$H:/$PFX-none"

"${P[@]}" events --when 'running>1' --on-event 'echo "$PCON_STATE $PCON_EXPR $PCON_VALUE $PCON_CONTAINER" >>'"$dir/ran" \
	"$C/busy" >"$dir/out" & pids+=($!); w=$!
"${P[@]}" events --when 'running>1000' "$C/quiet" >"$dir/never" & pids+=($!); q=$!
"${P[@]}" events --json --when 'cpu.some.avg10>30' "$C/busy" >"$dir/psi" & pids+=($!); ps=$!
sleep 0.5
busy=()
for _ in 1 2 3; do bash -c 'while :; do :; done' & busy+=($!); $PCON attach "$C/busy" $! >/dev/null; done
for _ in $(seq 120); do grep -q ' on ' "$dir/out" 2>/dev/null && break; sleep 0.1; done
check "running>1 turns on" grep -q "^threshold $C/busy running>1 on value=[2-9]" "$dir/out"
for _ in $(seq 100); do grep -q '"state":"on"' "$dir/psi" 2>/dev/null && break; sleep 0.1; done
check "cpu.some.avg10>30 turns on under a CPU-bound fixture" grep -q '"state":"on"' "$dir/psi"
# (30%: the trigger needs 0.6 s of stall in a 2 s window, avg10 a few seconds
# of it: the first word is the kernel's, not the next sample's)
[ -r /proc/pressure/cpu ] && check "  reported by the kernel's PSI trigger" grep -q '"source":"psi"' "$dir/psi"
kill "${busy[@]}"; wait "${busy[@]}" 2>/dev/null
for _ in $(seq 120); do grep -q ' off ' "$dir/out" 2>/dev/null && break; sleep 0.1; done
check "and off when they end" grep -q "^threshold $C/busy running>1 off value=0" "$dir/out"
check "--on-event ran for each, with the crossing in its environment" \
	bash -c "[ \$(wc -l <'$dir/ran') -eq 2 ] && grep -q '^on running>1 [2-9][0-9.]* $C/busy\$' '$dir/ran' && grep -q '^off running>1 0 ' '$dir/ran'"
check "an expression that never holds sends nothing" [ ! -s "$dir/never" ]
kill $w $q $ps; wait $w $q $ps 2>/dev/null
check "pcond still answers" "${P[@]}" loadavg "$C"
done_testing
