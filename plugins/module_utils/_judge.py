# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judge stage: whether Postfix would deliver under each entry, to what the probe sees now. Private to mailtls.postfix.

Pure functions over PolicyEntry objects and the results of the probe
(``_mxprobe``). Each endpoint is judged as Postfix's SMTP client would judge
it at the entry's level; a referee (``_finger``: posttls-finger, Postfix's own
client code) may give the deciding verdict per endpoint.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import cert_names, match_names
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import sts_mx_allowed
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import served_keys
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry

# a verdict's status word, from (delivers, degraded)
# the severities of a finding, mildest first: the one order of the posture module, the report and verify
SEVERITIES = ('ok', 'warn', 'bad')
STATUS = {(True, False): 'delivers', (True, True): 'degraded', (False, False): 'fails', (None, False): 'unknown'}


def worst(findings):
    """The worst severity among (severity, text) pairs; 'ok' for none."""
    return max((f[0] for f in findings), key=SEVERITIES.index, default='ok')


def endpoint_label(endpoint):
    """host[address]:port, the name of an endpoint in every reason and report row."""
    return '%s[%s]:%s' % (endpoint.get('hostname'), endpoint.get('address'), endpoint.get('port'))


def sts_mx_patterns(entry):
    """The MX patterns Postfix 3.10 enforces for an entry, or None where it enforces none.

    With smtp_tls_enforce_sts_mx_patterns = yes (3.10.5 and later, the default), an entry with
    policy_type=sts, mx_host_pattern and match connects only to MX hosts whose name matches a
    pattern, and compares each certificate with that MX host name (match=hostname).
    """
    if (entry.level in ('verify', 'secure') and entry.get('match') and entry.get('mx_host_pattern')
            and entry.get('policy_type') == 'sts'):
        return list(entry.get('mx_host_pattern'))
    return None


def sts_skip_reason(entry, hostname):
    """Why Postfix 3.10 does not connect to this MX under the entry, or None."""
    patterns = sts_mx_patterns(entry)
    if patterns is None or sts_mx_allowed(patterns, hostname):
        return None
    return 'Postfix skips this MX: %s matches no mx_host_pattern of the MTA-STS policy (%s)' % (
        hostname, ', '.join(patterns))


def match_patterns(entry, nexthop_name, mx_hostname):
    """The names a verify/secure entry compares for one MX host (nexthop, dot-nexthop, hostname written out)."""
    if sts_mx_patterns(entry) is not None:
        return [mx_hostname]
    words = entry.get('match') or ([] if entry.level == 'fingerprint' else
                                   (['hostname'] if entry.level == 'verify' else ['nexthop', 'dot-nexthop']))
    patterns = []
    for word in words:
        if word == 'nexthop':
            patterns.append(nexthop_name)
        elif word == 'dot-nexthop':
            patterns.append('.' + nexthop_name)
        elif word == 'hostname':
            patterns.append(mx_hostname)
        else:
            patterns.append(word)
    return [p for p in patterns if p and p != '.']


def _dane_verdict(level, where, endpoint):
    """(ok, reason) under dane or dane-only, from the endpoint's TLSA lookup (mx_tls_info's ``dane``)."""
    dane = endpoint.get('dane')
    if dane is None:
        return None, '%s: not judged (no TLSA lookup for an IP next hop)' % where
    if dane.get('error'):
        return None, '%s: not judged (TLSA lookup failed: %s)' % (where, dane['error'])
    if not dane.get('usable'):
        if level == 'dane-only':
            return False, '%s: no DNSSEC-validated TLSA records for %s (dane-only defers)' % (where, dane['name'])
        if endpoint.get('certificate') is None:
            if endpoint.get('starttls') is False:
                return True, '%s: no validated TLSA records and no STARTTLS, delivered in clear at level dane' % where
            return False, '%s: %s' % (where, endpoint.get('error') or 'no TLS')
        return True, '%s: no validated TLSA records, opportunistic TLS at level dane' % where
    if endpoint.get('certificate') is None:
        return False, '%s: TLSA records published but %s' % (where, endpoint.get('error') or 'no TLS')
    others = [k for k in served_keys(endpoint)[1:] if (k.get('dane') or {}).get('matches') is False]
    if dane.get('matches') is True and others:
        return False, '%s: the %s key matches no TLSA record of %s (3 1 1 %s; a sender that gets this key defers)' % (
            where, _key_name(others[0]), dane['name'], (others[0].get('tlsa') or {}).get('3 1 1'))
    if dane.get('matches') is True:
        return True, '%s: a DNSSEC-validated TLSA record matches the key%s' % (
            where, ' (every key)' if len(served_keys(endpoint)) > 1 else '')
    if dane.get('matches') is False:
        return False, '%s: no TLSA record of %s matches the key presented (3 1 1 %s)' % (
            where, dane['name'], (endpoint.get('tlsa') or {}).get('3 1 1'))
    return None, '%s: not judged (only TLSA records the leaf alone cannot check, e.g. DANE-TA)' % where


def _endpoint_verdict(entry, nexthop_name, endpoint, digest):
    """(ok, reason) for one endpoint under one entry, as Postfix would judge it."""
    level = entry.level
    where = endpoint_label(endpoint)
    if level in ('dane', 'dane-only'):
        return _dane_verdict(level, where, endpoint)
    if endpoint.get('certificate') is None:
        error = endpoint.get('error') or 'no TLS'
        if level in ('none', 'may') and endpoint.get('starttls') is False:
            return True, '%s: no STARTTLS, delivered in clear at level %s' % (where, level)
        return False, '%s: %s' % (where, error)
    if level in ('none', 'may', 'encrypt'):
        return True, '%s: %s' % (where, endpoint['tls'].get('version', 'TLS') if endpoint.get('tls') else 'TLS')
    keys = served_keys(endpoint)
    verdicts = [_key_verdict(entry, nexthop_name, endpoint, key, digest) for key in keys]
    if len(keys) == 1:
        return verdicts[0][0], '%s: %s' % (where, verdicts[0][1])
    named = ['%s key: %s' % (_key_name(key), text) for key, (ok, text) in zip(keys, verdicts)]
    failing = [text for (ok, dummy), text in zip(verdicts, named) if not ok]
    if failing:
        # the server picks one of its keys per session, by the client's signature algorithms
        return False, '%s: %s (a sender that gets this key defers)' % (where, '; '.join(failing))
    return True, '%s: every key passes (%s)' % (where, '; '.join(named))


def _key_name(key):
    cert = key.get('certificate') or {}
    return ' '.join(str(p) for p in (cert.get('key_type'), cert.get('key_bits')) if p)


def _key_verdict(entry, nexthop_name, endpoint, key, digest):
    """(ok, reason) for one key an endpoint presents, at fingerprint, verify or secure."""
    if entry.level == 'fingerprint':
        pins = set(entry.get('fingerprints'))
        fps = key['fingerprints']
        if fps['pubkey'][digest] in pins:
            return True, 'public-key pin matches'
        if fps['cert'][digest] in pins:
            return True, 'certificate pin matches'
        return False, 'no pin matches (presented public key %s %s)' % (digest, fps['pubkey'][digest])
    # verify, secure
    skip = sts_skip_reason(entry, endpoint['hostname'])
    if skip:
        return False, skip
    if not key.get('chain_verified'):
        return False, 'chain does not verify (%s)' % (key.get('verify_error') or 'untrusted')
    patterns = match_patterns(entry, nexthop_name, endpoint['hostname'])
    names = cert_names(key['certificate'])
    if not match_names(names, patterns):
        return False, 'certificate names %s match none of %s' % (', '.join(names) or 'none', ', '.join(patterns))
    return True, 'chain verifies and names match'


def judge(entries, probe_results, digest='sha256', referee=None):
    """For each entry, whether Postfix would deliver under it to what the probe saw now.

    ``entries``: PolicyEntry objects (dicts are validated into them with ``digest``).
    A destination delivers when at least one endpoint passes (Postfix tries the next MX when one fails);
    ``degraded`` says some endpoints fail. ``delivers`` is None where the level cannot be judged from a
    probe (DANE) or the entry is a parent-domain pattern. ``status`` says it in one word:
    delivers, degraded (some endpoints fail), fails or unknown.

    ``referee``: None, or a callable ``(entry, nexthop_name, endpoint, seen)`` that may judge an endpoint
    again (posttls-finger). It returns True or False, which then decides for that endpoint, or None to
    leave the module's verdict; it may add its own findings to ``seen``.
    """
    by_key = dict((r['key'], r) for r in probe_results or [])
    verdicts = []
    for i, entry in enumerate(entries or []):
        entry = PolicyEntry.from_dict(entry, digest, 'entries[%d]' % i)
        key = entry.key
        verdict = {'destination': key, 'level': entry.level, 'delivers': None, 'degraded': False,
                   'endpoints': [], 'reason': ''}
        verdicts.append(verdict)
        nexthop = entry.nexthop
        result = by_key.get(key)
        if nexthop is None:
            verdict['reason'] = 'parent-domain entry: not probed'
        elif result is None:
            verdict['reason'] = 'not probed'
        elif not result['endpoints']:
            verdict['delivers'] = False
            verdict['reason'] = result.get('error') or 'no endpoint found'
        else:
            _judge_endpoints(verdict, entry, nexthop.host, result['endpoints'], digest, referee)
        verdict['status'] = STATUS[(verdict['delivers'], verdict['degraded'])]
    return verdicts


def _judge_endpoints(verdict, entry, nexthop_name, endpoints, digest, referee):
    """Fill in a verdict from its endpoints; ``nexthop_name`` is the name without brackets and port."""
    oks = []
    for endpoint in endpoints:
        ok, reason = _endpoint_verdict(entry, nexthop_name, endpoint, digest)
        seen = {'hostname': endpoint['hostname'], 'address': endpoint['address'],
                'port': endpoint['port'], 'ok': ok, 'reason': reason}
        decided = referee(entry, nexthop_name, endpoint, seen) if referee is not None else None
        oks.append(ok if decided is None else decided)
        verdict['endpoints'].append(seen)
    if any(ok is True for ok in oks):
        verdict['delivers'] = True
        verdict['degraded'] = any(ok is False for ok in oks)
    elif all(ok is False for ok in oks):
        verdict['delivers'] = False
    failing = [e['reason'] for e in verdict['endpoints'] if e['ok'] is not True]
    clear = [e['reason'] for e in verdict['endpoints'] if e['ok'] is True and 'in clear' in e['reason']]
    verdict['reason'] = '; '.join(failing or ['every endpoint passes'] + clear)


__all__ = ['SEVERITIES', 'STATUS', 'endpoint_label', 'worst', 'judge', 'match_patterns', 'sts_mx_allowed', 'sts_mx_patterns', 'sts_skip_reason']
