# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_relay
short_description: What the tls role writes for a relay host (relayhost, policy entry, SASL and wrapper-mode settings)
version_added: 0.2.0
description:
  - Validates C(postfix_tls_relayhost) and returns the C(relayhost) value, the policy entry under exactly the key
    Postfix looks up, the main.cf parameters (C(relayhost), SASL, C(default_transport) for port 465) and the
    master.cf service that runs C(smtp) with C(-o smtp_tls_wrappermode=yes).
  - Refuses a level that does not authenticate the relay (C(may), C(encrypt), C(none)), a username without a
    password and a password that a map line cannot hold, naming the problem. The password is not in the result.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: The relay (C(host), C(port), C(mx), C(level), C(match), C(fingerprints), C(sasl_username),
      C(sasl_password), C(sasl_mechanisms), C(tls_mode)).
    type: dict
    required: true
  digest:
    description: The fingerprint digest of C(fingerprints) (C(smtp_tls_fingerprint_digest)).
    type: str
    default: sha256
  postfix_version:
    description: The Postfix version that reads the entry.
    type: str
"""

EXAMPLES = r"""
- name: The settings for a smarthost on 465
  ansible.builtin.debug:
    msg: "{{ {'host': 'smtp.example.com', 'port': 465} | mailtls.postfix.tls_relay }}"
"""

RETURN = r"""
_value:
  description: C(relayhost), C(port), C(wrapper), C(policy) (an entry dict), C(sasl), C(main_cf) (None means absent)
    and C(service).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._relay import plan


def tls_relay(relay, digest='sha256', postfix_version=None):
    try:
        return plan(relay, digest, postfix_version)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_relay: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_relay': tls_relay}
