#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tlsrpt_read
short_description: Read the SMTP TLS reports (RFC 8460) senders sent about our servers, summed per domain, MX and day
version_added: 0.2.0
description:
  - Reads every report in O(path) - the C(application/tlsrpt+gzip) and C(application/tlsrpt+json) parts of the mail
    in a Maildir or an mbox file, or the C(.json) and C(.json.gz) files of a directory - one at a time, never the
    whole source at once.
  - Each report is decompressed to at most O(max_bytes) (a larger one, such as a gzip bomb, is refused), decoded as
    UTF-8 JSON and checked against the fields of RFC 8460 section 4.4. A report that fails - not gzip, a zip, not
    UTF-8, not JSON, a field missing or of the wrong type, a date range in the future - is counted and named in
    RV(malformed) with its reason; the rest are read. A report delivered twice counts once.
  - Returns, per reporting organisation, policy domain and type and day, the successful and failed sessions, and
    per receiving MX the failed sessions by result type and sending MTA.
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
options:
  path:
    description: A Maildir (with C(cur) and C(new)), an mbox file, or a directory of report files.
    type: path
    required: true
  max_bytes:
    description: The largest report read, once decompressed.
    type: int
    default: 16777216
seealso:
  - name: RFC 8460, SMTP TLS Reporting
    description: The report format (section 4) and how reports are sent (section 5).
    link: https://www.rfc-editor.org/rfc/rfc8460
"""

EXAMPLES = r"""
- name: What senders reported about our MX hosts
  mailtls.postfix.tlsrpt_read:
    path: /var/mail/tlsrpt/Maildir
  register: tlsrpt

- name: Failures by MX and type
  ansible.builtin.debug:
    msg: "{{ tlsrpt.failures | map(attribute='receiving_mx') | zip(tlsrpt.failures | map(attribute='result_type')) | list }}"
"""

RETURN = r"""
reports:
  description: How many distinct reports were read.
  returned: always
  type: int
  sample: 12
malformed:
  description: The reports that could not be read, each with its C(source) (message or file) and C(reason).
  returned: always
  type: list
  elements: dict
  sample: [{source: "message 7: report.zip", reason: "a zip archive, not gzip (RFC 8460 5.3 sends application/tlsrpt+gzip)"}]
summary:
  description: Per C(organization), C(policy_domain), C(policy_type) and C(day), the C(success) and C(failure) session counts.
  returned: always
  type: list
  elements: dict
  sample: [{organization: Company-X, policy_domain: example.com, policy_type: sts, day: "2026-12-03", success: 5326, failure: 303}]
failures:
  description: The failed sessions (C(sessions)) per organisation, domain, type, day, C(receiving_mx), C(result_type) and C(sending_mta_ip).
  returned: always
  type: list
  elements: dict
  sample: [{organization: Company-X, policy_domain: example.com, policy_type: sts, day: "2026-12-03",
            receiving_mx: mx1.example.com, result_type: certificate-expired, sending_mta_ip: 192.0.2.1, sessions: 100}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import read


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            max_bytes=dict(type='int', default=16777216),
        ),
        supports_check_mode=True,
    )
    if module.params['max_bytes'] < 1:
        module.fail_json(msg='max_bytes must be 1 or more, not %d' % module.params['max_bytes'])
    try:
        result = read(module.params['path'], cap=module.params['max_bytes'])
    except (MailTLSError, OSError) as e:
        module.fail_json(msg='%s: %s' % (module.params['path'], e))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
