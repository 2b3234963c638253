#!/usr/bin/env bash
# CLI tests of pcon apply and pcon snapshot: a snapshot applied onto an
# empty tree rebuilds it; a second apply changes nothing and says so; a
# dry run changes nothing; any error leaves everything as it was.
. "$(dirname "$0")/lib.bash"
d=$(mktemp -d)
trap 'rm -rf "$d"; cleanup' EXIT

check "apply --help exits 0" $PCON apply --help
check "snapshot --help exits 0" $PCON snapshot --help
fails_with "no file" "which file" $PCON apply
fails_with "missing file" "No such file" $PCON apply "$d/none"
# (the names are this test's own: a bug here must not touch anyone's containers)
X="cpu:/$PFX-x" Y="cpu:/$PFX-y"
printf 'cpu.weight = 5\n' >"$d/a.ini"
fails_with "a key before any section" "comes before any" $PCON apply "$d/a.ini"
printf '[%s]\ncpu.weight = 5\n[%s]\nwat\n' "$X" "$Y" >"$d/a.ini"
fails_with "a line that is nothing: its number" "line 4" $PCON apply "$d/a.ini"
printf '[%s]\ncpu.wait = 5\n' "$X" >"$d/a.ini"
fails_with "an unknown knob is named" "cpu.wait: no such knob" $PCON apply "$d/a.ini"
printf '[%s]\ncpu.weight = 5\n[%s]\ncpu.weight = 6\n[%s]\ncpu.max = max\n' "$X" "$Y" "$X" >"$d/a.ini"
fails_with "a section twice" "appears twice" $PCON apply "$d/a.ini"

if [ "$(id -u)" -ne 0 ]; then skip "apply on real cgroups" "needs root to create cgroups"; done_testing; exit 0; fi
json=$(hierarchies_json)
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | index("cpu")))][0].name // empty' <<<"$json")
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
H=${v1:-$v2}
printf '[%s:/%s-ok]\ncpu.weight = 50\n[%s:/%s-bad]\ncpu.weight = 99999\n' "$H" "$PFX" "$H" "$PFX" >"$d/a.ini"
fails_with "an invalid value: said with what is accepted" "cpu.weight=99999: invalid value; accepted" $PCON apply "$d/a.ini"
check "  and nothing was made" bash -c "! $PCON ls '$H:/$PFX-ok' 2>/dev/null"
printf '[%s:/%s-ok]\nowner = no-such-user-pcon\n' "$H" "$PFX" >"$d/a.ini"
fails_with "an unknown owner" "no such user or group" $PCON apply "$d/a.ini"

printf '[%s:/%s-empty]\n' "$H" "$PFX" >"$d/a.ini"
long=$(printf 'n%.0s' $(seq 60)); printf '[%s:/%s-%s]\ncpu.weight = 7\n' "$H" "$PFX" "$long" >"$d/l.ini"
check "a section name past inih's 49 bytes is whole" bash -c "$PCON apply '$d/l.ini' >/dev/null && $PCON get '$H:/$PFX-$long' | grep -qx 'cpu.weight: 7'"
check "a section without keys makes its container" bash -c "$PCON apply '$d/a.ini' >/dev/null && $PCON ls '$H:/$PFX-empty' >/dev/null"

# A tree with values, an owner and a name INI gives meaning to.
T="$H:/$PFX-t"
check "create a tree" $PCON create "$T/a/b" "$T/c" "$T/odd [name]; #x"
check "set a value" $PCON set "$T/a" cpu.weight=300
nobody=$(id -u nobody 2>/dev/null)
[ -n "$nobody" ] && printf '[%s/c]\nowner = nobody\n' "$T" >"$d/o.ini" && $PCON apply "$d/o.ini" >/dev/null
$PCON snapshot "$T" >"$d/snap.ini"
check "snapshot: one section per container" [ "$(grep -c '^\[' "$d/snap.ini")" -eq 5 ]
check "snapshot: INI's bytes in a name escaped" grep -qF '/odd\x20\x5bname\x5d\x3b\x20\x23x]' "$d/snap.ini"
check "snapshot: the value set" grep -qx "cpu.weight = 300" "$d/snap.ini"
[ -n "$nobody" ] && check "snapshot: the owner" grep -qx "owner = $nobody:$(id -g nobody)" "$d/snap.ini"
check "snapshot parses as INI (python configparser)" python3 -c \
	'import configparser,sys; c=configparser.ConfigParser(interpolation=None); c.read(sys.argv[1]); assert len(c.sections())==5' "$d/snap.ini"
out=$($PCON apply "$d/snap.ini")
check "apply of the live state: no changes, and says so" grep -q "^no changes" <<<"$out"
check "remove the tree" $PCON remove -r "$T"
out=$($PCON apply --dry-run "$d/snap.ini")
check "dry run: says what it would do" grep -q "^would create $T/a/b\$" <<<"$out"
check "dry run: does nothing" bash -c "! $PCON ls '$T' 2>/dev/null"
out=$($PCON apply "$d/snap.ini")
check "apply onto an empty tree: creates" grep -q "^create $T/a\$" <<<"$out"
check "apply onto an empty tree: sets" grep -q "^set $T/a cpu.weight=300\$" <<<"$out"
check "apply onto an empty tree: the odd name is back" $PCON ls "$T/odd [name]; #x"
check "the rebuilt tree snapshots the same" diff <($PCON snapshot "$T") "$d/snap.ini"
check "a second apply changes nothing" grep -q "^no changes" <<<"$($PCON apply "$d/snap.ini")"
done_testing
