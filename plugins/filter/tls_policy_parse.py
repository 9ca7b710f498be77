# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_policy_parse
short_description: Read the entries of a Postfix smtp_tls_policy_maps source file
version_added: 0.1.0
description:
  - Turns the text of a policy map source (C(key level attr=value ...) lines) into entries as the role's
    C(postfix_tls_policies) takes them; comments and blank lines are skipped.
  - A line with an attribute this collection does not know fails with its line number.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: The text of the policy map source.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the deployed policy
  ansible.builtin.slurp:
    src: /etc/postfix/tls_policy
  register: policy_file

- name: As entries
  ansible.builtin.set_fact:
    entries: "{{ policy_file.content | b64decode | mailtls.postfix.tls_policy_parse }}"
"""

RETURN = r"""
_value:
  description: Entries with C(destination), C(level) and the attributes the line sets (C(fingerprints) for pins).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._fleet import parse_policy_text


def tls_policy_parse(text):
    try:
        return parse_policy_text(text)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_policy_parse: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_policy_parse': tls_policy_parse}
