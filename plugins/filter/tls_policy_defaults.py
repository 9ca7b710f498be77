# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_policy_defaults
short_description: Entries at the default level for the destinations a policy map does not name
version_added: 0.1.0
description:
  - Takes next hops (as they would be written as policy-map keys) and returns one entry at O(level) for each one
    that none of O(entries) names, so that a check or a report can judge them as Postfix would deliver to them
    (at C(smtp_tls_security_level)).
  - Keys are compared as Postfix looks them up, after postmap's folding to lower case; each destination comes
    back once.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: Next hops (V(example.com), V(smtp.example.com:587), V([relay.example]:submission)).
    type: list
    elements: str
    required: true
  level:
    description: The level that applies to them (the host's C(smtp_tls_security_level); empty means V(none)).
    type: str
    required: true
  entries:
    description: The entries of the map (as P(mailtls.postfix.tls_policy_parse#filter) gives them).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Entries for the destinations the map does not name
  ansible.builtin.set_fact:
    extra: "{{ ['example.com', 'example.net'] | mailtls.postfix.tls_policy_defaults('may', map_entries) }}"
"""

RETURN = r"""
_value:
  description: Entries with C(destination) and C(level).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry, policy_key


def tls_policy_defaults(destinations, level, entries=None):
    try:
        named = set(policy_key(e.get('destination')) if isinstance(e, dict) else e.key for e in entries or [])
        result = []
        for i, destination in enumerate(destinations or []):
            entry = PolicyEntry.from_dict({'destination': destination, 'level': level or 'none'},
                                          where='destinations[%d]' % i)
            if entry.key not in named:
                named.add(entry.key)
                result.append(entry.as_dict())
        return result
    except MailTLSError as e:
        raise AnsibleFilterError('tls_policy_defaults: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_policy_defaults': tls_policy_defaults}
