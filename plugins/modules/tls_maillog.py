#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_maillog
short_description: Where a Postfix host's mail went and over what TLS, read from its mail log
version_added: 0.2.0
description:
  - Reads Postfix's mail log on the host (O(paths); by default C(maillog_file) and its rotated files when it is set,
    else C(/var/log/mail.log) and its rotated files, C(.gz) included) within a time window, and reports per next
    hop the messages delivered, the delivery attempts deferred and the messages bounced, the trust of the TLS
    session each message was delivered over as Postfix logged it (C(Verified), C(Trusted), C(Untrusted),
    C(Anonymous), or none), the protocols and ciphers, and the TLS level in force for that next hop.
  - Needs C(smtp_tls_loglevel) 1 or more (the tls role sets 1) for the TLS outcome; without it every delivery
    counts as in clear.
  - Reads traditional syslog stamps (local time; the year from the file's modification time), Postfix's own
    C(maillog_file) format and RFC 3339 stamps (rsyslog's high-precision format).
  - The next hop of a recipient domain is its C(transport_maps) next hop (the domain, then its parent domains with
    a leading dot), else C(relayhost), else the domain; the level is that next hop's C(smtp_tls_policy_maps) entry,
    else C(smtp_tls_security_level). Both are looked up with C(postmap -q -), as Postfix would find them.
  - Streams the files in fixed-size blocks; memory does not grow with the size of the log.
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
options:
  paths:
    description:
      - Log files to read; shell-style patterns are expanded (V(/var/log/mail.log*)). Read oldest first.
      - Default C(maillog_file) and C(maillog_file).* when Postfix logs to its own file, else
        V(/var/log/mail.log) and V(/var/log/mail.log.*).
    type: list
    elements: path
  since:
    description:
      - Start of the window, an ISO 8601 time or date (UTC unless it says otherwise), or a span before now such as
        V(24h), V(7d), V(2w). Files last written before it are not read. Default the start of the logs.
    type: str
  until:
    description: End of the window (excluded), in the same forms. Default no end.
    type: str
  top:
    description: Return only the first N next hops by messages delivered (V(0) all). Totals and days count all.
    type: int
    default: 0
  min_messages:
    description: Return only the next hops with at least this many messages delivered.
    type: int
    default: 0
  config_dir:
    description: Postfix's configuration directory (for C(maillog_file), C(relayhost), the maps and the default level).
    type: path
    default: /etc/postfix
  lookup:
    description: Look up next hops and levels with C(postconf) and C(postmap). V(false) reports per recipient domain.
    type: bool
    default: true
notes:
  - A delivery attempt is counted in the window of its own log line. Messages that expire in the queue are logged by
    qmgr(8) as C(status=expired) and are not counted as bounced here.
"""

EXAMPLES = r"""
- name: The last week of mail, by next hop
  mailtls.postfix.tls_maillog:
    since: 7d
  register: maillog

- name: Next hops that got mail in clear
  ansible.builtin.debug:
    msg: "{{ maillog.nexthops | selectattr('classes.clear', 'gt', 0) | map(attribute='nexthop') | list }}"

- name: The ten busiest next hops of a rotated syslog file set
  mailtls.postfix.tls_maillog:
    paths: [/var/log/mail.log, /var/log/mail.log.*]
    since: "2026-11-01"
    until: "2026-12-01"
    top: 10
"""

RETURN = r"""
nexthops:
  description: Per next hop, busiest first.
  returned: always
  type: list
  elements: dict
  sample:
    - nexthop: example.org
      domains: [example.org]
      delivered: 120
      deferred: 2
      bounced: 0
      tls: {Verified: 100, Trusted: 0, Untrusted: 20, Anonymous: 0, none: 0}
      classes: {verified: 100, unauthenticated: 20, clear: 0}
      protocols: {TLSv1.3: 120}
      ciphers: {TLS_AES_256_GCM_SHA384: 120}
      level: secure
      level_from: policy map (example.org)
totals:
  description: Messages delivered in the window by class, attempts deferred, messages bounced, next hops.
  returned: always
  type: dict
  sample: {delivered: 140, verified: 100, unauthenticated: 20, clear: 20, deferred: 2, bounced: 0, nexthops: 2}
days:
  description: Per UTC day of the window, the messages delivered by class.
  returned: always
  type: list
  elements: dict
  sample: [{day: "2026-12-01", verified: 50, unauthenticated: 10, clear: 10}]
files:
  description: The files found, oldest first, with their size, whether they were read, and the delivery lines in them.
  returned: always
  type: list
  elements: dict
  sample: [{path: /var/log/mail.log, bytes: 104857600, read: true, deliveries: 15000}]
first:
  description: The time of the first delivery counted (UTC), or null.
  returned: always
  type: str
  sample: "2026-12-01T00:00:04Z"
last:
  description: The time of the last delivery counted (UTC), or null.
  returned: always
  type: str
  sample: "2026-12-01T23:59:58Z"
window:
  description: The window asked for, in UTC (null for an open end).
  returned: always
  type: dict
  sample: {since: "2026-11-24T00:00:00Z", until: null}
default_level:
  description: C(smtp_tls_security_level) (null without O(lookup)).
  returned: always
  type: str
  sample: may
"""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._maillog import (
    Reader, lookup_keys, nexthop_of, order_files, parse_postmap_output, parse_when, policy_keys, summarize, utc_stamp)
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance

PARAMETERS = ('maillog_file', 'relayhost', 'transport_maps', 'smtp_tls_policy_maps', 'smtp_tls_security_level')


def _settings(instance):
    """The PARAMETERS' values (postconf -h, one line each, in order)."""
    values = instance.postconf(['-h'] + list(PARAMETERS))[0].splitlines()
    return dict(zip(PARAMETERS, values + [''] * (len(PARAMETERS) - len(values))))


def _query(module, instance, maps, keys):
    """Each key's value in the first of ``maps`` (a Postfix map list) that has it, with postmap -q - (one process
    per map)."""
    found = {}
    if not keys:
        return found
    for spec in maps.replace(',', ' ').split():
        rc, out, err = instance.query(spec, keys)
        if rc not in (0, 1):
            module.warn('postmap -q - %s failed (%s): its entries are not taken into account' % (spec, err.strip()))
            continue
        for key, value in parse_postmap_output(out).items():
            found.setdefault(key, value)
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type='list', elements='path'),
            since=dict(type='str'),
            until=dict(type='str'),
            top=dict(type='int', default=0),
            min_messages=dict(type='int', default=0),
            config_dir=dict(type='path', default='/etc/postfix'),
            lookup=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    now = time.time()
    try:
        since, until = parse_when(p['since'], now), parse_when(p['until'], now)
        # postconf is needed for the lookups and to find the log; a run on named files without lookups works without Postfix
        needed = p['lookup'] or not p['paths']
        instance = Instance(module, p['config_dir'], required=needed)
        settings = _settings(instance) if needed else {}
        patterns = p['paths']
        if not patterns:
            base = settings.get('maillog_file') or '/var/log/mail.log'
            patterns = [base + '*']
        found = []
        for pattern in patterns:
            # a pattern may match nothing; a file named without one must exist (read_file says why not)
            found.extend(sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern])
        paths = order_files(f for f in found if not os.path.isdir(f))
        if not paths:
            module.warn('no mail log found at %s' % ', '.join(patterns))
        reader = Reader(since, until)
        for path in paths:
            reader.read_file(path)
        transport, policy, default = {}, {}, None
        if p['lookup']:
            default = settings['smtp_tls_security_level'] or 'none'
            domains = sorted(d for d in reader.domains if d)
            keys = sorted(set(k for d in domains for k in lookup_keys(d)))
            transport = _query(module, instance, settings['transport_maps'], keys)
            hops = set(nexthop_of(d, transport, settings['relayhost']) for d in domains)
            keys = sorted(set(k for h in hops for k in policy_keys(h)))
            policy = _query(module, instance, settings['smtp_tls_policy_maps'], keys)
        result = summarize(reader, transport=transport, relayhost=settings.get('relayhost', '') if p['lookup'] else '',
                           policy=policy, default_level=default, top=p['top'], min_messages=p['min_messages'])
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, window={'since': utc_stamp(since), 'until': utc_stamp(until)}, default_level=default,
                     **result)


if __name__ == '__main__':
    main()
