# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: destinations as Postfix would reach them. Private to mailtls.postfix.

The work behind the mx_tls_info module: resolve every destination (MX hosts
x addresses), probe each distinct endpoint once over STARTTLS with bounded
concurrency, read TLSA records and MTA-STS policies, and check names per
destination. It returns facts only; the recommendation is _decide's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import certificate_facts, match_names
from ansible_collections.mailtls.postfix.plugins.module_utils._chain import CHAIN_FROM_HANDSHAKE, ChainJudge
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import dane_verdict, resolve
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import apply_cache, check_cache_entry, discover
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import parse_nexthop
from ansible_collections.mailtls.postfix.plugins.module_utils._options import EXPIRY_WARN_DAYS
from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import KEY_FAMILIES, NO_STARTTLS, make_context, probe


def parse_destinations(destinations):
    """Parse the destinations option; MailTLSError names the bad entry."""
    if not destinations:
        raise MailTLSError('destinations: the list is empty; give at least one domain or [host]:port')
    parsed, seen = [], {}
    for index, text in enumerate(destinations):
        try:
            nexthop = parse_nexthop(text)
        except MailTLSError as e:
            raise MailTLSError('destinations[%d]: %s' % (index, e))
        if nexthop.key in seen:
            raise MailTLSError('destinations[%d]: %r is the same destination as destinations[%d]' % (index, text, seen[nexthop.key]))
        seen[nexthop.key] = index
        parsed.append(nexthop)
    return parsed


def secure_patterns(nexthop):
    """The names the secure level's default match (nexthop:dot-nexthop) accepts; none for IP literals."""
    name = nexthop.name_for_match
    return [name, '.' + name] if name else []


def _resolve(args):
    nexthop, resolver = args
    try:
        return resolve(nexthop, resolver) + (None,)
    except MailTLSError as e:
        return [], None, str(e)


def served_keys(endpoint):
    """The keys an endpoint presents (its ``keys``), or the endpoint itself for results without that list."""
    keys = endpoint.get('keys')
    return keys if keys is not None else ([endpoint] if endpoint.get('certificate') is not None else [])


def _seen_key(raw):
    return {'facts': raw['facts'], 'tls': raw['tls'], 'chain_verified': raw['chain_verified'],
            'verify_error': raw['verify_error']}


class Prober:
    """Holds the options of one run; ``run()`` probes a list of parsed next hops."""

    def __init__(self, resolver, port=25, timeout=10.0, concurrency=32, ehlo_name='localhost',
                 ca_file=None, ca_path=None, sni=None, probe_func=probe, dane=True, tls_mode='auto', one_session=True,
                 mta_sts=False, sts_port=443, sts_cache=None, now=None, expiry_warn_days=EXPIRY_WARN_DAYS):
        self.resolver = resolver
        self.expiry_warn_days = expiry_warn_days
        # auto: implicit TLS on port 465 (submissions, RFC 8314), STARTTLS elsewhere
        self.tls_mode = tls_mode
        self.dane = dane
        self.mta_sts = mta_sts
        self.sts_port = sts_port
        # MTA-STS policies read before ({domain: entry}); after run(), the cache to keep
        self.sts_cache = dict((d, check_cache_entry(d, e)) for d, e in (sts_cache or {}).items())
        self.now = now if now is not None else time.time()
        self.ca_file = ca_file
        self.port = port
        self.timeout = timeout
        self.concurrency = concurrency
        self.ehlo_name = ehlo_name
        self.sni = sni
        self.probe_func = probe_func
        try:
            self.verify_context = make_context(ca_file, ca_path, verify=True)
        except (OSError, ValueError) as e:
            raise MailTLSError('ca_file/ca_path: cannot load CA certificates (%s)' % e)
        self.plain_context = make_context(verify=False)
        # one session per endpoint where Python hands over the served chain (3.10 and later)
        self.judge_chain = ChainJudge(ca_file, ca_path) if CHAIN_FROM_HANDSHAKE and one_session else None
        # one more session per endpoint asks for the key of the other kind (RSA / ECDSA)
        self.family_contexts = dict((family, (make_context(ca_file, ca_path, True, family), make_context(None, None, False, family)))
                                    for family in KEY_FAMILIES)
        self._facts = {}
        self._tls = {}

    def mode_for(self, port):
        """starttls or implicit, for an endpoint on this port."""
        if self.tls_mode == 'auto':
            return 'implicit' if port == 465 else 'starttls'
        return self.tls_mode

    def _facts_of(self, raw):
        """Replace a probe's certificate bytes by its facts (shared per distinct certificate)."""
        der = raw.pop('der')
        raw['facts'] = None
        if raw['tls'] is not None:
            # one dict per distinct (version, cipher), shared by the endpoints that negotiated it
            raw['tls'] = self._tls.setdefault((raw['tls']['version'], raw['tls']['cipher']), raw['tls'])
        if der is not None:
            facts = self._facts.get(der)
            if facts is None:
                facts = self._facts.setdefault(der, certificate_facts(der))
            raw['facts'] = facts
        return raw

    def _probe(self, target):
        """Probe one endpoint: every key it holds. Keep the certificate facts, not the certificate bytes.

        The first session takes what the server picks. When that is an RSA or an ECDSA key, one more
        session asks (TLS 1.2, suites of the other authentication only) for a key of the other kind:
        a server with both (the tls role deploys both) shows it, and a server with one key fails that
        handshake. ``keys`` lists the keys seen, the first one's first; ``other_key`` says what the
        second session found when it found no other key. Facts are cached per distinct certificate, so
        endpoints sharing a certificate share one facts object and no copy of the DER stays in memory.
        """
        address, port = target
        mode = self.mode_for(port)
        raw = self._facts_of(self.probe_func(address, port, self.timeout, self.ehlo_name, self.verify_context,
                                             self.plain_context, self.sni, mode, self.judge_chain))
        raw['keys'], raw['other_key'] = [], None
        if raw['facts'] is None:
            return raw
        raw['keys'].append(_seen_key(raw))
        kind = raw['facts']['certificate']['key_type']
        other = [f for f in KEY_FAMILIES if f != kind]
        if kind not in KEY_FAMILIES:
            raw['other_key'] = 'not asked: the key is %s, neither RSA nor ECDSA' % kind
            return raw
        if kind == 'RSA' and raw['tls'] and raw['tls']['version'] == 'TLSv1.3':
            # this client lists ECDSA signature algorithms first; a server (OpenSSL's choice, as in Postfix)
            # that held an ECDSA key would have used it
            raw['other_key'] = 'not asked: RSA chosen in TLS 1.3 although ECDSA signatures were preferred, so no ECDSA key'
            return raw
        verify, plain = self.family_contexts[other[0]]
        second = self._facts_of(self.probe_func(address, port, self.timeout, self.ehlo_name, verify, plain, self.sni, mode,
                                                self.judge_chain))
        raw['sessions'] += second['sessions']
        if second['facts'] is None:
            raw['other_key'] = 'no %s key (TLS 1.2 with %s suites only: %s)' % (other[0], KEY_FAMILIES[other[0]], second['error'])
        elif second['facts'] is raw['facts']:
            raw['other_key'] = 'no %s key (the same certificate again)' % other[0]
        else:
            raw['keys'].append(_seen_key(second))
        return raw

    def run(self, nexthops):
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            resolved = list(pool.map(_resolve, [(nh, self.resolver) for nh in nexthops]))
            targets = {}  # an ordered set: each endpoint is probed once, however many destinations share it
            for nexthop, (mx, dummy, dummy2) in zip(nexthops, resolved):
                port = nexthop.port or self.port
                for entry in mx:
                    for address in entry['addresses']:
                        targets[(address, port)] = None
            probes = dict(zip(targets, pool.map(self._probe, list(targets))))
            # TLSA records of each MX host name and port (not of IP literals), once per run
            lookups = {}
            if self.dane:
                for nexthop, (mx, dummy, dummy2) in zip(nexthops, resolved):
                    if nexthop.address is None:
                        for entry in mx:
                            if entry['addresses']:
                                lookups[(entry['hostname'], nexthop.port or self.port)] = None
                lookups = dict(zip(lookups, pool.map(self._tlsa, list(lookups))))
            # MTA-STS policies of the domains (not of bracketed next hops, nor of domain:port: RFC 8461 is
            # about delivery to the MX hosts on port 25), when asked for
            sts = {}
            if self.mta_sts:
                domains = [nh.host for nh in nexthops if nh.mta_sts]
                sts = dict(zip(domains, pool.map(self._sts, domains)))
                # entries of domains not probed this time stay until their max_age has passed
                for domain in [d for d, e in self.sts_cache.items() if self.now >= e['fetched'] + e['max_age']]:
                    del self.sts_cache[domain]
        results = [self._destination(nexthop, mx, note, error, probes, lookups, sts.get(nexthop.host) if nexthop.mta_sts else None)
                   for nexthop, (mx, note, error) in zip(nexthops, resolved)]
        return results, summarize(results, self.expiry_warn_days)

    def _tlsa(self, target):
        return self.resolver.tlsa(*target)

    def _sts(self, domain):
        state, entry = apply_cache(discover(domain, self.resolver, self.timeout, self.ca_file, self.sts_port),
                                   self.sts_cache.get(domain), self.now)
        if entry is None:
            self.sts_cache.pop(domain, None)
        else:
            self.sts_cache[domain] = entry
        return state

    def _destination(self, nexthop, mx, note, error, probes, lookups, sts=None):
        port = nexthop.port or self.port
        patterns = secure_patterns(nexthop)
        endpoints = []
        for entry in mx:
            for address in entry['addresses']:
                raw = probes[(address, port)]
                endpoint = {
                    'hostname': entry['hostname'], 'address': address, 'port': port,
                    'starttls': raw['starttls'], 'tls_mode': raw['tls_mode'], 'error': raw['error'], 'tls': raw['tls'],
                    'certificate': None, 'fingerprints': None, 'tlsa': None, 'dane': None,
                    'chain_verified': raw['chain_verified'], 'verify_error': raw['verify_error'],
                    'name_verified': False,
                }
                lookup = lookups.get((entry['hostname'], port))
                keys = []
                for seen in raw['keys']:
                    cert = seen['facts']
                    keys.append({
                        'certificate': cert['certificate'], 'fingerprints': cert['fingerprints'], 'tlsa': cert['tlsa'],
                        'tls': seen['tls'], 'chain_verified': seen['chain_verified'], 'verify_error': seen['verify_error'],
                        'name_verified': bool(patterns) and match_names(cert['match_names'], patterns),
                        'dane': dane_verdict(lookup, cert['tlsa']) if lookup is not None else None,
                    })
                if keys:
                    # the first key's facts stay at the top: what a client with default settings gets
                    for name in ('certificate', 'fingerprints', 'tlsa', 'name_verified', 'dane'):
                        endpoint[name] = keys[0][name]
                endpoint['keys'] = keys
                endpoint['other_key'] = raw['other_key']
                endpoint['sessions'] = raw['sessions']
                if lookup is not None and not keys:
                    endpoint['dane'] = dane_verdict(lookup, None)
                endpoints.append(endpoint)
        return {
            'destination': nexthop.original,
            'key': nexthop.key,
            'mx': [{'hostname': e['hostname'], 'preference': e['preference'], 'addresses': e['addresses'],
                    'error': e['error']} for e in mx],
            'mx_note': note,
            'error': error,
            'endpoints': endpoints,
            'mta_sts': sts,
        }


def summarize(results, expiry_warn_days=EXPIRY_WARN_DAYS):
    """Counts of what the probe saw (the recommended levels are counted by _decide.recommend_results).

    ``expiring``: certificates that expire within ``expiry_warn_days``; ``expiring_30_days`` (deprecated, kept for
    playbooks that read it) within 30."""
    def expiring(days):
        return sum(1 for e in endpoints if e['certificate'] and e['certificate']['days_remaining'] < days)

    endpoints = [e for r in results for e in r['endpoints']]
    return {
        'destinations': len(results),
        'destinations_unresolved': sum(1 for r in results if r['error']),
        'endpoints': len(endpoints),
        'endpoints_tls': sum(1 for e in endpoints if e['certificate'] is not None),
        'endpoints_verified': sum(1 for e in endpoints if e['chain_verified'] and e['name_verified']),
        'endpoints_no_starttls': sum(1 for e in endpoints if e['error'] == NO_STARTTLS),
        'endpoints_failed': sum(1 for e in endpoints if e['certificate'] is None and e['error'] != NO_STARTTLS),
        'expiring': expiring(expiry_warn_days),
        'expiring_30_days': expiring(30),
    }


__all__ = ['Prober', 'parse_destinations', 'secure_patterns', 'served_keys', 'summarize']
