#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: mx_tls_info
short_description: Probe mail servers over SMTP STARTTLS and recommend Postfix TLS policies
version_added: 0.1.0
description:
  - Does what C(posttls-finger) does for one destination, for many destinations at once and completely
    (every MX host and every address), and turns what it sees into C(smtp_tls_policy_maps) entries.
  - For each destination it looks up the MX hosts (with the RFC 5321 fallback to the domain's own
    A/AAAA records), connects to every address, says EHLO, starts TLS the way Postfix does (no SNI by
    default) and reports the certificate, its certificate and public-key fingerprints, TLSA data,
    whether the chain verifies and whether the names match the destination by the C(secure) level's rules.
  - For each MX host it looks up the TLSA records C(_25._tcp.HOST) with the DNSSEC OK and AD bits and reports
    the records, whether the resolver validated them (AD bit) and whether the presented key matches them.
  - It recommends V(dane) where every MX host publishes DNSSEC-validated TLSA records that match its key,
    V(secure) where every endpoint verifies by name, V(fingerprint) with the pins of every
    endpoint where every endpoint offers TLS but not all verify, V(encrypt) where TLS was seen everywhere
    an endpoint answered, and V(may) otherwise, with the reason.
  - One failing endpoint never fails the task; only invalid options do.
  - Each distinct endpoint is probed once per run, however many destinations share it.
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - cryptography (Python library on the host that runs the module)
  - dnspython (Python library; needed only for destinations that need an MX lookup, and for O(nameservers))
extends_documentation_fragment:
  - mailtls.postfix.probe
  - mailtls.postfix.probe.connection
  - mailtls.postfix.probe.expiry
  - mailtls.postfix.postfix
  - mailtls.postfix.postfix.digest
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
options:
  destinations:
    description:
      - Destinations as they would be written as policy-map keys.
      - A domain (V(example.com)) gets an MX lookup, also with a port (V(smtp.example.com:587), the usual
        C(relayhost) form); a next hop in brackets (V([host]), V([host]:port), V([192.0.2.1]:port),
        V([2001:db8::1]:port)) does not.
      - A port may be a service name (V([smarthost.example]:submission)), resolved from the services database as
        Postfix resolves it; the result keeps the key as written. MTA-STS is not looked up for a domain with a port.
      - Internationalised domain names are converted to their A-label form.
    type: list
    elements: str
    required: true
  port:
    description: The port for destinations that do not name one.
    type: int
    default: 25
  ehlo_name:
    description: The name sent with EHLO. Defaults to the fully qualified name of the host running the module.
    type: str
  ca_path:
    description: Directory of hashed CA certificates that the chain must verify against.
    type: path
  sni:
    description:
      - The server name to send with TLS SNI. By default none is sent, as Postfix connects
        (C(smtp_tls_servername) empty).
    type: str
  address_family:
    description: Which addresses of each MX host to probe.
    type: str
    choices: [any, ipv4, ipv6]
    default: any
  pin:
    description:
      - What recommended V(fingerprint) entries pin. V(pubkey) survives certificate renewals that keep the key.
    type: str
    choices: [pubkey, cert]
    default: pubkey
  mta_sts:
    description:
      - Also read each domain's MTA-STS policy (RFC 8461) - the C(_mta-sts) TXT record, then
        C(https://mta-sts.DOMAIN/.well-known/mta-sts.txt), whose certificate must verify against O(ca_file)
        (or the system's CA certificates) and name that host.
      - An V(enforce) policy makes the recommendation V(secure) with the policy's C(mx) patterns as match
        names (C(*.example.com) becomes C(.example.com)), unless DNSSEC-validated TLSA records cover every MX
        (DANE takes precedence). V(testing) and V(none) policies enforce nothing.
    type: bool
    default: false
  tlsa:
    description:
      - Look up the DANE TLSA records (C(_PORT._tcp.HOST), with the DNSSEC OK bit) of every MX host name, and report them
        per endpoint (RV(results[].endpoints[].dane)). V(false) skips these lookups; then no endpoint is judged for DANE and
        V(dane) is never recommended. Bracketed next hops get no TLSA lookup either way.
    type: bool
    default: true
    version_added: 0.1.0
  mta_sts_cache:
    description:
      - With O(mta_sts), the policies read before, as returned in RV(mta_sts_cache) by an earlier run
        (the gather playbook keeps them in C(mta-sts-cache.json) on the controller).
      - RFC 8461 3.3 - where no live policy can be read now (no TXT record, the HTTPS host unreachable or its
        certificate not valid), a cached policy that has not outlived its C(max_age) applies, so removing the
        TXT record or blocking the policy host does not switch enforcement off. A policy read now replaces the cached one.
      - An entry that is not as this module writes them is an error that names the domain.
    type: dict
    version_added: 0.1.0
  save:
    description:
      - Write what was seen on the controller, and return a compact result instead of RV(results) (the action
        plugin does this; the module itself ignores the option). At thousands of destinations the full result
        is megabytes, and a registered copy of it costs the play more than the probe.
      - C(dir) (required) - the directory on the controller (made where missing); C(files) (required) - the file
        names in it that each get the record, for example C(gather-TIME-HOST.json) and C(gather-latest.json);
        C(record) - keys written beside C(digest), C(summary) and C(results) (the gather playbook's C(generated)
        and C(probed_from)); C(mta_sts_cache) - a file name for RV(mta_sts_cache); C(show) - how many of the
        recommendations to return in RV(shown) (default 25).
      - Each file is written whole (a temporary file renamed over it). In check mode nothing is written.
    type: dict
    version_added: 0.1.0
notes:
  - Probes send EHLO, STARTTLS and QUIT; no mail is sent.
  - Sessions per endpoint - see RV(results[].endpoints[].sessions); most endpoints cost one, an ECDSA key one more to ask for an RSA key.
seealso:
  - name: Postfix TLS policy maps
    description: The levels and attributes the recommendations use.
    link: https://www.postfix.org/TLS_README.html#client_tls_policy
"""

EXAMPLES = r"""
- name: Probe the MX servers of partner domains
  mailtls.postfix.mx_tls_info:
    destinations:
      - example.com
      - example.net
      - "[relay.example.org]:587"
  register: probe

- name: Show the recommended policy lines
  ansible.builtin.debug:
    msg: "{{ probe.results | map(attribute='policy_line') | list }}"

- name: Probe through a lab resolver, trusting a lab CA, pinning with sha256
  mailtls.postfix.mx_tls_info:
    destinations: "{{ partner_domains }}"
    nameservers: ["10.89.0.2"]
    ca_file: /etc/ssl/lab-ca.pem
    digest: sha256
    timeout: 5
    concurrency: 64
  register: probe
"""

RETURN = r"""
results:
  description: One item per destination, in the order of O(destinations).
  returned: unless O(save) is given (then they are in the saved files)
  type: list
  elements: dict
  contains:
    destination:
      description: The destination as given.
      type: str
      sample: example.com
    key:
      description: The policy-map key for the destination (A-label, lower case).
      type: str
      sample: example.com
    mx:
      description: MX hosts by preference with their addresses; a bracketed next hop gives one entry, preference 0.
      type: list
      elements: dict
      sample: [{hostname: mx1.example.com, preference: 10, addresses: [192.0.2.10], error: null}]
    mx_note:
      description: Set when the domain has no MX and its own address records were used.
      type: str
      sample: "no MX record: the domain itself (RFC 5321 fallback)"
    error:
      description: Why the destination could not be resolved, or null.
      type: str
      sample: "example.invalid: no such domain (NXDOMAIN)"
    endpoints:
      description: Every MX host x address probed for this destination.
      type: list
      elements: dict
      contains:
        hostname: {description: MX host name., type: str, sample: mx1.example.com}
        address: {description: IP address probed., type: str, sample: 192.0.2.10}
        port: {description: TCP port., type: int, sample: 25}
        starttls:
          description: Whether the server offered STARTTLS; null in implicit mode (O(tls_mode)).
          type: bool
          sample: true
        tls_mode:
          description: How TLS was started on this endpoint, V(starttls) or V(implicit).
          type: str
          sample: starttls
        keys:
          description:
            - Every key the endpoint presents, the one a default client gets first. Each has C(certificate),
              C(fingerprints), C(tlsa), C(tls), C(chain_verified), C(verify_error), C(name_verified) and C(dane), as
              the endpoint has for its first key.
            - When the first key is ECDSA (or RSA in TLS 1.2), one more session asks, with TLS 1.2 and the suites of
              the other authentication only, for a key of the other kind; a server that holds both (the tls role
              deploys an RSA and an ECDSA key) shows it there. An RSA key chosen in TLS 1.3 is taken as the only
              key, as this client prefers ECDSA signatures, so a server with an ECDSA key would have used it.
          type: list
          elements: dict
        other_key:
          description: Why no second key is listed (none offered, or not asked and why); null when one is.
          type: str
          sample: "no RSA key (TLS 1.2 with aRSA suites only: TLS handshake failed: SSLV3_ALERT_HANDSHAKE_FAILURE)"
        sessions:
          description:
            - SMTP sessions this endpoint cost. The chain is read without verification and judged from that
              handshake where Python hands it over (3.10 and later) - certain when no trust anchor issued any
              certificate served (self-signed, another CA), or when cryptography 42 or later verifies it. Where
              neither is certain, one more session verifies with OpenSSL, as Postfix would. With Python 3.9 the
              first session verifies and an untrusted chain costs a second one to read it. Asking for a second
              key costs one more.
          type: int
          sample: 1
        error:
          description: One line naming why the probe stopped, or null.
          type: str
          sample: STARTTLS not offered
        tls: {description: Protocol version and cipher of the session., type: dict, sample: {version: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384}}
        certificate:
          description: Facts about the leaf certificate.
          type: dict
          sample: {subject: CN=mx1.example.com, issuer: "CN=R11,O=Let's Encrypt,C=US", san: [mx1.example.com],
                   not_before: "2026-10-01T00:00:00Z", not_after: "2026-12-30T00:00:00Z", days_remaining: 32,
                   self_signed: false, key_type: RSA, key_bits: 2048}
        fingerprints:
          description: Certificate and public-key fingerprints (upper-case hex pairs joined by colons), by digest.
          type: dict
          sample: {cert: {sha256: "AB:CD:...", sha1: "...", md5: "..."}, pubkey: {sha256: "...", sha1: "...", md5: "..."}}
        tlsa:
          description: TLSA association data for DANE-EE records (3 1 1 and 3 0 1).
          type: dict
          sample: {"3 1 1": "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"}
        dane:
          description:
            - The TLSA records of C(_PORT._tcp.HOSTNAME) (asked with the DO and AD bits), null for IP next hops.
            - C(validated) is the resolver's AD bit (the answer was DNSSEC-validated; only a validating resolver you
              trust sets it), C(usable) says validated records exist (Postfix's V(dane) level would enforce them),
              C(matches) whether a DANE-EE (3 1 1 or 3 0 1) record matches the presented key (null when no such
              record exists or there was no TLS session), C(ttl) the records' TTL (the RRSIG's original TTL where the
              resolver returns signatures; null without records).
          type: dict
          sample: {name: _25._tcp.mx1.example.com, records: [{usage: 3, selector: 1, mtype: 1, data: "0c72ac70..."}],
                   validated: true, usable: true, matches: true, error: null, ttl: 3600}
        chain_verified: {description: Whether the chain verifies against the CA certificates., type: bool, sample: true}
        verify_error:
          description: Why the chain does not verify, or null.
          type: str
          sample: self-signed certificate
        name_verified:
          description: Whether the certificate names match the destination by the secure level's default rules (nexthop, dot-nexthop).
          type: bool
          sample: true
    policy:
      description: The recommended policy entry (V(dane) when every MX host has DNSSEC-validated TLSA records that match its key).
      type: dict
      sample: {level: secure, match: [nexthop, dot-nexthop], reason: every endpoint presents a certificate that verifies for the destination}
      contains:
        level:
          description: The recommended level.
          type: str
          sample: fingerprint
        fingerprints:
          description: At level V(fingerprint), the pins (written as C(match=) joined by C(|)).
          type: list
          elements: str
        match:
          description: At levels V(secure) and V(verify), the names to match.
          type: list
          elements: str
        reason:
          description: Why this level.
          type: str
        digest:
          description: At level V(fingerprint), the digest of the pins.
          type: str
          sample: sha256
        pin:
          description: At level V(fingerprint), what is pinned, V(pubkey) or V(cert).
          type: str
          sample: pubkey
        mta_sts:
          description: True where the recommendation comes from an MTA-STS policy in enforce mode.
          type: bool
    mta_sts:
      description:
        - With O(mta_sts), the domain's policy - C(id) from the TXT record, C(mode), C(mx), C(max_age),
          C(policy_strings) (its lines) - or C(error) naming why a published policy could not be read (treated as no
          policy, unless a cached one applies); null otherwise.
        - C(source) says where the policy came from, V(fetched) (read now) or V(cache) (O(mta_sts_cache), within its
          C(max_age); C(error) then says why no live policy was read), and C(fetched) when it was read (seconds
          since the epoch).
      type: dict
      sample: {id: "20261129", mode: enforce, mx: [mx1.example.com, "*.example.com"], max_age: 604800,
               policy_strings: ["version: STSv1", "mode: enforce", "mx: mx1.example.com", "mx: *.example.com",
                                "max_age: 604800"], error: null, source: fetched, fetched: 1795929600}
    policy_line:
      description: The recommended entry as a policy-map line.
      type: str
      sample: example.com secure match=nexthop:dot-nexthop
summary:
  description:
    - Counts over the whole run. C(expiring) counts the certificates that expire within O(expiry_warn_days);
      C(expiring_30_days) (within 30 days) is deprecated and will be removed in 1.0.0.
  returned: always
  type: dict
  sample: {destinations: 3, destinations_unresolved: 0, endpoints: 5, endpoints_tls: 5, endpoints_verified: 3,
           endpoints_no_starttls: 0, endpoints_failed: 0, expiring: 0, expiring_30_days: 0,
           levels: {dane: 0, secure: 1, fingerprint: 1, encrypt: 0, may: 1}}
mta_sts_cache:
  description:
    - With O(mta_sts), the MTA-STS policies to keep for the next run (give them back as O(mta_sts_cache)) - the ones
      read now, and earlier ones still within their C(max_age); one entry per domain.
  returned: when O(mta_sts) is true and O(save) is not given
  type: dict
  sample: {example.com: {id: "20261129", mode: enforce, mx: [mx1.example.com], max_age: 604800,
                         policy_strings: ["version: STSv1", "mode: enforce", "mx: mx1.example.com", "max_age: 604800"],
                         fetched: 1795929600}}
digest:
  description: The digest used for recommended pins.
  returned: always
  type: str
  sample: sha256
saved:
  description: With O(save), the files written on the controller (none in check mode).
  returned: when O(save) is given
  type: list
  elements: str
  sample: [/srv/mailtls-results/gather-20261205T170000Z-mx1.json, /srv/mailtls-results/gather-latest.json]
destinations:
  description: With O(save), how many destinations the saved RV(results) hold.
  returned: when O(save) is given
  type: int
  sample: 5000
shown:
  description: With O(save), the first recommendations (O(save) C(show)), each with its destination and reason.
  returned: when O(save) is given
  type: list
  elements: dict
  sample: [{destination: example.com, policy_line: example.com secure match=nexthop:dot-nexthop,
            reason: every endpoint verifies by name}]
"""

import socket

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._decide import recommend_results
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import (
    DNSPYTHON_IMPORT_ERROR,
    HAS_DNSPYTHON,
    Resolver,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import Prober, parse_destinations
from ansible_collections.mailtls.postfix.plugins.module_utils._options import (
    DIGEST_OPTION,
    EXPIRY_OPTION,
    POSTFIX_OPTIONS,
    PROBE_OPTIONS,
    argument_spec,
    check_probe_options,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            PROBE_OPTIONS, POSTFIX_OPTIONS, DIGEST_OPTION, EXPIRY_OPTION,
            destinations=dict(type='list', elements='str', required=True),
            port=dict(type='int', default=25),
            ehlo_name=dict(type='str'),
            ca_path=dict(type='path'),
            sni=dict(type='str'),
            address_family=dict(type='str', default='any', choices=['any', 'ipv4', 'ipv6']),
            pin=dict(type='str', default='pubkey', choices=['pubkey', 'cert']),
            mta_sts=dict(type='bool', default=False),
            mta_sts_cache=dict(type='dict'),
            tlsa=dict(type='bool', default=True),
            # the action's (written on the controller); the module ignores it
            save=dict(type='dict'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    check_probe_options(module)
    try:
        nexthops = parse_destinations(p['destinations'])
        if not HAS_DNSPYTHON and (p['nameservers'] or any(nh.mx for nh in nexthops)):
            module.fail_json(msg=missing_required_lib('dnspython', reason='for MX lookups and nameservers'),
                             exception=DNSPYTHON_IMPORT_ERROR)
        resolver = Resolver(p['nameservers'], p['timeout'], p['address_family'])
        digest = p['digest'] or Instance(module, p['config_dir'], required=False).effective_digest() or 'sha256'
        prober = Prober(
            resolver, port=p['port'], timeout=p['timeout'], concurrency=p['concurrency'],
            ehlo_name=p['ehlo_name'] or socket.getfqdn(), ca_file=p['ca_file'], ca_path=p['ca_path'],
            sni=p['sni'], mta_sts=p['mta_sts'], sts_cache=p['mta_sts_cache'], dane=p['tlsa'], tls_mode=p['tls_mode'],
            expiry_warn_days=p['expiry_warn_days'],
        )
        # the probe gives facts; the decide stage turns each destination's facts into a recommendation
        results, summary = prober.run(nexthops)
        summary['levels'] = recommend_results(results, digest, p['pin'])
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    extra = {'mta_sts_cache': prober.sts_cache} if p['mta_sts'] else {}
    module.exit_json(changed=False, results=results, summary=summary, digest=digest, **extra)


if __name__ == '__main__':
    main()
