#!/usr/bin/env bash
# make ee: the execution environment localhost/mailtls-ee:latest, built by ansible-builder from
# ee/execution-environment.yml (see there for what goes in). Prints the build time and the image size.
#
#   ee/build.sh
#
# Steps: the base image (tests/lab/build-images.sh ee); the collection tarball (ansible-galaxy collection build, as
# `make build`); the wheelhouse - every Python package the EE installs, downloaded here by pip with the
# versions of tests/constraints.txt, binary wheels only (a package pip cannot get stops the build here,
# named); then ansible-builder build with podman.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
venv=${VENV:-$top/.venv}
cache=$top/.cache/ee
context=$cache/context
start=$(date +%s)

# the base image: Debian 12's packages, as the lab images are made
bash "$top/tests/lab/build-images.sh" ee

pin() {  # the version tests/constraints.txt pins for $1
    local v
    v=$(sed -n "s/^$1==//Ip" "$top/tests/constraints.txt" | head -n 1)
    [ -n "$v" ] || { echo "ee: tests/constraints.txt pins no version of $1" >&2; exit 1; }
    echo "$v"
}
core=$(pin ansible-core)
runner=$(pin ansible-runner)

rm -rf "$context"
mkdir -p "$context/collection" "$cache/wheels"
"$venv/bin/ansible-galaxy" collection build --force --output-path "$context/collection" "$top" > /dev/null
tarball=$(cd "$context/collection" && ls mailtls-postfix-*.tar.gz)
echo "ee: collection $tarball"

# ansible-builder's own stages install bindep, PyYAML and packaging (builder) and dumb-init (the init of
# the final image) besides ansible-core, ansible-runner and the collection's requirements.txt
if ! "$venv/bin/python" -m pip download --quiet --only-binary=:all: --dest "$cache/wheels" \
        -c "$top/tests/constraints.txt" \
        "ansible-core==$core" "ansible-runner==$runner" -r "$top/requirements.txt" \
        bindep PyYAML packaging dumb-init==1.2.5 2> "$cache/pip-download.log"; then
    grep -E 'ERROR|No matching' "$cache/pip-download.log" >&2 || tail -n 20 "$cache/pip-download.log" >&2
    echo "ee: pip cannot get every package the EE needs (above); nothing was built" >&2
    exit 1
fi
cp -r "$cache/wheels" "$context/wheels"
cp "$here/pip.conf" "$context/pip.conf"
echo "ee: wheelhouse $(find "$context/wheels" -name '*.whl' | wc -l) wheels"

ANSIBLE_CORE_VERSION=$core ANSIBLE_RUNNER_VERSION=$runner COLLECTION_TARBALL=$tarball \
    "$venv/bin/python" -c 'import os, string, sys; sys.stdout.write(string.Template(open(sys.argv[1]).read()).substitute(os.environ))' \
    "$here/execution-environment.yml" > "$context/execution-environment.yml"

"$venv/bin/ansible-builder" build --file "$context/execution-environment.yml" --context "$context/build" \
    --container-runtime podman --tag localhost/mailtls-ee:latest --verbosity 3 > "$cache/build.log" 2>&1 || {
        tail -n 40 "$cache/build.log" >&2
        echo "ee: ansible-builder build failed (log: $cache/build.log)" >&2
        exit 1
    }
size=$(podman image inspect --format '{{ .Size }}' localhost/mailtls-ee:latest)
echo "ee: built localhost/mailtls-ee:latest (ansible-core $core, ansible-runner $runner, $tarball) in" \
     "$(($(date +%s) - start)) s, $((size / 1000000)) MB"
