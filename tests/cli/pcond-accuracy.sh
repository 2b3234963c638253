#!/usr/bin/env bash
# Accuracy, measured (~40 s): a container with 2 busy tasks reports
# load1 = 2(1 - (1884/2048)^k) after k samples (+-0.1), and the root of the
# v2 hierarchy follows the kernel's /proc/loadavg (+-0.25) meanwhile.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

if [ "$(id -u)" -ne 0 ]; then
	skip "accuracy" "needs root to create cgroups"; done_testing; exit 0
fi
v2=$($PCON hierarchies --json | jq -r '[.[] | select(.version == 2)][0].name // empty')
C="cpu:/$PFX-acc"
$PCON create "$C" >/dev/null
for _ in 1 2; do
	bash -c 'while :; do :; done' &
	pids+=($!)
	$PCON attach "$C" $! >/dev/null
done
$PCOND --socket "$dir/s" -H "cpu${v2:+,$v2}" ${PCOND_BACKEND:+-b $PCOND_BACKEND} 2>"$dir/log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$dir/s" ] && break; sleep 0.1; done

worst_c=0 worst_r=0 k=0 fails=0 diffs_r=()
for _ in $(seq 8); do
	sleep 5
	j=$($PCON --socket "$dir/s" loadavg --json "$C") || { fails=$((fails + 1)); continue; }
	k=$(jq .samples <<<"$j")
	got=$(jq .load1 <<<"$j")
	d=$(awk -v k="$k" -v g="$got" 'BEGIN { w = 2 * (1 - (1884/2048)^k); d = g - w; if (d < 0) d = -d; printf "%.3f", d }')
	echo "# k=$k load1=$got want=$(awk -v k="$k" 'BEGIN{printf "%.3f", 2*(1-(1884/2048)^k)}') diff=$d"
	worst_c=$(awk -v a="$worst_c" -v b="$d" 'BEGIN { print (b > a ? b : a) }')
	if [ -n "$v2" ]; then
		r=$($PCON --socket "$dir/s" loadavg --json "$v2:/" | jq .load1)
		kern=$(cut -d' ' -f1 /proc/loadavg)
		d=$(awk -v a="$r" -v b="$kern" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.3f", d }')
		echo "# root $v2:/ load1=$r /proc/loadavg=$kern diff=$d"
		worst_r=$(awk -v a="$worst_r" -v b="$d" 'BEGIN { print (b > a ? b : a) }')
		diffs_r+=("$d")
	fi
done
check "pcond answered every poll" [ $fails -eq 0 ]
check "at least 6 samples in 40 s (k=$k)" [ "$k" -ge 6 ]
check "2 busy tasks: load1 = 2(1-(1884/2048)^k) within 0.1 (worst $worst_c)" \
	awk -v w="$worst_c" 'BEGIN { exit !(w <= 0.1) }'
if [ -n "$v2" ]; then
	# The kernel and pcond sample on two unrelated 5 s grids, and this
	# machine is shared: a burst of other work caught by one and not the
	# other moves one poll. The median must be within 0.25, every poll
	# within 0.5.
	med=$(printf '%s\n' "${diffs_r[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	check "v2 root follows /proc/loadavg within 0.25 (median $med, worst $worst_r)" \
		awk -v m="$med" -v w="$worst_r" 'BEGIN { exit !(m <= 0.25 && w <= 0.5) }'
else
	skip "v2 root vs /proc/loadavg" "no cgroup v2 hierarchy mounted"
fi
done_testing
