#!/usr/bin/env bash
# pcon stats --tree over 1,000 containers against systemd-cgtop over the same
# containers, whole process, in one run: bench/tree.sh BUILD
# Root. The containers go in the name=systemd hierarchy, where cgtop looks;
# 10 groups of 100, each container with one sleeping process.
set -u
B=${1:-build}
PCON=$B/pcon
if [ "$(id -u)" -ne 0 ]; then echo "bench tree: skipped (needs root)"; exit 0; fi
command -v systemd-cgtop >/dev/null || { echo "bench tree: skipped (no systemd-cgtop)"; exit 0; }
M=$(awk '$9 == "cgroup" && $NF ~ /name=systemd/ {print $5; exit}' /proc/self/mountinfo)
[ -n "$M" ] || { echo "bench tree: skipped (no name=systemd hierarchy)"; exit 0; }
PFX=pcon-bench-$$
pids=()
finish() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -d "$M/$PFX" ] && find "$M/$PFX" -depth -type d -exec rmdir {} + 2>/dev/null
}
trap finish EXIT
mkdir "$M/$PFX"
for g in $(seq 10); do
	mkdir "$M/$PFX/g$g"
	for c in $(seq 100); do mkdir "$M/$PFX/g$g/c$c"; done
done
for g in $(seq 10); do for c in $(seq 100); do
	sleep 3600 & pids+=($!); echo $! > "$M/$PFX/g$g/c$c/cgroup.procs"
done; done

# Median and min..max wall ms of N runs of a command.
timeit() {
	local n=$1; shift
	local t=()
	for _ in $(seq "$n"); do
		local a b
		a=$(date +%s%N); "$@" >/dev/null 2>&1; b=$(date +%s%N)
		t+=($(( (b - a) / 1000 )))
	done
	printf '%s\n' "${t[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.1f %.1f %.1f\n", v[int((NR+1)/2)]/1000, v[1]/1000, v[NR]/1000}'
}
rows=$($PCON stats --tree --depth 3 -B bpf "name=systemd:/$PFX" | grep -c "$PFX")
echo "1,000 containers (1,011 rows: $rows), name=systemd, whole process, ms over 11 runs"
printf '%-44s %8s %14s %8s\n' "command" "median" "min..max" "ratio"
read -r cg cgmin cgmax < <(timeit 11 systemd-cgtop -b -n 1 --depth=3 "/$PFX")
for cmd in "stats --tree --depth 3 -B bpf" "stats --tree --depth 3 -B proc"; do
	read -r m mn mx < <(timeit 11 $PCON $cmd "name=systemd:/$PFX")
	printf '%-44s %8s %14s %7.2fx\n' "pcon $cmd" "$m" "$mn..$mx" "$(awk -v a="$m" -v b="$cg" 'BEGIN {print a / b}')"
done
printf '%-44s %8s %14s %7.2fx\n' "systemd-cgtop -b -n 1 --depth=3" "$cg" "$cgmin..$cgmax" 1
