#!/usr/bin/env bash
# CLI tests of pcon classify: processes land where the first matching rule
# says; missing destinations are reported, never made; bad files refused
# with their line number.
. "$(dirname "$0")/lib.bash"
kids=()
rules=$(mktemp)
finish() {
	for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done
	rm -f "$rules" "$(dirname "$rules")/$PFX-nap"; cleanup
}
trap finish EXIT

check "classify --help exits 0" $PCON classify --help
fails_with "no PID" "which processes" $PCON classify
fails_with "bad PID" "invalid PID 'x'" $PCON classify --rules /dev/null x
printf 'root cpu ok/\nnobody-pcon-none cpu x/\n' >"$rules"
fails_with "bad rules: the line and why" "line 2: no user 'nobody-pcon-none'" $PCON classify --rules "$rules" $$
fails_with "no rules file" "cannot read the rules" $PCON classify --rules /nonexistent/rules $$
if [ "$(id -u)" -ne 0 ]; then skip "classify on real cgroups" "needs root to create cgroups"; done_testing; exit 0; fi
json=$(hierarchies_json)
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | length) > 0)][0].controllers[0] // empty' <<<"$json")
H=${v1:-$(jq -r '[.[] | select(.version == 2)][0].name' <<<"$json")}
$PCON create "$H:/$PFX-c/sleep" "$H:/$PFX-c/root" >/dev/null
cat >"$rules" <<RULES
# sleep goes to its own place, anything else of root's by user name
root:sleep   $H   $PFX-c/%p
root         $H   $PFX-c/%u
*            $H   $PFX-c/missing
RULES
sleep 1000 & kids+=($!); s=$!
bash -c 'exec -a pcon-test-sh sleep 1000' & kids+=($!)
out=$($PCON classify -v --rules "$rules" $s)
check "rule 1 moves sleep into $PFX-c/sleep" bash -c "$PCON tasks '$H:/$PFX-c/sleep' | grep -qx $s"
check "-v says where and by which line" grep -q "^$s $H:/$PFX-c/sleep (line 2)" <<<"$out"
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000 & kids+=($!); n=$!
sleep 0.2
fails_with "a missing destination is reported" "$PFX-c/missing: no such container" $PCON classify --rules "$rules" $n
check "and not created" bash -c "! $PCON ls '$H:/$PFX-c/missing' 2>/dev/null"
# a process named otherwise than sleep (rule 1 would take it): a copy of
# sleep (a link would not do: the rules look at the executable's real name)
cp "$(command -v sleep)" "$(dirname "$rules")/$PFX-nap"
"$(dirname "$rules")/$PFX-nap" 1000 & kids+=($!); b=$!
check "rule 2 by user name" $PCON classify --rules "$rules" $b
check "  it is in $PFX-c/root" bash -c "$PCON tasks '$H:/$PFX-c/root' | grep -qx $b"
done_testing
