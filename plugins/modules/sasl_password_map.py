#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sasl_password_map
short_description: Write the smtp_sasl_password_maps table of a relay host, 0600 from creation, indexed atomically
version_added: 0.2.0
description:
  - Writes one line, O(relayhost) C(username:password), to O(path) and builds its index with C(postmap), as
    Postfix's SASL client reads it for C(smtp_sasl_password_maps).
  - The source and its index are created in the target directory with mode 0600, owned by root, and renamed into
    place, so Postfix never reads half a map and the password is never readable by others, not even for a moment.
  - The password never appears in the module's return values or its diff (the diff shows C(********)).
  - A username or password that Postfix would misread is refused with the reason (a colon in the username, a line
    break, leading or trailing white space in the password).
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
  - mailtls.postfix.postfix
attributes:
  check_mode:
    support: full
    description: Validates and reports what would change; writes nothing and runs no postmap.
  diff_mode:
    support: full
    description: Shows the map line before and after with every password replaced by C(********).
options:
  path:
    description: The map's source file; the index is C(path.db) for C(hash) and C(btree).
    type: path
    required: true
  relayhost:
    description:
      - The key, exactly as C(relayhost) is written (C([smtp.example.com]:587) or C(smtp.example.com:587)), because
        Postfix looks the password up by that next hop.
    type: str
    required: true
  username:
    description: The SASL user name.
    type: str
    required: true
  password:
    description: The SASL password. Never logged or returned.
    type: str
    required: true
  map_type:
    description: The lookup table type; default C(postconf -xh default_database_type).
    type: str
    choices: [hash, btree, lmdb, cdb]
"""

EXAMPLES = r"""
- name: Credentials for the smarthost
  mailtls.postfix.sasl_password_map:
    path: /etc/postfix/sasl_passwd
    relayhost: "[smtp.example.com]:587"
    username: satellite
    password: "{{ vault_relay_password }}"
  no_log: true
"""

RETURN = r"""
map:
  description: The map as Postfix refers to it, for smtp_sasl_password_maps.
  returned: always
  type: str
  sample: hash:/etc/postfix/sasl_passwd
key:
  description: The key written (the relayhost).
  returned: always
  type: str
  sample: "[smtp.example.com]:587"
reason:
  description: Why the map was (or would be) written, or null.
  returned: always
  type: str
  sample: credentials changed
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._apply import sasl_map_change
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            relayhost=dict(type='str', required=True),
            username=dict(type='str', required=True),
            password=dict(type='str', required=True, no_log=True),
            map_type=dict(type='str', choices=['hash', 'btree', 'lmdb', 'cdb']),
            config_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    instance = Instance(module, p['config_dir'])
    map_type = p['map_type'] or instance.effective('default_database_type')
    try:
        change = sasl_map_change(instance, p['path'], p['relayhost'], p['username'], p['password'], map_type, module._diff)
        if not module.check_mode:
            change.apply()
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=change.changed, **change.result)


if __name__ == '__main__':
    main()
