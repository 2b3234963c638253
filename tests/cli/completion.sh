#!/usr/bin/env bash
# bash completion: commands, a command's options, hierarchies, containers.
. "$(dirname "$0")/lib.bash"
trap cleanup EXIT
bin=$(mktemp -d)
trap 'rm -rf "$bin"; cleanup' EXIT
ln -s "$(realpath "$PCON")" "$bin/pcon"
# complete WORDS...: what the completion offers for the last word
complete_words() {
	PATH="$bin:$PATH" bash -c '. contrib/pcon.bash-completion
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _pcon; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
cd "$(dirname "$0")/../.."
out=$(complete_words pcon s)
check "commands: s -> stats, snapshot, set" bash -c "grep -qx stats <<<'$out' && grep -qx snapshot <<<'$out' && grep -qx set <<<'$out'"
check "commands: st -> stats alone" [ "$(complete_words pcon st)" = stats ]
out=$(complete_words pcon stats --b)
check "a command's options: stats --b -> --backend" grep -qx -- --backend <<<"$out"
out=$(complete_words pcon attach -)
check "attach's options: -T, --threads" bash -c "grep -qx -- -T <<<'$out' && grep -qx -- --threads <<<'$out' && ! grep -qx -- -t <<<'$out'"
out=$(complete_words pcon exec /x sle)
check "exec: after the container, a command (sle -> sleep)" grep -qx sleep <<<"$out"
check "stats -B: the backends" [ "$(complete_words pcon stats -B b)" = bpf ]
check "top --sort: the keys" [ "$(complete_words pcon top --sort i)" = input ]
out=$(complete_words pcon top -o container,%C)
check "top -o: the columns after a comma ($out)" [ "$out" = "container,%CPU" ]
check "stats --output: the columns" grep -qx UNINTERRUPTIBLE <<<"$(complete_words pcon stats --output UN)"
check "top -d, -c, -P are offered" [ "$(complete_words pcon top -d)$(complete_words pcon top -c)$(complete_words pcon top -P)" = -d-c-P ]
out=$(complete_words pcon stats u)
v2=$(hierarchies_json | jq -r '[.[] | select(.version == 2)][0].name // empty')
[ -n "$v2" ] && check "hierarchies: u -> $v2:/" grep -qx "$v2:/" <<<"$(complete_words pcon stats "${v2:0:1}")"
if [ "$(id -u)" -eq 0 ] && [ -n "$v2" ]; then
	$PCON create "$v2:/$PFX-comp/inner" >/dev/null
	out=$(complete_words pcon ls "$v2:/$PFX-co")
	check "containers: $v2:/$PFX-co -> $v2:/$PFX-comp" grep -qx "$v2:/$PFX-comp" <<<"$out"
	out=$(complete_words pcon ls "$v2:/$PFX-comp/")
	check "containers below: -> inner" grep -qx "$v2:/$PFX-comp/inner" <<<"$out"
fi
done_testing
