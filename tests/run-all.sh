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
stage docs bash tests/check-docs.sh
# Molecule scenarios run MOLECULE_JOBS at a time (default 3): their containers
# mostly wait on each other (mail queues, retries, reloads), so three scenarios
# share a two-core machine. Each scenario's output goes to its own log, printed
# whole when it ends.
jobs=${MOLECULE_JOBS:-3}
logs=.cache/test-logs
mkdir -p "$logs"
declare -A pid_of=() t0_of=()
finish() {  # $1: scenario; prints its log and records the result
    local s=$1 rc=0
    wait "${pid_of[$s]}" || rc=$?
    echo
    echo "=== molecule:$s (log $logs/molecule-$s.log)"
    sed 's/\x1b\[[0-9;]*m//g' "$logs/molecule-$s.log"
    names+=("molecule:$s") results+=("$rc") times+=("$(($(date +%s) - t0_of[$s]))")
    echo "=== molecule:$s: $([ $rc -eq 0 ] && echo passed || echo "FAILED (exit $rc)") in $(($(date +%s) - t0_of[$s])) s"
    unset "pid_of[$s]"
}
for s in "${scenarios[@]}"; do
    while [ "${#pid_of[@]}" -ge "$jobs" ]; do
        sleep 2
        for r in "${!pid_of[@]}"; do
            kill -0 "${pid_of[$r]}" 2>/dev/null || finish "$r"
        done
    done
    echo "=== molecule:$s: started (molecule test -s $s)"
    t0_of[$s]=$(date +%s)
    molecule test -s "$s" > "$logs/molecule-$s.log" 2>&1 &
    pid_of[$s]=$!
done
while [ "${#pid_of[@]}" -gt 0 ]; do
    sleep 2
    for r in "${!pid_of[@]}"; do
        kill -0 "${pid_of[$r]}" 2>/dev/null || finish "$r"
    done
done

# every requested scenario must have a result (a broken loop must not look like a pass)
if [ "${#names[@]}" -ne $((4 + ${#scenarios[@]})) ]; then
    echo "run-all: ${#names[@]} stages have results, $((4 + ${#scenarios[@]})) were asked for"
    names+=("run-all") results+=(1) times+=(0)
fi

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
# a failed scenario's failure, here at the end where a truncated CI log still shows it: the last
# failure before the first play recap that counts a failed host (failures a block rescued or a task
# ignored come earlier in the log, and are not what stopped the scenario)
for i in "${!names[@]}"; do
    s=${names[$i]#molecule:}
    if [ "${results[$i]}" -ne 0 ] && [ "$s" != "${names[$i]}" ] && [ -f "$logs/molecule-$s.log" ]; then
        echo "=== the failure that ended ${names[$i]}"
        sed 's/\x1b\[[0-9;]*m//g' "$logs/molecule-$s.log" | awk '
            /^(TASK|PLAY) \[|^PLAY RECAP/ { task = $0; cap = 0 }
            /^(fatal|failed):|^\[ERROR\]/ && !cap { buf = task; cap = 1 }
            /\.\.\.ignoring$/ { buf = ""; cap = 0; next }
            cap { buf = buf "\n" substr($0, 1, 400); if (++cap > 14) cap = 0 }
            /^PLAY RECAP/ { recap = 1; next }
            recap && /failed=[1-9]/ { hosts = hosts "\n" $0 }
            recap && /^$/ { recap = 0; if (hosts != "") { print buf; print "recap:" hosts; exit } }
            END { if (hosts == "") print buf }'
    fi
done
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
