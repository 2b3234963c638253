#!/usr/bin/env bash
# CLI tests of pcon pressure on real cgroups: the machine's, a v2
# container's under a CPU-bound fixture, errors.
. "$(dirname "$0")/lib.bash"
kids=()
finish() { for k in "${kids[@]}"; do kill -9 "$k" 2>/dev/null; wait "$k" 2>/dev/null; done; cleanup; }
trap finish EXIT

check "pressure --help exits 0" $PCON pressure --help
fails_with "unknown option" "pressure" $PCON pressure --nope
if [ ! -r /proc/pressure/cpu ]; then
	fails_with "no PSI is said, nothing printed as zero" "no pressure stall information" $PCON pressure
	done_testing; exit 0
fi
out=$($PCON pressure)
check "machine: one row per resource" [ "$(grep -c '^machine ' <<<"$out")" -eq 3 ]
check "machine --json: a row per resource, numbers" jq -e '(.pressure | length == 3) and all(.pressure[]; .container == "machine")
	and (.pressure[] | select(.resource == "cpu") | .some10 | type == "number")
	and (.pressure[] | select(.resource == "io") | ."full-us" | type == "number")' <<<"$($PCON pressure --json -o +SOME-US,FULL-US)"
check "machine: -o, -n, --raw" grep -Eqx 'cpu [0-9]+\.[0-9]{2} [0-9]+' <<<"$($PCON pressure -n --raw -o resource,some10,some-us)"
check "--list-columns names SOME-US" grep -q '^SOME-US ' <<<"$($PCON pressure --list-columns)"
fails_with "-o: unknown column named" "unknown column 'SOME5'" $PCON pressure -o SOME5
fails_with "--output without its value" "option '--output' needs a value" $PCON pressure --output

if [ "$(id -u)" -ne 0 ]; then skip "pressure of containers" "needs root to create cgroups"; done_testing; exit 0; fi
json=$(hierarchies_json)
v1=$(jq -r '[.[] | select(.version == 1 and (.controllers | length) > 0)][0].name // empty' <<<"$json")
v2=$(jq -r '[.[] | select(.version == 2)][0].name // empty' <<<"$json")
if [ -n "$v1" ]; then
	$PCON create "$v1:/$PFX-p" >/dev/null
	fails_with "v1: says pressure is v2 only, prints nothing" "only for cgroup v2" $PCON pressure "$v1:/$PFX-p"
fi
if [ -z "$v2" ]; then skip "pressure of a v2 container" "no cgroup v2 hierarchy"; done_testing; exit 0; fi
C="$v2:/$PFX-p"
check "v2: create" $PCON create "$C/kid"
total() { $PCON pressure --json -o resource,some-us "$C" | jq '.pressure[] | select(.resource == "cpu") | ."some-us"'; }
t0=$(total)
# Three busy loops on this machine's CPUs: at least one always waits.
for _ in 1 2 3 $(seq "$(nproc)"); do
	bash -c 'while :; do :; done' & kids+=($!); $PCON attach "$C/kid" $! >/dev/null
done
sleep 2.5
t1=$(total)
check "v2: a CPU-bound fixture raises cpu.some (total $t0 -> $t1 us)" [ "$t1" -gt $((t0 + 100000)) ]
check "v2: its avg10 rises above 0" jq -e '.pressure[] | select(.resource == "cpu") | .some10 > 0' <<<"$($PCON pressure --json "$C/kid")"
out=$($PCON pressure -r "$C")
check "v2: -r has the child's rows" [ "$(grep -c "$PFX-p/kid " <<<"$out")" -eq 3 ]
row=$($PCON top -b -c 1 -d 0.5 -o container,%cpu --pressure "$C" | awk -v c="$C/kid" '$1 == c')
check "v2: top --pressure: the busy container's cpu some avg10 ($(awk '{print $3}' <<<"$row"))" \
	awk '{ exit !($3 ~ /^[0-9.]+$/ && $3 > 0) }' <<<"$row"
check "v2: top: %CPU from cpu.stat ($(awk '{print $2}' <<<"$row"))" awk '{ exit !($2 ~ /^[0-9.]+$/ && $2 > 5) }' <<<"$row"
check "v2: stats -o +CPU-SOME carries the pressure" jq -e '.containers[0]["cpu-some"] > 0' \
	<<<"$($PCON stats -J -o +cpu-some "$C/kid")"
[ -n "$v1" ] && check "v1: stats -o +CPU-SOME: pressure is null" jq -e '.containers[0]["cpu-some"] == null' \
	<<<"$($PCON stats --json -o +cpu-some "$v1:/$PFX-p")"
for k in "${kids[@]}"; do kill -9 "$k"; wait "$k" 2>/dev/null; done; kids=()

# memory.some from a fixture that outgrows a memory limit (reclaim stalls
# it before the OOM killer ends it): where v2 has the memory controller.
if jq -e --arg h "$v2" '.[] | select(.name == $h) | .controllers | index("memory")' <<<"$json" >/dev/null; then
	M="$v2:/$PFX-mem"
	check "v2: create with memory" $PCON create "memory:/$PFX-mem"
	check "v2: a 16M limit" $PCON set "$M" memory.max=16M
	m0=$($PCON pressure --json -o resource,some-us "$M" | jq '.pressure[] | select(.resource == "memory") | ."some-us"')
	for _ in 1 2 3; do
		$PCON exec "$M" -- python3 -c 'b = []
while True: b.append(bytearray(1 << 20))' >/dev/null 2>&1
	done
	m1=$($PCON pressure --json -o resource,some-us "$M" | jq '.pressure[] | select(.resource == "memory") | ."some-us"')
	check "v2: a memory-limited fixture raises memory.some (total $m0 -> $m1 us)" [ "$m1" -gt "$m0" ]
else
	skip "memory pressure" "the v2 hierarchy has no memory controller here"
fi
done_testing
