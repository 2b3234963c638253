#!/usr/bin/env bash
# get, set, exec, tasks, attach, create, apply and pcond as a user meets
# them: one error line naming the input, the order asked, no '--' needed,
# one option convention. Every container starts with pcon-test-<pid>.
. "$(dirname "$0")/lib.bash"
PCOND=${PCOND:-build/pcond}
kids=()
finish() { for k in "${kids[@]}"; do kill "$k" 2>/dev/null; wait "$k" 2>/dev/null; done; cleanup; rm -f "/tmp/$PFX-x.sock" "/tmp/$PFX-x.sock.lock"; }
trap finish EXIT

# --- usage errors: one line naming the input, exit 2 -------------------------
usage_err() { # DESC PATTERN CMD...: exit 2 and one line with PATTERN
	local d=$1 pat=$2; shift 2
	local err rc
	err=$("$@" 2>&1 >/dev/null); rc=$?
	if [ $rc -eq 2 ] && [[ $err == *$pat* ]] && [ "$(wc -l <<<"$err")" -eq 1 ]; then ok "$d"
	else not_ok "$d"; echo "#   rc=$rc stderr=[$err] want=[$pat]"; fi
}
usage_err "pcon --socket without its value" "pcon: option '--socket' needs a value" $PCON --socket
usage_err "pcon: an unknown global option is named" "pcon: invalid option '--nope'" $PCON --nope ls
usage_err "set --copy-from without its value" "option '--copy-from' needs a value" $PCON set --copy-from
usage_err "get: an unknown option is named" "invalid option '--nope'" $PCON get --nope /
usage_err "classify --rules without its value" "option '--rules' needs a value" $PCON classify --rules
usage_err "create --owner without its value" "option '--owner' needs a value" $PCON create --owner
usage_err "attach -t is no more (-T is threads)" "invalid option '-t'" $PCON attach -t /x 1
usage_err "apply -n is no more (-n is --noheadings)" "invalid option '-n'" $PCON apply -n /dev/null
usage_err "apply with two files names the second" "unexpected argument 'two'" $PCON apply one two
usage_err "tasks -j is no more (-J is --json)" "invalid option '-j'" $PCON tasks -j /
usage_err "exec without a command names the container" "no command given after '/x'" $PCON exec /x
usage_err "pcond --metrics 99999 names the value" "'99999': the port must be a number from 1 to 65535" \
	timeout -k 5 10 $PCOND --metrics 99999 --socket "/tmp/$PFX-x.sock"
usage_err "pcond --metrics 0 (any port) is refused" "'127.0.0.1:0': the port must be" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" --metrics 127.0.0.1:0
usage_err "pcond --socket '' is refused" "--socket: '': an empty path" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" --socket ''
usage_err "pcond -b is no more (-B is --backend)" "invalid option '-b'" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" -b proc
usage_err "pcond -n is no more (--max-containers)" "invalid option '-n'" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" -n 5
usage_err "pcond -r is no more (--rules)" "invalid option '-r'" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" -r /dev/null
usage_err "pcond -B names a bad backend" "--backend: 'nope' is not one of" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" -B nope
usage_err "pcond --max-clients without its value" "option '--max-clients' needs a value" timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" --max-clients
usage_err "pcond --max-containers names its limit" "'0' is not a number from 1 to 100000000" \
	timeout -k 5 10 $PCOND --socket "/tmp/$PFX-x.sock" --max-containers 0
# --- the one fixed limit of a name is named: 16 hierarchies ------------------
root=$(mktemp -d)
mkdir -p "$root/proc/self"
names=""
for i in $(seq 1 17); do
	mkdir -p "$root/sys/fs/cgroup/h$i"
	echo "$((30 + i)) 1 0:$((40 + i)) / /sys/fs/cgroup/h$i rw - cgroup cgroup rw,name=h$i" >>"$root/proc/self/mountinfo"
	names+="${names:+,}h$i"
done
fails_with "a name of 17 hierarchies: the limit of 16 is named" "names more than 16 hierarchies" \
	env PCON_SYSROOT="$root" $PCON get "$names:/"
rm -rf "$root"
check "get --help says how a value of several lines continues" bash -c "$PCON get --help | grep -q 'start with'"

json=$(hierarchies_json)
out=$(timeout -k 5 10 $PCOND -H nosuch-pcon --socket "/tmp/$PFX-none.sock" 2>&1); rc=$?
first=$(jq -r '.[0].name' <<<"$json")
check "pcond -H nosuch: exit 1, one line naming it and the known ones" \
	bash -c '[ $1 -eq 1 ] && [ "$(wc -l <<<"$2")" -eq 1 ] && [[ $2 == *"named '"'"'nosuch-pcon'"'"'"*"known: $3"* ]]' _ $rc "$out" "$first"

if [ "$(id -u)" -ne 0 ]; then
	skip "get, set, exec, tasks on cgroups" "needs root to create cgroups"; done_testing; exit 0
fi
hier_with() { jq -r --arg c "$1" '[.[] | select(.controllers | index($c))][0].name // empty' <<<"$json"; }
mount_of() { jq -r --arg h "$1" '.[] | select(.name == $h) | .mount' <<<"$json"; }
cpu=$(hier_with cpu) mem=$(hier_with memory) pids=$(hier_with pids) cpuset=$(hier_with cpuset)

# --- set on a root: the knob is not there, the value is not to blame ---------
if [ -n "$cpu" ]; then
	fails_with "set $cpu:/ cpu.weight: the root has no such knob" \
		"$cpu:/: cpu.weight=5: the root container has no such knob" $PCON set "$cpu:/" cpu.weight=5
else
	skip "set on a root" "no hierarchy with the cpu controller"
fi

# --- set cpuset.cpus= really writes the empty list ---------------------------
if [ -n "$cpuset" ]; then
	C="$cpuset:/$PFX-cs"
	$PCON create "$C" >/dev/null
	f="$(mount_of "$cpuset")/$PFX-cs/cpuset.cpus"
	[ -e "$f" ] || f="$(mount_of "$cpuset")/$PFX-cs/cpus"
	check "cpuset.cpus=0 first" $PCON set "$C" cpuset.cpus=0
	check "set cpuset.cpus= exits 0" $PCON set "$C" cpuset.cpus=
	check "... and the kernel's file reads back empty" [ -z "$(tr -d '[:space:]' <"$f")" ]
	$PCON remove "$C"
else
	skip "set cpuset.cpus=" "no hierarchy with the cpuset controller"
fi

# --- a refused set: one line, the container as the user spelled it ----------
if [ -n "$pids" ]; then
	C="numtasks:/$PFX-n"
	$PCON create "$C" >/dev/null
	fails_with "a refused value: one line, spelled numtasks:" \
		"numtasks:/$PFX-n: numtasks.max=-5: value out of range" $PCON set "$C" numtasks.max=-5
	err=$($PCON set "$C" numtasks.max=-5 numtasks.max=x 2>&1 >/dev/null)
	check "two refused values: two lines, each naming numtasks:/ and saying nothing was written" \
		[ "$(grep -c "^pcon: numtasks:/$PFX-n: numtasks.max=.*(nothing written)\$" <<<"$err"):$(wc -l <<<"$err")" = 2:2 ]
	fails_with "the kernel refuses the second: one line saying the first was written" \
		"numtasks:/$PFX-n: pids.max=abc: the kernel refused it: invalid value (the 1 setting before it was written)" \
		$PCON set "$C" numtasks.max=7 pids.max=abc
	check "... the first one was" [ "$($PCON get -v "$C" numtasks.max)" = 7 ]
	$PCON remove "$C"
else
	skip "refused set" "no hierarchy with the pids controller"
fi

# --- get: the order named, values of several lines told apart ---------------
if [ -n "$cpu" ] && [ -n "$mem" ]; then
	$PCON create "cpu,memory:/$PFX-o" >/dev/null
	check "get cpu,memory:/x prints cpu's knobs first" \
		bash -c "$PCON get 'cpu,memory:/$PFX-o' | head -1 | grep -q '^cpu\\.'"
	check "get memory,cpu:/x prints memory's knobs first" \
		bash -c "$PCON get 'memory,cpu:/$PFX-o' | head -1 | grep -q '^memory\\.'"
	check "get -J cpu,memory:/x: cpu's first too" \
		bash -c "$PCON get -J 'cpu,memory:/$PFX-o' | jq -e '.knobs[0].knob | startswith(\"cpu.\")'"
	check "get -J: a value of several lines is one JSON string" \
		bash -c "$PCON get -J 'cpu:/$PFX-o' cpu.stat | jq -e '.knobs[0].value | contains(\"\\n\")'"
	out=$($PCON get --raw -n -o KNOB,VALUE "cpu:/$PFX-o" cpu.stat cpu.weight)
	check "get --raw: one line per knob, newlines escaped" \
		[ "$(wc -l <<<"$out"):$(tail -1 <<<"$out")" = "2:cpu.weight $($PCON get -v "cpu:/$PFX-o" cpu.weight)" ]
	out=$($PCON get -o CONTAINER,KNOB,VALUE "cpu,memory:/$PFX-o" memory.max nosuch 2>/dev/null); rc=$?
	check "get -o CONTAINER: where each value came from; a knob not read is '-', exit 1" \
		[ "$rc:$(awk 'NR > 1 {print $1, $2, $3}' <<<"$out" | tr '\n' ' ')" = "1:$mem:/$PFX-o memory.max max cpu:/$PFX-o nosuch - " ]
	usage_err "get -o with an unknown column names it" "unknown column 'NOPE'" $PCON get -o NOPE "cpu:/$PFX-o"
	out=$($PCON get -v "cpu:/$PFX-o" cpu.stat cpu.weight)
	lines=$(wc -l <<<"$out")
	check "get -v of cpu.stat ($lines lines) and cpu.weight: two lines without a leading tab" \
		[ "$(grep -vc $'^\t' <<<"$out"):$((lines > 2))" = 2:1 ]
	check "... the last value is cpu.weight's" [ "$(tail -1 <<<"$out")" = "$($PCON get -v "cpu:/$PFX-o" cpu.weight)" ]
	$PCON remove "cpu,memory:/$PFX-o"
else
	skip "get order" "needs the cpu and memory controllers"
fi

# --- exec like cgexec; tasks of several containers; attach -T ---------------
H=${cpu:-$(jq -r '.[0].name' <<<"$json")}
C="$H:/$PFX-e"
$PCON create "$C" "$C/b" >/dev/null
$PCON exec "$C" sh -c 'exit 7'
check "exec without '--' runs the command (status 7)" [ $? -eq 7 ]
out=$($PCON exec "$C" echo -h --help)
check "exec: options after the container are the command's" [ "$out" = "-h --help" ]
check "exec: '--' after the container still works" [ "$($PCON exec "$C" -- echo hi)" = hi ]
sleep 60 & a=$!; kids+=($a)
sleep 60 & b=$!; kids+=($b)
$PCON attach "$C" $a && $PCON attach "$C/b" $b
out=$($PCON tasks --raw "$C" "$C/b")
check "tasks of two containers: a row each naming its container" \
	[ "$out" = "$(printf 'PID CONTAINER\n%s %s\n%s %s' $a "$H:/$PFX-e" $b "$H:/$PFX-e/b")" ]
check "tasks -J of two containers" \
	jq -e ".tasks | length == 2 and .[1].pid == $b and .[1].container == \"$H:/$PFX-e/b\"" <<<"$($PCON tasks -J "$C" "$C/b")"
check "tasks -n of one container: the ids alone" [ "$($PCON tasks -n "$C/b")" = "$b" ]
check "tasks -o COMMAND" [ "$($PCON tasks -n -o PID,COMMAND --raw "$C/b")" = "$b sleep" ]
usage_err "tasks -o with an unknown column names it" "unknown column 'NOPE'" $PCON tasks -o PID,NOPE "$C"
v1=$(jq -r --arg h "$H" '.[] | select(.name == $h) | .version' <<<"$json")
if [ "$v1" = 1 ]; then
	check "attach -T moves one thread" $PCON attach -T "$C" $b
	check "tasks -T lists it, with its process" \
		[ "$($PCON tasks -T -n --raw -o TID,PID "$C" | grep "^$b ")" = "$b $b" ]
fi
kill $a $b; wait $a $b 2>/dev/null
$PCON remove -r "$C"

# --- create: no fixed limit on the number of names --------------------------
names=()
for i in $(seq 1 150); do names+=("$H:/$PFX-m/$i"); done
check "create 150 containers at once" $PCON create "${names[@]}"
check "... all there" [ "$(find "$(mount_of "$H")/$PFX-m" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 150 ]
$PCON remove -r "$H:/$PFX-m"

# --- pcond logs the backend each hierarchy uses --------------------------------
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
if [ -n "$cpu" ] && [ "$(jq -r --arg h "$cpu" '.[] | select(.name == $h) | .version' <<<"$json")" = 1 ] &&
	[ -n "$v2" ] && [ -r /proc/self/cgroup ]; then
	dir=$(mktemp -d "/tmp/$PFX-pcond-XXXXXX")
	# started_line LOG PCOND-ARGS...: the "watching" line pcond logs
	started_line() {
		local log=$1 p; shift
		$PCOND "$@" 2>"$log" & p=$!; kids+=($p)
		for _ in $(seq 100); do grep -q watching "$log" && break; sleep 0.1; done
		kill $p; wait $p 2>/dev/null
		grep watching "$log"
	}
	alone=$(started_line "$dir/log1" -B kernel -H "$cpu" --socket "$dir/s1")
	if grep -q "backend kernel" <<<"$alone"; then
		line=$(started_line "$dir/log2" -B kernel -H "$cpu" -H "$v2" --socket "$dir/s2")
		check "pcond -B kernel -H $cpu -H $v2: says kernel for $cpu, proc for $v2" \
			grep -q "backend $cpu: kernel, $v2: proc" <<<"$line"
	else
		skip "pcond backend per hierarchy" "the kernel backend is not available here: $alone"
	fi
	rm -rf "$dir"
else
	skip "pcond backend per hierarchy" "needs a v1 cpu hierarchy and a v2 one"
fi
done_testing
