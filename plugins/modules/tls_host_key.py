#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_host_key
short_description: A server key made on the host, a next key held beside it, and rotation, for peers that pin public keys
version_added: 0.1.0
description:
  - Keeps an C(smtpd_tls_chain_files) file whose key was generated on the managed host and never leaves it,
    with a self-signed certificate for O(hostnames). Peers that pin public keys (the V(fingerprint) level)
    need nothing more; the certificate is re-issued for the same key before it expires, so the pin stays.
  - With O(next_path) it also holds the next key, so that peers can pin the current and the next key ahead
    of a rotation; O(rotate=true) makes the next key the current one and generates a new next key.
  - Returns public facts and pins only; key files are root-owned with mode 0600 from the moment they are created.
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - cryptography (Python library on the managed host)
attributes:
  check_mode:
    support: full
    description: Reports what would change; pins of keys that do not exist yet are not known.
  diff_mode:
    support: none
    description: Key files are never shown; RV(actions) says what changed.
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  path:
    description: The chain file (key, then certificate) Postfix reads through C(smtpd_tls_chain_files).
    type: path
    required: true
  next_path:
    description: Where the next key is kept. Without it no next key is held and O(rotate) is refused.
    type: path
  key_type:
    description: The type of keys generated.
    type: str
    choices: [rsa, ecdsa]
    default: ecdsa
  key_bits:
    description: RSA key size.
    type: int
    default: 2048
  hostnames:
    description: Names for the self-signed certificate (the first is the subject).
    type: list
    elements: str
    required: true
  days:
    description: Validity of the self-signed certificates.
    type: int
    default: 825
  renew_days:
    description: Re-issue the certificate (same key, same pin) when it expires within this many days.
    type: int
    default: 30
  rotate:
    description: Make the next key the current one and generate a new next key.
    type: bool
    default: false
notes:
  - Other peers cannot verify a self-signed certificate; they deliver with V(encrypt) or pin it with
    V(fingerprint). Use M(mailtls.postfix.tls_chain_file) for CA-issued certificates.
seealso:
  - module: mailtls.postfix.tls_chain_file
"""

EXAMPLES = r"""
- name: Hold a current and a next key on the host
  mailtls.postfix.tls_host_key:
    path: /etc/postfix/tls/ecdsa.pem
    next_path: /etc/postfix/tls/ecdsa.next.key
    hostnames: [mx1.example.com]
  register: hostkey

- name: The pins peers should hold (current and next)
  ansible.builtin.debug:
    msg: "{{ hostkey.pins | map(attribute='sha256') | list }}"

- name: Rotate (peers already pin the next key)
  mailtls.postfix.tls_host_key:
    path: /etc/postfix/tls/ecdsa.pem
    next_path: /etc/postfix/tls/ecdsa.next.key
    hostnames: [mx1.example.com]
    rotate: true
"""

RETURN = r"""
certificate:
  description: Public facts about the current certificate (null in check mode when it does not exist yet).
  returned: always
  type: dict
  sample: {subject: CN=mx1.example.com, not_after: "2029-03-03T00:00:00Z", days_remaining: 825, key_type: ECDSA,
           fingerprints: {cert: {sha256: "AB:..."}, pubkey: {sha256: "CD:..."}}}
pins:
  description: Public-key fingerprints by digest, of the current key and then of the next key.
  returned: always
  type: list
  elements: dict
  sample: [{sha256: "CD:...", sha1: "...", md5: "..."}, {sha256: "EF:...", sha1: "...", md5: "..."}]
retired:
  description:
    - Public-key fingerprints by digest of the key a rotation replaced (empty without a rotation).
    - Its TLSA record should stay published until the switch is older than the record's TTL.
  returned: always
  type: list
  elements: dict
  sample: [{sha256: "3D:CC:...", sha1: "..."}]
  version_added: 0.2.0
next:
  description: The next key's public-key fingerprints and DANE-EE (3 1 1) data, or null.
  returned: always
  type: dict
  sample: {pubkey: {sha256: "EF:..."}, tlsa_311: "ef01..."}
actions:
  description: What was (or in check mode would be) done.
  returned: always
  type: list
  elements: str
  sample: ["rotated: the next key is now the current key of /etc/postfix/tls/ecdsa.pem", "created the next key /etc/postfix/tls/ecdsa.next.key"]
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._hostkey import apply_writes, plan_host_key


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            next_path=dict(type='path'),
            key_type=dict(type='str', default='ecdsa', choices=['rsa', 'ecdsa']),
            key_bits=dict(type='int', default=2048),
            hostnames=dict(type='list', elements='str', required=True),
            days=dict(type='int', default=825),
            renew_days=dict(type='int', default=30),
            rotate=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if p['key_bits'] < 2048:
        module.fail_json(msg='key_bits: %d is below 2048' % p['key_bits'])
    if not 1 <= p['days'] <= 3650 or not 0 <= p['renew_days'] < p['days']:
        module.fail_json(msg='days must be 1 to 3650 and renew_days from 0 to below days (got %d and %d)'
                         % (p['days'], p['renew_days']))
    if p['next_path'] and os.path.abspath(p['next_path']) == os.path.abspath(p['path']):
        module.fail_json(msg='next_path must differ from path')
    for name in ('path', 'next_path'):
        if p[name] and not os.path.isdir(os.path.dirname(os.path.abspath(p[name]))):
            module.fail_json(msg='%s: the directory of %s does not exist' % (name, p[name]))
    try:
        writes, result = plan_host_key(p['path'], p['next_path'], p['key_type'], p['key_bits'], p['hostnames'],
                                       p['days'], p['rotate'], p['renew_days'])
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    if writes and not module.check_mode:
        try:
            apply_writes(writes)
        except MailTLSError as e:
            module.fail_json(msg=str(e))
    module.exit_json(changed=bool(writes), **result)


if __name__ == '__main__':
    main()
