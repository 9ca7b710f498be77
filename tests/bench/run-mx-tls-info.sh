#!/usr/bin/env bash
# Run the mx_tls_info benchmark inside a lab container (Postfix 3.10, trixie).
#   tests/bench/run-mx-tls-info.sh [--n 500 5000] [--rtt 0.1] [--finger-max 500] ...
# Needs `make setup` (the venv provides ansible's module_utils, mounted read-only).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export CONTAINERS_CONF=$top/tests/lab/containers.conf
ansible_pkg=$("$top/.venv/bin/python" -c 'import ansible, os; print(os.path.dirname(ansible.__file__))')
name=mailtls-bench-$$
trap 'podman rm -f -t 0 "$name" >/dev/null 2>&1 || true' EXIT
# ansible-core's pure-Python dependencies from the venv, for --playbook (ansible-playbook inside the container);
# their metadata too, which ansible-core reads at start
site=$(dirname "$ansible_pkg")
mounts=()
for pattern in ansible_core-*.dist-info jinja2 jinja2-*.dist-info markupsafe markupsafe-*.dist-info yaml PyYAML-*.dist-info \
               packaging packaging-*.dist-info resolvelib resolvelib-*.dist-info; do
    for path in "$site"/$pattern; do
        if [ -e "$path" ]; then mounts+=(-v "$path:/src/$(basename "$path"):ro"); fi
    done
done
podman run -d --name "$name" --hostname bench.lab.test \
    -v "$top:/src/ansible_collections/mailtls/postfix:ro" \
    -v "$ansible_pkg:/src/ansible:ro" "${mounts[@]}" \
    localhost/mailtls-lab:trixie >/dev/null
for _ in $(seq 30); do
    podman exec "$name" postfix status >/dev/null 2>&1 && break
    sleep 1
done
# TLS logging off on the server and no per-client limits that would throttle one test client
podman exec "$name" postconf -e smtpd_tls_loglevel=0 smtpd_client_connection_count_limit=0 \
    smtpd_client_connection_rate_limit=0 default_process_limit=300
podman exec "$name" postfix reload >/dev/null
podman exec -e PYTHONPATH=/src "$name" python3 /src/ansible_collections/mailtls/postfix/tests/bench/mx_tls_info_bench.py \
    --collections /src "$@"
