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

# The static stages run side by side, each into its own log, printed whole in
# order when all have ended: together they use one core of two (measured: 220 s
# of CPU in 233 s one after the other), so side by side they end about 100 s
# sooner.
logs=.cache/test-logs
mkdir -p "$logs"
declare -A static_pid=() static_t0=() static_cmd=()
static=(sanity units lint docs)
static_cmd[sanity]="bash tests/sanity/run.sh"
static_cmd[units]="python -m pytest tests/unit"
static_cmd[lint]="ansible-lint --offline --profile production"
static_cmd[docs]="bash tests/check-docs.sh"
for name in "${static[@]}"; do
    echo "=== $name: ${static_cmd[$name]} (started)"
    static_t0[$name]=$(date +%s)
    # word splitting of the fixed command lines above is intended
    # shellcheck disable=SC2086
    ( ${static_cmd[$name]} > "$logs/$name.log" 2>&1; rc=$?; date +%s > "$logs/$name.end"; exit $rc ) &
    static_pid[$name]=$!
done
for name in "${static[@]}"; do
    rc=0
    wait "${static_pid[$name]}" || rc=$?
    t=$(($(cat "$logs/$name.end" 2>/dev/null || date +%s) - static_t0[$name]))
    echo
    echo "=== $name: ${static_cmd[$name]} (log $logs/$name.log)"
    cat "$logs/$name.log"
    names+=("$name") results+=("$rc") times+=("$t")
    echo "=== $name: $([ $rc -eq 0 ] && echo passed || echo "FAILED (exit $rc)") in $t s"
done

# Molecule scenarios run MOLECULE_JOBS at a time (default 3): their containers
# mostly wait on each other (mail queues, retries, reloads), so three scenarios
# share a two-core machine. Each scenario's output goes to its own log, printed
# whole when it ends.
jobs=${MOLECULE_JOBS:-3}
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
    # profile_tasks: each task's start and duration in the log, and the slowest at the end of each playbook
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks molecule test -s "$s" > "$logs/molecule-$s.log" 2>&1 &
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
# ignored come earlier in the log, and are not what stopped the scenario); or, where no task failed
# (an idempotence test), what Molecule printed as CRITICAL
for i in "${!names[@]}"; do
    s=${names[$i]#molecule:}
    if [ "${results[$i]}" -ne 0 ] && [ "$s" != "${names[$i]}" ] && [ -f "$logs/molecule-$s.log" ]; then
        echo "=== the failure that ended ${names[$i]}"
        sed 's/\x1b\[[0-9;]*m//g' "$logs/molecule-$s.log" | awk '
            /^CRITICAL/ && !found { print substr($0, 1, 400); crit = 10; next }
            crit-- > 0 && !found { print substr($0, 1, 400) }
            found { next }
            /^(TASK|PLAY) \[|^PLAY RECAP/ { task = $0; cap = 0 }
            /^(fatal|failed):|^\[ERROR\]/ && !cap { buf = task; cap = 1 }
            /\.\.\.ignoring$/ { buf = ""; cap = 0; next }
            cap { buf = buf "\n" substr($0, 1, 400); if (++cap > 14) cap = 0 }
            /^PLAY RECAP/ { recap = 1; next }
            recap && /failed=[1-9]/ { hosts = hosts "\n" $0 }
            recap && /^$/ { recap = 0; if (hosts != "") { print buf; print "recap:" hosts; found = 1 } }'
    fi
done
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
