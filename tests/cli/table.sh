#!/usr/bin/env bash
# The output options every table of pcon shares (-o, +LIST, --list-columns,
# --raw, -n, -J), on `pcon hierarchies`, whose rows are the machine's cgroup
# mounts and need no root.
. "$(dirname "$0")/lib.bash"

n_mounts=$(cgroup_mounts | awk '{print $4}' | sort -u | wc -l)
out=$($PCON hierarchies)
check "default table: a header and one row per hierarchy" \
	[ "$(wc -l <<<"$out")" -eq $((n_mounts + 1)) ]
check "default header names its columns" grep -Eq '^ *ID +VERSION +NAME +CONTROLLERS +MOUNT +DEFAULT$' <<<"$(head -1 <<<"$out")"

out=$($PCON hierarchies -n -o mount,name)
check "-n: no header; -o: the columns named, in that order" \
	bash -c 'while read -r m n; do grep -q " $m " /proc/self/mountinfo || exit 1; [ -n "$n" ] || exit 1; done; [ "$(wc -l)" = 0 ]' <<<"$out"
check "-n -o: one row per hierarchy" [ "$(wc -l <<<"$out")" -eq "$n_mounts" ]
check "-o is not case sensitive and +LIST appends" \
	grep -Eq 'DEFAULT +NAMED$' <<<"$($PCON hierarchies -o +named | head -1)"

raw=$($PCON hierarchies --raw -n -o name,version)
check "--raw: one space between cells, no padding" \
	bash -c '! grep -Ev "^[^ ]+ [12]$"' <<<"$raw"

json=$($PCON hierarchies -J)
check "-J: one valid document with a row per hierarchy" \
	[ "$(jq '.hierarchies | length' <<<"$json")" -eq "$n_mounts" ]
check "-J: numbers are numbers, booleans booleans" \
	jq -e '.hierarchies | all(.id | type == "number") and all(.default | type == "boolean")' <<<"$json"
check "-J -o: only the columns named" \
	jq -e '.hierarchies | all(keys == ["name"])' <<<"$($PCON hierarchies -J -o NAME)"
check "--json is -J" [ "$($PCON hierarchies --json)" = "$json" ]

cols=$($PCON hierarchies --list-columns)
check "--list-columns: every column with its help" \
	bash -c 'for c in ID VERSION NAME NAMED CONTROLLERS MOUNT NOPREFIX DEFAULT; do grep -Eq "^$c +[a-z]+ +[a-z]" <<<"$1" || exit 1; done' - "$cols"
check "--list-columns -J" jq -e '.columns | length == 8' <<<"$($PCON hierarchies --list-columns -J)"

fails_with "-o FOO: names the column" "unknown column 'FOO'" $PCON hierarchies -o NAME,FOO
fails_with "-o NAME,NAME: said twice" "column 'NAME' named twice" $PCON hierarchies -o NAME,NAME
fails_with "-o '': no columns" "no columns" $PCON hierarchies -o ''
fails_with "-o without its value" "option '-o' needs a value" $PCON hierarchies -o
fails_with "--output without its value" "option '--output' needs a value" $PCON hierarchies --output
$PCON hierarchies -o FOO >/dev/null 2>&1
check "a bad column is a usage error (exit 2)" [ $? -eq 2 ]
done_testing
