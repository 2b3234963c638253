#!/usr/bin/env bash
# CLI tests of pcon stats on real cgroups: output formats, options, errors.
. "$(dirname "$0")/lib.bash"
kids=()
finish() { for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done; cleanup; }
trap finish EXIT

check "stats --help exits 0" $PCON stats --help
fails_with "unknown backend" "unknown backend 'nope'" $PCON stats --backend=nope /
fails_with "negative delay" "stats: --delay: '-1' is out of range" $PCON stats -d -1 /
fails_with "a delay that is not a number" "stats: --delay: 'abc' is not a number" $PCON stats -d abc /
fails_with "--interval is --delay" "--interval: 'x' is not a number" $PCON stats --interval x /
fails_with "zero count" "--count: '0' is out of range" $PCON stats -c 0 /
fails_with "--depth is a number" "--depth: 'x' is not a whole number" $PCON stats --tree --depth x /
fails_with "a missing value is said so (short)" "option '-B' needs a value" $PCON stats -B
fails_with "a missing value is said so (long)" "option '--backend' needs a value" $PCON stats --backend
fails_with "an unknown option is said so" "invalid option '--nope'" $PCON stats --nope /
fails_with "--depth without --tree" "--depth goes with --tree" $PCON stats --depth 1 /
fails_with "unknown hierarchy" "no hierarchy named" $PCON stats nohier:/
fails_with "-o '': no columns" "stats: --output: no columns named" $PCON stats -o '' /
fails_with "top -o '': no columns" "top: --output: no columns named" $PCON top -b -o ''
fails_with "an unknown column" "stats: unknown column 'FOO'" $PCON stats -o running,FOO /
many=(); for i in $(seq 70); do many+=(/); done
check "every one of 70 containers named is shown" \
	[ "$($PCON stats -B proc "${many[@]}" | wc -l)" -eq 70 ]
check "-o: a table of 70 rows and a header" \
	[ "$($PCON stats -B proc -o container,total "${many[@]}" | wc -l)" -eq 71 ]

if [ "$(id -u)" -ne 0 ]; then
	skip "stats on real cgroups" "needs root to create cgroups"; done_testing; exit 0
fi
json=$(hierarchies_json)
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | length) > 0)][0].controllers[0] // empty' <<<"$json")
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
fails_with "no such container" "no such container" $PCON stats "/$PFX-none"

for H in $v1 $v2; do
	C="$H:/$PFX-s"
	check "$H: create" $PCON create "$C/kid"
	sleep 1000 & kids+=($!); $PCON attach "$C" $! >/dev/null
	sleep 1000 & kids+=($!); $PCON attach "$C/kid" $! >/dev/null
	kill -STOP $!
	sleep 0.2
	out=$($PCON stats -B proc "$C")
	check "$H: seed line" [ "$out" = "sleeping 1, blocked -, running 0, stopped 0, uninterruptible 0" ]
	out=$($PCON stats -r -B proc "$C")
	check "$H: -r includes the child" [ "$out" = "sleeping 1, blocked -, running 0, stopped 1, uninterruptible 0" ]
	j=$($PCON stats -J -r "$C" | jq .containers[0])
	check "$H: --json fields" jq -e '.sleeping == 1 and .stopped == 1 and .total == 2 and .containers == 2
		and (.backend | IN("bpf","proc")) and .path == "/'"$PFX"'-s" and (.id | type == "number")' <<<"$j"
	check "$H: -d 0 -c 3 gives three samples" [ "$($PCON stats -d 0 -c 3 -J "$C" | jq -s length)" -eq 3 ]
	check "$H: --interval 0 --count 2 gives two samples" [ "$($PCON stats --interval 0 --count 2 --json "$C" | jq -s length)" -eq 2 ]
	out=$($PCON stats -r -B proc -n --raw -o sleeping,stopped,BLOCKED,total "$C")
	check "$H: -o -n --raw: the columns named, unaligned, '-' where unknown" [ "$out" = "1 1 - 2" ]
	out=$($PCON stats -r -B proc -o +containers,backend "$C")
	check "$H: -o +LIST: a header and a row" bash -c '[ "$(wc -l <<<"$1")" = 2 ] && grep -Eq "^CONTAINER +TOTAL .* OTHER +CONTAINERS +BACKEND$" <<<"$1" &&
		grep -Eq "^[^ ]+:/$2 +2 +0 +1 +0 +- +1 +0 +0 +2 +proc$" <<<"$1"' - "$out" "$PFX-s"
	j=$($PCON stats -J -B proc "$C")
	check "$H: -J: numbers are numbers, what proc cannot see is null" jq -e '.containers[0] | (.total | type == "number")
		and .blocked == null and (.idle | type == "number") and .path == "/'"$PFX"'-s"
		and (.container | endswith(":/'"$PFX"'-s")) and (.hierarchy | type == "string")' <<<"$j"
	check "$H: -J -o: only the columns named" jq -e '.containers[0] | keys == ["running","sleeping"]' \
		<<<"$($PCON stats -B proc -J -o SLEEPING,running "$C")"
	check "$H: -J -o +cpu-some: pressure null on v1, a number on v2" jq -e '.containers[0]["cpu-some"] | '"$([ "$H" = "$v2" ] && echo 'type == "number"' || echo '. == null')" \
		<<<"$($PCON stats -B proc -J -o +cpu-some "$C")"
	fails_with "$H: -o names an unknown column" "stats: unknown column 'NOPE'" $PCON stats -o total,NOPE "$C"
	out=$($PCON stats -B proc -o total,running "$C" "$C/kid")
	check "$H: -o over two containers: a header and two rows" [ "$(wc -l <<<"$out")" = 3 ]
	t=$($PCON stats --tree "$C")
	check "$H: --tree one row per container" [ "$(grep -c "$PFX-s" <<<"$t")" -eq 2 ]
	check "$H: --tree --json nests the child" jq -e '.containers | length == 1 and .[0].total == 2 and .[0].children[0].depth == 1
		and .[0].children[0].total == 1' <<<"$($PCON stats --tree --json "$C")"
	if [ "$H" = "$v2" ]; then
		fails_with "$H: kernel backend is v1 only" "supports only cgroup v1" $PCON stats -B kernel "$C"
	else
		check "$H: kernel backend answers" $PCON stats -B kernel "$C"
		# sleep(1) waits in nanosleep (0x2001): cgroupstats counts it nowhere
		check "$H: the seed's line adds up: what falls outside its five fields is said" \
			[ "$($PCON stats -B kernel "$C")" = "sleeping 0, blocked 0, running 0, stopped 0, uninterruptible 0, other 1" ]
	fi
	# Past 64 children under one parent (one read() of the iterator held 64).
	# (pcon create, not mkdir: a v1 cpuset child needs its parent's CPUs to take a task)
	check "$H: create 70 children in one go" $PCON create $(for i in $(seq 70); do echo "$C/k$i"; done)
	sleep 1000 & kids+=($!); $PCON attach "$C/k70" $! >/dev/null
	for b in bpf proc; do
		out=$($PCON stats -r -B $b "$C" 2>&1)
		want="sleeping 2, blocked 0, running 0, stopped 1, uninterruptible 0"; [ $b = proc ] && want=${want/blocked 0/blocked -}
		check "$H: -r -B $b over 71 children" [ "$out" = "$want" ]
		check "$H: --tree -B $b lists all 72" [ "$($PCON stats --tree --depth 1 -B $b "$C" | grep -c "$PFX-s")" -eq 72 ]
	done
	j=$($PCON stats -J -r -B bpf "$C" | jq .containers[0])
	check "$H: --json names the walk" jq -e '.backend == "bpf" and (.walk | IN("css_set","css_task","task")) and .fallback == null' <<<"$j"
	j=$(PCON_BPF_WALK=task $PCON stats -J -r -B bpf "$C" | jq .containers[0])
	check "$H: PCON_BPF_WALK=task forces the task walk" jq -e '.walk == "task" and .total == 3' <<<"$j"
	check "$H: top -b over 72 containers has counts" \
		bash -c "$PCON top -b -c 1 -d 0.1 '$C' | grep -E '$PFX-s/k70 +1 '"
	# The task walk records a cgroup's ancestors up to 32 levels, then says so.
	deep=$C/deep; for i in $(seq 39); do deep=$deep/d; done
	check "$H: create 40 levels" $PCON create "$deep"
	sleep 1000 & kids+=($!); $PCON attach "$deep" $! >/dev/null
	err=$(PCON_BPF_WALK=task $PCON stats -r -B bpf "$C" 2>&1)
	check "$H: the task walk refuses what it cannot sum" grep -q "nested more than 32 levels" <<<"$err"
	check "$H: auto counts it from /proc" jq -e '.backend == "proc" and .total == 4' \
		<<<"$(PCON_BPF_WALK=task $PCON stats -J -r "$C" | jq .containers[0])"
	for k in "${kids[@]}"; do kill -9 "$k"; wait "$k" 2>/dev/null; done; kids=()
done
# Children made and removed all the while: every query of the parent answers.
if [ -n "$v1" ]; then
	C="$v1:/$PFX-churn"; $PCON create "$C" >/dev/null
	dir=$(jq -r --arg h "$v1" '.[] | select(.name == $h or (.controllers | index($h))) | .mount' <<<"$json" | head -1)/$PFX-churn
	( end=$((SECONDS + 5)); ks=$(seq 40); while [ $SECONDS -lt $end ]; do
		for i in $ks; do mkdir "$dir/k$i" "$dir/k$i/x" 2>/dev/null; done
		for i in $ks; do rmdir "$dir/k$i/x" "$dir/k$i" 2>/dev/null; done
	done ) & churn=$!
	bad=0 runs=0
	while kill -0 $churn 2>/dev/null; do
		for a in "-r -B proc" "--tree -B proc" "-r -B bpf" "--tree -B bpf"; do
			$PCON stats $a "$C" >/dev/null 2>/tmp/pcon-churn.$$ || { bad=$((bad + 1)); head -1 /tmp/pcon-churn.$$; }
			runs=$((runs + 1))
		done
	done
	wait $churn; rm -f /tmp/pcon-churn.$$
	check "stats under churn: $runs runs, none failed" [ "$bad" -eq 0 -a "$runs" -ge 4 ]
fi
N=$(jq -r '[.[] | select(.version == 1 and .named != null and (.controllers | length) == 0)][0].name // empty' <<<"$json")
if [ -n "$N" ]; then
	check "$N: create" $PCON create "$N:/$PFX-n"
	err=$(PCON_BPF_WALK=task $PCON stats -B bpf "$N:/$PFX-n" 2>&1)
	check "$N: the task walk says why it cannot see a named hierarchy" \
		grep -q "bpf backend: .*named v1 hierarchy" <<<"$err"
	j=$(PCON_BPF_WALK=task $PCON stats --json "$N:/$PFX-n" | jq .containers[0])
	check "$N: auto falls back to proc and says why" jq -e '.backend == "proc" and (.fallback | test("named"))' <<<"$j"
	err=$(PCON_BPF_WALK=task $PCON stats -v "$N:/$PFX-n" 2>&1 >/dev/null)
	check "$N: -v says why" grep -q "bpf could not answer" <<<"$err"
fi
cols=$($PCON stats --list-columns)
check "--list-columns: the columns with their help" bash -c 'for c in CONTAINER TOTAL RUNNING SLEEPING UNINTERRUPTIBLE BLOCKED STOPPED IDLE OTHER BACKEND WALK FALLBACK ERROR; do
	grep -Eq "^$c +(string|number|boolean) +[^ ]" <<<"$1" || exit 1; done' - "$cols"
check "--list-columns -J" jq -e '.columns | length >= 20' <<<"$($PCON stats --list-columns -J)"
fails_with "--list-columns takes no container" "takes no container" $PCON stats --list-columns /

# Names with any byte the kernel allows (0xff, quotes, backslashes, 255
# bytes), nested 20 deep: --tree -J is one valid document that nests them.
H=${v2:-$v1}
C="$H:/$PFX-names"
long=$(printf 'L%.0s' $(seq 255))
deep=$C/d; for i in $(seq 19); do deep=$deep/d; done
check "names: create" $PCON create "$C/ff\xff" "$C/q\"uote" "$C/back\\\\slash" "$C/$long" "$deep"
j=$($PCON stats --tree --depth 30 -J -B proc "$C")
check "names: --tree -J is valid JSON with the five children" jq -e '.containers[0].children | length == 5' <<<"$j"
check "names: each name escaped as pcon prints it" jq -e --arg l "/$PFX-names/$long" '[.containers[0].children[].path] | sort ==
	(["/'"$PFX"'-names/back\\\\slash", "/'"$PFX"'-names/d", "/'"$PFX"'-names/ff\\xff", "/'"$PFX"'-names/q\"uote", $l] | sort)' <<<"$j"
check "names: 20 levels nested as children" jq -e '[.containers[0].children[] | select(.path | endswith("/d"))][0]
	| reduce range(19) as $i (.; .children[0]) | .depth == 20 and (.path | endswith("/d/d"))' <<<"$j"
check "names: --tree --raw has one line per container" [ "$($PCON stats --tree --depth 30 -B proc --raw -n "$C" | wc -l)" = 25 ]
check "bare stats shows every hierarchy" [ "$($PCON stats | grep -c ':/ ')" -ge 1 ]
done_testing
