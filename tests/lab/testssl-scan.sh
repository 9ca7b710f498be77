#!/usr/bin/env bash
# Scan lab servers with Debian's testssl.sh from inside a lab container's
# network namespace (the scanner is a peer on the lab network; no DNS lookups,
# nothing leaves the lab).
#
#   tests/lab/testssl-scan.sh FROM_CONTAINER CA_FILE OUT_DIR HOST:PORT:IP[:MODE] ...
#
# MODE: starttls (SMTP STARTTLS), imap or pop3 (their STARTTLS); none: TLS at once.
# Writes OUT_DIR/HOST-PORT.json (testssl.sh --jsonfile) and .txt (its report),
# SCAN_JOBS scans at a time (default 3). Exits non-zero when a scan did not run.
#
# The checks: protocols, cipher categories, forward secrecy, server preference,
# server defaults (certificates) and vulnerabilities (-p -s -f -P -S -U). That is
# testssl.sh's default run less the client simulation, the HTTP headers and the
# per-protocol cipher listing, which find nothing more here and cost half the CPU
# on a server with Debian's defaults (measured: the same findings either way).
# SCAN_FULL=1 runs the default run instead (it also lists every offered suite).
# SCAN_CHECKS="-f ..." runs those checks instead of either.
# SCAN_INSIDE=1 runs the testssl.sh installed in FROM_CONTAINER (podman exec), not
# this machine's: the scanner scenario's second judge is Debian 13's testssl.sh
# 3.2 in the trixie image, which lists the signature algorithms a server accepts
# (-f). CA_FILE is then a path inside the container.
set -euo pipefail
from=$1 ca=$2 out=$3
shift 3
jobs=${SCAN_JOBS:-3}
mkdir -p "$out"
pid=$(podman inspect -f '{{.State.Pid}}' "$from")
if [ -z "$pid" ] || [ "$pid" = 0 ]; then
    echo "testssl-scan: $from is not running" >&2
    exit 1
fi

scan() {  # HOST PORT IP [MODE]
    local host=$1 port=$2 ip=$3 mode=${4:-} extra=()
    if [ -n "${SCAN_CHECKS:-}" ]; then
        read -r -a extra <<< "$SCAN_CHECKS"
    elif [ -z "${SCAN_FULL:-}" ]; then
        extra=(-p -s -f -P -S -U)
    fi
    case "$mode" in
        '') ;;
        starttls) extra+=(--starttls smtp) ;;
        imap|pop3) extra+=(--starttls "$mode") ;;
        *) echo "testssl-scan: $host:$port: unknown mode $mode" >&2; return 1 ;;
    esac
    rm -f "$out/$host-$port.json"
    # --nodns none: no DNS query at all (the name comes with --ip); --add-ca: the lab CA is trusted
    local args=(--quiet --color 0 --warnings off --nodns none --ip "$ip" --add-ca "$ca")
    if [ -n "${SCAN_INSIDE:-}" ]; then
        local inner=/tmp/testssl-scan/$host-$port.json
        podman exec "$from" rm -f "$inner"
        podman exec "$from" mkdir -p /tmp/testssl-scan
        podman exec "$from" testssl "${args[@]}" --jsonfile "$inner" "${extra[@]}" "$host:$port" \
            > "$out/$host-$port.txt" 2>&1 || true
        podman exec "$from" cat "$inner" > "$out/$host-$port.json" 2>/dev/null || rm -f "$out/$host-$port.json"
    else
        nsenter -t "$pid" -n testssl "${args[@]}" \
            --jsonfile "$out/$host-$port.json" "${extra[@]}" "$host:$port" > "$out/$host-$port.txt" 2>&1 || true
    fi
    if [ ! -s "$out/$host-$port.json" ]; then
        echo "testssl-scan: no result for $host:$port (see $out/$host-$port.txt)" >&2
        return 1
    fi
    echo "testssl-scan: $host:$port done"
}

expected=()
for target in "$@"; do
    IFS=: read -r host port ip mode <<< "$target"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
    scan "$host" "$port" "$ip" "$mode" &
    expected+=("$out/$host-$port.json")
done
wait
# a finished job may already have been reaped by `jobs` above, so judge by the results, not by wait
rc=0
for f in "${expected[@]}"; do
    [ -s "$f" ] || { echo "testssl-scan: missing $f" >&2; rc=1; }
done
exit $rc
