#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_files
short_description: Write the tls role's plain files (no secrets) in one call, each only when it differs
version_added: 0.2.0
description:
  - Compares each of O(files) with the host's file (content, mode, owner root:root) and writes the ones that
    differ, each atomically (a temporary file in the same directory, with its final mode, then a rename). A missing
    directory is made (mode 0755).
  - One call for all of them; the tls role gives it the OpenSSL baseline and the RFC 7919 ffdhe3072 group file.
  - Not for keys - M(mailtls.postfix.tls_chain_file) writes those, and shows no key in a diff.
author:
  - mailtls.postfix developers (@mailtls)
attributes:
  check_mode:
    support: full
    description: Reports the files that would be written; writes nothing.
  diff_mode:
    support: full
    description: Shows each written file before and after.
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  files:
    description: The files, each C(path) (absolute), C(content) (text) and C(mode) (octal string, default V(0644)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: The OpenSSL baseline
  mailtls.postfix.tls_files:
    files:
      - path: /etc/postfix/mailtls-openssl.cnf
        content: "{{ baseline.config }}"
"""

RETURN = r"""
written:
  description: The files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/postfix/mailtls-openssl.cnf]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import apply, file_specs


def main():
    module = AnsibleModule(
        argument_spec=dict(files=dict(type='list', elements='dict', required=True)),
        supports_check_mode=True,
    )
    try:
        done = apply(file_specs(module.params['files']), module.check_mode)
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    result = dict(changed=bool(done['written']), written=done['written'])
    if module._diff:
        result['diff'] = done['diff']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
