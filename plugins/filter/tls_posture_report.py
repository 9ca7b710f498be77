# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_posture_report
short_description: Render the mail TLS posture of a fleet as Markdown or one self-contained HTML page
version_added: 0.1.0
description:
  - Takes the results of M(mailtls.postfix.tls_policy_check) per mail host and renders a report with summary
    counts at the top, the problems listed, and one row per mail host, destination and MX endpoint with its TLS
    version, key type, days to expiry, trust, the deployed level and whether delivery would succeed.
  - Trust is what the certificate proves without pins. V(verified) means the chain verifies and the names
    match the destination, V(trusted) that the chain verifies but the names do not match, V(untrusted) a TLS
    session whose chain does not verify, V(none) no TLS session.
  - The HTML page has its style inline and loads nothing. Problem rows are red (would not take mail) or amber
    (degraded, expiring, mail in clear, not judged).
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description:
      - Mapping of mail host name to that host's M(mailtls.postfix.tls_policy_check) result (its C(checks) list).
      - An optional C(defaulted) list per host names the destinations checked at the host's
        C(smtp_tls_security_level) because its policy map has no entry for them.
      - An optional C(tlsrpt) per host, a list of M(mailtls.postfix.tlsrpt_read) results, adds what senders saw
        (see O(fail_share)).
      - An optional C(maillog) per host, that host's M(mailtls.postfix.tls_maillog) result, adds the mail sent
        weighed by volume (the share delivered over authenticated TLS, over TLS without authentication and in
        clear, per host, for the fleet and per day as an inline SVG chart) and the busiest next hops whose mail
        was not authenticated; an optional C(explicit) per host, the levels of its explicit entries by
        destination, says where harden keeps the operator's entry rather than the probe's recommendation.
    type: dict
    required: true
  format:
    description: V(markdown), V(html), or V(data) for the report as a dictionary.
    type: str
    default: markdown
    choices: [markdown, html, data]
  warn_days:
    description: Certificates that expire within this many days are marked (null - the default).
    type: int
    default: 21
  generated:
    description: A time stamp to print in the report's heading.
    type: str
  probe:
    description:
      - A record of the gather playbook (its C(results)); the report's table of the busiest next hops whose mail
        was not authenticated says for each what harden would write from it.
    type: dict
  fail_share:
    description:
      - For the senders' reports (an optional C(tlsrpt) per host in O(_input), a list of
        M(mailtls.postfix.tlsrpt_read) results) - a failure type whose failed sessions exceed this share (percent)
        of a policy domain's sessions is a bad problem, below it a warning.
      - The section "What senders saw" shows per policy domain the sessions and the success share weighted by session
        count, and the failures by type and MX.
    type: float
    default: 1.0
"""

EXAMPLES = r"""
- name: Write the posture report as HTML
  ansible.builtin.copy:
    dest: /srv/reports/posture.html
    mode: "0644"
    content: "{{ {'mx1': check_result} | mailtls.postfix.tls_posture_report('html', 21, now(utc=true).isoformat()) }}"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: The report as Markdown or HTML text, or with V(data) a dictionary with C(summary), C(problems) and C(rows).
  type: raw
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._options import EXPIRY_WARN_DAYS
from ansible_collections.mailtls.postfix.plugins.module_utils._report import build, render
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import FAIL_SHARE


def tls_posture_report(hosts, format='markdown', warn_days=None, generated=None, probe=None,  # pylint: disable=redefined-builtin
                       fail_share=None):
    try:
        return render(build(hosts, EXPIRY_WARN_DAYS if warn_days is None else int(warn_days), generated, probe,
                            FAIL_SHARE if fail_share is None else fail_share), format)
    except MailTLSError as e:
        raise AnsibleFilterError(str(e))


class FilterModule(object):
    def filters(self):
        return {'tls_posture_report': tls_posture_report}
