# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: where Postfix would deliver a destination: MX hosts and their addresses. Private to mailtls.postfix.

Domains get an MX lookup with the RFC 5321 fallback to the domain's own
A/AAAA records when there is no MX; a null MX (RFC 7505) means no mail.
Bracketed next hops get no MX lookup.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

try:
    import dns.exception
    import dns.flags
    import dns.rdatatype
    import dns.resolver
    HAS_DNSPYTHON = True
    DNSPYTHON_IMPORT_ERROR = None
except ImportError:
    HAS_DNSPYTHON = False
    DNSPYTHON_IMPORT_ERROR = traceback.format_exc()

FAMILIES = {'any': ('A', 'AAAA'), 'ipv4': ('A',), 'ipv6': ('AAAA',)}


def parse_nameserver(text):
    """``ip`` or ``ip:port`` or ``[ipv6]:port`` -> (ip, port)."""
    text = str(text).strip()
    host, port = text, 53
    if text.startswith('['):
        if ']' not in text:
            raise MailTLSError('nameservers: %r is not ip, ip:port or [ipv6]:port' % text)
        host, rest = text[1:].split(']', 1)
        if rest:
            if not rest.startswith(':'):
                raise MailTLSError('nameservers: %r is not ip, ip:port or [ipv6]:port' % text)
            port = rest[1:]
    elif text.count(':') == 1:
        host, port = text.split(':')
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise MailTLSError('nameservers: %r is not an IP address' % text)
    try:
        port = int(port)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise MailTLSError('nameservers: %r has a port that is not a number from 1 to 65535' % text)
    return str(address), port


def txt_text(rdata):
    """The text of a TXT record: its character-strings joined (RFC 7208 3.3, RFC 8461 3.1 read it so)."""
    return b''.join(rdata.strings).decode('utf-8', 'replace')


class Resolver:
    """MX and address lookups with dnspython, or the system resolver for bracketed hosts without it."""

    def __init__(self, nameservers=None, timeout=10.0, address_family='any'):
        self.rdtypes = FAMILIES[address_family]
        self.address_family = address_family
        self.timeout = timeout
        self._resolver = None
        if HAS_DNSPYTHON:
            self._resolver = dns.resolver.Resolver(configure=not nameservers)
            if nameservers:
                parsed = [parse_nameserver(n) for n in nameservers]
                self._resolver.nameservers = [ip for ip, port in parsed]
                self._resolver.nameserver_ports = dict(parsed)
            self._resolver.timeout = timeout
            self._resolver.lifetime = timeout
            # TLSA lookups ask for DNSSEC (DO bit, and AD as RFC 6840 allows) so that a validating
            # resolver says whether the answer was validated
            self._dnssec = dns.resolver.Resolver(configure=False)
            self._dnssec.nameservers = self._resolver.nameservers
            self._dnssec.nameserver_ports = dict(self._resolver.nameserver_ports)
            self._dnssec.port = self._resolver.port
            self._dnssec.timeout = self._dnssec.lifetime = timeout
            self._dnssec.flags = dns.flags.RD | dns.flags.AD
            self._dnssec.use_edns(0, dns.flags.DO, 1232)
        elif nameservers:
            raise MailTLSError('nameservers needs the Python library dnspython')

    def _query(self, name, rdtype, nxdomain_empty=False):
        """Return the answer rrset, [] for no data, or raise MailTLSError for NXDOMAIN / failures.

        ``nxdomain_empty``: NXDOMAIN is an answer with no records (for names most domains do not have).
        """
        try:
            return list(self._resolver.resolve(name, rdtype, search=False))
        except dns.resolver.NXDOMAIN:
            if nxdomain_empty:
                return []
            raise MailTLSError('%s: no such domain (NXDOMAIN)' % name)
        except dns.resolver.NoAnswer:
            return []
        except dns.exception.Timeout:
            raise MailTLSError('%s %s: DNS timeout' % (name, rdtype))
        except dns.resolver.NoNameservers as e:
            raise MailTLSError('%s %s: DNS servers failed (%s)' % (name, rdtype, e))
        except dns.exception.DNSException as e:
            raise MailTLSError('%s %s: DNS error (%s)' % (name, rdtype, e))

    def _answer(self, name, rdtype):
        """(records, None), or (None, the MailTLSError) - for lookups made side by side."""
        try:
            return self._query(name, rdtype), None
        except MailTLSError as e:
            return None, e

    def addresses(self, host):
        """The addresses of a host name, A before AAAA, as Postfix orders them (per preference)."""
        if self._resolver is None:
            family = {'any': 0, 'ipv4': socket.AF_INET, 'ipv6': socket.AF_INET6}[self.address_family]
            try:
                infos = socket.getaddrinfo(host, 25, family, socket.SOCK_STREAM)
            except socket.gaierror as e:
                raise MailTLSError('%s: cannot resolve (%s)' % (host, e.strerror))
            seen = []
            for info in infos:
                if info[4][0] not in seen:
                    seen.append(info[4][0])
            return seen
        # A and AAAA are asked at the same time (one round trip, not two); A still comes first
        if len(self.rdtypes) > 1:
            with ThreadPoolExecutor(max_workers=len(self.rdtypes)) as pool:
                answers = list(pool.map(lambda rdtype: self._answer(host, rdtype), self.rdtypes))
        else:
            answers = [self._answer(host, self.rdtypes[0])]
        found = []
        for rdtype, (records, error) in zip(self.rdtypes, answers):
            if error is not None:
                if rdtype == self.rdtypes[-1] and not found:
                    raise error
                continue
            found.extend(r.address for r in records)
        if not found:
            raise MailTLSError('%s: no %s record' % (host, '/'.join(self.rdtypes)))
        return found

    def mx(self, domain):
        """[(preference, hostname)] sorted by preference; fallback to the domain itself when there is no MX."""
        if self._resolver is None:
            raise MailTLSError('MX lookups need the Python library dnspython')
        records = self._query(domain, 'MX')
        if not records:
            return [(0, domain)], True
        mx = sorted((r.preference, r.exchange.to_text(omit_final_dot=True).lower()) for r in records)
        if len(mx) == 1 and mx[0][1] in ('', '.'):
            raise MailTLSError('%s: null MX, the domain accepts no mail (RFC 7505)' % domain)
        return mx, False

    def txt(self, name):
        """The TXT strings of a name ([] when there are none); MailTLSError when the lookup fails."""
        if self._resolver is None:
            raise MailTLSError('TXT lookups need the Python library dnspython')
        return [txt_text(r) for r in self._query(name, 'TXT', nxdomain_empty=True)]

    def tlsa(self, hostname, port):
        """The TLSA records of _PORT._tcp.HOSTNAME and whether the resolver validated them (AD bit).

        Returns {'name', 'records': [{'usage', 'selector', 'mtype', 'data'}], 'validated', 'error'}.
        No records (NXDOMAIN or no data) is not an error: most MX hosts publish none.
        """
        name = '_%d._tcp.%s' % (port, hostname)
        out = {'name': name, 'records': [], 'validated': False, 'error': None, 'ttl': None}
        if self._resolver is None:
            out['error'] = 'TLSA lookups need the Python library dnspython'
            return out
        try:
            answer = self._dnssec.resolve(name, 'TLSA', search=False, raise_on_no_answer=False)
        except dns.resolver.NXDOMAIN as e:
            response = e.responses().get(e.qnames()[0]) if e.qnames() else None
            out['validated'] = bool(response is not None and response.flags & dns.flags.AD)
            return out
        except dns.exception.Timeout:
            out['error'] = '%s TLSA: DNS timeout' % name
            return out
        except dns.exception.DNSException as e:
            out['error'] = '%s TLSA: %s' % (name, e)
            return out
        out['validated'] = bool(answer.response.flags & dns.flags.AD)
        if answer.rrset is not None:
            # the zone's own TTL: the signature's original TTL (a cache counts the answer's TTL down)
            out['ttl'] = max([answer.rrset.ttl] + [
                sig.original_ttl for rrset in answer.response.answer
                if rrset.rdtype == dns.rdatatype.RRSIG and rrset.covers == dns.rdatatype.TLSA for sig in rrset])
            out['records'] = sorted(
                ({'usage': r.usage, 'selector': r.selector, 'mtype': r.mtype, 'data': r.cert.hex()} for r in answer.rrset),
                key=lambda r: (r['usage'], r['selector'], r['mtype'], r['data']))
        return out


def key_matches(records, key_data):
    """The one TLSA matcher: whether a key matches the DANE-EE (usage 3) records it can be compared with.

    ``records``: a Resolver.tlsa() answer's records; ``key_data``: the key's association data by "usage selector
    mtype" ({'3 1 1': hex} for a key, {'3 1 1': hex, '3 0 1': hex} for a served certificate). True when one
    record matches, False when records of those kinds exist and none matches, None when there are none (only
    DANE-TA records, or other selectors and matching types).
    """
    comparable = [r for r in records if r['usage'] == 3 and '3 %d %d' % (r['selector'], r['mtype']) in (key_data or {})]
    if not comparable:
        return None
    return any(key_data['3 %d %d' % (r['selector'], r['mtype'])].lower() == r['data'].lower() for r in comparable)


def dane_verdict(lookup, tlsa_data):
    """Whether an endpoint's key matches its TLSA records, as far as the leaf tells.

    ``lookup``: Resolver.tlsa(); ``tlsa_data``: the endpoint's own {'3 1 1': hex, '3 0 1': hex} (or None).
    Returns the lookup with ``usable`` (validated records exist: Postfix's dane level would use them)
    and ``matches`` (True/False for DANE-EE records, None when only DANE-TA records exist or no TLS).
    """
    out = dict(lookup)
    out['usable'] = bool(lookup['validated'] and lookup['records'])
    out['matches'] = key_matches(lookup['records'], tlsa_data)
    return out


def resolve(nexthop, resolver):
    """Resolve a NextHop into its delivery targets.

    Returns (mx list of {hostname, preference, addresses, error}, note).
    A host whose addresses cannot be found keeps its entry with an error;
    a failed MX lookup raises MailTLSError.
    """
    if nexthop.address is not None:
        return [{'hostname': str(nexthop.address), 'preference': 0, 'addresses': [str(nexthop.address)], 'error': None}], None
    if nexthop.mx:
        records, fallback = resolver.mx(nexthop.host)
        note = 'no MX record: the domain itself (RFC 5321 fallback)' if fallback else None
    else:
        records, note = [(0, nexthop.host)], None
    entries = []
    for preference, hostname in records:
        entry = {'hostname': hostname, 'preference': preference, 'addresses': [], 'error': None}
        try:
            entry['addresses'] = resolver.addresses(hostname)
        except MailTLSError as e:
            entry['error'] = str(e)
        entries.append(entry)
    return entries, note


__all__ = ['HAS_DNSPYTHON', 'DNSPYTHON_IMPORT_ERROR', 'FAMILIES', 'Resolver', 'dane_verdict', 'key_matches', 'parse_nameserver', 'resolve', 'txt_text']
