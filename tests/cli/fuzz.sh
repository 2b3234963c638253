#!/usr/bin/env bash
# Fuzz the wire protocol codec (lib/proto.c) with libFuzzer for a bounded time
# (PCON_FUZZ_SECONDS, default 20) and report the result as TAP.
. "$(dirname "$0")/lib.bash"
secs=${PCON_FUZZ_SECONDS:-20}
b=$(dirname "$PCON")
for f in "$b"/fuzz/*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$(mktemp -d /tmp/pcon-fuzz-XXXXXX)
	printf 'ping\n' >"$corpus/1"
	printf 'loadavg -r cpu:/a%%20b\nstatus\n' >"$corpus/2"
	printf 'limit 5\r\nrescan\n' >"$corpus/3"
	printf 'subscribe -r unified:/x%%3D\n' >"$corpus/4"
	printf 'event time=1.5 type=exit container=cpu:/a hierarchy=cpu path=/a pid=3 tid=3 cached=0 code=4\n' >"$corpus/5"
	printf 'event time=2.000001 type=lost count=9 source=pcond\nevent type=move hierarchy=u path=/%%20 from=/x\n' >"$corpus/6"
	out=$("$f" -max_total_time="$secs" -max_len=10000 -timeout=5 -rss_limit_mb=1024 \
		-print_final_stats=1 "$corpus" 2>&1); rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' <<<"$out" | grep -o '[0-9]*$')
	if [ $rc -eq 0 ]; then
		ok "$name: ${runs:-?} inputs in ${secs}s, no crash, hang or leak"
	else
		not_ok "$name: libFuzzer found a failure"
		grep -E 'ERROR|SUMMARY|assert|Test unit written' <<<"$out" | head -5 | sed 's/^/#   /'
	fi
	rm -rf "$corpus"
done
[ $_n -eq 0 ] && skip "fuzz" "no fuzz targets built (needs clang with libFuzzer)"
done_testing
