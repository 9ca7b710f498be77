#!/usr/bin/env bash
# Documentation checks (a stage of `make test`):
#   - antsibull-docs lint-collection-docs: every plugin's and the role's documentation
#     parses and follows the schema that docs.ansible.com renders;
#   - antsibull-changelog lint: the fragments and changelogs/changelog.yaml are valid;
#   - CHANGELOG.md is what antsibull-changelog generates from changelogs/changelog.yaml.
# ansible-doc rendering of every module, filter and the role is tested in tests/unit/test_docs.py.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# antsibull-docs wants the collection at .../ansible_collections/mailtls/postfix (make lab links it)
coll=$top/.cache/collections/ansible_collections/mailtls/postfix
if [ ! -e "$coll/galaxy.yml" ]; then
    mkdir -p "$(dirname "$coll")" && ln -sfn "$top" "$coll"
fi
cd "$coll"
echo "check-docs: antsibull-docs lint-collection-docs --plugin-docs"
antsibull-docs lint-collection-docs --plugin-docs .
echo "check-docs: antsibull-changelog lint"
antsibull-changelog lint
echo "check-docs: CHANGELOG.md is generated from changelogs/changelog.yaml"
before=$(mktemp)
trap 'rm -f "$before"' EXIT
cp CHANGELOG.md "$before"
antsibull-changelog generate
if ! cmp -s "$before" CHANGELOG.md; then
    diff -u "$before" CHANGELOG.md | head -40
    echo "check-docs: CHANGELOG.md was out of date (regenerated now: commit it)"
    exit 1
fi
echo "check-docs: passed"
