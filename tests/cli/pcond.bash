# Shared by the tests that run a pcond: source after lib.bash.
# Gives $PCOND, $PY (python3 for raw socket clients, may be empty), $dir (a
# private temp dir, readable by unprivileged clients), pids (background
# processes killed at exit), and ask.
PCOND=${PCOND:-build/pcond}
PY=$(command -v /usr/bin/python3 || command -v python3)
dir=$(mktemp -d "/tmp/pcon-$(basename "$0" .sh)-XXXXXX")
chmod 755 "$dir" # unprivileged clients must reach the socket
pids=()
finish() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	cleanup
	rm -rf "$dir"
}
trap finish EXIT

# need_root_and_python NAME: skip the whole script, saying why, where it cannot run.
need_root_and_python() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1" "needs root to create cgroups"; done_testing; exit 0
	fi
	if [ -z "$PY" ]; then
		skip "$1" "needs python3 for socket clients"; done_testing; exit 0
	fi
}

# ask SOCKET LINE...: send the lines on one connection, print every reply.
ask() {
	"$PY" - "$@" <<'PYEOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
want = 0
for line in sys.argv[2:]:
    s.sendall(line.encode('latin-1') + b'\n')
    want += 1
buf = b''
while buf.count(b'\nok') + buf.count(b'\nerr') + (buf.startswith(b'ok') or buf.startswith(b'err')) < want:
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode('latin-1'))
PYEOF
}
