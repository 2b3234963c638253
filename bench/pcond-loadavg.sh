#!/usr/bin/env bash
# Cost of per-container load averages: N containers (default 1,000) holding
# T threads each (default 20: 20,000 in all), every daemon sampling them for
# S seconds (default 60), side by side in one run:
#   pcond --backend bpf, pcond --backend proc, and LXCFS (lxcfs -l).
# LXCFS keys a container by the cpu cgroup of the init of the reader's pid
# namespace, so each container holds one pid-namespace init that reads
# LXCFS's /proc/loadavg once. Prints CPU time per 5 s sample, % of one core,
# peak RSS, and ratios to LXCFS.
#   bench/pcond-loadavg.sh BUILD [N] [T] [S]
set -u
b=${1:-build}
N=${2:-${PCON_BENCH_CONTAINERS:-1000}}
T=${3:-20}
S=${4:-60}
PCON=$b/pcon PCOND=$b/pcond
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to create cgroups"; exit 0; }
[ -x "$PCOND" ] || { echo "skip: $PCOND not built"; exit 0; }
cpu_mount=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ {print $5; exit}' /proc/self/mountinfo)
[ -n "$cpu_mount" ] || { echo "skip: no v1 cpu hierarchy (LXCFS keys load by it)"; exit 0; }

dir=$(mktemp -d /tmp/pcon-bench-XXXXXX)
top="pcon-test-$$"
holders=() daemons=()
finish() {
	for p in "${daemons[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${holders[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for p in "${daemons[@]}" "${holders[@]}"; do wait "$p" 2>/dev/null; done
	mountpoint -q "$dir/lxcfs" && { fusermount -u "$dir/lxcfs" 2>/dev/null || umount -l "$dir/lxcfs"; }
	sleep 0.5
	[ -d "$cpu_mount/$top" ] && find "$cpu_mount/$top" -depth -type d -exec rmdir {} + 2>/dev/null
	rm -rf "$dir"
}
trap finish EXIT
trap 'exit 1' INT TERM

# The holder: joins the container, becomes the init of a new pid namespace
# with T-2 more threads (T in all with its outer parent), reads LXCFS's
# loadavg once so LXCFS tracks the container, then sleeps.
cat >"$dir/holder.c" <<'CEOF'
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
static void *sleeper(void *a) { (void)a; for (;;) pause(); return NULL; }
int main(int argc, char **argv)
{
	int fd = open(argv[1], O_WRONLY), n = atoi(argv[2]);
	char pid[32];
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (fd < 0 || write(fd, pid, strlen(pid)) < 0 || unshare(CLONE_NEWPID) < 0)
		return 1;
	close(fd);
	pid_t c = fork();
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 64 * 1024);
		for (int i = 0; i < n - 2; i++) {
			pthread_t t;
			pthread_create(&t, &at, sleeper, NULL);
		}
		if (argc > 3) {
			char buf[256];
			int l = open(argv[3], O_RDONLY);
			if (l >= 0) { (void)read(l, buf, sizeof(buf)); close(l); }
		}
		for (;;) pause();
	}
	waitpid(c, NULL, 0);
	return 0;
}
CEOF
cc -O2 -D_GNU_SOURCE -o "$dir/holder" "$dir/holder.c" -lpthread || exit 1

lx=""
if command -v lxcfs >/dev/null && [ -c /dev/fuse ]; then
	mkdir -p "$dir/lxcfs"
	lxcfs -f -l -p "$dir/lxcfs.pid" "$dir/lxcfs" >"$dir/lxcfs.log" 2>&1 &
	daemons+=($!)
	lx=$!
	for _ in $(seq 50); do [ -e "$dir/lxcfs/proc/loadavg" ] && break; sleep 0.1; done
	[ -e "$dir/lxcfs/proc/loadavg" ] || { echo "# LXCFS did not come up: $(tail -1 "$dir/lxcfs.log")"; lx=""; }
else
	echo "# LXCFS column skipped: lxcfs or /dev/fuse missing"
fi

echo "# setting up $N containers x $T threads in $cpu_mount/$top"
t0=$(date +%s)
mkdir "$cpu_mount/$top"
for i in $(seq -w 0 $((N - 1))); do
	mkdir "$cpu_mount/$top/c$i"
	"$dir/holder" "$cpu_mount/$top/c$i/cgroup.procs" "$T" ${lx:+"$dir/lxcfs/proc/loadavg"} &
	holders+=($!)
done
want=$((N * T))
for _ in $(seq 120); do
	have=$(cat "$cpu_mount/$top"/c*/tasks | wc -l)
	[ "$have" -ge "$want" ] && break
	sleep 1
done
echo "# $have threads in $N containers after $(($(date +%s) - t0)) s"

for be in bpf proc; do
	"$PCOND" --socket "$dir/$be.sock" -H cpu --backend "$be" 2>"$dir/$be.log" &
	daemons+=($!)
	eval "pid_$be=$!"
done
sleep 7 # start-up scans and the first sample out of the window

# CPU ns of a process so far: /proc/PID/stat counts threads that have exited
# too, but in clock ticks (10 ms; a 5 ms sample would round away), the
# threads' schedstat to the ns but only for live ones (pcond --backend bpf
# has no others). Each undercounts, so the larger is the nearer.
cpu_ns() {
	local hz t s
	hz=$(getconf CLK_TCK)
	t=$(awk -v hz="$hz" '{printf "%.0f", ($14 + $15) * 1e9 / hz}' "/proc/$1/stat")
	s=$(cat /proc/"$1"/task/*/schedstat | awk '{ns += $1} END {printf "%.0f", ns}')
	echo $((t > s ? t : s))
}
declare -A c0
for p in $pid_bpf $pid_proc $lx; do c0[$p]=$(cpu_ns "$p"); done
sleep "$S"
samples=$((S / 5))
status() {
	/usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
s.sendall(b'status\n')
buf = b''
while b'\nok' not in buf:
    d = s.recv(65536)
    if not d: break
    buf += d
print(buf.decode().split('\n')[0])
PY
}
declare -A ms pct rss tracked
for name in bpf proc lxcfs; do
	case $name in bpf) p=$pid_bpf ;; proc) p=$pid_proc ;; lxcfs) p=$lx ;; esac
	[ -n "$p" ] || continue
	dt=$(( $(cpu_ns "$p") - ${c0[$p]} ))
	ms[$name]=$(awk -v t="$dt" -v n="$samples" 'BEGIN { printf "%.2f", t / 1e6 / n }')
	pct[$name]=$(awk -v t="$dt" -v s="$S" 'BEGIN { printf "%.3f", t / 1e9 / s * 100 }')
	rss[$name]=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$p/status")
	tracked[$name]=-
	[ "$name" != lxcfs ] && tracked[$name]=$(status "$dir/$name.sock" | grep -o ' tracked=[0-9]*' | cut -d= -f2)
done
ratio() { [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }' || echo -; }
printf '\n%-21s %14s %10s %12s %14s %14s %9s\n' daemon "CPU-ms/sample" "% of core" "peak RSS MB" "CPU x LXCFS" "RSS x LXCFS" tracked
for name in bpf proc lxcfs; do
	[ -n "${ms[$name]:-}" ] || continue
	label="pcond --backend $name"
	[ $name = lxcfs ] && label="lxcfs -l"
	printf '%-21s %14s %10s %12s %14s %14s %9s\n' "$label" "${ms[$name]}" "${pct[$name]}" "${rss[$name]}" \
		"$(ratio "${ms[$name]}" "${ms[lxcfs]:-}")" "$(ratio "${rss[$name]}" "${rss[lxcfs]:-}")" "${tracked[$name]}"
done
for be in bpf proc; do
	s=$(status "$dir/$be.sock")
	echo "# pcond $be, last sample: $(grep -o 'sample_cpu_us=[0-9]*' <<<"$s") $(grep -o 'sample_wall_us=[0-9]*' <<<"$s") $(grep -o 'rounds=[0-9]*' <<<"$s")"
done
echo "# $N containers, $have threads, ${S} s window ($samples samples), $(nproc) CPUs"
