#!/usr/bin/env bash
# pcon stats --tree over 1,000 containers against systemd-cgtop over the same
# containers, whole process, in one run: bench/tree.sh BUILD
# Root. 10 groups of 100 containers, each with one sleeping process started
# inside, made in the name=systemd hierarchy (where cgtop looks on a v1 host)
# and in the memory hierarchy (where it looks beside a v2 tree of no
# controllers); the table says how many rows cgtop printed, so a ratio over
# containers it did not see cannot pass unnoticed. pcon runs three ways:
# asking a running pcond (which keeps its eBPF program loaded; its CPU per
# answer is shown too), --direct with bpf (loads the program each run), and
# proc.
set -u
B=${1:-build}
PCON=$B/pcon PCOND=$B/pcond
if [ "$(id -u)" -ne 0 ]; then echo "bench tree: skipped (needs root)"; exit 0; fi
command -v systemd-cgtop >/dev/null || { echo "bench tree: skipped (no systemd-cgtop)"; exit 0; }
M=$(awk '$9 == "cgroup" && $NF ~ /name=systemd/ {print $5; exit}' /proc/self/mountinfo)
[ -n "$M" ] || { echo "bench tree: skipped (no name=systemd hierarchy)"; exit 0; }
MEM=$(awk '$9 == "cgroup" && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
PFX=pcon-bench-$$
dir=$(mktemp -d)
pids=()
finish() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	for m in "$M" ${MEM:+"$MEM"}; do
		[ -d "$m/$PFX" ] && find "$m/$PFX" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$dir"
}
trap finish EXIT
for m in "$M" ${MEM:+"$MEM"}; do
	mkdir "$m/$PFX"
	for g in $(seq 10); do
		mkdir "$m/$PFX/g$g"
		for c in $(seq 100); do mkdir "$m/$PFX/g$g/c$c"; done
	done
done
for g in $(seq 10); do for c in $(seq 100); do
	sh -c "echo \$\$ > $M/$PFX/g$g/c$c/cgroup.procs; ${MEM:+echo \$\$ > $MEM/$PFX/g$g/c$c/cgroup.procs;} exec sleep 3600" &
	pids+=($!)
done; done
$PCOND --socket "$dir/s" -H name=systemd 2>/dev/null &
pcond=$!
pids+=($pcond)
for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.1; done
sleep 1 # the processes have written their cgroup.procs

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
# CPU ms of every thread of a process so far, to the nanosecond (schedstat).
cpu_ms() { cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.3f", ns / 1e6}'; }
rows=$($PCON stats --tree --depth 3 --direct -B bpf "name=systemd:/$PFX" | grep -c "$PFX")
cgrows=$(systemd-cgtop -b -n 1 --depth=3 "/$PFX" | grep -c "$PFX")
echo "1,000 containers (1,011 rows; pcon printed $rows, cgtop $cgrows), whole process, ms over 11 runs"
printf '%-52s %8s %14s %8s\n' "command" "median" "min..max" "ratio"
read -r cg cgmin cgmax < <(timeit 11 systemd-cgtop -b -n 1 --depth=3 "/$PFX")
line() { printf '%-52s %8s %14s %7.2fx\n' "$1" "$2" "$3..$4" "$(awk -v a="$2" -v b="$cg" 'BEGIN {print a / b}')"; }
c0=$(cpu_ms $pcond)
read -r m mn mx < <(timeit 11 $PCON --socket "$dir/s" stats --tree --depth 3 -B bpf "name=systemd:/$PFX")
c1=$(cpu_ms $pcond)
line "pcon stats --tree --depth 3 -B bpf (pcond answers)" "$m" "$mn" "$mx"
printf '%-52s %8.2f\n' "  pcond's CPU per answer (ms, mean of 11)" "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print (b - a) / 11}')"
for cmd in "stats --tree --depth 3 --direct -B bpf" "stats --tree --depth 3 -B proc"; do
	read -r m mn mx < <(timeit 11 $PCON $cmd "name=systemd:/$PFX")
	line "pcon $cmd" "$m" "$mn" "$mx"
done
line "systemd-cgtop -b -n 1 --depth=3" "$cg" "$cgmin" "$cgmax"
