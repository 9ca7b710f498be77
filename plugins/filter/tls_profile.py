# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_profile
short_description: A TLS profile's main.cf parameters, in the syntax of a given Postfix version
version_added: 0.1.0
description:
  - Takes the role's profiles (C(roles/tls/vars/profiles.yml)) and returns the parameters of one of them.
  - The protocols parameters are written C(>=TLSv1.2) from Postfix 3.6, and as the list of protocols to exclude
    (C(!SSLv2, !SSLv3, !TLSv1, !TLSv1.1)) before 3.6, which reads C(>=) as an unknown protocol name.
  - With O(relative_to), returns only the parameters of O(only) whose values differ from O(relative_to), as one-word
    values for master.cf C(-o) overrides of a service that runs another profile.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: The profiles, by name; each has C(protocols) (parameter to lowest TLS version) and C(parameters).
    type: dict
    required: true
  name:
    description: The profile to return.
    type: str
    required: true
  postfix_version:
    description: The version of the Postfix that reads the parameters (C(postconf -h mail_version)).
    type: str
    required: true
  overrides:
    description:
      - Protocols parameters set by the operator; C(>=TLSvX) is translated for Postfix before 3.6. Empty values
        mean "from the profile".
    type: dict
    default: {}
  relative_to:
    description: The main.cf parameters of the main profile; when given, only differences within O(only) are returned.
    type: dict
  only:
    description: With O(relative_to), the parameter names to compare.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The intermediate profile for Postfix 3.5
  ansible.builtin.debug:
    msg: "{{ __postfix_tls_profiles | mailtls.postfix.tls_profile('intermediate', '3.5.25') }}"
"""

RETURN = r"""
_value:
  description: Parameter names and values, for example C(smtpd_tls_protocols) C(>=TLSv1.2).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._profile import profile_parameters, service_overrides


def tls_profile(profiles, name, postfix_version, overrides=None, relative_to=None, only=None):
    try:
        params = profile_parameters(profiles, name, postfix_version, overrides)
        if relative_to is not None:
            return service_overrides(relative_to, params, only or [])
        return params
    except MailTLSError as e:
        raise AnsibleFilterError('tls_profile: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_profile': tls_profile}
