#!/usr/bin/env bash
# CLI tests on real cgroups: hierarchies, create/remove/attach/exec/ls/tasks,
# fork inheritance, bad input. Every container starts with pcon-test-<pid>.
. "$(dirname "$0")/lib.bash"
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then
	skip "manage" "needs root to create cgroups"; done_testing; exit 0
fi

fails_with "create '': names no container" "'' names no container" $PCON create ''
fails_with "create 'cpu:': names no container" "'cpu:' names no container" $PCON create 'cpu:'
if awk '$9 == "cgroup" && $NF ~ /name=/' /proc/self/mountinfo | grep -q .; then
	id=$(hierarchies_json | jq '[.[] | select(.named != null)][0].id')
	check "a named hierarchy has the kernel's id ($id), not 0" [ "$id" -gt 0 ]
fi

# --- hierarchies -----------------------------------------------------------
json=$(hierarchies_json)
check "hierarchies --json parses" jq -e 'type == "array" and length > 0' <<<"$json"
n_mounts=$(cgroup_mounts | awk '{print $4}' | sort -u | wc -l)
check "one entry per mounted cgroup superblock" [ "$(jq length <<<"$json")" -eq "$n_mounts" ]
check "exactly one default hierarchy" [ "$(jq '[.[] | select(.default)] | length' <<<"$json")" -eq 1 ]
check "every mount point is a mounted cgroup fs" \
	bash -c "jq -r '.[].mount' <<<'$json' | while read -r m; do grep -q \" \$m \" /proc/self/mountinfo || exit 1; done"

# Pick a v1 hierarchy with a controller, and the v2 one, if mounted.
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | length) > 0)][0].controllers[0] // empty' <<<"$json")
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
hiers=()
[ -n "$v1" ] && hiers+=("$v1")
[ -n "$v2" ] && hiers+=("$v2")

for H in "${hiers[@]}"; do
	mount=$(jq -r --arg h "$H" '[.[] | select(.name == $h or (.controllers | index($h)))][0].mount' <<<"$json")
	# what pcon and /proc call it: co-mounted controllers name one hierarchy (cpu,cpuacct)
	hname=$(jq -r --arg h "$H" '[.[] | select(.name == $h or (.controllers | index($h)))][0].name' <<<"$json")
	C="$H:/$PFX-a"

	# --- create / ls / remove ---
	check "$H: create nested" $PCON create "$C/x/y"
	check "$H: directories exist" [ -d "$mount/$PFX-a/x/y" ]
	fails_with "$H: create existing is an error naming it" "$C/x: container exists" $PCON create "$C/x"
	check "$H: create -p existing is not an error" $PCON create -p "$C/x"
	out=$(LC_ALL=C.UTF-8 $PCON ls -n -o NAME "$C")
	check "$H: ls shows the tree" [ "$out" = "$(printf '%s\n└─x\n  └─y' "$hname:/$PFX-a")" ]
	check "$H: ls --json nests children" \
		jq -e '.containers[0].children[0].path == "'"$hname"':/'"$PFX"'-a/x" and (.containers[0].children[0].children[0] | has("children") | not)' \
		<<<"$($PCON ls --json -o NAME,PATH "$C")"
	fails_with "$H: remove with children needs -r" "child containers" $PCON remove "$C"
	check "$H: refused remove changed nothing" [ -d "$mount/$PFX-a/x/y" ]

	# --- exec: the command and its children are inside; status passes through ---
	$PCON exec "$C/x" -- sh -c 'sleep 0.1 & cat /proc/$!/cgroup; wait; exit 7' >/tmp/pcon-cg.$$
	rc=$?
	check "$H: exec passes the exit status" [ $rc -eq 7 ]
	if [ "$H" = "$v2" ]; then want="0::/$PFX-a/x"; else want=":$hname:/$PFX-a/x"; fi
	check "$H: a forked child runs in the container" grep -q -- "$want\$" /tmp/pcon-cg.$$
	rm -f /tmp/pcon-cg.$$
	fails_with "$H: exec of a missing command" "command not found" $PCON exec "$C" -- /nonexistent/cmd
	$PCON exec "$C" -- /nonexistent/cmd 2>/dev/null
	check "$H: exec of a missing command exits 127" [ $? -eq 127 ]

	# --- attach / tasks ---
	sleep 60 & pid=$!
	check "$H: attach a process" $PCON attach "$C/x/y" $pid
	check "$H: tasks lists it under a header" [ "$($PCON tasks --raw "$C/x/y")" = "$(printf 'PID\n%s' $pid)" ]
	check "$H: tasks -n: the id alone" [ "$($PCON tasks -n "$C/x/y")" = "$pid" ]
	check "$H: tasks --json" jq -e ".tasks == [{\"pid\": $pid, \"tid\": null}] or .tasks == [{\"pid\": $pid}]" <<<"$($PCON tasks --json "$C/x/y")"
	check "$H: ls -P shows pid and command" grep -Eq "^└─sleep 60 +$pid\$" <<<"$(LC_ALL=C.UTF-8 $PCON ls -P -n -o NAME,PID "$C/x/y")"
	check "$H: ls -P --json: the process is a child row" \
		jq -e ".containers[0].children == [{\"name\": \"sleep 60\", \"pid\": $pid, \"command\": \"sleep 60\"}]" \
		<<<"$($PCON ls -P --json -o NAME,PID,COMMAND "$C/x/y")"
	fails_with "$H: remove -r refuses a tree holding tasks" "holds tasks" $PCON remove -r "$C"
	check "$H: refused remove -r removed nothing" [ -d "$mount/$PFX-a/x/y" ]
	fails_with "$H: attach a missing pid" "no such process" $PCON attach "$C" 4194304
	fails_with "$H: attach a bad pid" "not a process id" $PCON attach "$C" 12abc
	fails_with "$H: attach with one bad pid moves nothing" "not a process id" $PCON attach "$C" $pid -5
	check "$H: ... the good pid stayed" [ "$($PCON tasks -n "$C/x/y")" = "$pid" ]
	kill $pid; wait $pid 2>/dev/null
	check "$H: remove -r after the task left" $PCON remove -r "$C"
	check "$H: tree is gone" [ ! -e "$mount/$PFX-a" ]

	# --- bad names ---
	fails_with "$H: missing container" "no such container" $PCON tasks "$H:/$PFX-none"
	fails_with "$H: dot-dot" "invalid container name" $PCON create "$H:/$PFX-b/../../etc"
	fails_with "$H: bad escape" "invalid container name" $PCON create "$H:/$PFX-b\\q"
	fails_with "$H: over-long component" "name too long" $PCON create "$H:/$PFX-$(printf 'a%.0s' {1..4100})"
	check "$H: nothing was created by bad names" bash -c "! ls -d '$mount'/$PFX-b* 2>/dev/null"
	fails_with "$H: the root cannot be removed" "cannot be removed" $PCON remove "$H:/"
done

# --- several hierarchies at once: all or nothing ---
if [ ${#hiers[@]} -eq 2 ]; then
	check "create in two hierarchies at once" $PCON create "$v1,$v2:/$PFX-m"
	check "... both exist" bash -c "$PCON tasks $v1:/$PFX-m && $PCON tasks $v2:/$PFX-m"
	fails_with "a bad name later on the line" "invalid container name" $PCON create "$v1:/$PFX-n" "$v2:/$PFX-n/.."
	fails_with "... left nothing behind" "no such container" $PCON tasks "$v1:/$PFX-n"
	check "remove in two hierarchies at once" $PCON remove "$v1,$v2:/$PFX-m"
else
	skip "multi-hierarchy create" "needs a v1 and a v2 hierarchy"
fi

# --- a v1 cpuset made outside pcon has no CPUs: attach says so ---
cs=$(jq -r '[.[] | select(.version == 1 and (.controllers | index("cpuset")))][0].mount // empty' <<<"$json")
if [ -n "$cs" ]; then
	mkdir "$cs/$PFX-cs"
	fails_with "attach to an empty v1 cpuset" "without CPUs or memory nodes" $PCON attach "cpuset:/$PFX-cs" $$
	fails_with "exec in an empty v1 cpuset" "without CPUs or memory nodes" $PCON exec "cpuset:/$PFX-cs" -- true
	rmdir "$cs/$PFX-cs"
else
	skip "empty v1 cpuset" "no v1 cpuset hierarchy"
fi

# --- other bad input ---
fails_with "unknown hierarchy" "no hierarchy named 'nosuch'" $PCON create "nosuch:/$PFX-x"
fails_with "unknown command" "unknown command" $PCON frobnicate
fails_with "exec without -- names the missing container" "/$PFX-x: no such container" $PCON exec "/$PFX-x" true
check "--help exits 0" $PCON --help
for cmd in hierarchies ls create remove attach exec tasks get set stats; do
	check "$cmd --help exits 0 and says Usage" bash -c "$PCON $cmd --help | grep -q '^Usage: pcon $cmd'"
done

# --- fake layouts through PCON_SYSROOT ---
root=$(mktemp -d)
mkdir -p "$root/proc/self" "$root/sys/fs/cgroup"
echo "22 1 0:21 / /proc rw - proc proc rw" >"$root/proc/self/mountinfo"
fails_with "no cgroup file system" "no cgroup file system is mounted" env PCON_SYSROOT="$root" $PCON ls
echo "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw" >>"$root/proc/self/mountinfo"
echo "cpu memory pids" >"$root/sys/fs/cgroup/cgroup.controllers"
out=$(PCON_SYSROOT="$root" hierarchies_json)
check "pure v2 host: one unified hierarchy" jq -e 'length == 1 and .[0].version == 2 and .[0].default and .[0].controllers == ["cpu","memory","pids"]' <<<"$out"
rm -rf "$root"

done_testing
