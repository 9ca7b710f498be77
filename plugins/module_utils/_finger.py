# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judge stage: posttls-finger as a judge of policy entries, per endpoint. Private to mailtls.postfix.

posttls-finger is Postfix's own TLS client code. For a domain it connects to
the first MX only, so each endpoint is asked on its own as ``[address]:port``,
with the entry's match patterns written out as names (``nexthop`` becomes the
destination domain, ``hostname`` the MX host name), which is what the SMTP
client compares when it delivers to that MX. Under an entry with Postfix 3.10's
MTA-STS attributes, an MX that matches no mx_host_pattern is not asked: the
SMTP client skips it. It exits 0 whatever happens: the
verdict is the "... TLS connection established to ..." line it prints.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.mailtls.postfix.plugins.module_utils._judge import judge, match_patterns, sts_skip_reason
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import served_keys
from ansible_collections.mailtls.postfix.plugins.module_utils._options import EXPIRY_WARN_DAYS
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry
from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import KEY_FAMILIES

FINGER_LEVELS = ('fingerprint', 'secure', 'verify')
_TRUST = re.compile(r'\b(Verified|Trusted|Untrusted|Anonymous) TLS connection established to (\S+?)\[([^\]]+)\]:(\d+)')


def finger_argv(binary, entry, nexthop_name, endpoint, ca_file=None, digest='sha256', key_family=None):
    """The posttls-finger command (an argv list, no shell) that judges one endpoint under one entry.

    ``key_family``: RSA or ECDSA - ask for the server's key of that kind, as the probe did: TLS 1.2
    (``-p``) with the suites of that authentication only as the cipher list of the mandatory grade
    (``-o tls_medium_cipherlist=``; posttls-finger takes no exclusion list of its own).
    """
    level = entry.level
    if level not in FINGER_LEVELS:
        raise ValueError('posttls-finger judges only %s' % ', '.join(FINGER_LEVELS))
    argv = [binary]
    if key_family is not None:
        argv += ['-p', '!SSLv2:!SSLv3:!TLSv1.3', '-o', 'tls_medium_cipherlist=' + KEY_FAMILIES[key_family]]
    argv += ['-c', '-l', level]
    if level == 'fingerprint':
        argv += ['-d', digest]
        matches = list(entry.get('fingerprints'))
    else:
        if ca_file:
            argv += ['-F', ca_file]
        matches = match_patterns(entry, nexthop_name, endpoint['hostname'])
    if endpoint.get('tls_mode') == 'implicit':
        argv.append('-w')  # TLS wrapper mode (smtp_tls_wrappermode): port 465
    address = endpoint['address']
    argv.append('[%s]:%s' % (address, endpoint['port']))
    return argv + matches


def parse_finger(output, address, port):
    """(trust word or None, the line) for the session with address:port in posttls-finger's output."""
    found, line = None, ''
    for text in (output or '').splitlines():
        m = _TRUST.search(text)
        if m and m.group(3) == address and m.group(4) == str(port):
            found, line = m.group(1), text.split('posttls-finger: ', 1)[-1].strip()
    return found, line


class Referee:
    """posttls-finger as the judge of one endpoint under one entry (a referee for _judge.judge).

    ``finger``: a callable that takes an argv list and returns what posttls-finger printed; its
    ``binary`` attribute is the program. Records disagreements with the module's verdict.
    """

    def __init__(self, finger, ca_file=None, digest='sha256'):
        self.finger = finger
        self.ca_file = ca_file
        self.digest = digest
        self.disagreements = []

    def __call__(self, entry, nexthop_name, endpoint, seen):
        if entry.level not in FINGER_LEVELS:
            return None
        skip = sts_skip_reason(entry, endpoint['hostname'])
        if skip:
            # posttls-finger has no STS mode: the SMTP client never connects to this MX
            seen['finger'] = {'trust': None, 'line': 'not asked: ' + skip}
            seen['finger_ok'] = False
            seen['agree'] = seen['ok'] is False
            return False
        argv = finger_argv(self.finger.binary, entry, nexthop_name, endpoint, self.ca_file, self.digest)
        trust, line = parse_finger(self.finger(argv), endpoint['address'], endpoint['port'])
        seen['finger'] = {'trust': trust, 'line': line or 'no TLS session'}
        trusts = [trust]
        keys = served_keys(endpoint)
        if len(keys) > 1:
            # every further key, asked for as the probe asked for it: a sender may get any of them
            seen['finger_keys'] = []
            for key in keys[1:]:
                kind = key['certificate']['key_type']
                argv = finger_argv(self.finger.binary, entry, nexthop_name, endpoint, self.ca_file, self.digest, kind)
                key_trust, key_line = parse_finger(self.finger(argv), endpoint['address'], endpoint['port'])
                seen['finger_keys'].append({'key': '%s %s' % (kind, key['certificate'].get('key_bits')),
                                            'trust': key_trust, 'line': key_line or 'no TLS session'})
                trusts.append(key_trust)
        seen['finger_ok'] = all(t == 'Verified' for t in trusts)
        seen['agree'] = seen['finger_ok'] == (seen['ok'] is True)
        if not seen['agree']:
            self.disagreements.append({'destination': entry.key, 'address': endpoint['address'],
                                       'module': seen['reason'],
                                       'posttls_finger': '; '.join([seen['finger']['line']] + [
                                           '%s key: %s' % (k['key'], k['line']) for k in seen.get('finger_keys', [])])})
        return seen['finger_ok']


def check(entries, probe_results, digest='sha256', levels=FINGER_LEVELS, ca_file=None, finger=None,
          expiry_warn_days=EXPIRY_WARN_DAYS):
    """Judge the entries at ``levels`` against what the probe saw, and with posttls-finger when ``finger`` is given.

    ``entries``: PolicyEntry objects (dicts are validated into them). ``finger``: a callable taking an argv list and returning
    posttls-finger's output, or None. With posttls-finger, its verdict decides (it is Postfix's own
    code); the module's verdict is kept beside it and ``agree`` says whether they match.
    Returns ``{'checks': [...], 'failing': [...], 'expiring': [...], 'disagreements': [...]}``.
    """
    entries = [PolicyEntry.from_dict(e, digest, 'entries[%d]' % i) for i, e in enumerate(entries)]
    selected = [e for e in entries if e.level in levels]
    referee = Referee(finger, ca_file, digest) if finger is not None else None
    verdicts = judge(selected, probe_results, digest, referee)
    by_key = dict((r['key'], r) for r in probe_results or [])
    failing, expiring = [], []
    for entry, verdict in zip(selected, verdicts):
        key = verdict['destination']
        result = by_key.get(key) or {'endpoints': []}
        verdict['judge'] = ('posttls-finger' if referee is not None and entry.level in FINGER_LEVELS and result['endpoints']
                            else 'mx_tls_info')
        if verdict['delivers'] is False or verdict['degraded']:
            failing.append({'destination': key, 'level': verdict['level'], 'status': verdict['status'],
                            'reason': verdict['reason']})
        verdict['expiring'] = []
        for endpoint in result['endpoints'] if not key.startswith('.') else []:
            cert = endpoint.get('certificate')
            if cert and cert.get('days_remaining') is not None and cert['days_remaining'] < expiry_warn_days:
                item = {'destination': key, 'hostname': endpoint['hostname'], 'address': endpoint['address'],
                        'not_after': cert['not_after'], 'days_remaining': cert['days_remaining']}
                verdict['expiring'].append(item)
                expiring.append(item)
    return {'checks': verdicts, 'failing': failing, 'expiring': expiring,
            'disagreements': referee.disagreements if referee is not None else []}


__all__ = ['FINGER_LEVELS', 'Referee', 'check', 'finger_argv', 'parse_finger']
