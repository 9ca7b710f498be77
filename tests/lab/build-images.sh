#!/usr/bin/env bash
# Build the lab images from Debian packages: debootstrap, then podman import.
#
#   tests/lab/build-images.sh [SUITE ...]      (default: bookworm trixie bullseye)
#
# localhost/mailtls-lab:bookworm  Postfix 3.7
# localhost/mailtls-lab:trixie    Postfix 3.10
# localhost/mailtls-lab:bullseye  Postfix 3.5 (the major version of RHEL 8 and 9)
# localhost/mailtls-ee-base:bookworm  (SUITE ee, not a default; ee/build.sh asks for it) the execution
#                                 environment's base image: what ansible-builder needs of one (python3 and
#                                 pip, the package manager it calls: ee/mailtls-pkg, apt-get behind it) and
#                                 the OpenSSH client, no lab software
#
# Each image is labelled with a hash of its recipe (this script, the package
# list and the init script). An image whose label matches is kept; any change
# to the recipe rebuilds it. Set MAILTLS_LAB_REBUILD=1 to force a rebuild.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# The mirror: MAILTLS_LAB_MIRROR, else the one this machine's apt uses.
mirror=${MAILTLS_LAB_MIRROR:-$(python3 "$here/apt-mirror.py")}
cache=${MAILTLS_LAB_CACHE:-$here/../../.cache/lab}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie bullseye)

# What the tests need inside: Postfix and its TLS tools (posttls-finger ships
# with postfix), Python for Ansible modules and their libraries, openssl,
# a CA bundle, dnsmasq for lab DNS, nsd (authoritative), unbound (validating
# resolver) and ldnsutils (keys, zone signing) for the DNSSEC-signed DANE lab,
# SASL for submission tests, Dovecot (IMAP and POP3) so that the fleet's own
# mailbox ports can be judged against a real server, certbot (the ACME client
# the role drives) and pebble (an ACME test CA), and the usual process and
# network tools. Delivered mail lands in /var/mail mbox files.
# (python3-cffi-backend is named because debootstrap does not resolve the
# virtual package python3-cryptography depends on.)
packages=(
    postfix python3 python3-cryptography python3-cffi-backend python3-dnspython
    openssl ca-certificates ssl-cert iproute2 procps dnsmasq
    nsd unbound ldnsutils
    libsasl2-modules sasl2-bin
    dovecot-imapd dovecot-pop3d
)
# the ACME lab (acme scenario) runs on bookworm only: certbot with its RFC 2136
# plugin (dns-01) and pebble there, Knot DNS (the authoritative server that signs
# its zone itself and takes RFC 2136 updates; knot-dnsutils for kdig and
# keymgr's DS), bind9-dnsutils (delv and dig, the judges of validated answers)
# and nginx (the MTA-STS policy over HTTPS);
# Debian 13's testssl.sh (3.2, which lists and rates the signature algorithms a
# server accepts) is the scanner scenario's second judge, run from scan-client;
# python3-venv there is what the tls role installs tlsrpt-reporter into (Postfix
# 3.10's TLSRPT reports; the reporter is on PyPI, not in Debian); openssh-server on
# bookworm: the fleet lab's mail hosts are reached over SSH by the execution
# environment (its host keys are made in each container, never in the image)
declare -A suite_packages=([bookworm]="certbot python3-certbot-dns-rfc2136 pebble knot knot-dnsutils bind9-dnsutils nginx openssh-server" [trixie]="testssl.sh python3-venv")

ee_packages=(python3 python3-pip python3-venv openssh-client ca-certificates)

recipe_hash() {
    cat "$here/build-images.sh" "$here/mailtls-lab-init" "$here/../../ee/mailtls-pkg" | sha256sum | cut -c1-16
}

build() {
    local suite=$1 tag=localhost/mailtls-lab:$1 want have root include cmd=/usr/local/sbin/mailtls-lab-init
    include="${packages[*]} ${suite_packages[$suite]:-}"
    if [ "$suite" = ee ]; then
        suite=bookworm tag=localhost/mailtls-ee-base:bookworm include="${ee_packages[*]}" cmd=/bin/bash
    fi
    want=$(recipe_hash)
    have=$(podman image inspect --format '{{ index .Labels "mailtls.recipe" }}' "$tag" 2>/dev/null || true)
    if [ "$have" = "$want" ] && [ -z "${MAILTLS_LAB_REBUILD:-}" ]; then
        echo "lab: $tag is up to date (recipe $want)"
        return 0
    fi
    echo "lab: building $tag (recipe $want) from $mirror"
    mkdir -p "$cache/debs-$suite"
    root=$(mktemp -d "${TMPDIR:-/tmp}/mailtls-lab-$suite.XXXXXX")
    trap 'rm -rf "$root"' RETURN
    debootstrap --variant=minbase --cache-dir="$(cd "$cache/debs-$suite" && pwd)" \
        --include="$(echo "$include" | tr ' ' ',' | sed 's/,*$//')" "$suite" "$root" "$mirror" \
        > "$cache/debootstrap-$suite.log" 2>&1 || {
            tail -n 30 "$cache/debootstrap-$suite.log" >&2
            echo "lab: debootstrap of $suite failed (log: $cache/debootstrap-$suite.log)" >&2
            return 1
        }

    # Nothing host-specific in the image: no snakeoil key from this machine,
    # no build host name; podman provides hostname, hosts and resolv.conf.
    rm -f "$root/etc/ssl/private/ssl-cert-snakeoil.key" "$root/etc/ssl/certs/ssl-cert-snakeoil.pem" \
        "$root"/etc/ssh/ssh_host_*
    : > "$root/etc/mailname"
    rm -f "$root/etc/hostname"
    rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
    if [ "$cmd" = /bin/bash ]; then
        install -m 0755 "$here/../../ee/mailtls-pkg" "$root/usr/local/sbin/mailtls-pkg"
    else
        install -m 0755 "$here/mailtls-lab-init" "$root/usr/local/sbin/mailtls-lab-init"
    fi

    tar -C "$root" --numeric-owner -c . | podman import --quiet \
        --change "LABEL mailtls.recipe=$want" \
        --change "LABEL mailtls.suite=$suite" \
        --change "CMD [\"$cmd\"]" \
        - "$tag" > /dev/null
    echo "lab: built $tag"
}

for s in "${suites[@]}"; do
    build "$s"
done
