#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_snapshot
short_description: Snapshot the files a run of the tls role may write, and put them back after a failure
version_added: 0.2.0
description:
  - With O(state=snapshot), records for each of O(paths) whether it is a file, a symbolic link or absent, and
    copies every file, with its mode and owner, into O(directory) (root only, 0700; each copy 0600). Copies left
    there by an earlier run for paths no longer listed are removed.
  - With O(state=restore), puts back every file and link of O(record) that existed (atomically - a temporary file
    in the same directory, then a rename - with the recorded mode and owner) and removes every path that did not
    exist. A path already as recorded is left alone, so a restore after a run that changed nothing changes nothing.
  - One call for the whole set, whatever its size. No file content is returned or logged.
  - The tls role's rollback set comes from the P(mailtls.postfix.tls_plan#filter) filter.
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
attributes:
  check_mode:
    support: full
    description: Nothing is written; RV(record), RV(restored) and RV(removed) say what would be.
  diff_mode:
    support: none
    description: No contents are shown, since the set holds private keys; RV(restored) and RV(removed) name the paths.
options:
  state:
    description: Take the snapshot, or put it back.
    type: str
    choices: [snapshot, restore]
    required: true
  paths:
    description: The absolute paths to snapshot (O(state=snapshot)), each once.
    type: list
    elements: path
    default: []
  directory:
    description: Where the copies are kept. It may hold private keys, so it is made root only.
    type: path
    required: true
  record:
    description: RV(record) of the snapshot to put back (O(state=restore)).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Snapshot the role's files
  mailtls.postfix.tls_snapshot:
    state: snapshot
    paths: [/etc/postfix/main.cf, /etc/postfix/master.cf, /etc/postfix/tls/ecdsa.pem]
    directory: /var/lib/mailtls-postfix/snapshot
  register: snapshot

- name: Put them back
  mailtls.postfix.tls_snapshot:
    state: restore
    record: "{{ snapshot.record }}"
    directory: /var/lib/mailtls-postfix/snapshot
"""

RETURN = r"""
record:
  description: Per path, what it was - C(kind) (file, link or absent), and C(mode), C(uid), C(gid) of a file or
    C(target) of a link.
  returned: state is snapshot
  type: list
  elements: dict
  sample: [{path: /etc/postfix/main.cf, kind: file, mode: "0644", uid: 0, gid: 0},
           {path: /etc/postfix/ffdhe3072.pem, kind: absent}]
restored:
  description: The files and links put back (they had changed).
  returned: state is restore
  type: list
  elements: str
  sample: [/etc/postfix/main.cf]
removed:
  description: The paths removed (they did not exist before).
  returned: state is restore
  type: list
  elements: str
  sample: [/etc/postfix/ffdhe3072.pem, /etc/systemd/system/mailtls-acme-ecdsa.timer]
touched:
  description: RV(restored) and RV(removed) together.
  returned: state is restore
  type: list
  elements: str
  sample: [/etc/postfix/main.cf, /etc/postfix/ffdhe3072.pem]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._snapshot import restore, take


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', required=True, choices=['snapshot', 'restore']),
            paths=dict(type='list', elements='path', default=[]),
            directory=dict(type='path', required=True),
            record=dict(type='list', elements='dict', default=[]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p['state'] == 'snapshot':
            record = take(p['paths'], p['directory'], module.check_mode)
            # bookkeeping for the rollback, not a change of the host's configuration
            module.exit_json(changed=False, record=record)
        bad = [i for i, e in enumerate(p['record']) if not isinstance(e.get('path'), str) or
               e.get('kind') not in ('file', 'link', 'absent')]
        if bad:
            module.fail_json(msg='record: entries %s are not what state=snapshot returned' % ', '.join(str(i) for i in bad))
        done = restore(p['record'], p['directory'], module.check_mode)
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=bool(done['restored'] or done['removed']), touched=done['restored'] + done['removed'], **done)


if __name__ == '__main__':
    main()
