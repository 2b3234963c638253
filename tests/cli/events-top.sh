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
kids=()
out=$(mktemp); trap 'for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done
	rm -f "$out"; tmux -L "$SOCK" kill-server 2>/dev/null; cleanup' EXIT
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
# (a socket nobody listens on: a pcond at the default one would answer)
$PCON --socket "/tmp/$PFX-none.sock" top -b -c 2 -d 0.2 "unified:/$PFX" >"$out"
check "top -b: two headers" [ "$(grep -c '^CONTAINER' "$out")" = 2 ]
check "top -b: a row for /a" grep -q "^unified:/$PFX/a " "$out"
check "top -b: no terminal control" bash -c "! grep -q $'\e' '$out'"
check "top -b: load is '-' without pcond" bash -c "awk '/\\/a /{print \$8}' '$out' | grep -qx -- -"
timeout -k 5 2 $PCON top -b -c 1 -d 4295 "unified:/$PFX" >"$out"; rc=$?
check "top -b: a delay past 4294 s is waited (rc=$rc)" [ $rc = 124 ] && [ ! -s "$out" ]
cols=$($PCON top --list-columns)
check "top --list-columns: every column with its help" bash -c 'for c in CONTAINER TASKS R S D T IO LOAD1 LOAD5 LOAD15 %CPU MEMORY INPUT/S OUTPUT/S CPU-SOME MEM-SOME MEM-FULL IO-SOME; do
	grep -Eq "^$c +(string|number) +[^ ]" <<<"$1" || exit 1; done' - "$cols"
fails_with "top: bad sort key" "top: --sort: unknown sort key 'bogus'" $PCON top -b --sort bogus
fails_with "top: --order is --sort" "top: --order: unknown sort key 'x'" $PCON top -b --order x
fails_with "top: bad column" "top: unknown column 'bogus'" $PCON top -b -o bogus
fails_with "top: -J without -b" "--json goes with -b" $PCON top -J
fails_with "top: bad delay" "top: --delay: '0' is out of range" $PCON top -b -d 0
fails_with "top: --iterations is --count" "top: --iterations: 'x' is not a whole number" $PCON top -b --iterations x
fails_with "top: -c without its value" "option '-c' needs a value" $PCON top -b -c

# top -b over busy containers: -J, -o, -n, --raw, -P, --recursive=no, %CPU
# from v2 cpu.stat (in every cgroup: no cpu controller needed) and from v1
# cpuacct (co-mounted, or the cpuacct hierarchy at the same path).
NOSOCK="/tmp/$PFX-none.sock"
# (-B proc: under TCG every start that tries to load eBPF costs seconds)
top_json() { $PCON --socket "$NOSOCK" top -b -c 1 -d 0.5 -B proc -J "$@"; }
cpu_of() { jq --arg c "$1" '.containers[] | select(.container == $c) | .["%cpu"]'; }
# positive N: N is a number above 0 (not null: the counter was there)
positive() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v c="$1" 'BEGIN { exit !(c > 0) }'; }
# busy fixtures stop as soon as they are measured: a guest has one CPU
stop_kids() { for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done; kids=(); }
$PCON create "unified:/$PFX/busy" "unified:/$PFX/mt" >/dev/null
bash -c 'while :; do :; done' & kids+=($!); $PCON attach "unified:/$PFX/busy" $! >/dev/null
j=$(top_json -o container,%cpu,tasks,memory,input/s "unified:/$PFX")
check "top -b -J: one document, the columns named, numbers as numbers, null where unknown" jq -e '.containers | length == 5
	and all(keys == ["%cpu","container","input/s","memory","tasks"]) and all(.tasks | type == "number")
	and all(.memory == null or (.memory | type == "number"))' <<<"$j"
c=$(cpu_of "unified:/$PFX/busy" <<<"$j")
check "top -b: %CPU of a busy v2 container from cpu.stat ($c)" positive "$c"
out=$($PCON top -b -c 1 -d 0.1 -B proc -n --raw -o container,tasks,R "unified:/$PFX/busy")
check "top -b -n --raw -o: the row alone ($out)" [ "$out" = "unified:/$PFX/busy 1 1" ]
check "top -b: Input/s and Output/s are default columns" \
	grep -Eq '^CONTAINER +TASKS .* +%CPU +MEMORY +INPUT/S +OUTPUT/S$' <<<"$($PCON top -b -c 1 -d 0.1 -B proc "unified:/$PFX" | head -1)"
stop_kids
own=$(top_json --recursive=no -o container,tasks "unified:/$PFX" | jq --arg c "unified:/$PFX" '.containers[] | select(.container == $c) | .tasks')
check "top --recursive=no: a parent's own tasks ($own)" [ "$own" = 0 ]
fails_with "top: --recursive takes yes or no" "--recursive: 'x' is not yes or no" $PCON top -b --recursive=x
if command -v xz >/dev/null; then
	# xz -T2 compresses with worker threads: more threads than processes
	$PCON exec "unified:/$PFX/mt" -- xz -T2 -c </dev/zero >/dev/null & kids+=($!)
	for _ in $(seq 100); do [ "$(wc -l <"$CG/$PFX/mt/cgroup.threads")" -ge 3 ] && break; sleep 0.1; done
	th=$(top_json -o container,tasks "unified:/$PFX/mt" | jq '.containers[0].tasks')
	pr=$(top_json -P -o container,tasks "unified:/$PFX/mt" | jq '.containers[0].tasks')
	stop_kids
	check "top -P counts processes ($pr), not threads ($th)" [ "$pr" = 1 ] && [ "$th" -ge 3 ]
else
	skip "top -P" "xz is not installed (a multi-threaded fixture)"
fi
A=$(hierarchies_json | jq -r '[.[] | select(.version == 1 and (.controllers | index("cpuacct")))][0].name // empty')
M=$(hierarchies_json | jq -r '[.[] | select(.version == 1 and (.controllers | index("memory")) and (.controllers | index("cpuacct") | not))][0].name // empty')
if [ -n "$A" ] && [ -n "$M" ]; then
	$PCON create "$A,$M:/$PFX-c/busy" >/dev/null
	bash -c 'while :; do :; done' & kids+=($!); $PCON attach "$A,$M:/$PFX-c/busy" $! >/dev/null
	c=$(top_json -o container,%cpu "$A:/$PFX-c" | cpu_of "$A:/$PFX-c/busy")
	check "top -b: %CPU of a busy v1 container from its cpuacct.usage ($c)" positive "$c"
	c=$(top_json -o container,%cpu "$M:/$PFX-c" | cpu_of "$M:/$PFX-c/busy")
	check "top -b: %CPU of $M:/ from the cpuacct hierarchy at the same path ($c)" positive "$c"
	stop_kids
else
	skip "top -b: %CPU from v1 cpuacct" "no v1 cpuacct hierarchy apart from a v1 memory one here"
fi
stop_kids

# Input/s and Output/s: dd with direct I/O (the page cache would hide it) in
# a container of the hierarchy that counts block I/O (v2 io, v1 blkio).
IO=$(hierarchies_json | jq -c '[.[] | select(.controllers | index("io") or index("blkio"))][0] // empty')
mm=$(findmnt -no MAJ:MIN -T /var/tmp | tr -d ' ')
[ -e "/sys/dev/block/$mm/partition" ] && mm=$(cat "/sys/dev/block/$mm/../dev")
if [ -z "$IO" ]; then
	skip "top: Input/s, Output/s" "no hierarchy here has the io or blkio controller"
elif [ ! -e "/sys/dev/block/$mm" ]; then
	skip "top: Input/s, Output/s" "/var/tmp is on no block device here ($mm)"
else
	H=$(jq -r .name <<<"$IO"); dir=$(jq -r .mount <<<"$IO")/$PFX-io
	$PCON create "$H:/$PFX-io" >/dev/null
fi
if [ -n "$IO" ] && [ -e "/sys/dev/block/$mm" ] && [ "$(jq -r .version <<<"$IO")" = 2 ] && [ ! -e "$dir/io.stat" ]; then
	skip "top: Input/s, Output/s" "the io controller is not enabled below the v2 root here (its cgroup.subtree_control)"
elif [ -n "$IO" ] && [ -e "/sys/dev/block/$mm" ]; then
	# v1 blkio counts nothing on Linux 6.9+ until a throttle limit is set
	# on the device once: one no disk reaches, on this container only
	if [ "$(jq -r .version <<<"$IO")" = 1 ]; then
		echo "$mm 1099511627776" >"$dir/blkio.throttle.write_bps_device"
		echo "$mm 1099511627776" >"$dir/blkio.throttle.read_bps_device"
	fi
	f=$(mktemp /var/tmp/pcon-test-$$-io.XXXXXX)
	$PCON exec "$H:/$PFX-io" -- bash -c 'for i in $(seq 200); do
		dd if=/dev/zero of="$1" bs=1M count=4 oflag=direct status=none
		dd if="$1" of=/dev/null bs=1M iflag=direct status=none; done' - "$f" & io=$!
	# until the loop writes (pcon exec and bash start first)
	for _ in $(seq 100); do
		grep -Eqs 'Write [1-9]|wbytes=[1-9]' "$dir/blkio.throttle.io_service_bytes" "$dir/io.stat" && break
		sleep 0.1
	done
	j=$(top_json -d 1 -o container,input/s,output/s "$H:/$PFX-io")
	kill $io 2>/dev/null; wait $io 2>/dev/null; rm -f "$f"
	check "top -b: Input/s and Output/s of a container doing direct I/O on $H ($(jq -c '.containers[0]' <<<"$j"))" \
		jq -e '.containers[0] | .["input/s"] > 0 and .["output/s"] > 0' <<<"$j"
fi
check "top -b: '-' for I/O where neither io.stat nor blkio has the container" \
	jq -e '.containers[0]["input/s"] == null' <<<"$(top_json -o container,input/s "unified:/$PFX/a")"
fails_with "top: no terminal" "needs a terminal" $PCON top -c 1 </dev/null

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
	if grep -q "sorted by %CPU" <<<"$screen" && grep -q "unified:/$PFX/b" <<<"$screen"; then ok "top in tmux: rows and header"
	else not_ok "top in tmux"; sed 's/^/#   /' <<<"$screen"; fi
	tmux -L "$SOCK" send-keys -t main p
	screen=$(screen_until main "sorted by CONTAINER")
	check "top in tmux: 'p' sorts by path" grep -q "sorted by CONTAINER" <<<"$screen"
	rows=$(grep -o "unified:/$PFX[^ ]*" <<<"$screen" | tail -n +2 | tr '\n' ' ')
	check "top in tmux: path order" [ "$rows" = "unified:/$PFX unified:/$PFX/a unified:/$PFX/b unified:/$PFX/busy unified:/$PFX/mt " ]
	# The keys do not depend on the cgroup layout: an emulated guest (where
	# every redraw costs a second) leaves them to the host's lane.
	if [ -n "${PCONTEST_SLOW:-}" ]; then
		skip "top in tmux: the keys h + - R < > P r S" "PCONTEST_SLOW: an emulated guest; the host lane runs them"
	else
		# h: the keys; any key goes back
		tmux -L "$SOCK" send-keys -t main h
		screen=$(screen_until main "pcon top - keys")
		check "top in tmux: h shows the help" grep -Eq "R +reverse the order" <<<"$screen"
		tmux -L "$SOCK" send-keys -t main x
		screen=$(screen_until main "sorted by")
		check "top in tmux: a key goes back from the help" grep -q "sorted by CONTAINER" <<<"$screen"
		# + and -: the interval, shown in the title
		tmux -L "$SOCK" send-keys -t main +
		screen=$(screen_until main "every 0.5s")
		check "top in tmux: + refreshes slower (0.3s -> 0.5s)" grep -q "every 0.5s" <<<"$screen"
		tmux -L "$SOCK" send-keys -t main -
		screen=$(screen_until main "every 0.2s")
		check "top in tmux: - refreshes faster (0.5s -> 0.2s)" grep -q "every 0.2s" <<<"$screen"
		# R reverses one key; a new key starts unreversed
		tmux -L "$SOCK" send-keys -t main R
		screen=$(screen_until main "sorted by CONTAINER \(reversed\)")
		check "top in tmux: R reverses" grep -q "sorted by CONTAINER (reversed)" <<<"$screen"
		tmux -L "$SOCK" send-keys -t main t
		screen=$(screen_until main "sorted by TASKS")
		check "top in tmux: R then another sort key is not reversed" \
			bash -c 'grep -q "sorted by TASKS - " <<<"$1" && ! grep -q reversed <<<"$1"' - "$screen"
		# < and >: the sort column moves along the columns shown
		tmux -L "$SOCK" send-keys -t main '>'
		screen=$(screen_until main "sorted by R ")
		check "top in tmux: > sorts by the next column" grep -q "sorted by R " <<<"$screen"
		tmux -L "$SOCK" send-keys -t main '<' '<'
		screen=$(screen_until main "sorted by CONTAINER")
		check "top in tmux: < sorts by the column before" grep -q "sorted by CONTAINER" <<<"$screen"
		# P: processes; r: each container's own counts; S: pressure columns
		tmux -L "$SOCK" send-keys -t main P
		screen=$(screen_until main " processes ")
		check "top in tmux: P counts processes" grep -q " - processes - " <<<"$screen"
		tmux -L "$SOCK" send-keys -t main r
		screen=$(screen_until main "\(own\)")
		check "top in tmux: r shows each container's own counts" grep -q "processes (own)" <<<"$screen"
		tmux -L "$SOCK" send-keys -t main S
		screen=$(screen_until main "CPU-SOME")
		check "top in tmux: S adds the pressure columns" grep -Eq "^CONTAINER .* CPU-SOME +MEM-SOME +MEM-FULL +IO-SOME" <<<"$screen"
	fi
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
		tmux -L "$SOCK" new-session -d -s rev -x 150 -y 30 "$PCON_PLAIN top -d 0.3 -o container,%cpu,memory memory:/$PFX/r; sleep 2"
		# until a's CPU is known (a rate needs two samples)
		screen_until rev "$M:/$PFX/r/a .*[0-9]\.[0-9]{2} +[0-9.]+[KMGT]?B\$" >/dev/null
		tmux -L "$SOCK" send-keys -t rev R
		screen=$(screen_until rev "(reversed)")
		last=$(grep -o "$M:/$PFX/r[^ ]*" <<<"$screen" | tail -n 1)
		if grep -q "(reversed)" <<<"$screen" && [ "$last" = "$M:/$PFX/r/b" ]; then ok "top in tmux: reversed, unknown CPU last"
		else not_ok "top in tmux: reversed, unknown CPU last"; sed 's/^/#   /' <<<"$screen"; fi
		tmux -L "$SOCK" send-keys -t rev q
	fi
	if [ -n "${PCONTEST_SLOW:-}" ]; then
		skip "top in tmux at 60 columns" "PCONTEST_SLOW: an emulated guest; the host lane runs it"
	else
		# 60 columns: the title is cut, not wrapped; columns that do not fit are
		# left out; a long name is shortened in the middle, its row not cut
		long="$PFX/r/a/$(printf 'n%.0s' $(seq 80))"
		$PCON create "memory:/$long" >/dev/null
		tmux -L "$SOCK" new-session -d -s narrow -x 60 -y 12 "$PCON_PLAIN top -d 0.3 -B proc memory:/$PFX/r; sleep 2"
		screen=$(screen_until narrow "nnnn")
		if [ "$(sed -n 2p <<<"$screen")" = "" ] && grep -q "^CONTAINER " <<<"$(sed -n 3p <<<"$screen")" &&
			grep -Eq "^$M:/$PFX/r/a$" <<<"$(grep -o "^$M:/$PFX/r/a " <<<"$screen" | tr -d ' ')" &&
			grep -Eq "^$M:/.*(…|\.\.\.)n+ .*( [0-9]+\.[0-9]{2}| -)$" <<<"$screen"; then
			ok "top in tmux at 60 columns: one title line, long names shortened, rows whole"
		else
			not_ok "top in tmux at 60 columns"; sed 's/^/#   /' <<<"$screen"
		fi
		tmux -L "$SOCK" send-keys -t narrow q
	fi
	# a resized terminal is drawn again at once, not at the next refresh
	tmux -L "$SOCK" new-session -d -s rsz -x 150 -y 5 "$PCON_PLAIN top -d 60 --sort path memory:/$PFX/r; sleep 2"
	screen_until rsz "sorted by CONTAINER" >/dev/null
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
