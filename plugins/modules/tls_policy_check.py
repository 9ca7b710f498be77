#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_policy_check
short_description: Check TLS policy entries against the live destinations, with Postfix's own posttls-finger as the judge
version_added: 0.1.0
description:
  - Probes the destinations of the given policy entries from the host (every MX host and address, as
    M(mailtls.postfix.mx_tls_info) does) and says, per entry, whether Postfix would deliver under it now;
    the tls role runs it as its preflight before a new policy map is installed, the verify playbook to find
    drift and expiring certificates.
  - Where C(posttls-finger) is installed it is the judge. Every endpoint is asked on its own as
    C([address]:port) at the entry's level with the entry's pins or match names, and its
    C(Verified TLS connection established) line decides (it exits 0 even on failure, so its output is read).
    The module's own verdict is returned beside it, with C(agree).
  - An endpoint that holds two keys (RSA and ECDSA) is asked once more for its second key, forced as the probe
    forces it (C(-p !SSLv2:!SSLv3:!TLSv1.3 -o tls_medium_cipherlist=aRSA) or C(aECDSA)); that answer is in the
    endpoint's C(finger_keys), and the endpoint passes only when every key is C(Verified), since a sender may
    get either.
  - An entry fails when no endpoint passes, and is degraded when some do not (Postfix then delays mail
    while it tries the next MX); both are listed in RV(failing).
  - Only reads; one failing endpoint never fails the task, only invalid options and entries do.
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - cryptography (Python library on the host that runs the module)
  - dnspython (Python library; for destinations that need an MX lookup, and for O(nameservers))
extends_documentation_fragment:
  - mailtls.postfix.probe
  - mailtls.postfix.probe.connection
  - mailtls.postfix.probe.expiry
  - mailtls.postfix.postfix
  - mailtls.postfix.postfix.digest
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
options:
  entries:
    description: Policy entries as the tls role's C(postfix_tls_policies) takes them.
    type: list
    elements: dict
    required: true
  levels:
    description: Entries at these levels are checked; others are skipped.
    type: list
    elements: str
    choices: [none, may, encrypt, dane, dane-only, fingerprint, verify, secure]
    default: [fingerprint, secure, verify]
  exclude:
    description: Destinations not to check (for example pins of fleet hosts whose keys are deployed in the same run).
    type: list
    elements: str
    default: []
  posttls_finger:
    description:
      - V(auto) uses C(posttls-finger) as the judge where it is installed, V(never) judges with the module only,
        V(always) fails when it is missing.
    type: str
    choices: [auto, always, never]
    default: auto
notes:
  - Probes send EHLO, STARTTLS and QUIT; no mail is sent.
  - C(posttls-finger) is given addresses, so it needs no DNS; O(nameservers) serve the module's own lookups.
seealso:
  - module: mailtls.postfix.mx_tls_info
  - name: posttls-finger(1)
    description: Postfix's TLS probe.
    link: https://www.postfix.org/posttls-finger.1.html
"""

EXAMPLES = r"""
- name: Would these pins defer mail?
  mailtls.postfix.tls_policy_check:
    entries:
      - destination: example.com
        level: fingerprint
        fingerprints: ["3D:95:34:51:24:66:33:B9:D2:40:99:C0:C1:17:0B:D1:C2:27:3C:E1:CE:A4:93:DA:2C:A9:5B:EB:29:7C:35:B9"]
      - destination: example.net
        level: secure
    ca_file: /etc/ssl/certs/ca-certificates.crt
  register: check

- name: Stop when one would
  ansible.builtin.assert:
    that: check.failing | length == 0
    fail_msg: "{{ check.failing }}"
"""

RETURN = r"""
checks:
  description:
    - One verdict per checked entry.
    - Each endpoint also carries what was seen there, for reports; C(trust) is what the certificate proves
      without pins (V(verified) chain and names, V(trusted) chain only, V(untrusted) no chain, V(none) no TLS),
      with C(starttls), C(tls_version), C(key_type), C(key_bits), C(not_after), C(days_remaining) and C(error).
  returned: always
  type: list
  elements: dict
  sample:
    - destination: example.com
      level: fingerprint
      delivers: true
      degraded: false
      status: delivers
      judge: posttls-finger
      reason: every endpoint passes
      expiring: []
      endpoints:
        - {hostname: mx1.example.com, address: 192.0.2.10, port: 25, ok: true, reason: "mx1.example.com[192.0.2.10]:25: public-key pin matches",
           finger: {trust: Verified, line: "Verified TLS connection established to 192.0.2.10[192.0.2.10]:25: TLSv1.3 ..."},
           finger_ok: true, agree: true, starttls: true, trust: untrusted, tls_version: TLSv1.3, key_type: ECDSA,
           key_bits: 256, not_after: "2027-03-01T00:00:00Z", days_remaining: 92, error: null}
failing:
  description: Entries that fail or are degraded, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{destination: example.org, level: fingerprint, status: fails,
            reason: "mx.example.org[192.0.2.20]:25: no pin matches (presented public key sha256 AB:...)"}]
expiring:
  description: Endpoints whose certificate expires within O(expiry_warn_days).
  returned: always
  type: list
  elements: dict
  sample: [{destination: example.com, hostname: mx1.example.com, address: 192.0.2.10, not_after: "2026-12-01T00:00:00Z", days_remaining: 3}]
expiry_warn_days:
  description: The threshold RV(expiring) was taken with (O(expiry_warn_days)).
  returned: always
  type: int
  sample: 21
disagreements:
  description: Endpoints where posttls-finger and the module judged differently (expected to be empty).
  returned: always
  type: list
  elements: dict
  sample: []
judge:
  description: V(posttls-finger) or V(mx_tls_info).
  returned: always
  type: str
  sample: posttls-finger
unchecked:
  description: Destinations not checked (level not in O(levels), or in O(exclude)).
  returned: always
  type: list
  elements: str
  sample: [legacy.example]
"""

import socket

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import (
    CRYPTOGRAPHY_IMPORT_ERROR,
    HAS_CRYPTOGRAPHY,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import (
    DNSPYTHON_IMPORT_ERROR,
    HAS_DNSPYTHON,
    Resolver,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._finger import check
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import Prober, parse_destinations
from ansible_collections.mailtls.postfix.plugins.module_utils._options import (
    DIGEST_OPTION,
    EXPIRY_OPTION,
    POSTFIX_OPTIONS,
    PROBE_OPTIONS,
    argument_spec,
    check_probe_options,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import LEVELS, PolicyEntry, policy_key
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance
from ansible_collections.mailtls.postfix.plugins.module_utils._report import with_facts


class Finger:
    """Runs posttls-finger (argv, no shell) and returns what it printed."""

    def __init__(self, module, binary):
        self.module = module
        self.binary = binary

    def __call__(self, argv):
        dummy, out, err = self.module.run_command(argv)
        return '%s\n%s' % (out, err)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(
            PROBE_OPTIONS, POSTFIX_OPTIONS, DIGEST_OPTION, EXPIRY_OPTION,
            entries=dict(type='list', elements='dict', required=True),
            levels=dict(type='list', elements='str', default=['fingerprint', 'secure', 'verify'], choices=list(LEVELS)),
            exclude=dict(type='list', elements='str', default=[]),
            posttls_finger=dict(type='str', default='auto', choices=['auto', 'always', 'never']),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    check_probe_options(module)
    digest = p['digest'] or Instance(module, p['config_dir'], required=False).effective_digest() or 'sha256'
    finger = None
    if p['posttls_finger'] != 'never':
        binary = module.get_bin_path('posttls-finger', required=p['posttls_finger'] == 'always')
        finger = Finger(module, binary) if binary else None
    try:
        excluded = set(policy_key(d) for d in p['exclude'])
        entries, skipped = [], []
        for i, raw in enumerate(p['entries']):
            entry = PolicyEntry.from_dict(raw, digest, 'entries[%d]' % i)
            if entry.level not in p['levels'] or entry.key in excluded:
                skipped.append(entry.key)
            else:
                entries.append(entry)
        probe_keys = []  # each destination once, however many entries name it
        for entry in entries:
            if entry.nexthop is not None and entry.key not in probe_keys:
                probe_keys.append(entry.key)
        results = []
        if probe_keys:
            nexthops = parse_destinations(probe_keys)
            if not HAS_DNSPYTHON and (p['nameservers'] or any(nh.mx for nh in nexthops)):
                module.fail_json(msg=missing_required_lib('dnspython', reason='for MX lookups and nameservers'),
                                 exception=DNSPYTHON_IMPORT_ERROR)
            prober = Prober(Resolver(p['nameservers'], p['timeout'], 'any'), timeout=p['timeout'],
                            concurrency=p['concurrency'], ehlo_name=socket.getfqdn(), ca_file=p['ca_file'],
                            tls_mode=p['tls_mode'])
            results, dummy = prober.run(nexthops)
        out = check(entries, results, digest, p['levels'], p['ca_file'], finger, p['expiry_warn_days'])
        with_facts(out['checks'], results)
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    # not 'skipped': Ansible reads a true 'skipped' in a result as a skipped task
    module.exit_json(changed=False, judge='posttls-finger' if finger else 'mx_tls_info', unchecked=skipped,
                     expiry_warn_days=p['expiry_warn_days'], **out)


if __name__ == '__main__':
    main()
