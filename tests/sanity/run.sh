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
# Files git lists but the work tree no longer has are left out.
(cd "$top" && git ls-files -z --cached --others --exclude-standard) \
    | (cd "$top" && while IFS= read -r -d '' f; do
           if [ -e "$f" ]; then cp --parents -t "$dest" "$f"; fi
       done)
cd "$dest"
git init -q . && git add -A
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--python "${SANITY_PYTHON:-3.11}")
ansible-test sanity --local --color no "${args[@]}"
