#!/usr/bin/env bash
# Container names the kernel allows: listed, counted and addressable; escaped
# in text, valid UTF-8 in JSON; a container under a mount is opened (root) or
# reported as unreadable. Also: create is all or nothing under signals and
# -p completes it; set refuses the files that move or kill tasks.
. "$(dirname "$0")/lib.bash"
export LC_ALL=C.UTF-8  # the tree drawn with line characters, UTF-8 shown as it is
kids=() mnts=()
finish() {
	for m in "${mnts[@]}"; do umount "$m" 2>/dev/null; done
	for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done
	# pcon removes names that find/rmdir cannot (over NAME_MAX)
	for H in "${hiers[@]}"; do $PCON remove -r "$H:/$PFX-n" "$H:/$PFX-s" "$H:/$PFX-k" 2>/dev/null; done
	cleanup
}
hiers=()
trap finish EXIT

if [ "$(id -u)" -ne 0 ]; then
	skip "names" "needs root to create cgroups"; done_testing; exit 0
fi
json=$(hierarchies_json)
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | length) > 0)][0].controllers[0] // empty' <<<"$json")
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
[ -n "$v1" ] && hiers+=("$v1")
[ -n "$v2" ] && hiers+=("$v2")
export PYTHONIOENCODING=utf-8:strict

# Names as typed to pcon (escaped) and as the kernel holds them (python literal).
long_utf8=$(printf '\xc3\xa9%.0s' {1..150})  # 300 bytes of é: over NAME_MAX
long_ascii=$(printf 'L%.0s' {1..1000})
typed=('tab\tname' 'ff\xffname' 'q"back\\slash' 'sp ace' "$long_utf8" "$long_ascii")
raw_py=("'tab\\tname'" "b'ff\\xffname'" "'q\"back\\\\slash'" "'sp ace'" "'\\u00e9' * 150" "'L' * 1000")

for H in "${hiers[@]}"; do
	mount=$(jq -r --arg h "$H" '[.[] | select(.name == $h or (.controllers | index($h)))][0].mount' <<<"$json")
	C="$H:/$PFX-n"
	check "$H: create the parent" $PCON create "$C"
	for i in "${!typed[@]}"; do
		check "$H: create ${typed[$i]:0:20}" $PCON create "$C/${typed[$i]}"
		check "$H: ... the kernel holds the raw name" python3 -c "
import os, sys
n = ${raw_py[$i]}
n = n if isinstance(n, bytes) else n.encode()
sys.exit(0 if os.path.isdir(os.path.join(b'$mount/$PFX-n', n)) else 1)"
	done
	fails_with "$H: a newline is refused by the kernel" "the kernel refuses this name" $PCON create "$C/nl\\nx"
	check "$H: ... and left nothing" [ "$(ls "$mount/$PFX-n" | grep -c '^nl')" -eq 0 ]
	# one made outside pcon: a tab and a control byte
	python3 -c "import os; os.mkdir(b'$mount/$PFX-n/out\\tside\\x01')"

	out=$($PCON ls -n -o NAME "$C"); rc=$?
	check "$H: ls exits 0" [ $rc -eq 0 ]
	check "$H: ls has one line per container" [ "$(wc -l <<<"$out")" -eq $(( ${#typed[@]} + 2 )) ]
	check "$H: ls escapes the tab" grep -qxF '├─tab\tname' <<<"$out"
	check "$H: ls escapes 0xFF" grep -qxF '├─ff\xffname' <<<"$out"
	check "$H: ls escapes the backslash" grep -qxF '├─q"back\\slash' <<<"$out"
	check "$H: ls escapes a control byte made outside pcon" grep -qF 'out\tside\x01' <<<"$out"
	check "$H: ls prints long UTF-8 as it is" grep -qxF "└─$long_utf8" <<<"$out"
	fed=0
	while IFS= read -r line; do
		name=${line#*─}
		$PCON tasks "$C/$name" >/dev/null && fed=$((fed + 1))
	done < <(tail -n +2 <<<"$out")
	check "$H: every name ls printed addresses its container" [ $fed -eq $(( ${#typed[@]} + 1 )) ]

	j=$($PCON ls --json -o +PATH "$C")
	check "$H: ls --json parses with python (strict UTF-8 and JSON)" \
		python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$j"
	check "$H: ls --json parses with jq" jq -e ".containers[0].children | length == $(( ${#typed[@]} + 1 ))" <<<"$j"
	fed=0
	while IFS= read -r p; do
		$PCON tasks "$p" >/dev/null && fed=$((fed + 1))
	done < <(jq -r '.containers[0].children[].path' <<<"$j")
	check "$H: every JSON path addresses its container" [ $fed -eq $(( ${#typed[@]} + 1 )) ]
	# (pcon tasks run inside the container lists itself)
	check "$H: tasks --json names it escaped" \
		jq -e '.tasks[0].container == "'"$H"':/'"$PFX"'-n/tab\\tname"' \
		<<<"$($PCON exec "$C/tab\\tname" $PCON tasks --json -o PID,CONTAINER "$C/tab\\tname")"

	# --- events name the container escaped, text and JSON ---
	ev=$(mktemp /tmp/pcon-names-ev-XXXXXX)
	for fmt in text json; do
		opt=(); [ $fmt = json ] && opt=(-J)
		timeout -k 5 20 $PCON events --direct "${opt[@]}" "$C/tab\tname" >"$ev" 2>/dev/null & ep=$!
		# Exec again until the watcher (slow to start under ASan on a busy
		# machine) has seen one; bounded by its own timeout.
		for _ in $(seq 30); do
			kill -0 $ep 2>/dev/null || break # the watcher's 20 s are over
			sleep 0.5
			$PCON exec "$C/tab\tname" -- true
			sleep 0.2
			grep -q "exec" "$ev" && break
		done
		kill $ep 2>/dev/null; wait $ep
		if [ $fmt = text ]; then
			check "$H: events: the exec line names it escaped" \
				grep -qF " $H:/$PFX-n/tab\tname pid=" "$ev"
			check "$H: events: no raw tab" bash -c "! grep -q \$'\t' '$ev'"
		else
			check "$H: events --json: strict JSON, the name in the reversible form" python3 -c '
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
dec, i, evs = json.JSONDecoder(), 0, []
while text[i:].strip():
    doc, i = dec.raw_decode(text, i + len(text[i:]) - len(text[i:].lstrip()))
    evs += doc["events"]
sys.exit(0 if evs and all(e["container"].endswith("/tab\\tname") for e in evs if e["container"]) else 1)' "$ev"
		fi
	done
	rm -f "$ev"

	# --- the same names through pcond (loadavg) ---
	PCOND=${PCOND:-build/pcond}
	if [ "$H" = "$v2" ] && [ -x "$PCOND" ]; then
		sd=$(mktemp -d /tmp/pcon-names-XXXXXX)
		$PCOND --socket "$sd/s" >/dev/null 2>&1 & pd=$!; kids+=($pd)
		for _ in $(seq 50); do [ -S "$sd/s" ] && break; sleep 0.1; done
		out=$($PCON --socket "$sd/s" loadavg -n -r "$C")
		check "$H: pcond: loadavg -r prints names escaped" grep -q '^'"$H"':/'"$PFX"'-n/tab\\tname ' <<<"$out"
		check "$H: pcond: one line per container" [ "$(wc -l <<<"$out")" -eq $(( ${#typed[@]} + 2 )) ]
		check "$H: pcond: a name as typed reaches pcond" $PCON --socket "$sd/s" loadavg "$C/ff\xffname"
		check "$H: pcond: loadavg --json is strict UTF-8 JSON" python3 -c \
			'import json,sys; json.load(sys.stdin)' <<<"$($PCON --socket "$sd/s" loadavg --json -r "$C")"
		kill $pd; wait $pd 2>/dev/null; kids=(); rm -rf "$sd"
	fi

	# --- a file system mounted over a container that holds tasks ---
	check "$H: create cov/in" $PCON create "$C/cov/in"
	sleep 1000 & kids+=($!); $PCON attach "$C/cov" $! >/dev/null
	sleep 1000 & kids+=($!); $PCON attach "$C/cov/in" $! >/dev/null
	mount -t tmpfs pcon-test "$mount/$PFX-n/cov" && mnts+=("$mount/$PFX-n/cov")
	check "$H: the mount hides the cgroup files" [ ! -e "$mount/$PFX-n/cov/cgroup.procs" ]
	out=$($PCON ls -n -o NAME "$C"); rc=$?
	check "$H: root: ls exits 0" [ $rc -eq 0 ]
	check "$H: root: ls lists the covered container" grep -qxF "├─cov" <<<"$out"
	check "$H: root: ... and its child" grep -qxF "│ └─in" <<<"$out"
	check "$H: root: tasks of the covered container" [ "$($PCON tasks -n "$C/cov" | wc -l)" -eq 1 ]
	t=$($PCON stats -J -r -B proc "$C" | jq .containers[0].total)
	check "$H: root: its threads count in the parent (proc walk)" [ "$t" = 2 ]
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $PCON ls -n -o NAME "$C" 2>/tmp/pcon-err.$$); rc=$?
	err=$(cat /tmp/pcon-err.$$); rm -f /tmp/pcon-err.$$
	check "$H: unprivileged: ls marks it unreadable" grep -qxF '├─cov (unreadable)' <<<"$out"
	check "$H: unprivileged: ls exits 1" [ $rc -eq 1 ]
	check "$H: unprivileged: stderr names it and why" grep -qF "$C/cov: covered by a mount" <<<"$err"
	check "$H: unprivileged: the others are still listed" grep -qxF '├─tab\tname' <<<"$out"
	check "$H: unprivileged: --json has an error member" \
		jq -e '[.containers[0].children[] | select(.error | tostring | startswith("covered by a mount"))] | length == 1' \
		<<<"$(setpriv --reuid=65534 --regid=65534 --clear-groups $PCON ls --json "$C" 2>/dev/null)"
	t=$(setpriv --reuid=65534 --regid=65534 --clear-groups $PCON stats -J -r -B proc "$C" | jq .containers[0].total)
	check "$H: unprivileged: the covered threads still count in the parent (proc walk: $t)" [ "$t" = 2 ]
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $PCON stats --tree -B proc "$C" 2>/tmp/pcon-err.$$); rc=$?
	err=$(cat /tmp/pcon-err.$$); rm -f /tmp/pcon-err.$$
	check "$H: unprivileged: stats --tree shows it unreadable, not dropped" grep -Eq "$PFX-n/cov +(- +){8}covered by a mount" <<<"$out"
	check "$H: unprivileged: ... exits 1, saying why" bash -c "[ $rc -eq 1 ] && grep -qF '$C/cov: covered by a mount' <<<'$err'"
	fails_with "$H: remove -r refuses a tree with a mount in it" "mounted on it or below" \
		$PCON remove -r "$C"
	fails_with "$H: remove refuses the covered container" "mounted on it or below" \
		$PCON remove -r "$C/cov"
	check "$H: ... and removed nothing" $PCON tasks "$C/tab\tname"
	umount "$mount/$PFX-n/cov"; mnts=()
	for k in "${kids[@]}"; do kill -9 "$k"; wait "$k" 2>/dev/null; done; kids=()
	check "$H: remove -r removes every odd name" $PCON remove -r "$C"
	check "$H: ... nothing left" [ ! -e "$mount/$PFX-n" ]
done

# --- create: all or nothing under signals; -p completes after kill -9 ---
if [ ${#hiers[@]} -eq 2 ]; then
	HH="$v1,$v2"
	levels=$(printf '/l%d' $(seq 1 20))
	args=(); for i in $(seq 1 60); do args+=("$HH:/$PFX-s/n$i$levels"); done
	for sig in INT TERM HUP; do
		env --default-signal=$sig $PCON create "${args[@]}" & pid=$!
		sleep 0.05; kill -$sig $pid; wait $pid; rc=$?
		if [ $rc -eq 0 ]; then
			skip "create under SIG$sig" "the create finished before the signal came"
			$PCON remove -r "$v1,$v2:/$PFX-s"
			continue
		fi
		check "SIG$sig: create ends by the signal" [ $rc -gt 128 ]
		left=0
		for H in $v1 $v2; do $PCON tasks "$H:/$PFX-s" >/dev/null 2>&1 && left=1; done
		check "SIG$sig 50 ms into 60 names x 21 levels leaves nothing" [ $left -eq 0 ]
	done
	env --ignore-signal=HUP $PCON create "${args[@]}" & pid=$!
	sleep 0.05; kill -HUP $pid; wait $pid; rc=$?
	check "an ignored SIGHUP (nohup) neither ends nor undoes a create" \
		bash -c "[ $rc -eq 0 ] && $PCON tasks '$v1:/$PFX-s/n60$levels' >/dev/null"
	$PCON remove -r "$HH:/$PFX-s"

	$PCON create "${args[@]}" & pid=$!
	sleep 0.05; kill -9 $pid; wait $pid 2>/dev/null
	check "after kill -9, create -p completes it" $PCON create -p "${args[@]}"
	n=0
	for H in $v1 $v2; do
		n=$((n + $($PCON ls -o NAME "$H:/$PFX-s" | grep -c '└─l20$')))
	done
	check "... every leaf exists in both hierarchies" [ $n -eq 120 ]
	check "create -p again changes nothing" $PCON create -p "${args[@]}"
	fails_with "create without -p names the first that exists" "$v1:/$PFX-s/n1/l1/" \
		$PCON create "${args[@]}"
	check "remove the tree" $PCON remove -r "$HH:/$PFX-s"
else
	skip "create under signals" "needs a v1 and a v2 hierarchy"
fi

# --- set refuses the files that move or kill tasks ---
for H in "${hiers[@]}"; do
	C="$H:/$PFX-t"
	$PCON create "$C" >/dev/null
	sleep 1000 & s=$!; kids+=($s)
	before=$(cat /proc/$s/cgroup)
	for f in tasks cgroup.procs cgroup.threads; do
		out=$($PCON set "$C" "$f=$s" 2>&1); rc=$?
		check "$H: set $f=PID fails" [ $rc -ne 0 ]
		check "$H: ... pointing to pcon attach" grep -q "^pcon: .*$f=$s: refused: .*pcon attach" <<<"$out"
	done
	check "$H: ... and moved nothing" [ "$(cat /proc/$s/cgroup)" = "$before" ]
	check "$H: ... the container is still empty" [ -z "$($PCON tasks -n "$C")" ]
	$PCON attach "$C" $s
	out=$($PCON set "$C" cgroup.kill=1 2>&1); rc=$?
	check "$H: set cgroup.kill=1 is refused" bash -c "[ $rc -ne 0 ] && grep -q 'refused: writing it kills' <<<'$out'"
	check "$H: ... the task lives" kill -0 $s
	kill -9 $s; wait $s 2>/dev/null; kids=()
	check "$H: remove" $PCON remove "$C"
done
done_testing
