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
    C(postfix_tls_policies) takes them. The text is read as Postfix reads it - comments and blank lines are
    skipped, and a line that starts with whitespace continues the one before - and each entry is validated
    as the role validates it, so keys come back folded to lower case and pins in upper-case colon form.
  - A line with an attribute this collection does not know, or a value Postfix would refuse, fails with its
    line number.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: The text of the policy map source.
    type: str
    required: true
  digest:
    description: The fingerprint digest of the pins (C(smtp_tls_fingerprint_digest) of the Postfix that reads the map).
    type: str
    choices: [sha256, sha1, md5]
    default: sha256
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
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import map_text_entries


def tls_policy_parse(text, digest='sha256'):
    try:
        return [entry.as_dict() for entry in map_text_entries(text, digest, 'policy map')[0]]
    except MailTLSError as e:
        raise AnsibleFilterError('tls_policy_parse: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_policy_parse': tls_policy_parse}
