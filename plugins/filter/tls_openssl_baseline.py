# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_openssl_baseline
short_description: A TLS profile's OpenSSL baseline (signature algorithms, groups) for one host
version_added: 0.2.0
description:
  - Takes the role's profiles (C(roles/tls/vars/profiles.yml)) and returns what the C(tls) role writes for the
    C(openssl) settings of one of them on one host - the OpenSSL configuration file that Postfix reads through
    C(tls_config_file), and the main.cf parameters that make Postfix read it.
  - C(signature_algorithms) needs a Postfix with C(tls_config_file); C(groups) also needs OpenSSL 3.5 or later and a
    Postfix that leaves the groups to OpenSSL when C(tls_eecdh_auto_curves) and C(tls_ffdhe_auto_groups) are empty
    (3.6.17, 3.7.13, 3.8.8, 3.9.2, 3.10 and later). Where Postfix has no C(tls_config_file), nothing is written and a
    warning says so.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: The profiles, by name; the C(openssl) key of a profile has C(signature_algorithms) and C(groups).
    type: dict
    required: true
  name:
    description: The profile.
    type: str
    required: true
  postfix_version:
    description: The running Postfix's C(mail_version).
    type: str
    required: true
  config_file:
    description: The path of the OpenSSL configuration file to write.
    type: path
    required: true
  library:
    description: The result of M(mailtls.postfix.tls_host_facts) on the host.
    type: dict
    required: true
  master:
    description: The host's C(postconf -M) output; every C(smtpd) and C(tlsproxy) service in it gets the server name.
    type: str
    default: ""
  written:
    description: C(NAME/TYPE) of the services the role writes itself (left out of C(services)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The intermediate profile's baseline on Debian 13
  ansible.builtin.debug:
    msg: >-
      {{ __postfix_tls_profiles | mailtls.postfix.tls_openssl_baseline('intermediate', '3.10.13',
         '/etc/postfix/mailtls-openssl.cnf', {'config_file_known': true, 'openssl_version_number': 810549392}) }}
"""

RETURN = r"""
_value:
  description:
    - C(parameters) (main.cf; null for Postfix's default), C(service_parameters) (the C(-o) parameters of every
      TLS server service; null removes one), C(services) (the existing C(smtpd) and C(tlsproxy) services with
      them, for M(mailtls.postfix.postconf)), C(config) (the file's text; empty for no file),
      C(signature_algorithms) and C(groups) (what the file sets) and C(warnings).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._library import baseline, server_services


def tls_openssl_baseline(profiles, name, postfix_version, config_file, library, master='', written=None):
    if not isinstance(profiles, dict) or name not in profiles:
        raise AnsibleFilterError('tls_openssl_baseline: profile %r is not one of %s' % (name, ', '.join(sorted(profiles or {}))))
    try:
        result = baseline(name, profiles[name].get('openssl'), postfix_version, config_file,
                          bool(library.get('config_file_known')), int(library.get('openssl_version_number') or 0))
        result['services'] = server_services(master or '', result['service_parameters'], written or ())
        return result
    except MailTLSError as e:
        raise AnsibleFilterError('tls_openssl_baseline: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_openssl_baseline': tls_openssl_baseline}
