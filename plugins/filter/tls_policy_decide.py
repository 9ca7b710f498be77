# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_policy_decide
short_description: Merge probe recommendations, fleet self-pins and explicit entries into one TLS policy
version_added: 0.1.0
description:
  - Takes the recommendations of M(mailtls.postfix.mx_tls_info), the public-key pins of the fleet's own
    hosts and the operator's explicit entries, and returns the entries for the role's C(postfix_tls_policies).
  - For the same destination, explicit entries win over fleet self-pins, which win over probe recommendations.
  - Recommendations of V(may) are not written (the client's default level applies); the decisions list says why.
  - Every entry is validated; an invalid or duplicate explicit entry fails with its index and the reason.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: The C(results) list of M(mailtls.postfix.mx_tls_info).
    type: list
    elements: dict
    required: true
  explicit:
    description: Entries as the role's C(postfix_tls_policies) takes them.
    type: list
    elements: dict
    default: []
  fleet:
    description:
      - Fleet hosts, each C({host, domains, pins}); every domain gets a V(fingerprint) entry with the pins
        of all fleet hosts that serve it.
    type: list
    elements: dict
    default: []
  digest:
    description: The fingerprint digest of the pins.
    type: str
    default: sha256
"""

EXAMPLES = r"""
- name: Decide the policy
  ansible.builtin.set_fact:
    decision: >-
      {{ probe.results | mailtls.postfix.tls_policy_decide(
           explicit=[{'destination': 'legacy.example', 'level': 'encrypt'}],
           fleet=[{'host': 'mx2', 'domains': ['example.org'], 'pins': ['3D:95:...']}],
           digest='sha256') }}
"""

RETURN = r"""
_value:
  description: The policy and why each entry is what it is.
  type: dict
  contains:
    policies:
      description: Entries for C(postfix_tls_policies), sorted by destination.
      type: list
      elements: dict
    decisions:
      description: One item per destination with C(destination), C(level), C(source) (probe, fleet, explicit),
        C(written) and C(reason).
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._fleet import decide


def tls_policy_decide(probe_results, explicit=None, fleet=None, digest='sha256'):
    try:
        return decide(probe_results, explicit, fleet, digest)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_policy_decide: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_policy_decide': tls_policy_decide}
