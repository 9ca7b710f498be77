#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_chain_file
short_description: Check a private key and certificate chain and install them as one smtpd_tls_chain_files file
version_added: 0.1.0
description:
  - Checks, before anything is written, that the private key matches the first certificate, that each
    certificate is issued by the next one (leaf first), and that no certificate has expired; warns when
    the certificate does not cover the names in O(hostnames).
  - Writes the key, the leaf and the intermediates into one file (key first, as C(smtpd_tls_chain_files)
    wants), owned by root with mode 0600 from the moment it is created, and renames it into place, so
    key and certificate never disagree on disk. A missing directory is made (mode 0755).
  - Never returns or logs key material; the diff shows the certificate's subject and fingerprints only.
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - cryptography (Python library on the managed host)
attributes:
  check_mode:
    support: full
    description: Checks the key and chain and reports whether the file would change.
  diff_mode:
    support: full
    description: Shows the certificate before and after (subject, expiry, fingerprints), never the key.
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  path:
    description: The file to write.
    type: path
    required: true
  key_content:
    description: The private key, PEM, unencrypted.
    type: str
    required: true
  chain_content:
    description: The certificate first, then its intermediates, PEM.
    type: str
    required: true
  hostnames:
    description: Names the certificate should cover; a warning names those it does not.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Install the RSA chain
  mailtls.postfix.tls_chain_file:
    path: /etc/postfix/tls/rsa.pem
    key_content: "{{ lookup('ansible.builtin.file', 'files/mx1.key') }}"
    chain_content: "{{ lookup('ansible.builtin.file', 'files/mx1.fullchain.pem') }}"
    hostnames: [mx1.example.com]
  no_log: true
"""

RETURN = r"""
certificate:
  description: Public facts about the installed certificate.
  returned: always
  type: dict
  sample:
    subject: CN=mx1.example.com
    issuer: CN=R11,O=Let's Encrypt,C=US
    names: [mx1.example.com]
    not_after: "2027-02-01T00:00:00Z"
    days_remaining: 65
    key_type: RSA
    key_bits: 2048
    chain_length: 2
    fingerprints: {cert: {sha256: "AB:..."}, pubkey: {sha256: "CD:..."}}
    tlsa: {"3 1 1": "0c72..."}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._apply import chain_change
from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            key_content=dict(type='str', required=True, no_log=True),
            chain_content=dict(type='str', required=True),
            hostnames=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    try:
        change = chain_change(p['path'], p['key_content'], p['chain_content'], p['hostnames'], module._diff)
        for warning in change.result.pop('warnings'):
            module.warn(warning)
        if not module.check_mode:
            change.apply()
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    change.result.pop('path')
    module.exit_json(changed=change.changed, **change.result)


if __name__ == '__main__':
    main()
