# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decide stage: from probe facts to policy entries. Private to mailtls.postfix.

``recommend`` turns what the probe saw at one destination into one entry and a
reason. ``decide`` merges the probe's recommendations, the fleet's self-pins
and the operator's explicit entries into one policy. Both build
``_policy.PolicyEntry`` objects; nothing here writes policy text by hand.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import match_from_mx
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import served_keys
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import parse_nexthop
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import (
    STS_MIN_VERSION,
    PolicyEntry,
    _as_list,
    normalize_fingerprint,
    version_tuple,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import NO_STARTTLS

LEVELS_BY_STRENGTH = ('dane', 'secure', 'fingerprint', 'encrypt', 'may')
# probe recommendations at these levels are not written: the client's default level applies
NOT_WRITTEN = ('may', 'none')
# what a recommendation says beside its entry's fields
RECOMMENDATION_FIELDS = ('reason', 'mta_sts', 'digest', 'pin')


def _recommendation(entry, reason, **extra):
    """A recommendation as mx_tls_info returns it: the entry's fields (without the key), its reason, its line."""
    policy = entry.as_dict()
    del policy['destination']
    policy['reason'] = reason
    policy.update(extra)
    return policy, entry.line()


def recommend(nexthop, endpoints, digest='sha256', pin='pubkey', lookup_error=None, sts=None):
    """Recommend a policy entry for one destination from its probed endpoints (and its MTA-STS policy).

    Returns (policy dict, policy line): the dict holds the entry's fields as PolicyEntry.as_dict gives
    them (``fingerprints`` for pins, ``match`` for names), and ``reason``; a pin recommendation also
    says its ``digest`` and ``pin``, an MTA-STS one ``mta_sts: true``.
    """
    def entry(level, **attributes):
        fields = dict(attributes, destination=nexthop.key, level=level)
        return PolicyEntry.from_dict(fields, digest, 'recommendation for %s' % nexthop.key)

    dane_everywhere = bool(endpoints) and nexthop.mx and all(
        (e.get('dane') or {}).get('usable') and all((k.get('dane') or {}).get('matches') for k in served_keys(e))
        for e in endpoints)
    if sts and sts.get('mode') == 'enforce' and not dane_everywhere:
        # RFC 8461: deliver only to the policy's MX patterns, with a certificate that verifies (DANE wins where usable)
        reason = 'MTA-STS policy %s in enforce mode: mx %s' % (sts['id'], ', '.join(sts['mx']))
        if sts.get('source') == 'cache':
            reason += ' (cached policy, within its max_age; no live policy now: %s)' % sts.get('error')
        return _recommendation(entry('secure', match=match_from_mx(sts['mx'])), reason, mta_sts=True)
    if not endpoints:
        reason = 'no endpoint to probe (%s); keep the default level' % (lookup_error or 'no addresses')
        return _recommendation(entry('may'), reason)
    with_tls = [e for e in endpoints if e['certificate'] is not None]
    plaintext = [e for e in endpoints if e['error'] == NO_STARTTLS]
    failed = [e for e in endpoints if e['certificate'] is None and e['error'] != NO_STARTTLS]
    if plaintext:
        names = ', '.join('%s[%s]' % (e['hostname'], e['address']) for e in plaintext)
        return _recommendation(entry('may'), '%s does not offer STARTTLS: encrypt or stronger would defer mail there' % names)
    if not with_tls:
        reason = 'no endpoint completed a TLS handshake (%s)' % '; '.join(sorted(set(e['error'] for e in failed)))
        return _recommendation(entry('may'), reason)
    if failed:
        reason = ('TLS on every endpoint that answered, but %d of %d failed (%s), so their keys are unknown'
                  % (len(failed), len(endpoints), '; '.join(sorted(set(e['error'] for e in failed)))))
        return _recommendation(entry('encrypt'), reason)
    if dane_everywhere:
        reason = ('every MX host publishes DNSSEC-validated TLSA records that match the key it presents '
                  '(needs smtp_dns_support_level = dnssec and a validating resolver)')
        return _recommendation(entry('dane'), reason)
    keys = [k for e in endpoints for k in served_keys(e)]
    if all(k['chain_verified'] and k['name_verified'] for k in keys):
        return _recommendation(entry('secure', match=['nexthop', 'dot-nexthop']),
                               'every endpoint presents a certificate that verifies for the destination'
                               + (' (every key: %d keys on %d endpoints)' % (len(keys), len(endpoints))
                                  if len(keys) > len(endpoints) else ''))
    # every key of every endpoint: a server with an RSA and an ECDSA key may present either
    pins = [k['fingerprints'][pin][digest] for k in keys]
    why = sorted(set(
        (k['verify_error'] or 'certificate does not match %s' % (nexthop.name_for_match or 'an IP next hop'))
        for k in keys if not (k['chain_verified'] and k['name_verified'])))
    reason = ('every endpoint offers TLS but not all verify (%s): pin the %s %s of %d endpoint(s)'
              % ('; '.join(why), digest, 'public keys' if pin == 'pubkey' else 'certificates', len(endpoints))
              + (' (%d keys: every key each endpoint holds)' % len(set(pins)) if len(keys) > len(endpoints) else ''))
    return _recommendation(entry('fingerprint', fingerprints=pins), reason, digest=digest, pin=pin)


def recommend_results(results, digest='sha256', pin='pubkey'):
    """Add ``policy`` and ``policy_line`` to each probe result (mx_tls_info's results); return the count per level."""
    levels = dict((level, 0) for level in LEVELS_BY_STRENGTH)
    for result in results:
        nexthop = parse_nexthop(result['key'])
        lookup_error = result['error'] or '; '.join(e['error'] for e in result['mx'] if e['error']) or None
        result['policy'], result['policy_line'] = recommend(nexthop, result['endpoints'], digest, pin, lookup_error,
                                                            result.get('mta_sts'))
        levels[result['policy']['level']] += 1
    return levels


def sts_attributes_for(postfix_version):
    """Whether a Postfix of this version takes the MTA-STS attributes (3.10 and later); None: not known, no."""
    return postfix_version not in (None, '') and version_tuple(postfix_version) >= STS_MIN_VERSION


def entry_from_probe(result, digest, postfix_version=None):
    """The PolicyEntry of a probe result's recommendation; from 3.10 with the MTA-STS policy as attributes."""
    policy = result.get('policy') or {}
    where = 'probe result for %s' % result['key']
    if policy.get('level') == 'fingerprint' and policy.get('digest', digest) != digest:
        raise MailTLSError('probe results for %s pin %s fingerprints, but the fleet uses %s: probe again with digest %s'
                           % (result['key'], policy.get('digest'), digest, digest))
    fields = dict((k, v) for k, v in policy.items() if k not in RECOMMENDATION_FIELDS)
    fields['destination'] = result['key']
    sts = result.get('mta_sts') or {}
    if sts_attributes_for(postfix_version) and policy.get('mta_sts') and sts.get('mx'):
        # Postfix 3.10: only MX hosts that match a policy pattern, each checked against its own name
        fields.update(policy_type='sts', policy_domain=result['key'], mx_host_pattern=list(sts['mx']),
                      policy_string=list(sts.get('policy_strings') or []))
    return PolicyEntry.from_dict(fields, digest, where, postfix_version)


def decide(probe_results, explicit=None, fleet=None, digest='sha256', postfix_version=None):
    """One policy from three sources; later sources win for the same key: probe, fleet, explicit.

    ``probe_results``: the ``results`` list of mx_tls_info.
    ``explicit``: entries as the tls role takes them (postfix_tls_policies).
    ``fleet``: ``[{'host': name, 'domains': [...], 'pins': [...]}]``; each domain gets a fingerprint
    entry pinning the public keys of every fleet host that serves it.
    ``postfix_version``: the version of the Postfix that gets the policy. From 3.10, an entry made from
    an MTA-STS policy also carries the policy as Postfix's STS attributes (policy_type=sts,
    mx_host_pattern, policy_string), and explicit entries with those attributes are refused below 3.10.

    Returns ``{'policies': [entries sorted by key], 'decisions': [{destination, level, source, reason}]}``;
    the policies are dicts as PolicyEntry.as_dict gives them. MailTLSError names the source and the problem.
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
        entry = entry_from_probe(result, digest, postfix_version)
        chosen[entry.key] = (entry, 'probe', policy.get('reason', ''))

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
        entry = PolicyEntry.from_dict({'destination': domain, 'level': 'fingerprint', 'fingerprints': pins_by_domain[domain]},
                                      digest, 'fleet self-pin for %s' % domain)
        reason = 'fleet self-pin: public keys of %s (%d pin(s))' % (
            ', '.join(hosts_by_domain[domain]), len(pins_by_domain[domain]))
        chosen[entry.key] = (entry, 'fleet', reason)

    seen = {}
    for i, raw in enumerate(explicit or []):
        entry = PolicyEntry.from_dict(raw, digest, 'explicit policy %d' % i, postfix_version)
        if entry.key in seen:
            raise MailTLSError('explicit policy %d (%s): duplicate destination, already given by explicit policy %d'
                               % (i, entry.key, seen[entry.key]))
        seen[entry.key] = i
        overrides = chosen.get(entry.key)
        reason = 'explicit entry' + (' (overrides the %s recommendation %s)' % (overrides[1], overrides[0].level)
                                     if overrides else '')
        chosen[entry.key] = (entry, 'explicit', reason)

    policies, decisions = [], []
    for key in sorted(chosen):
        entry, source, reason = chosen[key]
        policies.append(entry.as_dict())
        decisions.append({'destination': key, 'level': entry.level, 'source': source, 'written': True,
                          'reason': reason})
    decisions.extend(d for d in skipped if d['destination'] not in chosen)
    return {'policies': policies, 'decisions': decisions}


__all__ = ['LEVELS_BY_STRENGTH', 'NOT_WRITTEN', 'RECOMMENDATION_FIELDS', 'decide', 'entry_from_probe', 'recommend',
           'recommend_results', 'sts_attributes_for']
