#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: postconf
short_description: Set and remove Postfix main.cf parameters and master.cf services idempotently
version_added: 0.1.0
description:
  - Compares what C(postconf -n), C(postconf -M) and C(postconf -P) report with what is wanted and
    writes only the differences, with C(postconf -e), C(-X), C(-M), C(-MX), C(-P) and C(-PX).
  - Refuses parameter names that C(postconf -d) does not know (Postfix itself would only warn and
    ignore them), unless they are listed in O(allow_unknown).
  - Does not reload Postfix; notify a handler on change.
author:
  - mailtls.postfix developers (@mailtls)
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows the affected parameters and services before and after.
extends_documentation_fragment:
  - mailtls.postfix.postfix
  - mailtls.postfix.attributes
options:
  parameters:
    description:
      - main.cf parameters and their values. A null value removes the parameter from main.cf (C(postconf -X)).
      - Booleans become V(yes)/V(no); lists are joined with commas.
    type: dict
    default: {}
  absent:
    description: main.cf parameters to remove, so that their defaults apply.
    type: list
    elements: str
    default: []
  services:
    description: master.cf service entries and their C(-o) parameters.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Service name (V(submission), V(smtps), V(127.0.0.1:10025)).
        type: str
        required: true
      type:
        description: Service type.
        type: str
        required: true
        choices: [inet, unix, unix-dgram, fifo, pass]
      private:
        description: The private field (V(n), V(y) or V(-)).
        type: str
      unpriv:
        description: The unprivileged field.
        type: str
      chroot:
        description: The chroot field.
        type: str
      wakeup:
        description: The wakeup field.
        type: str
      maxproc:
        description: The process limit field.
        type: str
      command:
        description:
          - Command and arguments, without C(-o) parameters. Required when the service does not exist yet.
          - Without it, the entry edits an existing service's C(-o) parameters only, and the fields not given keep
            their values (with it, a field not given is V(-), Postfix's default).
        type: str
      parameters:
        description: The service's C(-o) parameters; a null value removes one.
        type: dict
        default: {}
      state:
        description: Whether the service entry exists.
        type: str
        choices: [present, absent]
        default: present
  allow_unknown:
    description: Parameter names to accept although C(postconf -d) does not know them (for example ones that master.cf refers to).
    type: list
    elements: str
    default: []
  if_known:
    description:
      - Names in O(parameters) to set only where this Postfix knows them (C(postconf -d)); where it does not, they
        are not written and are listed in RV(skipped_parameters).
      - For parameters of later Postfix versions, such as C(tls_ffdhe_auto_groups) (Postfix 3.8 and later), in
        settings meant for several versions.
    type: list
    elements: str
    default: []
notes:
  - Fields of master.cf entries left out default to V(-).
  - Values of C(-o) parameters cannot contain whitespace.
"""

EXAMPLES = r"""
- name: Server and client TLS settings
  mailtls.postfix.postconf:
    parameters:
      smtpd_tls_security_level: may
      smtp_tls_security_level: may
      smtp_tls_loglevel: 1
      smtpd_tls_mandatory_protocols: ">=TLSv1.2"
    absent:
      - smtpd_tls_cert_file
      - smtpd_tls_key_file
  notify: Reload postfix

- name: Submission on port 587 with STARTTLS required
  mailtls.postfix.postconf:
    services:
      - name: submission
        type: inet
        private: n
        chroot: y
        command: smtpd
        parameters:
          syslog_name: postfix/submission
          smtpd_tls_security_level: encrypt
          smtpd_tls_auth_only: "yes"

- name: Remove the old smtps entry
  mailtls.postfix.postconf:
    services:
      - {name: smtps, type: inet, state: absent}
"""

RETURN = r"""
changes:
  description: What changed (or would change in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: main.cf, name: smtp_tls_loglevel, before: "0", after: "1"}
    - {kind: master.cf -o, name: submission/inet/smtpd_tls_auth_only, before: null, after: "yes"}
skipped_parameters:
  description: Names in O(if_known) that this Postfix does not know, so they were not written.
  returned: always
  type: list
  elements: str
  sample: [tls_ffdhe_auto_groups]
warnings_after:
  description: Warnings that C(postconf -n) prints after the change (unused parameters, bad syntax).
  returned: when something changed and not in check mode
  type: list
  elements: str
  sample: ["postconf: warning: /etc/postfix/main.cf: unused parameter: foo=1"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._apply import postconf_change
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance


def main():
    module = AnsibleModule(
        argument_spec=dict(
            parameters=dict(type='dict', default={}),
            absent=dict(type='list', elements='str', default=[]),
            services=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                type=dict(type='str', required=True, choices=['inet', 'unix', 'unix-dgram', 'fifo', 'pass']),
                private=dict(type='str'),
                unpriv=dict(type='str'),
                chroot=dict(type='str'),
                wakeup=dict(type='str'),
                maxproc=dict(type='str'),
                command=dict(type='str'),
                parameters=dict(type='dict', default={}),
                state=dict(type='str', default='present', choices=['present', 'absent']),
            )),
            allow_unknown=dict(type='list', elements='str', default=[]),
            if_known=dict(type='list', elements='str', default=[]),
            config_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    instance = Instance(module, p['config_dir'])
    change = None
    try:
        change = postconf_change(instance, module.run_command, p['parameters'], p['absent'], p['services'],
                                 p['allow_unknown'], p['if_known'], module._diff)
        if not module.check_mode:
            change.apply()
    except MailTLSError as e:
        module.fail_json(msg=str(e), **(change.result if change is not None else {}))
    module.exit_json(changed=change.changed, **change.result)


if __name__ == '__main__':
    main()
