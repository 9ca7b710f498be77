#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dns_publish
short_description: Publish record sets in a zone by RFC 2136 dynamic update signed with TSIG, only where they differ
version_added: 0.2.0
description:
  - The publish stage's one writer of DNS. Takes the record sets it manages in one zone (owner name and type, with
    the values each must hold; TLSA for DANE, TXT for C(_mta-sts), C(_smtp._tls) and C(_acme-challenge)), asks the
    zone's primary server over TCP what it holds for each, and sends the differences as ONE UPDATE message, signed
    with TSIG (RFC 8945). The server applies it whole or not at all.
  - Each changed set carries a prerequisite (RFC 2136 2.4) - the set exactly as it was read, or its absence - so an
    edit made by someone else in between makes the server refuse the update (YXRRSET or NXRRSET) instead of being
    overwritten. After the update the sets are read back.
  - Touches only the names and types in O(records); a set with no values is removed. Other records at the same
    name, and other types, stay.
  - Fails, naming the zone, the server and the response code (NOTAUTH, REFUSED, NOTZONE, YXRRSET, NXRRSET,
    SERVFAIL, BADKEY, BADSIG), when the server is not authoritative for the zone, cannot be reached, or refuses;
    nothing was changed then.
  - The TSIG secret is never returned, logged or shown in a diff.
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - dnspython (Python library on the host that runs the module)
attributes:
  check_mode:
    support: full
    description: Reads the zone and reports the differences; sends no update.
  diff_mode:
    support: full
    description: The changed record sets as zone-file lines, before and after.
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  server:
    description:
      - The zone's primary server, C(IP) or C(IP:port) (C([IPv6]:port)). It must be authoritative for O(zone) and
        take updates.
    type: str
    required: true
  zone:
    description: The zone the records belong to (one UPDATE per zone).
    type: str
    required: true
  key_name:
    description: The TSIG key's name, as the server knows it. Without it the update is unsigned.
    type: str
  key_secret:
    description: The TSIG key's secret (base64, as C(tsig-keygen) or C(keymgr -t) print it). Never logged.
    type: str
  key_algorithm:
    description: The TSIG key's algorithm.
    type: str
    default: hmac-sha256
    choices: [hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1]
  records:
    description: The record sets this call manages, each given once with all its values.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The owner name (absolute; a trailing dot is optional), within O(zone).
        type: str
        required: true
      type:
        description: The record type.
        type: str
        required: true
        choices: [TLSA, TXT]
      ttl:
        description: The set's TTL in seconds.
        type: int
        default: 3600
      values:
        description:
          - The values the set must hold, in zone-file form for TLSA (C(3 1 1 HEX)) and as plain text for TXT (split
            into 255-octet strings as needed). An empty list removes the set.
        type: list
        elements: str
        default: []
  timeout:
    description: Seconds to wait for each answer.
    type: float
    default: 10
seealso:
  - name: RFC 2136, Dynamic Updates in the Domain Name System
    description: Prerequisites (section 2.4) and atomic application (section 3.4).
    link: https://www.rfc-editor.org/rfc/rfc2136
  - name: RFC 8945, Secret Key Transaction Authentication for DNS (TSIG)
    description: How the update is signed, and the answers BADKEY, BADSIG and BADTIME.
    link: https://www.rfc-editor.org/rfc/rfc8945
  - module: community.general.nsupdate
    description: One record per call; this module sends all of a zone's changed sets in one signed UPDATE.
"""

EXAMPLES = r"""
- name: The TLSA records of mx1's current and next key, and the MTA-STS and TLSRPT TXT records
  mailtls.postfix.dns_publish:
    server: 192.0.2.53
    zone: example.com
    key_name: mailtls-publisher
    key_secret: "{{ vault_tsig_secret }}"
    records:
      - name: _25._tcp.mx1.example.com
        type: TLSA
        ttl: 300
        values:
          - 3 1 1 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6
          - 3 1 1 8f14e45fceea167a5a36dedd4bea2543b7fb8e9e2cd8e1a2f3a4c5d6e7f80912
      - name: _mta-sts.example.com
        type: TXT
        values: ["v=STSv1; id=20261205T093000;"]
      - name: _smtp._tls.example.com
        type: TXT
        values: ["v=TLSRPTv1; rua=mailto:tlsrpt@example.com"]
"""

RETURN = r"""
zone:
  description: The zone, absolute.
  returned: always
  type: str
  sample: example.com.
server:
  description: The server asked.
  returned: always
  type: str
  sample: 192.0.2.53 port 53
changes:
  description: Per changed record set, its values before and after (none when nothing differs).
  returned: always
  type: list
  elements: dict
  sample: [{name: _25._tcp.mx1.example.com., type: TLSA, before: ["3 1 1 0c72..."], after: ["3 1 1 0c72...", "3 1 1 8f14..."]}]
rcode:
  description: The server's answer to the update (NOERROR); null when no update was sent.
  returned: always
  type: str
  sample: NOERROR
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._publish import (
    ALGORITHMS, DNSPYTHON_IMPORT_ERROR, HAS_DNSPYTHON, TYPES, publish)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            server=dict(type='str', required=True),
            zone=dict(type='str', required=True),
            key_name=dict(type='str'),
            key_secret=dict(type='str', no_log=True),
            key_algorithm=dict(type='str', default='hmac-sha256', choices=list(ALGORITHMS)),
            records=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                type=dict(type='str', required=True, choices=list(TYPES)),
                ttl=dict(type='int', default=3600),
                values=dict(type='list', elements='str', default=[]),
            )),
            timeout=dict(type='float', default=10),
        ),
        required_together=[('key_name', 'key_secret')],
        supports_check_mode=True,
    )
    if not HAS_DNSPYTHON:
        module.fail_json(msg=missing_required_lib('dnspython'), exception=DNSPYTHON_IMPORT_ERROR)
    p = module.params
    try:
        result = publish(p['server'], p['zone'], p['records'], key_name=p['key_name'], key_secret=p['key_secret'],
                         key_algorithm=p['key_algorithm'], timeout=p['timeout'], check_mode=module.check_mode)
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    diff = result.pop('diff')
    if module._diff and result['changed']:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
