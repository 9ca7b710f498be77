#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_apply
short_description: Apply the tls role's plan to a host in one call - chain files, maps, files, main.cf and master.cf
version_added: 0.2.0
description:
  - Compares every part of the plan with the host first - the given certificates' chain files, the policy map, the
    relay's SASL password map, the plain files and main.cf with master.cf - and writes nothing when nothing differs.
  - When a part differs, it snapshots the C(paths) of O(snapshot) (the plan's rollback set) before the first write, and then
    applies the parts that differ in this order - chain files, policy map (with C(postmap)), SASL map, plain
    files, main.cf and master.cf. RV(record) is the snapshot, for M(mailtls.postfix.tls_snapshot) to put back.
  - A failure stops at that part; the result still carries RV(record), so that the caller can roll back.
  - Each part is checked as its own module checks it (M(mailtls.postfix.tls_chain_file),
    M(mailtls.postfix.tls_policy_map), M(mailtls.postfix.sasl_password_map), M(mailtls.postfix.tls_files),
    M(mailtls.postfix.postconf)), by the same code.
  - The action plugin reads C(key_src) and C(chain_src) of O(certificates) and O(policy.src) on the controller, as
    the C(file) lookup finds them. No key and no password is ever in the result or a diff.
author:
  - mailtls.postfix developers (@mailtls)
attributes:
  action:
    description: An action plugin reads the files of O(certificates) and O(policy.src) on the controller.
    support: full
  check_mode:
    support: full
    description: Reports what would change, part by part; writes nothing and takes no snapshot.
  diff_mode:
    support: full
    description: The diffs of the parts, as their modules show them (certificates by their public facts, the SASL map with its passwords masked).
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  config_dir:
    description: The Postfix configuration directory.
    type: path
  certificates:
    description: The given certificates, each installed as one C(smtpd_tls_chain_files) file.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The chain file to write (key first, then the chain).
        type: path
        required: true
      key_content:
        description: The private key (PEM); or C(key_src), a file on the controller.
        type: str
      chain_content:
        description: The chain (PEM, leaf first); or C(chain_src), a file on the controller.
        type: str
      key_src:
        description: The private key's file on the controller (the action plugin reads it into O(certificates[].key_content)).
        type: path
      chain_src:
        description: The chain's file on the controller (read into O(certificates[].chain_content)).
        type: path
      index:
        description: Take the key and chain from O(certificate_sources) at this index instead.
        type: int
      hostnames:
        description: Names the leaf should carry (a warning when it does not).
        type: list
        elements: str
        default: []
  certificate_sources:
    description:
      - Certificates as the C(mailtls.postfix.tls) role takes them (C(postfix_tls_certificates)); a certificate of
        O(certificates) with C(index) takes C(key_src) or C(key_content) and C(chain_src) or C(chain_content) from
        the entry at that index. The action plugin resolves them; the module never sees this option's keys.
    type: list
    elements: dict
    default: []
  policy:
    description: The policy map, as M(mailtls.postfix.tls_policy_map) takes it; omit for none.
    type: dict
    suboptions:
      path:
        description: The policy map's source file; C(postmap) writes its index beside it.
        type: path
        required: true
      entries:
        description: The entries.
        type: list
        elements: dict
        default: []
      src:
        description: A policy file on the controller, merged before O(policy.entries).
        type: path
      src_content:
        description: The text of that file (the action plugin reads O(policy.src) into it).
        type: str
      src_format:
        description: The format of O(policy.src).
        type: str
        choices: [postfix, json]
        default: postfix
      digest:
        description: The fingerprint digest of the entries.
        type: str
        required: true
      map_type:
        description: The map type.
        type: str
        choices: [hash, btree, lmdb, cdb, texthash]
        required: true
  sasl:
    description: The relay's SASL password map, as M(mailtls.postfix.sasl_password_map) takes it; omit for none.
    type: dict
    suboptions:
      path:
        description: The password map's source file (root's, mode 0600, as its index).
        type: path
        required: true
      relayhost:
        description: The map key (the relayhost as written).
        type: str
        required: true
      username:
        description: The SASL username.
        type: str
        required: true
      password:
        description: The SASL password.
        type: str
        required: true
      map_type:
        description: The map type.
        type: str
        choices: [hash, btree, lmdb, cdb]
        required: true
  files:
    description: Plain files written whole, as M(mailtls.postfix.tls_files) takes them.
    type: list
    elements: dict
    default: []
  postconf:
    description: main.cf parameters and master.cf services, as M(mailtls.postfix.postconf) takes them (C(parameters),
      C(absent), C(services), C(allow_unknown), C(if_known)); omit for none.
    type: dict
  snapshot:
    description: C(paths) (the rollback set) and C(directory), snapshotted when a part will change; omit when the
      caller took the snapshot itself.
    type: dict
  outside_postfix:
    description: Files of O(files) that Postfix does not read; RV(postfix_changed) leaves them out.
    type: list
    elements: path
    default: []
requirements:
  - cryptography (for O(certificates))
"""

EXAMPLES = r"""
- name: Apply the plan
  mailtls.postfix.tls_apply:
    config_dir: /etc/postfix
    certificates:
      - {path: /etc/postfix/tls/rsa.pem, key_src: files/mx1-rsa.key, chain_src: files/mx1-rsa.chain.pem}
    policy: {path: /etc/postfix/tls_policy, entries: [{destination: example.org, level: secure}], digest: sha256, map_type: hash}
    postconf: {parameters: {smtpd_tls_chain_files: /etc/postfix/tls/rsa.pem}}
    snapshot: {paths: [/etc/postfix/main.cf, /etc/postfix/tls/rsa.pem], directory: /var/lib/mailtls-postfix/snapshot}
  register: applied
"""

RETURN = r"""
changed_parts:
  description: The parts that changed (or would), in the order they were applied.
  returned: always
  type: list
  elements: str
  sample: [certificate, postconf]
postfix_changed:
  description: Whether a file Postfix reads changed (so that it must be checked and reloaded).
  returned: always
  type: bool
  sample: true
certificates:
  description: Per given certificate, its C(path), public C(certificate) facts and C(warnings).
  returned: always
  type: list
  elements: dict
  sample: [{path: /etc/postfix/tls/rsa.pem, certificate: {subject: CN=mx1.example.org}, warnings: []}]
policy:
  description: What M(mailtls.postfix.tls_policy_map) returns (C(entries), C(first_key), C(map), C(reason), ...).
  returned: when O(policy) is given
  type: dict
  sample: {entries: 2, first_key: example.org, map: "hash:/etc/postfix/tls_policy", reason: null}
written:
  description: The plain files written (or that would be).
  returned: always
  type: list
  elements: str
  sample: [/etc/postfix/mailtls-openssl.cnf]
postconf:
  description: What M(mailtls.postfix.postconf) returns (C(changes), C(skipped_parameters), C(warnings_after)).
  returned: when O(postconf) is given
  type: dict
  sample: {changes: [], skipped_parameters: []}
record:
  description: The snapshot taken before the first write (for M(mailtls.postfix.tls_snapshot) C(state=restore)).
  returned: when a part changed and O(snapshot) was given
  type: list
  elements: dict
  sample: [{path: /etc/postfix/main.cf, kind: file, mode: 420}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._apply import (
    chain_change, files_change, policy_map_change, postconf_change, sasl_map_change)
from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import file_specs
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance
from ansible_collections.mailtls.postfix.plugins.module_utils._snapshot import take

POSTCONF_KEYS = ('parameters', 'absent', 'services', 'allow_unknown', 'if_known')


def compare(module, instance, p):
    """Every part compared with the host, in the order they are applied."""
    changes = []
    for i, cert in enumerate(p['certificates']):
        if cert.get('key_content') is None or cert.get('chain_content') is None:
            raise MailTLSError('certificates[%d] (%s): needs key_content and chain_content' % (i, cert['path']))
        changes.append(chain_change(cert['path'], cert['key_content'], cert['chain_content'], cert['hostnames'], module._diff))
    if p['policy']:
        q = p['policy']
        changes.append(policy_map_change(instance, q['path'], q['entries'], q['digest'], q['map_type'],
                                         instance.effective('mail_version'), q['src'], q['src_content'], q['src_format'],
                                         module.check_mode, module._diff))
    if p['sasl']:
        q = p['sasl']
        changes.append(sasl_map_change(instance, q['path'], q['relayhost'], q['username'], q['password'], q['map_type'],
                                       module._diff))
    if p['files']:
        changes.append(files_change(file_specs(p['files'])))
    if p['postconf']:
        unknown = sorted(set(p['postconf']) - set(POSTCONF_KEYS))
        if unknown:
            raise MailTLSError('postconf: unknown keys %s (%s)' % (', '.join(unknown), ', '.join(POSTCONF_KEYS)))
        q = dict((k, p['postconf'].get(k) or ({} if k == 'parameters' else [])) for k in POSTCONF_KEYS)
        changes.append(postconf_change(instance, module.run_command, q['parameters'], q['absent'], q['services'],
                                       q['allow_unknown'], q['if_known'], module._diff))
    return changes


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config_dir=dict(type='path'),
            certificates=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                key_content=dict(type='str', no_log=True),
                chain_content=dict(type='str'),
                key_src=dict(type='path'),
                chain_src=dict(type='path'),
                index=dict(type='int'),
                hostnames=dict(type='list', elements='str', default=[]),
            )),
            certificate_sources=dict(type='list', elements='dict', default=[], no_log=True),
            policy=dict(type='dict', options=dict(
                path=dict(type='path', required=True),
                entries=dict(type='list', elements='dict', default=[]),
                src=dict(type='path'),
                src_content=dict(type='str'),
                src_format=dict(type='str', default='postfix', choices=['postfix', 'json']),
                digest=dict(type='str', required=True),
                map_type=dict(type='str', required=True, choices=['hash', 'btree', 'lmdb', 'cdb', 'texthash']),
            )),
            sasl=dict(type='dict', options=dict(
                path=dict(type='path', required=True),
                relayhost=dict(type='str', required=True),
                username=dict(type='str', required=True),
                password=dict(type='str', required=True, no_log=True),
                map_type=dict(type='str', required=True, choices=['hash', 'btree', 'lmdb', 'cdb']),
            )),
            files=dict(type='list', elements='dict', default=[]),
            postconf=dict(type='dict'),
            snapshot=dict(type='dict'),
            outside_postfix=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p['certificates'] and not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    instance = Instance(module, p['config_dir'])
    result = {'changed': False, 'changed_parts': [], 'postfix_changed': False, 'certificates': [], 'written': []}
    changes = []
    try:
        changes = compare(module, instance, p)
        for change in changes:
            if change.part == 'certificate':
                result['certificates'].append(change.result)
            elif change.part == 'files':
                result['written'] = change.result['written']
            else:
                result[change.part] = change.result
        due = [c for c in changes if c.changed]
        result['changed'] = bool(due)
        result['changed_parts'] = [c.part for c in due]
        result['postfix_changed'] = any(c.part != 'files' or set(c.result['written']) - set(p['outside_postfix'])
                                        for c in due)
        diffs = []
        for c in changes:
            diff = c.result.pop('diff', None)
            if c.changed and diff:
                diffs += diff if isinstance(diff, list) else [diff]
        for cert in result['certificates']:
            for warning in cert['warnings']:
                module.warn(warning)
        if module._diff:
            result['diff'] = diffs
        if due and not module.check_mode:
            if p['snapshot']:
                result['record'] = take(p['snapshot'].get('paths') or [], p['snapshot']['directory'])
            for change in due:
                change.apply()
    except MailTLSError as e:
        module.fail_json(msg=str(e), **result)
    finally:
        for change in changes:
            change.discard()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
