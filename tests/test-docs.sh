#!/bin/bash
# The shipped documentation (docs/meson.build: man pages and completion generated from the
# programs' --help): every page renders without a groff warning, names every command and every
# option, and the completion completes commands, options and device addresses (from a
# fixture's sysfs with --root) in bash and parses in zsh. TAP.
set -uo pipefail
build=$1 hostdev=$2
src=$(cd "$(dirname "$0")/.." && pwd)
docs=$build/docs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fixture=$tmp/root
python3 "$src/tests/fixtures/mkfixture.py" "$src/tests/fixtures/topologies/desktop.json" "$fixture" >/dev/null
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/# /'; }
check() { if eval "$2"; then ok "$1"; else not_ok "$1" "${3:-}"; fi; }

for page in hostdev.8 hostdevd.8 hostdevd.conf.5 hostdev-engine.8; do
        warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$docs/$page" 2>&1)
        check "$page renders without warnings" '[ -z "$warnings" ]' "$warnings"
done

commands=$("$hostdev" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | grep -v '^help$')
missing=
for c in $commands; do
        grep -q "^\.SS $(printf '%s' "$c" | sed 's/-/\\\\-/g')\$" "$docs/hostdev.8" || missing+=" $c"
        for o in $("$hostdev" "$c" --help | sed -n '/^Application Options:/,/^$/p' | grep -o -- '--[a-z-]*' | sort -u); do
                grep -q -- "\\\\fB$(printf '%s' "$o" | sed 's/-/\\\\-/g')\\\\fR" "$docs/hostdev.8" || missing+=" $c$o"
        done
done
check "hostdev.8 has every command and option" '[ -z "$missing" ]' "missing:$missing"
missing=
for o in $("$(dirname "$hostdev")/../agent/hostdevd" --help | sed -n '/^Application Options:/,/^$/p' | grep -o -- '--[a-z-]*' | sort -u); do
        grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$docs/hostdevd.8" || missing+=" $o"
done
check "hostdevd.8 has every option" '[ -z "$missing" ]' "missing:$missing"
missing=
engine=$(dirname "$hostdev")/../engine/hostdev-engine
for group in hosts vms; do
        for c in $("$engine" $group --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'); do
                grep -q "^\.SS $group $(printf '%s' "$c" | sed 's/-/\\\\-/g')\$" "$docs/hostdev-engine.8" || missing+=" $group-$c"
        done
done
check "hostdev-engine.8 has every client command" '[ -z "$missing" ]' "missing:$missing"
missing=
for key in $(grep -o '^[a-z-]*=' "$src/data/hostdevd.conf" | tr -d =); do
        grep -q -- "^\\\\fB$(printf '%s' "$key" | sed 's/-/\\\\-/g')\\\\fR=" "$docs/hostdevd.conf.5" || missing+=" $key"
done
check "hostdevd.conf.5 has every key" '[ -z "$missing" ]' "missing:$missing"

# bash: complete WORDS... (the last word is the one being completed)
complete_bash() {
        bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _hostdev; printf "%s\n" "${COMPREPLY[@]}"' _ "$docs/hostdev" "$@"
}
got=$(complete_bash hostdev det)
check "bash completes a command" '[ "$got" = detach ]' "$got"
got=$(complete_bash hostdev detach --gr)
check "bash completes a command's option" '[ "$got" = --group ]' "$got"
got=$(complete_bash hostdev --root "$fixture" show 0000:01:0 | tr '\n' ' ')
check "bash completes device addresses below --root" '[ "$got" = "0000:01:00.0 0000:01:00.1 " ]' "$got"
got=$(complete_bash hostdev list --class g)
check "bash completes an option's value" '[ "$got" = gpu ]' "$got"
got=$(complete_bash hostdev help gro)
check "bash completes help COMMAND" '[ "$got" = groups ]' "$got"
out=$(zsh -n "$docs/_hostdev" 2>&1)
check "zsh completion parses" '[ -z "$out" ]' "$out"
check "zsh completion lists every command" '[ "$(for c in $commands; do grep -q "'"'"'$c:" "$docs/_hostdev" || echo "$c"; done)" = "" ]'

echo "1..$n"
[ "$failed" -eq 0 ]
