#!/usr/bin/env bash
# pcon ls as a libsmartcols tree (columns, -o/-J/--raw/-n/--list-columns,
# --depth, -P process rows, a tree 45 levels deep in JSON), names with any
# byte the kernel allows in valid JSON and UTF-8, and the output options of
# pcon events that need no pcond.
. "$(dirname "$0")/lib.bash"
export LC_ALL=C.UTF-8
kids=()
finish() {
	for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done
	[ -n "$H" ] && $PCON remove -r "$H:/$PFX-l" 2>/dev/null
	cleanup
}
trap finish EXIT

# --- without root: options, columns, errors ---
cols=$($PCON ls --list-columns)
check "ls --list-columns: every column with its help" \
	bash -c 'for c in NAME PATH ID PROCS THREADS PID COMMAND ERROR; do grep -Eq "^$c +[a-z]+ +[a-zA-Z(]" <<<"$1" || exit 1; done' - "$cols"
check "ls --list-columns -J" jq -e '.columns | length == 8' <<<"$($PCON ls --list-columns -J)"
fails_with "ls -o: names the unknown column" "unknown column 'FOO'" $PCON ls -o NAME,FOO
fails_with "ls -o without its value" "option '-o' needs a value" $PCON ls -o
fails_with "ls --output without its value" "option '--output' needs a value" $PCON ls --output
fails_with "ls --depth without its value" "option '--depth' needs a value" $PCON ls --depth
fails_with "ls --depth: not a number" "--depth: 'x' is not a number" $PCON ls --depth x
fails_with "ls -t is gone (-P is processes)" "invalid option" $PCON ls -t
fails_with "events -o: names the unknown column" "unknown column 'BOGUS'" $PCON events -o TYPE,BOGUS
fails_with "events --output without its value" "option '--output' needs a value" $PCON events --output
fails_with "events --when without its value" "option '--when' needs a value" $PCON events --when
fails_with "events -D is gone (--direct is long only)" "invalid option" $PCON events -D /
check "events --list-columns: threshold and task columns" \
	bash -c 'grep -q "^PARENT_PID " <<<"$1" && grep -q "^EXPR " <<<"$1"' - "$($PCON events --list-columns)"
check "events --list-columns -J" jq -e '.columns | map(.name) | index("TIME") == 0' <<<"$($PCON events --list-columns -J)"
for cmd in loadavg pressure; do
	check "$cmd --list-columns -J" jq -e '.columns | length > 4' <<<"$($PCON $cmd --list-columns -J)"
	fails_with "$cmd -o without its value" "option '-o' needs a value" $PCON $cmd -o
done

# bash completion of -o: the command's columns, after a comma too
bin=$(mktemp -d); ln -s "$(realpath "$PCON")" "$bin/pcon"
complete_words() {
	PATH="$bin:$PATH" bash -c '. "$0"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _pcon; printf "%s\n" "${COMPREPLY[@]}"' \
		"$(dirname "$0")/../../contrib/pcon.bash-completion" "$@"
}
check "completion: ls -o P -> PATH PID PROCS" \
	[ "$(complete_words pcon ls -o P | sort | tr '\n' ' ')" = "PATH PID PROCS " ]
check "completion: events --output TYPE,PAR -> the PARENT_ columns" \
	[ "$(complete_words pcon events --output TYPE,PAR | sort | tr '\n' ' ')" = "TYPE,PARENT_PID TYPE,PARENT_TID " ]
rm -rf "$bin"

out=$($PCON ls)
check "ls: a header, then a top row per hierarchy" \
	bash -c '[ "$(grep -cE "^[^ │├└]+:/ " <<<"$1")" -eq "$2" ]' - "$out" "$(cgroup_mounts | awk '{print $4}' | sort -u | wc -l)"
check "ls: the default header" grep -Eqx 'NAME +ID +PROCS +THREADS' <<<"$(head -1 <<<"$out")"
check "ls -J: valid JSON of containers" jq -e '.containers | length > 0 and all(has("name") and has("error"))' \
	<<<"$($PCON ls -J --depth 0)"

if [ "$(id -u)" -ne 0 ]; then skip "ls of containers made here" "needs root to create cgroups"; done_testing; exit 0; fi
H=$(hierarchies_json | jq -r '[.[] | select(.version == 2)][0].name // empty')
H=${H:-$(hierarchies_json | jq -r '[.[] | select(.version == 1 and (.controllers | length) > 0)][0].controllers[0]')}
C="$H:/$PFX-l"

# --- names with every kind of byte ---
long=$(printf 'L%.0s' {1..300})
typed=('ff\xffname' 'q"uo\\te' 'sp ace' 'ctl\x01\x1b\x7f' 'tab\tx' "$long")
check "create the odd names" $PCON create "${typed[@]/#/$C/}"
j=$($PCON ls -J -o NAME,PATH,ID "$C")
check "ls -J: strict UTF-8" bash -c 'iconv -f UTF-8 -t UTF-8 <<<"$1" >/dev/null' - "$j"
check "ls -J: valid JSON, a child per name" jq -e ".containers[0].children | length == ${#typed[@]}" <<<"$j"
check "ls -J: the names in pcon's escaped form" jq -e '[.containers[0].children[].name] |
	index("ff\\xffname") and index("q\"uo\\\\te") and index("ctl\\x01\\x1b\\x7f") and index("tab\\tx")' <<<"$j"
fed=0
while IFS= read -r p; do $PCON tasks "$p" >/dev/null && fed=$((fed + 1)); done < <(jq -r '.containers[0].children[].path' <<<"$j")
check "ls -J: every PATH addresses its container" [ $fed -eq ${#typed[@]} ]
check "ls -J: ids are the kernel's (inode numbers)" \
	[ "$(jq '.containers[0].id' <<<"$j")" = "$(stat -c %i "$(hierarchies_json | jq -r --arg h "$H" '[.[] | select(.name == $h or (.controllers | index($h)))][0].mount')/$PFX-l")" ]
raw=$($PCON ls --raw -n -o PATH "$C")
check "--raw: one word per row, no tree" bash -c '! grep -q "[ │└├]" <<<"$1"' - "$raw"
fed=0
while IFS= read -r p; do $PCON tasks "$p" >/dev/null && fed=$((fed + 1)); done <<<"$raw"
check "--raw: every name, \\xHH escaped, addresses its container" [ $fed -eq $(( ${#typed[@]} + 1 )) ]
check "text: the tree drawn, names escaped as typed" \
	bash -c 'grep -qx "├─q\"uo\\\\\\\\te" <<<"$1" && grep -qx "├─ff\\\\xffname" <<<"$1"' - "$($PCON ls -n -o NAME "$C")"

# --- a tree 45 levels deep ---
deep=$(printf '/d%d' $(seq 1 45))
check "create 45 levels" $PCON create -p "$C/t$deep"
j=$($PCON ls -J -o NAME "$C/t")
check "ls -J: 45 levels of children nested, valid JSON" \
	jq -e '[paths | length] | max == 2 + 45 * 2 + 1' <<<"$j"
check "ls -J: the deepest is d45, 45 levels down" \
	jq -e '.containers[0] | [recurse(.children[]?)] | length == 46 and .[-1].name == "d45"' <<<"$j"
check "ls: 46 rows drawn" [ "$($PCON ls -n -o NAME "$C/t" | wc -l)" -eq 46 ]
check "--depth 3: three levels below" [ "$($PCON ls -n -o NAME --depth 3 "$C/t" | wc -l)" -eq 4 ]
check "--depth 0: the container alone" [ "$($PCON ls -n -o NAME --depth 0 "$C/t")" = "$C/t" ]

# --- -P: processes as child rows ---
$PCON create "$C/p" >/dev/null
sleep 100 & kids+=($!); $PCON attach "$C/p" $! >/dev/null
sleep 100 & kids+=($!); $PCON attach "$C/p" $! >/dev/null
for k in "${kids[@]}"; do  # until the forked shells have become sleep
	for _ in $(seq 50); do [ "$(cat /proc/$k/comm)" = sleep ] && break; sleep 0.1; done
done
j=$($PCON ls -P -J -o NAME,PID,PROCS,COMMAND "$C/p")
check "ls -P: a child row per process, with its pid" \
	jq -e "[.containers[0].children[].pid] == [${kids[0]}, ${kids[1]}]" <<<"$j"
check "ls -P: process rows have the command, containers the counts" \
	jq -e '.containers[0].procs == 2 and all(.containers[0].children[]; .command == "sleep 100" and .procs == null)' <<<"$j"
check "ls without -P: no process rows" jq -e '.containers[0] | has("children") | not' <<<"$($PCON ls -J "$C/p")"
check "ls -P --raw: every cell a word" \
	bash -c '[ "$(awk "NF != 3" <<<"$1" | wc -l)" -eq 0 ]' - "$($PCON ls -P --raw -n -o NAME,PID,PROCS "$C/p")"
check "ls -P: the default columns add PID" grep -Eqx 'NAME +PID +ID +PROCS +THREADS' <<<"$($PCON ls -P "$C/p" | head -1)"
done_testing
