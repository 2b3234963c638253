#!/usr/bin/env bash
# Debian's real Prometheus server scrapes pcond's /metrics on loopback; the
# target must be up and a pcon series must hold the expected value, as seen
# through Prometheus's own HTTP API.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"
sleepers=()
finish() {
	for p in "${pids[@]}" "${sleepers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	cleanup
	rm -rf "$dir"
}
trap finish EXIT

if [ "$(id -u)" -ne 0 ]; then
	skip "prometheus" "needs root to create cgroups"; done_testing; exit 0
fi
if ! command -v prometheus >/dev/null; then
	skip "prometheus" "Debian's prometheus package is not installed (make deps installs it)"
	done_testing; exit 0
fi

mport=$((20000 + ($$ + 1) % 20000))
pport=$((20000 + ($$ + 2) % 20000))
C="cpu:/$PFX-prom"
$PCON create "$C" >/dev/null
for _ in 1 2 3; do
	sleep 300 &
	sleepers+=($!)
	$PCON attach "$C" $! >/dev/null
done
$PCOND --socket "$dir/s" --metrics "127.0.0.1:$mport" -H cpu 2>"$dir/pcond.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$dir/s" ] && break; sleep 0.1; done

cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pcond
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
	--web.listen-address="127.0.0.1:$pport" >"$dir/prom.log" 2>&1 &
pids+=($!)

api() { curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/$1" --data-urlencode "query=$2"; }
series="pcon_threads{hierarchy=\"cpu\",container=\"/$PFX-prom\",state=\"sleeping\"}"
up="" val=""
for _ in $(seq 60); do
	up=$(api query 'up{job="pcond"}' | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	val=$(api query "$series" | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
	[ "$up" = 1 ] && [ -n "$val" ] && break
	sleep 0.5
done
check "prometheus sees the pcond target up" [ "$up" = 1 ]
health=$(curl -s --max-time 2 "http://127.0.0.1:$pport/api/v1/targets" | jq -r '.data.activeTargets[0].health')
check "target health is up (last error: none)" [ "$health" = up ]
check "the container's sleeping threads, via PromQL, are 3 (got '$val')" [ "$val" = 3 ]
load=$(api query "pcon_load1{container=\"/$PFX-prom\"}" | jq -r '.data.result[0].value[1] // empty')
check "pcon_load1 of the container is scraped (got '$load')" [ -n "$load" ]
root=$(api query 'pcon_load15{container="/"}' | jq -r '.data.result[0].value[1] // empty')
check "the root's load15 is scraped (got '$root')" [ -n "$root" ]
if [ "$up" != 1 ]; then sed 's/^/# /' "$dir/prom.log" | tail -5; fi
done_testing
