#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_rollover_gate
short_description: Whether a host may switch to its next key without breaking DANE senders
version_added: 0.1.0
description:
  - Reads the next key held on the host (M(mailtls.postfix.tls_host_key) O(mailtls.postfix.tls_host_key#module:next_path)),
    looks up the TLSA records of C(_PORT._tcp.NAME) for each of O(hostnames) through a validating resolver, and says
    whether a DANE-EE(3) SPKI(1) SHA2-256(1) record of the next key has been visible, with the AD bit, for at least
    its TTL under every name (RFC 7671 section 8.1, "current + next").
  - The time a record was first seen validated and its TTL (the RRSIG's original TTL where the resolver returns it)
    are kept in O(state_file), because the publication time cannot be read from DNS. A record that is missing or
    not validated, a failed lookup, or a record seen for less than its TTL, gives RV(ready=false) and a reason that
    names the record.
  - Never fails because the switch is not safe yet; the caller decides (the C(tls) role refuses the switch unless
    C(postfix_tls_rollover_force) is true). Never reads or returns anything but the next key's public half.
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - cryptography and dnspython (Python libraries on the managed host)
attributes:
  check_mode:
    support: full
    description: Judges as in a normal run; the state file is not written.
  diff_mode:
    support: none
    description: The state file holds times only; RV(names) says what was seen.
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  next_key:
    description: The next key's file (PEM). Only its public half is used.
    type: path
    required: true
  hostnames:
    description: The MX host names whose TLSA records must carry the next key.
    type: list
    elements: str
    required: true
  port:
    description: The port of the TLSA names (C(_25._tcp.NAME) for SMTP).
    type: int
    default: 25
  nameservers:
    description: Validating resolvers to ask (C(IP) or C(IP:port)); the host's own by default.
    type: list
    elements: str
    default: []
  min_ttl:
    description: Wait at least this many seconds after the record was first seen, whatever its TTL.
    type: int
    default: 0
  state_file:
    description: Where the first-seen times are kept (JSON, root-owned, 0600).
    type: path
    default: /var/lib/mailtls-postfix/rollover.json
  timeout:
    description: Seconds per DNS lookup.
    type: float
    default: 10
seealso:
  - module: mailtls.postfix.tls_host_key
  - name: RFC 7671, section 8.1 (key rollover with "current + next")
    description: Publish the next key's record, wait its TTL, then switch.
    link: https://www.rfc-editor.org/rfc/rfc7671#section-8.1
"""

EXAMPLES = r"""
- name: May mx1 switch to its next key?
  mailtls.postfix.tls_rollover_gate:
    next_key: /etc/postfix/tls/ecdsa.next.key
    hostnames: [mx1.example.com]
  register: gate

- name: Refuse the switch until the record has been visible for its TTL
  ansible.builtin.fail:
    msg: "{{ gate.msg }}"
  when: not gate.ready
"""

RETURN = r"""
ready:
  description: Whether the next key's record has been validated under every name for at least its TTL.
  returned: success
  type: bool
  sample: false
msg:
  description: The reasons the switch is not safe yet, naming each record (empty when ready).
  returned: success
  type: str
  sample: "the switch to the next key is refused: _25._tcp.mx1.example.com. IN TLSA 3 1 1 ef01... is not published (...)"
next_tlsa:
  description: The next key's 3 1 1 association data.
  returned: success
  type: str
  sample: ef01020304050607080910111213141516171819202122232425262728293031
names:
  description: Per TLSA name, the record wanted, its status (ready, waiting, missing, unvalidated, failed), the reason,
    when it was first seen validated, its TTL and from when the switch is safe.
  returned: success
  type: list
  elements: dict
  sample: [{name: _25._tcp.mx1.example.com, record: "_25._tcp.mx1.example.com. IN TLSA 3 1 1 ef01...", status: waiting,
            reason: "... is validated, seen since 2026-12-02T21:00:00Z (30 s); its TTL is 3600 s: ...",
            first_seen: "2026-12-02T21:00:00Z", ttl: 3600, ready_at: "2026-12-02T22:00:00Z"}]
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import read_secret, write_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import DNSPYTHON_IMPORT_ERROR, HAS_DNSPYTHON, Resolver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._hostkey import key_pins
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import to_ascii_domain
from ansible_collections.mailtls.postfix.plugins.module_utils._rollover import gate, refusal


def _read_state(path):
    try:
        with open(path) as f:
            state = json.load(f)
    except (IOError, OSError):
        return {}
    except ValueError as e:
        raise MailTLSError('%s is not the gate\'s JSON state (%s); remove it to start the wait again' % (path, e))
    return state if isinstance(state, dict) else {}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            next_key=dict(type='path', required=True),
            hostnames=dict(type='list', elements='str', required=True),
            port=dict(type='int', default=25),
            nameservers=dict(type='list', elements='str', default=[]),
            min_ttl=dict(type='int', default=0),
            state_file=dict(type='path', default='/var/lib/mailtls-postfix/rollover.json'),
            timeout=dict(type='float', default=10),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib('dnspython'), exception=DNSPYTHON_IMPORT_ERROR)
    if not 0 < p['port'] < 65536 or p['min_ttl'] < 0:
        module.fail_json(msg='port must be 1-65535 and min_ttl 0 or more (got %d and %d)' % (p['port'], p['min_ttl']))
    try:
        names = [to_ascii_domain(h) for h in p['hostnames']]
        pem = read_secret(p['next_key'])
        if pem is None:
            raise MailTLSError('next_key: %s cannot be read: there is no next key to switch to (hold one with '
                               'postfix_tls_next_key and publish its record first)' % p['next_key'])
        data = key_pins('next_key %s' % p['next_key'], pem)['tlsa_311']
        resolver = Resolver(p['nameservers'] or None, p['timeout'], 'any')
        state = _read_state(p['state_file'])
        result = gate([resolver.tlsa(n, p['port']) for n in names], data, state, int(time.time()), p['min_ttl'])
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    changed = result['state'] != state
    if changed and not module.check_mode:
        directory = os.path.dirname(os.path.abspath(p['state_file']))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        try:
            write_secret(p['state_file'], json.dumps(result['state'], indent=1, sort_keys=True) + '\n')
        except MailTLSError as e:
            module.fail_json(msg=str(e))
    module.exit_json(changed=changed, ready=result['ready'], msg='' if result['ready'] else refusal(result),
                     next_tlsa=data, names=result['names'])


if __name__ == '__main__':
    main()
