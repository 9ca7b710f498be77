#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_server_posture
short_description: What a remote sender or a user's mail client meets at a mail server's ports
version_added: 0.2.0
description:
  - Connects to each port of O(address) as a client would (SMTP 25, 587, 465; IMAP 143, 993; POP3 110, 995) and
    reports what can happen before TLS (AUTH offered or taken, MAIL taken on submission, LOGIN without
    LOGINDISABLED on IMAP, USER on POP3, no TLS at once on 465, 993, 995), the TLS versions accepted (one handshake
    per version), the weakest kind of TLS 1.2 suite accepted (anonymous, no forward secrecy, CBC, finite-field DHE;
    one handshake per kind), whether the session the server chooses has forward secrecy, and its certificate
    (OpenSSL's own verification of the chain against O(ca_file), the names, the days to expiry).
  - Each finding has a severity, C(bad) (a password or mail can travel in clear, TLS older than 1.2 or an
    unverifiable chain where users log in), C(warn) (what public mail-TLS tests mark on port 25) or C(ok).
  - Read-only; the only credential sent (to see that AUTH is refused before STARTTLS) is a made-up one.
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.probe.connection
  - mailtls.postfix.probe.expiry
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
options:
  address:
    description: The server's address or host name to connect to.
    type: str
    required: true
  hostname:
    description: The name the certificate must cover; default O(address).
    type: str
  ports:
    description: The ports to inspect; the protocol and TLS mode follow from the port.
    type: list
    elements: int
    default: [25, 587, 465]
  dane:
    description:
      - Look up the TLSA records of C(_PORT._tcp.HOSTNAME) for each port (with the DNSSEC AD bit), and compare every
        key the server holds (the default session's, then one TLS 1.2 session per key kind, ECDSA and RSA).
      - C(bad) when a validated record set leaves a served key unmatched (DANE senders defer mail), C(warn) when the
        records are not validated, or when no record stands ready for a rollover (a record for the next key, or a
        DANE-TA record).
    type: bool
    default: true
  openssl:
    description:
      - Read the key exchange with C(openssl s_client) (signature hash, post-quantum group), which Python's ssl
        module cannot set. Needs the C(openssl) and C(timeout) commands on the host the module runs on.
    type: bool
    default: true
  mta_sts_domains:
    description:
      - Domains this host receives mail for. For each, the MTA-STS policy is read (C(_mta-sts) TXT record, then the
        policy over HTTPS) and its C(mx) lines are matched against O(hostname).
      - C(bad) when an C(enforce) policy does not cover the host (senders that enforce it do not deliver to it),
        C(warn) in C(testing) mode, or when a TXT record announces a policy that cannot be read.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: What a sender and a mail client meet at mx1
  mailtls.postfix.tls_server_posture:
    address: mx1.example.org
    ports: [25, 587, 465, 143, 993]
  delegate_to: localhost
  register: posture

- name: Fail on what would let a password travel in clear
  ansible.builtin.assert:
    that: posture.worst != 'bad'
    fail_msg: "{{ posture.findings | selectattr('severity', 'eq', 'bad') | map(attribute='text') | list }}"
"""

RETURN = r"""
ports:
  description: Per port, what was seen.
  returned: always
  type: list
  elements: dict
  contains:
    port: {description: The port., type: int, sample: 587}
    protocol: {description: 'smtp, imap or pop3.', type: str, sample: smtp}
    tls_mode: {description: 'starttls or implicit.', type: str, sample: starttls}
    reachable: {description: Whether a connection was made., type: bool, sample: true}
    exposure:
      description: What a client can do before TLS (keys depend on the protocol).
      type: dict
      sample: {starttls_offered: true, auth_offered_before_tls: false, auth_refused_before_tls: true,
               mail_refused_before_tls: true}
    versions: {description: TLS versions accepted., type: list, elements: str, sample: [TLSv1.2, TLSv1.3]}
    weakest:
      description: The weakest kind of TLS 1.2 suite accepted, and one such suite, or null.
      type: dict
      sample: {kind: CBC, cipher: ECDHE-RSA-AES128-SHA}
    session:
      description: The session the server chooses for a default client.
      type: dict
      sample: {version: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, forward_secrecy: true}
    key_exchange:
      description:
        - What OpenSSL's own client (openssl s_client on the host the module runs on) got, or null (O(openssl) false,
          or no TLS). C(sha1), C(sha224) - a TLS 1.2 client at security level 0 that offers only that hash got a
          session (internet.nl 1.11 rates it insufficient; a finding says so). C(post_quantum) - a TLS 1.3 client that
          offers only X25519MLKEM768 got it. Null where this host's openssl cannot offer the case (OpenSSL before 3.5
          for the hybrid).
      type: dict
      sample: {sha1: false, sha224: false, post_quantum: true}
    dane:
      description: The TLSA records of the port and every key served, or null (O(dane) false, or no TLS).
      type: dict
      sample: {name: _25._tcp.mx1.example.org, records: 3, validated: true, every_key_matches: true, rollover: true,
               keys: [{key: ECDSA 256, spki_sha256: 0c72ac70..., matches: true}], error: null}
    certificate:
      description: Names, expiry, key and OpenSSL's verdict on the chain.
      type: dict
      sample: {names: [mx1.example.org], days_remaining: 80, chain_verified: true, name_matches: true, key: ECDSA 256}
mta_sts:
  description: Per domain of O(mta_sts_domains), the policy's mode, mx lines and whether they cover O(hostname).
  returned: always
  type: list
  elements: dict
  sample: [{domain: example.org, mode: enforce, mx: [mx1.example.org], max_age: 604800, error: null, covers_host: true}]
findings:
  description: Every finding with its port (null for a domain's MTA-STS finding) and severity (bad, warn, ok).
  returned: always
  type: list
  elements: dict
  sample: [{port: 25, severity: warn, text: "192.0.2.1:25 accepts TLSv1, TLSv1.1"}]
worst:
  description: The worst severity found.
  returned: always
  type: str
  sample: ok
"""

import subprocess

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import Resolver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._options import EXPIRY_OPTION, PROBE_CONNECTION_OPTIONS, check_probe_options
from ansible_collections.mailtls.postfix.plugins.module_utils._posture import inspect, mta_sts, worst


def main():
    module = AnsibleModule(
        argument_spec=dict(
            address=dict(type='str', required=True),
            hostname=dict(type='str'),
            ports=dict(type='list', elements='int', default=[25, 587, 465]),
            dane=dict(type='bool', default=True),
            mta_sts_domains=dict(type='list', elements='str', default=[]),
            openssl=dict(type='bool', default=True),
            **dict(PROBE_CONNECTION_OPTIONS, **EXPIRY_OPTION)
        ),
        supports_check_mode=True,
    )
    p = module.params
    check_probe_options(module)
    bad = [port for port in p['ports'] if not 0 < port < 65536]
    if bad:
        module.fail_json(msg='ports: %s not a port number from 1 to 65535' % ', '.join(str(port) for port in bad))
    try:
        resolver = Resolver(p['nameservers'], p['timeout'], 'any') if p['dane'] or p['mta_sts_domains'] else None
    except MailTLSError as e:
        module.fail_json(msg=str(e))

    def run(argv):
        # openssl s_client with its standard input at end of file prints the handshake, then ends the session.
        # (Writing Q to its input raced with a server that refuses at once: s_client had exited, and the write
        # failed with EPIPE - seen once in the scanner scenario on a SHA-224-only handshake.) An argv, no shell.
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  check=False)
        except OSError:
            return 127, '', ''
        return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')

    results, findings = [], []
    for port in p['ports']:
        result = inspect(p['address'], port, timeout=p['timeout'], ca_file=p['ca_file'], hostname=p['hostname'] or p['address'],
                         resolver=resolver if p['dane'] else None, run=run if p['openssl'] else None,
                         expiry_warn_days=p['expiry_warn_days'])
        findings.extend({'port': port, 'severity': severity, 'text': text} for severity, text in result.pop('findings'))
        results.append(result)
    states, sts_findings = mta_sts(p['mta_sts_domains'], p['hostname'] or p['address'], resolver, p['timeout'], p['ca_file'])
    findings.extend({'port': None, 'severity': severity, 'text': text} for severity, text in sts_findings)
    module.exit_json(changed=False, ports=results, mta_sts=states, findings=findings,
                     worst=worst([(f['severity'], f['text']) for f in findings]))


if __name__ == '__main__':
    main()
