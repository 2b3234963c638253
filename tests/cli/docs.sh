#!/usr/bin/env bash
# The man page says what --help says: every usage line and every option of
# every command's --help appears in man/pcon.1.scd.
. "$(dirname "$0")/lib.bash"
man="$(dirname "$0")/../../man/pcon.1.scd"
# scdoc markup off: *bold*, _underline_, escaped brackets.
plain=$(sed -e 's/[*_]//g' -e 's/\\//g' -e 's/++$//' "$man")
cmds=$($PCON --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}')
check "pcon --help lists commands" [ -n "$cmds" ]
for cmd in $cmds; do
	help=$($PCON "$cmd" --help)
	while IFS= read -r line; do
		line=$(sed -E 's/^(Usage: |       )pcon //' <<<"$line")
		if grep -qxF "$line" <<<"$plain"; then ok "man page has: $line"
		else not_ok "man page lacks the usage line: $line"; fi
	done < <(grep -E '^(Usage: |       )pcon ' <<<"$help")
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
		[ "$opt" = "--help" ] && continue
		if grep -qF -- "$opt" <<<"$plain"; then ok "man page has $cmd $opt"
		else not_ok "man page lacks $cmd $opt"; fi
	done
done
done_testing
