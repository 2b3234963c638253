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
# vg_ok DESC ARGS...: runs cleanly (exit status other than 99 is the command's own)
vg_ok() {
	local d=$1; shift
	vg "$@" >/dev/null 2>/tmp/pcon-vg.$$
	if [ $? -ne 99 ]; then ok "valgrind clean: $d"; else not_ok "valgrind: $d"; sed 's/^/# /' /tmp/pcon-vg.$$; fi
	rm -f /tmp/pcon-vg.$$
}
vg_ok "hierarchies --json" hierarchies --json
vg_ok "ls -t" ls -t
vg_ok "ls --json" ls --json -t
vg_ok "bad hierarchy" tasks nosuch:/x
vg_ok "bad name" create "/$PFX/.."
vg_ok "bad option" ls --bogus
if [ "$(id -u)" -eq 0 ]; then
	vg_ok "create" create "/$PFX-v/a/b"
	vg_ok "tasks" tasks --json "/$PFX-v/a"
	vg_ok "remove refused" remove "/$PFX-v"
	vg_ok "remove -r" remove -r "/$PFX-v"
	"$P" create "/$PFX-w"
	vg_ok "exec" exec "/$PFX-w" -- true
	vg_ok "exec of a missing command" exec "/$PFX-w" -- /nonexistent
	vg_ok "get" get cpu:/ cpu.weight
	vg_ok "stats" stats
	vg_ok "stats --tree --json" stats --tree --json
else
	skip "valgrind on real cgroups" "needs root"
fi
done_testing
