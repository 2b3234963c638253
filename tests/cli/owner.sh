#!/usr/bin/env bash
# pcon create --owner/--task-owner with a real unprivileged user (nobody):
# on v2 it makes containers below and moves its own process among them,
# and cannot change the limits of the container it was given.
. "$(dirname "$0")/lib.bash"
kids=()
finish() { for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done; cleanup; }
trap finish EXIT
fails_with "an unknown owner" "no such user or group 'no-such-user-pcon'" $PCON create --owner no-such-user-pcon /x
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	skip "create --owner" "needs root and a user nobody"; done_testing; exit 0
fi
json=$(hierarchies_json)
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | index("cpu")))][0].name // empty' <<<"$json")
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if [ -n "$v2" ]; then
	C="$v2:/$PFX-d"
	check "v2: create --owner nobody" $PCON create --owner nobody "$C"
	dir=$(jq -r --arg h "$v2" '.[] | select(.name == $h) | .mount' <<<"$json")/$PFX-d
	check "v2: the directory and cgroup.procs are nobody's" \
		[ "$(stat -c %U "$dir" "$dir/cgroup.procs" "$dir/cgroup.subtree_control" | sort -u)" = nobody ]
	check "v2: its limits stay root's" [ "$(stat -c %U "$dir/cgroup.max.descendants")" = root ]
	# (not through the function: $! must be the process itself, setpriv execs it)
	setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 1000 & kids+=($!); s=$!
	$PCON attach "$C" $s >/dev/null
	check "v2: nobody makes a container below" as_nobody $PCON_PLAIN create "$C/mine"
	check "v2: nobody moves its own process there" as_nobody $PCON_PLAIN attach "$C/mine" $s
	check "v2: ... and it is there" bash -c "$PCON tasks '$C/mine' | grep -qx $s"
	fails_with "v2: nobody cannot raise the limit above it" "cgroup.max.descendants" \
		as_nobody $PCON_PLAIN set "$C" cgroup.max.descendants=max
	fails_with "v2: nobody cannot move its process out" "" as_nobody $PCON_PLAIN attach "$v2:/" $s
	for k in "${kids[@]}"; do kill -9 "$k"; wait "$k" 2>/dev/null; done; kids=()
fi
if [ -n "$v1" ]; then
	C="$v1:/$PFX-o"
	check "v1: create --owner --task-owner" $PCON create --owner nobody:root --task-owner 0:nogroup "$C"
	dir=$(jq -r --arg h "$v1" '.[] | select(.name == $h) | .mount' <<<"$json")/$PFX-o
	check "v1: files are nobody:root" [ "$(stat -c %U:%G "$dir" "$dir/cpu.shares" | sort -u)" = nobody:root ]
	check "v1: task lists root:nogroup" [ "$(stat -c %U:%G "$dir/tasks" "$dir/cgroup.procs" | sort -u)" = root:nogroup ]
fi
done_testing
