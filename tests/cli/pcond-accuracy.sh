#!/usr/bin/env bash
# Accuracy, measured (~40 s): a container with 2 busy tasks reports
# load1 = 2(1 - (1884/2048)^k) after k samples (+-0.1); meanwhile, polled
# every second while that load starts, every watched hierarchy's root equals
# the others and the kernel's /proc/loadavg (median within 0.05).
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

if [ "$(id -u)" -ne 0 ]; then
	skip "accuracy" "needs root to create cgroups"; done_testing; exit 0
fi
v2=$(hierarchies_json | jq -r '[.[] | select(.version == 2)][0].name // empty')
C="cpu:/$PFX-acc"
$PCON create "$C" >/dev/null
for _ in 1 2; do
	bash -c 'while :; do :; done' &
	pids+=($!)
	$PCON attach "$C" $! >/dev/null
done
$PCOND --socket "$dir/s" -H "cpu${v2:+,$v2}" ${PCOND_BACKEND:+-B $PCOND_BACKEND} 2>"$dir/log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$dir/s" ] && break; sleep 0.1; done

# One request for every root; /proc/loadavg read before and after it (the
# kernel may update in between: the closer of the two counts).
poll_roots() {
	local before after j
	before=$(cut -d' ' -f1 /proc/loadavg)
	j=$($PCON --socket "$dir/s" loadavg --json cpu:/ ${v2:+$v2:/}) || return 1
	after=$(cut -d' ' -f1 /proc/loadavg)
	jq -r --arg b "$before" --arg a "$after" '.containers |
		(map(.load1) | unique | length) as $distinct |
		(.[0].load1 - ($b | tonumber) | fabs) as $db | (.[0].load1 - ($a | tonumber) | fabs) as $da |
		"\($distinct) \(if $db < $da then $db else $da end)"' <<<"$j"
}
worst_c=0 worst_r=0 k=0 fails=0 diffs_r=() unequal=0
for _ in $(seq 8); do
	for _ in 1 2 3 4 5; do
		sleep 1
		read -r distinct d < <(poll_roots) || { fails=$((fails + 1)); continue; }
		[ "$distinct" = 1 ] || unequal=$((unequal + 1))
		diffs_r+=("$d")
		worst_r=$(awk -v a="$worst_r" -v b="$d" 'BEGIN { print (b > a ? b : a) }')
	done
	j=$($PCON --socket "$dir/s" loadavg --json -o LOAD1,SAMPLES "$C") || { fails=$((fails + 1)); continue; }
	k=$(jq '.containers[0].samples' <<<"$j")
	got=$(jq '.containers[0].load1' <<<"$j")
	d=$(awk -v k="$k" -v g="$got" 'BEGIN { w = 2 * (1 - (1884/2048)^k); d = g - w; if (d < 0) d = -d; printf "%.3f", d }')
	echo "# k=$k load1=$got want=$(awk -v k="$k" 'BEGIN{printf "%.3f", 2*(1-(1884/2048)^k)}') diff=$d"
	worst_c=$(awk -v a="$worst_c" -v b="$d" 'BEGIN { print (b > a ? b : a) }')
done
check "pcond answered every poll" [ $fails -eq 0 ]
check "at least 6 samples in 40 s (k=$k)" [ "$k" -ge 6 ]
check "2 busy tasks: load1 = 2(1-(1884/2048)^k) within 0.1 (worst $worst_c)" \
	awk -v w="$worst_c" 'BEGIN { exit !(w <= 0.1) }'
# A root holds every task: pcond answers the kernel's own load for it.
med=$(printf '%s\n' "${diffs_r[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
echo "# roots vs /proc/loadavg over ${#diffs_r[@]} polls: median $med, worst $worst_r"
check "every root has the same load in each of ${#diffs_r[@]} polls" [ "$unequal" -eq 0 -a "${#diffs_r[@]}" -ge 30 ]
check "roots follow /proc/loadavg within 0.05 (median $med, worst $worst_r)" \
	awk -v m="$med" -v w="$worst_r" 'BEGIN { exit !(m <= 0.05 && w <= 0.05) }'
done_testing
