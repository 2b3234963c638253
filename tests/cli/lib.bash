# TAP helpers for pcon's CLI tests. Source it; set PCON to the binary.
PCON=${PCON:-build/pcon}
PFX="pcon-test-$$"
# A pcond on this machine's default socket must not answer the tests'
# queries (pcon stats asks one first): a test that wants a pcond starts its
# own and names its socket.
export PCON_SOCKET=${PCON_SOCKET:-/nonexistent/pcon-tests.sock}
_n=0 _plan=()
ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
skip() { _n=$((_n + 1)); echo "# skip reason: $2"; echo "ok $_n # SKIP $1"; }
done_testing() { echo "1..$_n"; }
# pcon hierarchies as one JSON array, controllers as a list.
hierarchies_json() {
	$PCON hierarchies -J -o ID,VERSION,NAME,NAMED,CONTROLLERS,MOUNT,NOPREFIX,DEFAULT |
		jq '.hierarchies | map(.controllers = ((.controllers // "") | split(",")))'
}
# check DESC CMD...: passes if CMD succeeds
check() { local d=$1; shift; if "$@" >/dev/null; then ok "$d"; else not_ok "$d"; fi; }
# fails_with DESC PATTERN CMD...: CMD exits non-zero, one stderr line matching PATTERN, no stdout
fails_with() {
	local d=$1 pat=$2; shift 2
	local err out rc
	out=$("$@" 2>/tmp/pcon-err.$$); rc=$?
	err=$(cat /tmp/pcon-err.$$); rm -f /tmp/pcon-err.$$
	if [ $rc -ne 0 ] && [[ $err == *$pat* ]] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ $err == pcon:* ]]; then
		ok "$d"
	else
		not_ok "$d"; echo "#   rc=$rc stderr=[$err] stdout=[$out] want=[$pat]"
	fi
}
# "FSTYPE MOUNTPOINT SUPEROPTS DEVICE" of every cgroup mount. The file system
# type follows the "-" field: the optional fields before it vary in number
# (shared:N on a systemd host, none in a bare guest).
cgroup_mounts() {
	awk '{ for (i = 7; i <= NF; i++) if ($i == "-") break
	       if ($(i + 1) ~ /^cgroup2?$/) print $(i + 1), $5, $(i + 3), $3 }' /proc/self/mountinfo
}
# Remove every container this script made, in every hierarchy.
cleanup() {
	cgroup_mounts | awk '{print $2}' | while read -r m; do
		find "$m" -maxdepth 1 -type d -name "$PFX*" 2>/dev/null
	done | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}
