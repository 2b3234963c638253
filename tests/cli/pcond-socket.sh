#!/usr/bin/env bash
# pcond's socket file: what is at the path and is not a socket is never
# removed; at exit pcond removes the socket only if it is still the one it
# bound; a failed start leaves no PATH.lock behind (nor removes another
# pcond's); every missing directory of the path is created, 0755.
. "$(dirname "$0")/lib.bash"
. "$(dirname "$0")/pcond.bash"

need_root_and_python "pcond socket file"
start() { # start SOCKET: a pcond in the background; its pid in $started
	$PCOND --socket "$1" -H cpu 2>>"$dir/log" &
	started=$!; pids+=($started)
	for _ in $(seq 50); do [ -S "$1" ] && break; sleep 0.1; done
}

# --- what is not a socket stays --------------------------------------------
S=$dir/file.sock
echo precious >"$S"
out=$(timeout -k 5 10 $PCOND --socket "$S" -H cpu 2>&1); rc=$?
check "a regular file at the path: exit 1 (got $rc)" [ $rc -eq 1 ]
check "with a clear error" grep -q "file.sock: exists and is not a socket: not removing it" <<<"$out"
check "the file is left as it was" [ "$(cat "$S")" = precious ]
check "the failed start leaves no PATH.lock" [ ! -e "$S.lock" ]
ln -s "$dir/file.sock" "$dir/link.sock"
out=$(timeout -k 5 10 $PCOND --socket "$dir/link.sock" -H cpu 2>&1); rc=$?
check "a symlink at the path: exit 1 (got $rc)" [ $rc -eq 1 ]
check "and it is left alone" [ -L "$dir/link.sock" ]
mkdir "$dir/dir.sock"
out=$(timeout -k 5 10 $PCOND --socket "$dir/dir.sock" -H cpu 2>&1); rc=$?
check "a directory at the path: exit 1 (got $rc)" [ $rc -eq 1 ]
check "and it is left alone" [ -d "$dir/dir.sock" ]

# --- a failed start leaves the running pcond's lock --------------------------
S=$dir/a.sock
start "$S"; a=$started
out=$(timeout -k 5 10 $PCOND --socket "$S" -H cpu 2>&1); rc=$?
check "a second pcond on the socket: exit 1" [ $rc -eq 1 ]
check "the first one's lock file stays" [ -e "$S.lock" ]
check "and it still serves" grep -qx "ok pcond .*" <(ask "$S" ping)
out=$($PCOND --socket "$dir/b.sock" -H nosuchhier 2>&1)
check "a start that fails before the socket leaves no lock" [ ! -e "$dir/b.sock.lock" ]

# --- at exit, only its own socket --------------------------------------------
# Someone removes a's files and starts b on the same path; a then exits.
rm -f "$S" "$S.lock"
start "$S"; b=$started
kill -TERM $a; wait $a
check "a pcond exiting leaves the socket another one bound since" [ -S "$S" ]
check "and that one's lock file" [ -e "$S.lock" ]
check "which still serves" grep -qx "ok pcond .*" <(ask "$S" ping)
kill -TERM $b; wait $b
check "the last one removes its own socket" [ ! -e "$S" ]
check "and its lock" [ ! -e "$S.lock" ]

# --- mkdir -p ------------------------------------------------------------------
S=$dir/x/y/z/pcond.sock
start "$S"
check "every missing directory is created" [ -S "$S" ]
check "each 0755" [ "$(stat -c %a "$dir/x" "$dir/x/y" "$dir/x/y/z" | sort -u)" = 755 ]
check "the socket is 0666" [ "$(stat -c %a "$S")" = 666 ]
kill -TERM $started; wait $started

check "no sanitizer or error report" bash -c "! grep -qiE 'sanitizer|runtime error' '$dir/log'"
pids=()
done_testing
