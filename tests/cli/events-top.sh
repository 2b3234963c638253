#!/usr/bin/env bash
# pcon events (as it happens, --json, --on-empty) and pcon top (batch, tmux).
. "$(dirname "$0")/lib.bash"
PCON_PLAIN=${PCON_PLAIN:-$PCON}
SOCK="pcon-test-$$-tmux"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; cleanup' EXIT
if [ "$(id -u)" != 0 ]; then
	skip "events and top" "needs root to create containers"; done_testing; exit 0
fi
CG=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -z "$CG" ]; then
	skip "events and top" "no cgroup v2 hierarchy mounted"; done_testing; exit 0
fi
out=$(mktemp); trap 'rm -f "$out"; tmux -L "$SOCK" kill-server 2>/dev/null; cleanup' EXIT
$PCON create "unified:/$PFX/a" "unified:/$PFX/b" >/dev/null

# events: a shell in /a forks and execs sleep, exits 3; nothing for /b
# (sleep lives on a moment, so its container is read while it runs)
$PCON events --json "unified:/$PFX/a" >"$out" 2>"$out.err" & ev=$!
$PCON events "unified:/$PFX/b" >"$out.b" 2>/dev/null & evb=$!
sleep "$([ -n "$PCONTEST_SLOW" ] && echo 3 || echo 1)"  # an emulated guest takes longer to listen
sh -c "echo \$\$ > $CG/$PFX/a/cgroup.procs; sleep 0.2; exit 3"
sleep 1
kill $ev $evb; wait $ev $evb 2>/dev/null
# task events are in order; populated/empty come from another source (inotify).
# The shell's own fork and exec may be seen in /a too, when pcon reads where
# it lives after it moved itself: only its exit is counted.
shpid=$(jq -r '.events[] | select(.type == "exit" and .code == 3) | .pid' "$out" | tail -1)
types=$(jq -r --arg sh "$shpid" '.events[] | select(.type|test("fork|exec|exit")) |
	select((.pid | tostring) != $sh or .type == "exit") | .type' "$out" | tr '\n' ' ')
empt=$(jq -r '.events[] | select(.type|test("populated|empty")) | .type' "$out" | tr '\n' ' ')
check "events -J: a stream of JSON documents, one event each" jq -s -e 'length > 0 and all(.events | length == 1)' "$out"
check "events -J: strict UTF-8" iconv -f UTF-8 -t UTF-8 "$out"
if [ "$types" = "fork exec exit exit " ] && [ "$empt" = "populated empty " ]; then ok "events: fork exec exit exit, populated then empty"
else not_ok "events order"; echo "#   got [$types]"; cat "$out" "$out.err" | sed 's/^/#   /'; fi
rm -f "$out.err"
check "events: the shell's exit status" [ "$(jq -r '.events[] | select(.type=="exit") | .code' "$out" | tail -1)" = 3 ]
# A loss report is about the whole machine (the kernel dropped an event it
# cannot attribute), so every subscription gets it; nothing else may come.
if ! grep -qv '^[0-9:.]* *lost ' "$out.b"; then ok "events: nothing for the sibling"; else not_ok "events: nothing for the sibling"; sed 's/^/#   /' "$out.b"; fi
rm -f "$out.b"

# --on-empty runs once the container empties, exits with the command's status
sleep 30 & sl=$!
echo $sl > "$CG/$PFX/a/cgroup.procs"
( $PCON events --on-empty 'echo "emptied $1"; exit 5' "unified:/$PFX/a" >"$out"; echo "rc=$?" >>"$out" ) & oe=$!
sleep 1
check "--on-empty: waits while populated" [ ! -s "$out" ]
kill $sl; wait $sl 2>/dev/null
for _ in $(seq 50); do grep -q rc= "$out" && break; sleep 0.1; done
wait $oe 2>/dev/null
check "--on-empty: ran the command with the name" grep -qx "emptied unified:/$PFX/a" "$out"
check "--on-empty: its exit status" grep -qx "rc=5" "$out"
# --on-empty: a container removed while empty never empties: pcon exits 0
$PCON create "unified:/$PFX/c" >/dev/null
( timeout -s KILL 10 $PCON events --on-empty 'echo ran' "unified:/$PFX/c" >"$out"; echo "rc=$?" >>"$out" ) & oe=$!
sleep 1
rmdir "$CG/$PFX/c"
for _ in $(seq 50); do grep -q rc= "$out" && break; sleep 0.1; done
check "--on-empty: exits 0 once the container is removed" grep -qx "rc=0" "$out"
check "--on-empty: the command did not run" bash -c "! grep -q ran '$out'"
wait $oe 2>/dev/null
fails_with "--on-empty needs a container" "needs a command and a container" $PCON events --on-empty true
fails_with "events: bad option" "invalid option" $PCON events --bogus
if [ -x "$PCON_PLAIN" ]; then
	fails_with "events as nobody without a container" "no such container" \
		setpriv --reuid=65534 --regid=65534 --clear-groups $PCON_PLAIN events "unified:/$PFX/none"
fi

# top -b: plain text, one block per iteration, rows for our containers
$PCON top -b -n 2 -d 0.2 "unified:/$PFX" >"$out"
check "top -b: two headers" [ "$(grep -c '^Container' "$out")" = 2 ]
check "top -b: a row for /a" grep -q "^unified:/$PFX/a " "$out"
check "top -b: no terminal control" bash -c "! grep -q $'\e' '$out'"
check "top -b: load is '-' without pcond" bash -c "awk '/\\/a /{print \$8}' '$out' | grep -qx -- -"
timeout 2 $PCON top -b -n 1 -d 4295 "unified:/$PFX" >"$out"; rc=$?
check "top -b: a delay past 4294 s is waited (rc=$rc)" [ $rc = 124 ] && [ ! -s "$out" ]
fails_with "top: bad order" "invalid order" $PCON top -b -o bogus
fails_with "top: no terminal" "needs a terminal" $PCON top -n 1 </dev/null

# screen_until [-n] TARGET ERE: the pane of TARGET once it shows ERE
# (-n: once it no longer does), polling for at most 20 s: no fixed sleep, so
# a slow machine (a guest under TCG) waits longer instead of failing.
screen_until() {
	local neg=; [ "$1" = -n ] && { neg=1; shift; }
	local t=$1 pat=$2 scr end=$((SECONDS + 20))
	while :; do
		scr=$(tmux -L "$SOCK" capture-pane -t "$t" -p 2>/dev/null)
		if grep -Eq -- "$pat" <<<"$scr"; then [ -z "$neg" ] && break; else [ -n "$neg" ] && break; fi
		[ $SECONDS -ge $end ] && break
		sleep 0.2
	done
	printf '%s\n' "$scr"
}

# top in tmux: rows appear, sort key changes with a key, q quits
if command -v tmux >/dev/null; then
	# a session that outlives the others keeps the server up between them (a
	# slow machine could otherwise start the next one as the server exits)
	tmux -L "$SOCK" new-session -d -s hold "sleep 600"
	tmux -L "$SOCK" new-session -d -s main -x 150 -y 30 "$PCON_PLAIN top -d 0.3 unified:/$PFX; sleep 2"
	screen=$(screen_until main "unified:/$PFX/b")
	if grep -q "sorted by cpu" <<<"$screen" && grep -q "unified:/$PFX/b" <<<"$screen"; then ok "top in tmux: rows and header"
	else not_ok "top in tmux"; sed 's/^/#   /' <<<"$screen"; fi
	tmux -L "$SOCK" send-keys -t main p
	screen=$(screen_until main "sorted by path")
	check "top in tmux: 'p' sorts by path" grep -q "sorted by path" <<<"$screen"
	rows=$(grep -o "unified:/$PFX[^ ]*" <<<"$screen" | tail -n +2 | tr '\n' ' ')
	check "top in tmux: path order" [ "$rows" = "unified:/$PFX unified:/$PFX/a unified:/$PFX/b " ]
	tmux -L "$SOCK" send-keys -t main q
	screen=$(screen_until -n main "pcon top")
	check "top in tmux: q quits" bash -c "! grep -q 'pcon top' <<<'$screen'"
	# reversed, unknown values still sort last (b has no cpuacct: CPU '-').
	# What top calls the memory hierarchy (memory, or unified on pure v2).
	M=$(hierarchies_json | jq -r '[.[] | select(.controllers | index("memory"))] | (map(select(.version == 1)) + .)[0].name')
	$PCON create "cpuacct,memory:/$PFX/r/a" "memory:/$PFX/r/b" >/dev/null
	if [ "$(hierarchies_json | jq -r --arg m "$M" '.[] | select(.name == $m) | .version')" = 2 ]; then
		skip "top in tmux: reversed, unknown CPU last" "memory is on v2 here: every container has cpu.stat, no CPU is unknown"
	else
		tmux -L "$SOCK" new-session -d -s rev -x 150 -y 30 "$PCON_PLAIN top -d 0.3 memory:/$PFX/r; sleep 2"
		# until a's CPU is known (a rate needs two samples)
		screen_until rev "$M:/$PFX/r/a .*[0-9]\.[0-9]{2} +[0-9.]+[KMGT]?B\$" >/dev/null
		tmux -L "$SOCK" send-keys -t rev r
		screen=$(screen_until rev "(reversed)")
		last=$(grep -o "$M:/$PFX/r[^ ]*" <<<"$screen" | tail -n 1)
		if grep -q "(reversed)" <<<"$screen" && [ "$last" = "$M:/$PFX/r/b" ]; then ok "top in tmux: reversed, unknown CPU last"
		else not_ok "top in tmux: reversed, unknown CPU last"; sed 's/^/#   /' <<<"$screen"; fi
		tmux -L "$SOCK" send-keys -t rev q
	fi
	# a resized terminal is drawn again at once, not at the next refresh
	tmux -L "$SOCK" new-session -d -s rsz -x 150 -y 5 "$PCON_PLAIN top -d 60 -o path memory:/$PFX/r; sleep 2"
	screen_until rsz "sorted by path" >/dev/null
	tmux -L "$SOCK" resize-window -t rsz -x 150 -y 20
	screen=$(screen_until rsz "$M:/$PFX/r/b")
	if grep -q "$M:/$PFX/r/b" <<<"$screen"; then ok "top in tmux: redrawn on resize"
	else not_ok "top in tmux: redrawn on resize"; sed 's/^/#   /' <<<"$screen"; fi
	tmux -L "$SOCK" send-keys -t rsz q
else
	skip "top in tmux" "tmux is not installed (make deps)"
fi
cleanup
done_testing
