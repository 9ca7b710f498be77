#!/usr/bin/env bash
# Run `ansible-test sanity` from any checkout location.
#
# ansible-test needs the collection at .../ansible_collections/mailtls/postfix.
# This copies the files git knows about (tracked, and untracked but not
# ignored) into a temporary tree of that shape and runs there.
#   tests/sanity/run.sh [ansible-test sanity options]   (default: --python 3.11)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mailtls-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/ansible_collections/mailtls/postfix
mkdir -p "$dest"
(cd "$top" && git ls-files -z --cached --others --exclude-standard) \
    | (cd "$top" && xargs -0 cp --parents -t "$dest" 2>/dev/null || true)
# Files listed by git but deleted in the work tree are simply absent.
cd "$dest"
git init -q . && git add -A
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--python "${SANITY_PYTHON:-3.11}")
ansible-test sanity --local --color no "${args[@]}"
