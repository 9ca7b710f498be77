#!/usr/bin/env bash
# Run every test stage, keep going after a failure, print a summary and the
# total time. Called by `make test` (with the venv on PATH and the
# environment the Makefile exports).
#   tests/run-all.sh [molecule scenario ...]     (default: smoke)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(smoke)

start=$(date +%s)
names=() results=() times=()

stage() {
    local name=$1 t0 rc
    shift
    echo
    echo "=== $name: $*"
    t0=$(date +%s)
    "$@"
    rc=$?
    names+=("$name") results+=("$rc") times+=("$(($(date +%s) - t0))")
    echo "=== $name: $([ $rc -eq 0 ] && echo passed || echo "FAILED (exit $rc)") in $(($(date +%s) - t0)) s"
}

stage sanity bash tests/sanity/run.sh
stage units python -m pytest tests/unit
stage lint ansible-lint --offline --profile production
for s in "${scenarios[@]}"; do
    stage "molecule:$s" molecule test -s "$s"
done

passed=0 failed=0
echo
echo "=== summary"
for i in "${!names[@]}"; do
    if [ "${results[$i]}" -eq 0 ]; then
        passed=$((passed + 1)); status=passed
    else
        failed=$((failed + 1)); status=FAILED
    fi
    printf '  %-24s %-7s %5d s\n' "${names[$i]}" "$status" "${times[$i]}"
done
echo "  total time: $(($(date +%s) - start)) s"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
