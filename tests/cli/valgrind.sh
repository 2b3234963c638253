#!/usr/bin/env bash
# valgrind finds no memory error and no definite leak in pcon's commands
# (the plain build: valgrind cannot run the sanitizer build).
. "$(dirname "$0")/lib.bash"
trap cleanup EXIT
P=${PCON_PLAIN:-build/pcon}
if ! command -v valgrind >/dev/null; then
	skip "valgrind" "valgrind is not installed"; done_testing; exit 0
fi
vg() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$P" "$@"; }
# vg_ok DESC WANT ARGS...: exits WANT, with no valgrind error and no warning
# but the one for openat2 (syscall 437), which valgrind does not know: pcon
# then falls back to its component walk, which this also checks.
vg_ok() {
	local d=$1 want=$2; shift 2
	vg "$@" >/dev/null 2>/tmp/pcon-vg.$$
	local rc=$?
	if [ $rc -eq "$want" ] && ! grep -q '^==[0-9]*==' /tmp/pcon-vg.$$ &&
		! grep 'WARNING' /tmp/pcon-vg.$$ | grep -qv 'syscall: 437'; then
		ok "valgrind clean: $d"
	else
		not_ok "valgrind: $d (exit $rc, want $want)"; sed 's/^/# /' /tmp/pcon-vg.$$
	fi
	rm -f /tmp/pcon-vg.$$
}
vg_ok "hierarchies --json" 0 hierarchies --json
vg_ok "ls -P" 0 ls -P
vg_ok "ls --json" 0 ls --json -P
vg_ok "ls --raw -o" 0 ls --raw -P -o NAME,PATH,PID,COMMAND,ERROR
vg_ok "ls: unknown column" 2 ls -o NAME,NOPE
vg_ok "events --list-columns" 0 events --list-columns
[ -r /proc/pressure/cpu ] && vg_ok "pressure -J" 0 pressure -J
vg_ok "bad hierarchy" 1 tasks nosuch:/x
vg_ok "bad name" 1 create "/$PFX/.."
vg_ok "bad option" 2 ls --bogus
if [ "$(id -u)" -eq 0 ]; then
	vg_ok "create" 0 create "/$PFX-v/a/b"
	vg_ok "tasks" 0 tasks --json "/$PFX-v/a"
	vg_ok "tasks of two, every column" 0 tasks -o PID,TID,CONTAINER,COMMAND "/$PFX-v/a" "/$PFX-v/a/b"
	vg_ok "remove refused" 1 remove "/$PFX-v"
	vg_ok "remove -r" 0 remove -r "/$PFX-v"
	"$P" create "/$PFX-w"
	vg_ok "exec" 0 exec "/$PFX-w" -- true
	vg_ok "exec of a missing command" 127 exec "/$PFX-w" -- /nonexistent
	vg_ok "get" 0 get cpu:/ cpu.weight
	vg_ok "get, the table" 0 get -o CONTAINER,KNOB,VALUE cpu:/ cpu.weight cpu.stat
	vg_ok "get -J" 0 get -J cpu:/
	vg_ok "get --all -J" 0 get --all -J cpu:/
	vg_ok "set refused" 1 set cpu:/ cpu.weight=0
	# valgrind does not model the bpf() commands that load and run an eBPF
	# iterator (the bpf backend runs under ASan instead): proc and kernel here.
	vg_ok "stats" 0 stats --backend=proc
	vg_ok "stats --tree --json" 0 stats --backend=proc --tree --json
	vg_ok "stats -r" 0 stats --backend=proc -r /
	vg_ok "stats --backend=kernel" 0 stats --backend=kernel cpu:/
	vg_ok "top -b" 0 top --backend=proc -b -c 2 -d 0.1
	# pcond: serve a few requests and /metrics, then exit on SIGTERM.
	D=${PCON_PLAIN%/pcon}/pcond
	if [ -x "$D" ]; then
		dir=$(mktemp -d /tmp/pcon-vg-XXXXXX)
		port=$((20000 + ($$ + 7) % 20000))
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$D" --backend=proc --socket "$dir/s" --metrics "127.0.0.1:$port" 2>"$dir/vg" &
		vp=$!
		for _ in $(seq 100); do [ -S "$dir/s" ] && break; sleep 0.1; done
		served=$("$P" --socket "$dir/s" loadavg -r / | grep -c ":/ ")
		"$P" --socket "$dir/s" loadavg nosuch:/ 2>/dev/null
		curl -s "http://127.0.0.1:$port/metrics" >/dev/null
		kill -TERM $vp; wait $vp; rc=$?
		if [ $rc -eq 0 ] && [ "$served" -ge 1 ] && ! grep -q "^==[0-9]*==" "$dir/vg"; then ok "valgrind clean: pcond"
		else not_ok "valgrind: pcond (exit $rc)"; sed 's/^/# /' "$dir/vg"; fi
		rm -rf "$dir"
	else
		skip "valgrind: pcond" "no pcond binary next to $P"
	fi
else
	skip "valgrind on real cgroups" "needs root"
fi
done_testing
