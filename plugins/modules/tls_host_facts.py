#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_host_facts
short_description: What the tls role needs to know of a host's Postfix, read in one call
version_added: 0.2.0
description:
  - Reads, in one module call, the facts the C(mailtls.postfix.tls) role plans from - C(mail_version),
    C(default_database_type), C(daemon_directory) and C(queue_directory) (C(postconf -xh)); the SASL server types
    (C(postconf -a)); whether C(smtp) was built with TLSRPT (read from the program); the services of master.cf (C(postconf -M));
    whether C(postconf -d) knows C(tls_config_file) (3.9, and 3.8.1, 3.7.6, 3.6.10, 3.5.20 and later); and the
    OpenSSL that C(smtpd) links - C(ldd) names its C(libssl), which is loaded and asked for its own version
    (C(OpenSSL_version_num)), so that the answer is the library Postfix runs with, not the C(openssl)
    command's or the controller's.
  - With O(state_dir), also the TLSA records the role keeps for keys a rotation replaced.
  - With O(key_files), the sha256 pins of the keys held in those files (the public half only), which the role
    publishes before a rotation may change any key.
  - The role used three tasks for this; each task is a round trip to the host.
options:
  config_dir:
    description: The Postfix configuration directory (C(postconf -c)).
    type: path
    default: /etc/postfix
  state_dir:
    description:
      - The tls role's state directory; when given, RV(tlsa_retired) holds the TLSA records it keeps for keys a
        rotation replaced (C(tlsa-retired.json)).
    type: path
  key_files:
    description:
      - Key files (a key, or a chain file with its key first) whose public keys' sha256 pins RV(key_pins) returns;
        missing files are left out.
    type: list
    elements: path
    default: []
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
"""

EXAMPLES = r"""
- name: Read the host's Postfix and OpenSSL
  mailtls.postfix.tls_host_facts:
  register: host
"""

RETURN = r"""
mail_version:
  description: The running Postfix's C(mail_version).
  returned: success
  type: str
  sample: 3.7.11
default_database_type:
  description: C(default_database_type).
  returned: success
  type: str
  sample: hash
daemon_directory:
  description: C(daemon_directory), where C(smtpd) is.
  returned: success
  type: str
  sample: /usr/lib/postfix/sbin
master:
  description: master.cf's services as C(postconf -M) prints them.
  returned: success
  type: str
  sample: "smtp       inet  n       -       y       -       -       smtpd\n"
config_file_known:
  description: Whether C(postconf -d) knows C(tls_config_file).
  returned: success
  type: bool
  sample: true
openssl_version:
  description: The OpenSSL that C(smtpd) links.
  returned: success
  type: str
  sample: 3.0.20
queue_directory:
  description: C(queue_directory), where a relative C(smtp_tlsrpt_socket_name) is found.
  returned: success
  type: str
  sample: /var/spool/postfix
sasl_server_types:
  description: The SASL server types this Postfix was built with (C(postconf -a)).
  returned: success
  type: list
  elements: str
  sample: [cyrus, dovecot]
tlsrpt_support:
  description:
    - Whether C(smtp) was built with TLSRPT (Postfix 3.10 or later with libtlsrpt), read from the program itself.
  returned: success
  type: bool
  sample: true
openssl_version_number:
  description: Its C(OPENSSL_VERSION_NUMBER).
  returned: success
  type: int
  sample: 805306624
openssl_library:
  description: The C(libssl) file that C(smtpd) loads.
  returned: success
  type: str
  sample: /lib/x86_64-linux-gnu/libssl.so.3
tlsa_retired:
  description:
    - The sha256 pins of keys a rotation replaced whose TLSA records are still kept, each with the time (seconds
      since the epoch) after which its record may go; the ones whose time has come are left out.
  returned: when O(state_dir) is given
  type: dict
  sample: {"3D:CC:...:0A": 1796000000}
key_pins:
  description: The sha256 pins of the keys in O(key_files) that exist, in order, each once.
  returned: when O(key_files) is given
  type: list
  elements: str
  sample: ["3D:CC:...:0A"]
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import read_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._hostkey import held_pins
from ansible_collections.mailtls.postfix.plugins.module_utils._library import config_file_known, linked_openssl, tlsrpt_compiled
from ansible_collections.mailtls.postfix.plugins.module_utils._mapfile import read_text
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance
from ansible_collections.mailtls.postfix.plugins.module_utils._rollover import retired_alive

NAMES = ('mail_version', 'default_database_type', 'daemon_directory', 'queue_directory')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_dir=dict(type='path', default='/etc/postfix'),
            state_dir=dict(type='path'),
            key_files=dict(type='list', elements='path', default=[], no_log=False),
        ),
        supports_check_mode=True,
    )
    instance = Instance(module, module.params['config_dir'])
    values = instance.postconf(['-xh'] + list(NAMES))[0].splitlines()
    if len(values) != len(NAMES):
        module.fail_json(msg='postconf -xh %s gave %d lines, not %d' % (' '.join(NAMES), len(values), len(NAMES)))
    facts = dict(zip(NAMES, (v.strip() for v in values)))
    facts['master'] = instance.postconf(['-M'])[0]
    facts['config_file_known'] = config_file_known(instance.postconf(['-d'])[0])
    facts['sasl_server_types'] = instance.postconf(['-a'])[0].split()
    try:
        facts.update(linked_openssl(module, facts['daemon_directory']))
        facts['tlsrpt_support'] = tlsrpt_compiled(facts['daemon_directory'])
        if module.params['state_dir']:
            path = os.path.join(module.params['state_dir'], 'tlsa-retired.json')
            facts['tlsa_retired'] = retired_alive(read_text(path), time.time(), path)
        if module.params['key_files']:
            facts['key_pins'] = held_pins(module.params['key_files'], read_secret)
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **facts)


if __name__ == '__main__':
    main()
