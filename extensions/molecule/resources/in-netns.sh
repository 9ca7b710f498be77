#!/usr/bin/env bash
# Run a host command (from the project's .venv) inside a lab container's network, as if it ran there:
#   in-netns.sh CONTAINER RESOLVER CA_FILE COMMAND [ARGS...]
# It enters the container's network namespace (nsenter -n) and a mount namespace of its own (unshare -m,
# private) where /etc/resolv.conf names RESOLVER only, and trusts CA_FILE (SSL_CERT_FILE). The scenarios use it
# for a peer's implementation that is installed on the host (postfix-mta-sts-resolver: mta-sts-query, and
# mta-sts-daemon as the sender's socketmap on its own 127.0.0.1), never for anything of the collection's.
set -euo pipefail
container=$1 resolver=$2 ca_file=$3
shift 3
pid=$(podman inspect -f '{{.State.Pid}}' "$container")
conf=$(mktemp /tmp/mailtls-resolv.XXXXXX)
printf 'nameserver %s\n' "$resolver" > "$conf"
export SSL_CERT_FILE=$ca_file
# shellcheck disable=SC2016  # $1 and $@ are the inner sh's own arguments
exec nsenter -t "$pid" -n -- unshare -m -- sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$conf" "$@"
