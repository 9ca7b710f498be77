#!/usr/bin/env bash
# Run `ansible-test sanity` from any checkout location.
#
# ansible-test needs the collection at .../ansible_collections/mailtls/postfix.
# This copies the files git knows about (tracked, and untracked but not
# ignored) into a temporary tree of that shape and runs there.
#   tests/sanity/run.sh [ansible-test sanity options]
#
# Without options it runs on every Python that ansible-test supports and this
# machine has: each version found (pythonX.Y on PATH, or pyenv's build when the
# pyenv shim for it is not active) is linked into a bin directory on PATH, and
# ansible-test runs its per-version tests (compile, import, ...) on all of them.
# SANITY_PYTHONS="3.11 3.12" narrows that list.
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
# no sanity test is skipped: an ignore file would hide findings
if ls "$top"/tests/sanity/ignore-*.txt >/dev/null 2>&1; then
    echo "sanity: remove $(ls "$top"/tests/sanity/ignore-*.txt): findings are fixed, not ignored"
    exit 1
fi
mkdir -p "$work/bin"
supported=$(python -c 'from ansible_test._internal.constants import SUPPORTED_PYTHON_VERSIONS as S; print(" ".join(S))')
found=()
for v in ${SANITY_PYTHONS:-$supported}; do
    for cand in "$(command -v "python$v" || true)" "$HOME"/.pyenv/versions/"$v".*/bin/"python$v"; do
        if [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c '' 2>/dev/null; then
            ln -sfn "$cand" "$work/bin/python$v"
            found+=("$v")
            break
        fi
    done
done
export PATH="$work/bin:$PATH"
echo "sanity: Pythons ${found[*]} (ansible-test supports $supported)"
ansible-test sanity --local --color no "$@"
