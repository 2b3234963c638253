#!/usr/bin/env bash
# make install puts a usable libpcon in place: a C program built with
# pkg-config against the installed header and library runs and agrees with pcon.
. "$(dirname "$0")/lib.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
if make -s -C "$top" install B=build DESTDIR="$d" PREFIX=/opt/pcon >"$d/log" 2>&1; then
	ok "make install"
else
	not_ok "make install"; sed 's/^/# /' "$d/log"; done_testing; exit 0
fi
for f in opt/pcon/bin/pcon opt/pcon/include/pcon/pcon.h opt/pcon/lib/libpcon.so.0 opt/pcon/lib/libpcon.a \
	opt/pcon/lib/pkgconfig/libpcon.pc opt/pcon/share/man/man1/pcon.1 \
	opt/pcon/bin/pcond opt/pcon/share/man/man8/pcond.8 opt/pcon/lib/systemd/system/pcond.service \
	opt/pcon/lib/systemd/system/pcond.socket opt/pcon/share/bash-completion/completions/pcon; do
	check "installed $f" [ -e "$d/$f" ]
done
bad=$(nm -D --defined-only "$d/opt/pcon/lib/libpcon.so.0" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /^pcon_/ {print $3}')
check "libpcon exports only pcon_ symbols${bad:+ (also: $bad)}" [ -z "$bad" ]
check "... under its version node" bash -c "objdump -T '$d/opt/pcon/lib/libpcon.so.0' | grep -q 'LIBPCON_0 *pcon_open\$'"
check "the unit starts the installed pcond" grep -q "^ExecStart=/opt/pcon/bin/pcond " "$d/opt/pcon/lib/systemd/system/pcond.service"
check "pcon-apply.service applies /etc/pcon/pcon.conf with the installed pcon" \
	grep -qx "ExecStart=/opt/pcon/bin/pcon apply /etc/pcon/pcon.conf" "$d/opt/pcon/lib/systemd/system/pcon-apply.service"
check "the service tells systemd when it is ready" grep -qx "Type=notify" "$d/opt/pcon/lib/systemd/system/pcond.service"
check "the socket unit holds the API socket, open to every user" \
	bash -c 'grep -qx "ListenStream=/run/pcon/pcond.sock" "$1" && grep -qx "SocketMode=0666" "$1"' _ "$d/opt/pcon/lib/systemd/system/pcond.socket"
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$d/opt/pcon/lib/systemd/system" && systemd-analyze verify --man=no ./pcond.socket 2>&1 | grep -v "not executable\|No such file" | grep -i "pcond\.\(socket\|service\):")
	check "systemd-analyze finds nothing wrong with the units${out:+: $out}" [ -z "$out" ]
fi
cat >"$d/count.c" <<'C'
#include <stdio.h>
#include <pcon/pcon.h>
int main(void)
{
	struct pcon *p;
	size_t n;
	if (pcon_open(NULL, &p) < 0)
		return 1;
	pcon_hiers(p, &n);
	printf("%zu\n", n);
	pcon_close(p);
	return 0;
}
C
export PKG_CONFIG_PATH="$d/opt/pcon/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$d"
if cc -Wall -Werror "$d/count.c" -o "$d/count" $(pkg-config --cflags --libs libpcon) 2>"$d/log"; then
	ok "a program builds with pkg-config libpcon"
	n=$(LD_LIBRARY_PATH="$d/opt/pcon/lib" "$d/count")
	check "it runs against the shared library and sees every hierarchy" \
		[ "$n" = "$("$d/opt/pcon/bin/pcon" hierarchies -J | jq ".hierarchies | length")" ]
else
	not_ok "a program builds with pkg-config libpcon"; sed 's/^/# /' "$d/log"
fi
done_testing
