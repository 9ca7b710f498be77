#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_check
short_description: Check a new Postfix configuration before the reload, in one call
version_added: 0.2.0
description:
  - Runs, in order and stopping at the first that fails, C(postfix check); C(postconf -n), which must print no
    warning; that every certificate file main.cf names (C(smtpd_tls_chain_files), C(smtpd_tls_cert_file),
    C(smtpd_tls_key_file)) exists, which C(postfix check) does not look at; C(postmap -q) of the policy map's
    first key, so that the index Postfix will read answers; and a trial start of one C(smtpd) in stand-alone mode
    with the new main.cf (C(smtpd -S)).
  - smtpd reads its parameters when it starts, so a value it rejects (an unknown TLS level, say) passes
    C(postfix check) and the reload and then makes every smtpd exit at once, and master throttles the service;
    the trial start finds that first.
  - Postfix logs its reasons to the mail log, not to stderr, when no terminal is attached; a failure then names
    the last complaint of the program in the mail log (C(maillog_file), else C(/var/log/mail.log)).
  - The C(mailtls.postfix.tls) role runs it after it has applied a change and before it reloads; a failure rolls
    the change back.
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
  - mailtls.postfix.postfix
options:
  daemon_directory:
    description: Postfix's C(daemon_directory) (where C(smtpd) is; M(mailtls.postfix.tls_host_facts) returns it).
    type: path
    required: true
  policy_map:
    description: The policy map as main.cf names it (C(TYPE:PATH)); with O(first_key), C(postmap -q) must find it.
    type: str
  first_key:
    description: The map's first key.
    type: str
"""

EXAMPLES = r"""
- name: Check the new configuration
  mailtls.postfix.tls_check:
    daemon_directory: /usr/lib/postfix/sbin
    policy_map: hash:/etc/postfix/tls_policy
    first_key: example.org
"""

RETURN = r"""
certificate_files:
  description: The certificate files main.cf names (each exists).
  returned: success
  type: list
  elements: str
  sample: [/etc/postfix/tls/ecdsa.pem, /etc/postfix/tls/rsa.pem]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._check import check
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_dir=dict(type='path'),
            daemon_directory=dict(type='path', required=True),
            policy_map=dict(type='str'),
            first_key=dict(type='str', no_log=False),
        ),
        supports_check_mode=True,
    )
    p = module.params

    def run(argv, env_update, data):
        return module.run_command(argv, environ_update=env_update, data=data, binary_data=False)

    try:
        result = check(run, p['config_dir'], p['daemon_directory'], p['policy_map'], p['first_key'])
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, certificate_files=result['certificate_files'])


if __name__ == '__main__':
    main()
