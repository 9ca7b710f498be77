# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_plan
short_description: The tls role's plan for one host - main.cf, master.cf, maps, files and the rollback set
version_added: 0.2.0
description:
  - Computes, once and in Python, the whole state that the C(mailtls.postfix.tls) role intends on one host, from
    the role's variables, the host's facts and the profile table. The role's task files only apply it.
  - C(main_cf) and C(services) are the main.cf parameters and master.cf services in the syntax of the host's
    Postfix (the profile, the OpenSSL baseline, the server and client settings, DNSSEC lookups where a C(dane)
    level is used, the relay), with C(if_known) (parameters written only where C(postconf -d) knows them) and
    C(absent) (the certificate parameters that C(smtpd_tls_chain_files) replaces).
  - C(policy_entries) are the operator's entries with the relay's entry last (it replaces one for the same next
    hop); C(use_map), C(policy_map), C(sasl_map) and C(map_type) say which maps are written.
  - C(write) lists the files written whole (the OpenSSL baseline, the ffdhe3072 group where the profile names it,
    and for ACME certificates the scheduled renewal - its settings per certificate, C(/usr/local/sbin/mailtls-acme)
    with the module_utils code it runs under C(/usr/local/lib/mailtls-postfix), and the systemd units), with
    C(outside_postfix), the ones of them Postfix does not read.
  - C(files) is the complete rollback set - main.cf, master.cf, the policy and SASL maps with their indexes, the
    certificate files, the OpenSSL baseline, the ffdhe3072 group, the next keys, the retired-record state, and for
    ACME certificates their keys, settings, C(/usr/local/sbin/mailtls-acme) and the systemd service, timer and
    enablement link of the renewal - with C(systemd_units), the subset that systemd reads, and C(timers).
    The role snapshots each of them before it changes anything and, when a run fails, puts back the ones that
    existed and removes the ones that did not.
  - A bad input fails with a message that names it - an unknown profile, a relay Postfix would misread, a Postfix
    older than 3.4.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description:
      - The role's variables by their names without C(postfix_tls_) (C(roles/tls/vars/main.yml) builds this dict
        as C(__postfix_tls_inputs)).
    type: dict
    required: true
  host:
    description: The result of M(mailtls.postfix.tls_host_facts) on the host.
    type: dict
    required: true
  profiles:
    description: The profile table (C(roles/tls/vars/profiles.yml)).
    type: dict
    required: true
  dh_group:
    description: The PEM text of the RFC 7919 ffdhe3072 group, written where the profile names C(ffdhe3072.pem).
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: The role's plan for this host
  ansible.builtin.set_fact:
    __postfix_tls_plan: >-
      {{ __postfix_tls_inputs | mailtls.postfix.tls_plan(__postfix_tls_host, __postfix_tls_profiles,
                                                          lookup('ansible.builtin.file', 'ffdhe3072.pem')) }}
"""

RETURN = r"""
_value:
  description:
    - C(version), C(map_type), C(use_map), C(policy_map), C(sasl_map), C(relay) (the C(mailtls.postfix.tls_relay) filter's
      plan, or empty), C(policy_entries), C(chain_files), C(main_cf), C(services), C(if_known), C(absent),
      C(openssl) (the signature algorithms and groups the baseline sets), C(write) (path, content and mode),
      C(outside_postfix),
      C(dh_file), C(files), C(systemd_units), C(timers) and C(warnings).
  type: dict
"""

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._acme import PROGRAM_FILES
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._plan import plan

# the collection's module_utils, beside this filter: the scheduled ACME renewal runs its own copy of them
_MODULE_UTILS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'module_utils')


def _program(role):
    """The text of the module_utils files the scheduled ACME renewal runs, where a certificate uses ACME."""
    certificates = role.get('certificates') if isinstance(role, dict) else None
    if not isinstance(certificates, list) or not any(isinstance(c, dict) and c.get('acme') for c in certificates):
        return {}
    program = {}
    for name in PROGRAM_FILES:
        with open(os.path.join(_MODULE_UTILS, name)) as f:
            program[name] = f.read()
    return program


def tls_plan(role, host, profiles, dh_group=''):
    try:
        return plan(role, host, profiles, dh_group, _program(role))
    except MailTLSError as e:
        raise AnsibleFilterError('tls_plan: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_plan': tls_plan}
