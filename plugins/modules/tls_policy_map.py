#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_policy_map
short_description: Validate, write and index a Postfix smtp_tls_policy_maps table
version_added: 0.1.0
description:
  - Validates every policy entry before anything is written and fails with a message that names the
    entry and the problem (unknown level, attribute not allowed at the level, fingerprint of the wrong
    length for the digest, whitespace, commas or line breaks in keys and values, duplicate destinations,
    bad next-hop forms).
  - Writes the map source atomically and builds the index with C(postmap) into a temporary file that is
    renamed into place, so Postfix never reads half a map.
  - Runs C(postmap) when the source changed, or when the index is missing or older than the source.
  - Entries come from O(entries) and from O(src), a file on the managed host in Postfix map format or
    JSON; large lists (hundreds of thousands of entries) should come as O(src), which is validated and
    rendered in Python rather than through Jinja.
author:
  - mailtls.postfix developers (@mailtls)
attributes:
  check_mode:
    support: full
    description: Validates and reports what would change; writes nothing and runs no postmap.
  diff_mode:
    support: full
    description: Shows the map lines before and after (a summary of counts for maps over 2000 lines).
extends_documentation_fragment:
  - mailtls.postfix.postfix
  - mailtls.postfix.postfix.digest
  - mailtls.postfix.attributes
options:
  path:
    description: The map source file; the index goes beside it.
    type: path
    required: true
  entries:
    description:
      - Policy entries. They override entries of O(src) for the same destination.
    type: list
    elements: dict
    default: []
  src:
    description: A file on the managed host with more entries, read before O(entries).
    type: path
  src_format:
    description: V(postfix) (C(key level attr=value) lines) or V(json) (a list of entries like O(entries)).
    type: str
    choices: [postfix, json]
    default: postfix
  map_type:
    description: The table type. Defaults to the effective C(default_database_type).
    type: str
    choices: [hash, btree, lmdb, cdb, texthash]
notes:
  - Entries are dicts with C(destination), C(level) and the attributes C(match) (verify, secure),
    C(fingerprints) (fingerprint), C(protocols), C(ciphers), C(exclude), C(servername), C(tafile), C(connection_reuse),
    C(enable_rpk) (Postfix 3.9 and later).
  - Postfix 3.10 and later also take the MTA-STS attributes C(policy_type) (V(sts) or V(no-policy-found)),
    C(policy_domain), C(mx_host_pattern) (a list), C(policy_string) (a list, written as C({ policy_string = ... })),
    C(policy_failure) and C(policy_ttl) (deprecated by Postfix), at every level but V(none) and V(fingerprint).
    The others need C(policy_type). On an older Postfix (C(mail_version), read with C(postconf)) they are
    refused, because it would reject the whole entry and defer the mail.
  - The map is written with mode 0644, owned by root.
"""

EXAMPLES = r"""
- name: Pin a partner, require a verified certificate from another
  mailtls.postfix.tls_policy_map:
    path: /etc/postfix/tls_policy
    entries:
      - destination: partner.example
        level: fingerprint
        fingerprints:
          - "3D:95:34:51:24:66:33:B9:D2:40:99:C0:C1:17:0B:D1:C2:27:3C:E1:CE:A4:93:DA:2C:A9:5B:EB:29:7C:35:B9"
      - destination: bank.example
        level: secure
        match: [nexthop, dot-nexthop]
        protocols: ">=TLSv1.2"

- name: An MTA-STS domain on Postfix 3.10 (only MX hosts matching a pattern, each checked against its own name)
  mailtls.postfix.tls_policy_map:
    path: /etc/postfix/tls_policy
    entries:
      - destination: example.com
        level: secure
        match: [mail.example.com, .example.net]
        policy_type: sts
        policy_domain: example.com
        mx_host_pattern: [mail.example.com, "*.example.net"]
        policy_string: ["version: STSv1", "mode: enforce", "mx: mail.example.com", "mx: *.example.net", "max_age: 604800"]

- name: A provider's list of 100,000 destinations, as a Postfix map file
  mailtls.postfix.tls_policy_map:
    path: /etc/postfix/tls_policy
    src: /var/lib/mailtls/provider-policy.txt
"""

RETURN = r"""
entries:
  description: Number of entries in the map.
  returned: always
  type: int
  sample: 2
overridden:
  description: Destinations of O(src) that O(entries) replaced.
  returned: always
  type: list
  elements: str
  sample: [partner.example]
postmap:
  description: Whether postmap ran (or would run in check mode).
  returned: always
  type: bool
  sample: true
reason:
  description: Why the map was (or would be) written or indexed, or null.
  returned: always
  type: str
  sample: source changed
first_key:
  description: The first key of the map (for a C(postmap -q) check), or null for an empty map.
  returned: always
  type: str
  sample: partner.example
map:
  description: The map as Postfix refers to it, for smtp_tls_policy_maps.
  returned: always
  type: str
  sample: hash:/etc/postfix/tls_policy
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._apply import policy_map_change
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mapfile import read_text
from ansible_collections.mailtls.postfix.plugins.module_utils._options import DIGESTS
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            entries=dict(type='list', elements='dict', default=[]),
            src=dict(type='path'),
            src_format=dict(type='str', default='postfix', choices=['postfix', 'json']),
            digest=dict(type='str', choices=list(DIGESTS)),
            map_type=dict(type='str', choices=['hash', 'btree', 'lmdb', 'cdb', 'texthash']),
            config_dir=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    instance = Instance(module, p['config_dir'])
    digest = p['digest'] or instance.effective('smtp_tls_fingerprint_digest')
    map_type = p['map_type'] or instance.effective('default_database_type')
    # the MTA-STS attributes need 3.10: an older Postfix would reject the entry and defer the mail
    version = instance.effective('mail_version')
    if digest not in DIGESTS:
        module.fail_json(msg='smtp_tls_fingerprint_digest is %r; give digest as sha256, sha1 or md5' % digest)
    change = None
    try:
        text = None
        if p['src']:
            text = read_text(p['src'])
            if text is None:
                raise MailTLSError('src: cannot read %s' % p['src'])
        change = policy_map_change(instance, p['path'], p['entries'], digest, map_type, version, p['src'], text,
                                   p['src_format'], module.check_mode, module._diff)
        if not module.check_mode:
            change.apply()
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    finally:
        if change is not None:
            change.discard()
    module.exit_json(changed=change.changed, **change.result)


if __name__ == '__main__':
    main()
