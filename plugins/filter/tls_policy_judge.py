# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_policy_judge
short_description: Whether Postfix would deliver under each deployed policy entry, from fresh probe results
version_added: 0.1.0
description:
  - For each policy entry, judges every probed endpoint the way Postfix's SMTP client would at the entry's level
    (V(fingerprint) pins against the presented key, V(secure) and V(verify) chain and names, V(encrypt) a TLS
    handshake) and says whether the destination delivers (at least one endpoint passes) and whether some
    endpoints fail.
  - V(dane) and V(dane-only) entries and parent-domain entries are not judged (C(delivers) is null).
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: Policy entries (from P(mailtls.postfix.tls_policy_parse#filter) or C(postfix_tls_policies)).
    type: list
    elements: dict
    required: true
  probe_results:
    description: The C(results) list of M(mailtls.postfix.mx_tls_info) for the same destinations.
    type: list
    elements: dict
    required: true
  digest:
    description: The fingerprint digest of the pins.
    type: str
    default: sha256
"""

EXAMPLES = r"""
- name: Judge the deployed policy
  ansible.builtin.set_fact:
    verdicts: "{{ entries | mailtls.postfix.tls_policy_judge(probe.results, 'sha256') }}"
"""

RETURN = r"""
_value:
  description:
    - One verdict per entry with C(destination), C(level), C(delivers) (true, false or null), C(degraded),
      C(endpoints) and C(reason).
    - "Each endpoint has C(hostname), C(address), C(port), C(ok), C(reason), and what was seen there: C(trust),
      C(starttls), C(tls_version), C(key_type), C(key_bits), C(not_after), C(days_remaining), C(error)."
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._judge import judge
from ansible_collections.mailtls.postfix.plugins.module_utils._report import with_facts


def tls_policy_judge(entries, probe_results, digest='sha256'):
    try:
        return with_facts(judge(entries, probe_results, digest), probe_results)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_policy_judge: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_policy_judge': tls_policy_judge}
