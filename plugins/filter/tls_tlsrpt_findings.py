# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_tlsrpt_findings
short_description: What senders saw at our MX hosts, from their SMTP TLS reports, judged against a failure share
version_added: 0.2.0
description:
  - Sums one or more M(mailtls.postfix.tlsrpt_read) results (several mailboxes; read each mailbox once) per policy
    domain - the sessions reported and the success share weighted by session count - and per policy domain,
    receiving MX and result type the failed sessions, the sending MTAs and the organisations that reported them.
  - Each failure type of a policy domain is a finding, V(bad) when its failed sessions exceed O(fail_share) percent of
    the domain's sessions, else V(warn). The verify playbook fails on the bad ones.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: A M(mailtls.postfix.tlsrpt_read) result, or a list of them.
    type: raw
    required: true
  fail_share:
    description: The share (percent, 0 to 100) of a domain's sessions above which a failure type is bad.
    type: float
    default: 1.0
"""

EXAMPLES = r"""
- name: Fail when senders report more than 2% of a domain's sessions failing with one result type
  ansible.builtin.assert:
    that: (tlsrpt | mailtls.postfix.tls_tlsrpt_findings(2)).findings | selectattr('severity', 'eq', 'bad') | length == 0
"""

RETURN = r"""
_value:
  description:
    - C(reports) and C(malformed) summed; C(domains) (C(policy_domain), C(policy_types), C(organizations), C(days),
      C(success), C(failure), C(sessions), C(success_share)); C(failures) (C(policy_domain), C(receiving_mx),
      C(result_type), C(sessions), C(share), C(sending_mtas), C(organizations), C(severity)); C(findings)
      (C(severity), C(policy_domain), C(result_type), C(sessions), C(share), C(mx), C(text)); C(fleet) (all domains).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import FAIL_SHARE, findings


def tls_tlsrpt_findings(results, fail_share=None):
    try:
        return findings(results, FAIL_SHARE if fail_share is None else fail_share)
    except MailTLSError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {'tls_tlsrpt_findings': tls_tlsrpt_findings}
