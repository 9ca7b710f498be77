# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_plan
short_description: The tls role's plan for one host - the files a run may write (its rollback set)
version_added: 0.2.0
description:
  - Computes, once and in Python, what a run of the C(mailtls.postfix.tls) role on one host may write. Today that
    is C(files), the complete rollback set - main.cf, master.cf, the policy and SASL maps with their indexes, the
    certificate files, the OpenSSL baseline, the ffdhe3072 group, the next keys, the rollover and retired-record
    state, and for ACME certificates their keys, settings, C(/usr/local/sbin/mailtls-acme) and the systemd service,
    timer and enablement link of the renewal - with C(systemd_units), the subset that systemd reads, and C(timers).
  - The role snapshots each of them before it changes anything and, when a run fails, puts back the ones that
    existed and removes the ones that did not.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description:
      - The role's inputs - C(config_dir), C(cert_dir), C(state_dir), C(certificates) (postfix_tls_certificates),
        C(next_key), C(policy_map) and C(sasl_map) (the map sources the run writes, else null), C(map_type),
        C(openssl_config_file) (the baseline file the run writes, else null) and C(dh_files) (the DH parameter
        files the profile names).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The files a run of the role may write on this host
  ansible.builtin.debug:
    msg: >-
      {{ {'config_dir': '/etc/postfix', 'cert_dir': '/etc/postfix/tls', 'state_dir': '/var/lib/mailtls-postfix',
          'certificates': [{'name': 'ecdsa', 'acme': true}], 'policy_map': '/etc/postfix/tls_policy'}
         | mailtls.postfix.tls_plan }}
"""

RETURN = r"""
_value:
  description: C(files) (every path, once, in the order the role writes them), C(systemd_units) (the files of
    them that systemd reads), C(timers) (the timer unit files among those) and C(dh_file) (the ffdhe3072 group
    file the role installs, or null).
  type: dict
"""

import posixpath

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._plan import DH_FILE, SYSTEMD_DIR, managed_files

_REQUIRED = ('config_dir', 'cert_dir', 'state_dir')
_OPTIONAL = ('certificates', 'next_key', 'policy_map', 'sasl_map', 'map_type', 'openssl_config_file', 'dh_files')


def tls_plan(inputs):
    if not isinstance(inputs, Mapping):
        raise AnsibleFilterError('tls_plan: the input must be a dict of the role inputs, not %s' % type(inputs).__name__)
    unknown = sorted(set(inputs) - set(_REQUIRED + _OPTIONAL))
    missing = [k for k in _REQUIRED if not inputs.get(k)]
    if unknown or missing:
        raise AnsibleFilterError('tls_plan: %s' % '; '.join(
            (['unknown inputs: %s' % ', '.join(unknown)] if unknown else [])
            + (['missing inputs: %s' % ', '.join(missing)] if missing else [])))
    args = dict((k, inputs[k]) for k in _OPTIONAL if inputs.get(k) is not None)
    args['certificates'] = list(args.get('certificates') or [])
    args['next_key'] = bool(args.get('next_key'))
    try:
        files = managed_files(inputs['config_dir'], inputs['cert_dir'], inputs['state_dir'], **args)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_plan: %s' % e)
    units = [f for f in files if f.startswith(SYSTEMD_DIR + '/')]
    dh_file = posixpath.join(inputs['config_dir'], DH_FILE)
    return {'files': files, 'systemd_units': units, 'dh_file': dh_file if dh_file in files else None,
            'timers': [f for f in units if f.endswith('.timer') and '/timers.target.wants/' not in f]}


class FilterModule(object):
    def filters(self):
        return {'tls_plan': tls_plan}
