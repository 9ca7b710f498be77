# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet decisions: merge probe recommendations, fleet self-pins and explicit entries into one policy,
and judge a deployed policy against fresh probe results. Private to mailtls.postfix.

Pure functions over the data ``mx_tls_info`` returns and the entry dicts the
``tls`` role takes, so that the playbooks' decisions are unit-tested.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import match_names
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import parse_nexthop
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import (
    STS_MIN_VERSION,
    _as_list,
    normalize_fingerprint,
    parse_map_line,
    validate_entry,
    version_tuple,
)

# probe recommendations at these levels are not written: the client's default level applies
NOT_WRITTEN = ('may', 'none')
# a verdict's status word, from (delivers, degraded)
STATUS = {(True, False): 'delivers', (True, True): 'degraded', (False, False): 'fails', (None, False): 'unknown'}


def _entry_from_probe(result, digest, sts_attributes=False):
    policy = result.get('policy') or {}
    level = policy.get('level')
    entry = {'destination': result['key'], 'level': level}
    if level == 'fingerprint':
        if policy.get('digest', digest) != digest:
            raise MailTLSError('probe results for %s pin %s fingerprints, but the fleet uses %s: probe again with digest %s'
                               % (result['key'], policy.get('digest'), digest, digest))
        entry['fingerprints'] = list(policy.get('match') or [])
    elif level in ('secure', 'verify') and policy.get('match'):
        entry['match'] = list(policy['match'])
    sts = result.get('mta_sts') or {}
    if sts_attributes and policy.get('mta_sts') and sts.get('mx'):
        # Postfix 3.10: only MX hosts that match a policy pattern, each checked against its own name
        entry.update(policy_type='sts', policy_domain=result['key'], mx_host_pattern=list(sts['mx']),
                     policy_string=list(sts.get('policy_strings') or []))
    return entry


def sts_attributes_for(postfix_version):
    """Whether a Postfix of this version takes the MTA-STS attributes (3.10 and later); None: not known, no."""
    return postfix_version not in (None, '') and version_tuple(postfix_version) >= STS_MIN_VERSION


def decide(probe_results, explicit=None, fleet=None, digest='sha256', postfix_version=None):
    """One policy from three sources; later sources win for the same key: probe, fleet, explicit.

    ``probe_results``: the ``results`` list of mx_tls_info.
    ``explicit``: entries as the tls role takes them (postfix_tls_policies).
    ``fleet``: ``[{'host': name, 'domains': [...], 'pins': [...]}]``; each domain gets a fingerprint
    entry pinning the public keys of every fleet host that serves it.
    ``postfix_version``: the version of the Postfix that gets the policy. From 3.10, an entry made from
    an MTA-STS policy also carries the policy as Postfix's STS attributes (policy_type=sts,
    mx_host_pattern, policy_string), and explicit entries with those attributes are refused below 3.10.

    Returns ``{'policies': [entries sorted by key], 'decisions': [{destination, level, source, reason}]}``.
    Every entry is validated; MailTLSError names the source and the problem.
    """
    chosen = {}
    skipped = []
    for i, result in enumerate(probe_results or []):
        if not isinstance(result, dict) or 'key' not in result:
            raise MailTLSError('probe results[%d] is not a result of mailtls.postfix.mx_tls_info' % i)
        policy = result.get('policy') or {}
        if policy.get('level') in NOT_WRITTEN:
            skipped.append({'destination': result['key'], 'level': policy.get('level'), 'source': 'probe',
                            'written': False,
                            'reason': '%s; not written, the default client level applies' % policy.get('reason', '')})
            continue
        entry = _entry_from_probe(result, digest, sts_attributes_for(postfix_version))
        key, dummy = validate_entry(entry, digest, 'probe result for %s' % result['key'], postfix_version)
        chosen[key] = (entry, 'probe', policy.get('reason', ''))

    pins_by_domain, hosts_by_domain = {}, {}
    for member in fleet or []:
        host = member.get('host', '?')
        pins = [normalize_fingerprint('fleet host %s: pin' % host, p, digest) for p in member.get('pins') or []]
        domains = _as_list(member.get('domains') or [])
        if domains and not pins:
            raise MailTLSError('fleet host %s serves %s but has no certificate to pin (postfix_tls_certificates is empty)'
                               % (host, ', '.join(domains)))
        for domain in domains:
            known = pins_by_domain.setdefault(domain, [])
            known.extend(p for p in pins if p not in known)
            hosts_by_domain.setdefault(domain, []).append(host)
    for domain in sorted(pins_by_domain):
        entry = {'destination': domain, 'level': 'fingerprint', 'fingerprints': pins_by_domain[domain]}
        key, dummy = validate_entry(entry, digest, 'fleet self-pin for %s' % domain)
        reason = 'fleet self-pin: public keys of %s (%d pin(s))' % (
            ', '.join(hosts_by_domain[domain]), len(pins_by_domain[domain]))
        chosen[key] = (entry, 'fleet', reason)

    seen = {}
    for i, entry in enumerate(explicit or []):
        key, dummy = validate_entry(entry, digest, 'explicit policy %d' % i, postfix_version)
        if key in seen:
            raise MailTLSError('explicit policy %d (%s): duplicate destination, already given by explicit policy %d'
                               % (i, key, seen[key]))
        seen[key] = i
        overrides = chosen.get(key)
        reason = 'explicit entry' + (' (overrides the %s recommendation %s)' % (overrides[1], overrides[0]['level'])
                                     if overrides else '')
        chosen[key] = (dict((k, v) for k, v in entry.items() if v not in (None, [], '')), 'explicit', reason)

    policies, decisions = [], []
    for key in sorted(chosen):
        entry, source, reason = chosen[key]
        policies.append(entry)
        decisions.append({'destination': key, 'level': entry['level'], 'source': source, 'written': True,
                          'reason': reason})
    decisions.extend(d for d in skipped if d['destination'] not in chosen)
    return {'policies': policies, 'decisions': decisions}


def parse_policy_text(text):
    """The entries of a Postfix-format policy map source (comments and blank lines skipped)."""
    entries = []
    for number, line in enumerate((text or '').splitlines(), 1):
        try:
            entry = parse_map_line(line)
        except MailTLSError as e:
            raise MailTLSError('policy map line %d: %s' % (number, e))
        if entry is not None:
            entries.append(entry)
    return entries


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _cert_names(certificate):
    """The names the verify/secure levels compare: DNS SANs, else the subject CN."""
    names = [n for n in certificate.get('san') or [] if not _is_ip(n)]
    if names:
        return names
    return [part[3:].lower() for part in (certificate.get('subject') or '').split(',') if part.upper().startswith('CN=')]


def sts_mx_patterns(entry):
    """The MX patterns Postfix 3.10 enforces for an entry, or None where it enforces none.

    With smtp_tls_enforce_sts_mx_patterns = yes (3.10.5 and later, the default), an entry with
    policy_type=sts, mx_host_pattern and match connects only to MX hosts whose name matches a
    pattern, and compares each certificate with that MX host name (match=hostname).
    """
    if (entry.get('level') in ('verify', 'secure') and entry.get('match') and entry.get('mx_host_pattern')
            and str(entry.get('policy_type') or '').lower() == 'sts'):
        return [str(p).lower() for p in _as_list(entry['mx_host_pattern'])]
    return None


def sts_mx_allowed(patterns, hostname):
    """Postfix's match_sts_mx_host_pattern: the name itself, or *. and everything after the first label."""
    name = hostname.lower().rstrip('.')
    first, dot, rest = name.partition('.')
    return any(name == p or (p.startswith('*.') and len(p) > 2 and first and dot and rest == p[2:]) for p in patterns)


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
    words = []
    for part in entry.get('match') or ([] if entry['level'] == 'fingerprint' else
                                       (['hostname'] if entry['level'] == 'verify' else ['nexthop', 'dot-nexthop'])):
        words.extend(str(part).split(':'))
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
    if dane.get('matches') is True:
        return True, '%s: a DNSSEC-validated TLSA record matches the key' % where
    if dane.get('matches') is False:
        return False, '%s: no TLSA record of %s matches the key presented (3 1 1 %s)' % (
            where, dane['name'], (endpoint.get('tlsa') or {}).get('3 1 1'))
    return None, '%s: not judged (only TLSA records the leaf alone cannot check, e.g. DANE-TA)' % where


def _endpoint_verdict(entry, nexthop_name, endpoint, digest):
    """(ok, reason) for one endpoint under one entry, as Postfix would judge it."""
    level = entry['level']
    where = '%s[%s]:%s' % (endpoint['hostname'], endpoint['address'], endpoint['port'])
    if level in ('dane', 'dane-only'):
        return _dane_verdict(level, where, endpoint)
    if endpoint.get('certificate') is None:
        error = endpoint.get('error') or 'no TLS'
        if level in ('none', 'may') and endpoint.get('starttls') is False:
            return True, '%s: no STARTTLS, delivered in clear at level %s' % (where, level)
        return False, '%s: %s' % (where, error)
    if level in ('none', 'may', 'encrypt'):
        return True, '%s: %s' % (where, endpoint['tls'].get('version', 'TLS') if endpoint.get('tls') else 'TLS')
    if level == 'fingerprint':
        pins = set(str(p).upper() for p in entry.get('fingerprints') or [])
        fps = endpoint['fingerprints']
        if fps['pubkey'][digest] in pins:
            return True, '%s: public-key pin matches' % where
        if fps['cert'][digest] in pins:
            return True, '%s: certificate pin matches' % where
        return False, '%s: no pin matches (presented public key %s %s)' % (where, digest, fps['pubkey'][digest])
    # verify, secure
    skip = sts_skip_reason(entry, endpoint['hostname'])
    if skip:
        return False, '%s: %s' % (where, skip)
    if not endpoint.get('chain_verified'):
        return False, '%s: chain does not verify (%s)' % (where, endpoint.get('verify_error') or 'untrusted')
    patterns = match_patterns(entry, nexthop_name, endpoint['hostname'])
    names = _cert_names(endpoint['certificate'])
    if not match_names(names, patterns):
        return False, '%s: certificate names %s match none of %s' % (
            where, ', '.join(names) or 'none', ', '.join(patterns))
    return True, '%s: chain verifies and names match' % where


def pki_trust(endpoint):
    """What the certificate proves without pins, in Postfix's words for a session.

    ``verified``: the chain verifies and the names match the destination; ``trusted``: the chain
    verifies, the names do not match; ``untrusted``: TLS, but the chain does not verify (self-signed,
    unknown CA, expired); ``none``: no TLS session (no STARTTLS, or the probe failed before it).
    """
    if endpoint.get('certificate') is None:
        return 'none'
    if not endpoint.get('chain_verified'):
        return 'untrusted'
    return 'verified' if endpoint.get('name_verified') else 'trusted'


def endpoint_facts(endpoint):
    """The facts a posture report shows for one probed endpoint."""
    cert = endpoint.get('certificate') or {}
    tls = endpoint.get('tls') or {}
    return {'starttls': endpoint.get('starttls'), 'trust': pki_trust(endpoint),
            'tls_version': tls.get('version'), 'key_type': cert.get('key_type'), 'key_bits': cert.get('key_bits'),
            'not_after': cert.get('not_after'), 'days_remaining': cert.get('days_remaining'),
            'error': endpoint.get('error')}


def judge(entries, probe_results, digest='sha256'):
    """For each deployed entry, whether Postfix would deliver under it to what the probe saw now.

    A destination delivers when at least one endpoint passes (Postfix tries the next MX when one fails);
    ``degraded`` says some endpoints fail. ``delivers`` is None where the level cannot be judged from a
    probe (DANE) or the entry is a parent-domain pattern. ``status`` says it in one word:
    delivers, degraded (some endpoints fail), fails or unknown.
    """
    by_key = dict((r['key'], r) for r in probe_results or [])
    verdicts = []
    for entry in entries or []:
        key = entry['destination']
        verdict = {'destination': key, 'level': entry.get('level'), 'delivers': None, 'degraded': False,
                   'endpoints': [], 'reason': ''}
        verdicts.append(verdict)
        if key.startswith('.'):
            verdict['reason'] = 'parent-domain entry: not probed'
            continue
        result = by_key.get(key)
        if result is None:
            verdict['reason'] = 'not probed'
            continue
        if not result['endpoints']:
            verdict['delivers'] = False
            verdict['reason'] = result.get('error') or 'no endpoint found'
            continue
        # the name the nexthop strategies compare: without brackets and port ([h]:587 and h:587 -> h)
        nexthop_name = parse_nexthop(key).host
        oks = []
        for endpoint in result['endpoints']:
            ok, reason = _endpoint_verdict(entry, nexthop_name, endpoint, digest)
            oks.append(ok)
            seen = {'hostname': endpoint['hostname'], 'address': endpoint['address'],
                    'port': endpoint['port'], 'ok': ok, 'reason': reason}
            seen.update(endpoint_facts(endpoint))
            verdict['endpoints'].append(seen)
        if any(ok is True for ok in oks):
            verdict['delivers'] = True
            verdict['degraded'] = any(ok is False for ok in oks)
        elif all(ok is False for ok in oks):
            verdict['delivers'] = False
        failing = [e['reason'] for e in verdict['endpoints'] if e['ok'] is not True]
        clear = [e['reason'] for e in verdict['endpoints'] if e['ok'] is True and 'in clear' in e['reason']]
        verdict['reason'] = '; '.join(failing or ['every endpoint passes'] + clear)
    for verdict in verdicts:
        verdict['status'] = STATUS[(verdict['delivers'], verdict['degraded'])]
    return verdicts


__all__ = ['NOT_WRITTEN', 'STATUS', 'decide', 'endpoint_facts', 'judge', 'match_patterns', 'parse_policy_text',
           'pki_trust', 'sts_attributes_for', 'sts_mx_allowed', 'sts_mx_patterns', 'sts_skip_reason']
