#!/usr/bin/env bash
# pcon get --all (every file; in JSON keyed files as rows with children) and pcon set
# --copy-from (every knob with a value, --raw every writable file; all
# checked before any is written).
. "$(dirname "$0")/lib.bash"
trap cleanup EXIT
fails_with "--raw alone" "--raw goes with --copy-from" $PCON set --raw /x
fails_with "--all with a knob" "--all takes one" $PCON get --all / cpu.weight
if [ "$(id -u)" -ne 0 ]; then skip "get --all, set --copy-from" "needs root to create cgroups"; done_testing; exit 0; fi
json=$(hierarchies_json)
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | index("cpu")))][0].name // empty' <<<"$json")
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
if [ -n "$v2" ]; then
	check "v2: create" $PCON create "$v2:/$PFX-g"
	j=$($PCON get --all -J "$v2:/$PFX-g")
	key() { jq -r --arg f "$1" --arg k "$2" '.knobs[] | select(.knob == $f) | .children[] | select(.knob == $k) | .value' <<<"$j"; }
	check "v2: --all -J: a keyed file's keys are its children" \
		[ "$(key cgroup.stat nr_descendants)" = 0 ] && [ "$(key cgroup.events populated)" = 0 ]
	[ -r /proc/pressure/cpu ] && check "v2: --all -J: pressure fields are children of some/full" jq -e \
		'.knobs[] | select(.knob == "cpu.pressure") | .children[] | select(.knob == "some") | .children[] | select(.knob == "total") | .value | test("^[0-9]+$")' <<<"$j"
	check "v2: --all -J: plain files are one value" \
		jq -e '.knobs[] | select(.knob == "cgroup.type") | .value == "domain" and .container == "'"$v2:/$PFX-g"'"' <<<"$j"
	check "v2: --all -J: valid UTF-8, one document" bash -c 'iconv -f UTF-8 -t UTF-8 >/dev/null <<<"$1" && jq -e ".knobs | length > 10" <<<"$1"' - "$j"
	check "v2: --all: every file a line (or continued with a tab)" bash -c \
		"$PCON get --all '$v2:/$PFX-g' | grep -q '^cgroup.stat: nr_descendants 0\$'"
fi
if [ -n "$v1" ]; then
	A="$v1:/$PFX-a" B="$v1:/$PFX-b" C="$v1:/$PFX-c"
	check "v1: create" $PCON create "$A" "$B" "$C"
	check "v1: set the source" $PCON set "$A" cpu.weight=77 cpu.max="50000 100000"
	check "v1: --copy-from into two" $PCON set --copy-from "$A" "$B" "$C"
	check "v1: copied" [ "$($PCON get -v "$C" cpu.weight cpu.max | tr '\n' ' ')" = "77 50000 100000 " ]
	$PCON set "$A" cpu.rt_runtime_us=0 >/dev/null 2>&1
	check "v1: --raw copies a raw file too" bash -c "$PCON set --copy-from '$A' --raw '$B' && $PCON get -v '$B' cpu.cfs_quota_us | grep -qx 50000"
	fails_with "v1: a missing destination: nothing written" "no such container" \
		$PCON set --copy-from "$A" "$v1:/$PFX-none"
fi
done_testing
