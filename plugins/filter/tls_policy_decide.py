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
  - A recommendation made from an MTA-STS policy in enforce mode is a V(secure) entry whose C(match) names come
    from the policy's C(mx) lines. With O(postfix_version) 3.10 or later it also carries the policy as Postfix's
    STS attributes (C(policy_type=sts), C(policy_domain), one C(mx_host_pattern) per C(mx) line, one C(policy_string)
    per policy line). Postfix then connects only to MX hosts that match a pattern and checks each certificate
    against that MX host's name (C(smtp_tls_enforce_sts_mx_patterns), default yes).
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
  postfix_version:
    description:
      - The C(mail_version) of the Postfix that gets the policy (C(postconf -h mail_version)).
      - From 3.10, MTA-STS recommendations carry the STS attributes; explicit entries with STS attributes are refused
        below 3.10 (Postfix would reject the whole entry and defer the mail).
      - Unset, no STS attributes are added and explicit ones are not checked against a version.
    type: str
    version_added: 0.1.0
"""

EXAMPLES = r"""
- name: Decide the policy
  ansible.builtin.set_fact:
    decision: >-
      {{ probe.results | mailtls.postfix.tls_policy_decide(
           explicit=[{'destination': 'legacy.example', 'level': 'encrypt'}],
           fleet=[{'host': 'mx2', 'domains': ['example.org'], 'pins': ['3D:95:...']}],
           digest='sha256') }}

- name: Decide for a Postfix 3.10 host (MTA-STS entries get the STS attributes)
  ansible.builtin.set_fact:
    decision: "{{ probe.results | mailtls.postfix.tls_policy_decide(postfix_version='3.10.13') }}"
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
from ansible_collections.mailtls.postfix.plugins.module_utils._decide import decide


def tls_policy_decide(probe_results, explicit=None, fleet=None, digest='sha256', postfix_version=None):
    try:
        return decide(probe_results, explicit, fleet, digest, postfix_version)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_policy_decide: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_policy_decide': tls_policy_decide}
