# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish stage: record sets put into a zone by RFC 2136 dynamic update, signed with TSIG (RFC 8945).

Private to the mailtls.postfix collection; not a public API.

A caller names the record sets it manages (owner name and type) and the values each must hold; an empty list of
values means the set must not exist. ``read`` asks the zone's primary server, over TCP, for each managed set and
checks that the server is authoritative for the zone; ``difference`` compares; ``update_message`` builds ONE
UPDATE for the zone (the server applies it whole or not at all, RFC 2136 3.4), with a prerequisite per changed
set - the set as it was read (value-dependent, 2.4.2) or its absence (2.4.3) - so that an edit made in between is
refused (NXRRSET/YXRRSET) instead of overwritten. Nothing outside the managed names and types is touched.
dnspython does the wire format, TSIG and transport (dns.update, dns.tsig, dns.query); this file only decides.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import DNSPYTHON_IMPORT_ERROR, HAS_DNSPYTHON, parse_nameserver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

# dnspython is there when _dns found it (its import error, if any, is _dns's)
if HAS_DNSPYTHON:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.query
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdataset
    import dns.rdatatype
    import dns.rdtypes.ANY.TXT
    import dns.tsig
    import dns.update

# the record types the collection publishes: TLSA (DANE), TXT (_mta-sts, _smtp._tls, _acme-challenge)
TYPES = ('TLSA', 'TXT')
# RFC 8945 6 names; dnspython's names for them
ALGORITHMS = ('hmac-sha256', 'hmac-sha384', 'hmac-sha512', 'hmac-sha224', 'hmac-sha1')

# what each refusal means for a caller (RFC 2136 2.2, RFC 8945 5.3)
_RCODE_REASONS = {
    'REFUSED': 'the server refused the update (its ACL or update-policy does not let this key change these names '
               'and types)',
    'NOTAUTH': 'the server is not authoritative for the zone, or does not take this update without a TSIG key '
               '(key_name, key_secret)',
    'NOTZONE': 'a name is not within the zone',
    'NXRRSET': 'the zone changed since it was read (a record set this update expected is gone or different); '
               'run again to read it anew',
    'YXRRSET': 'the zone changed since it was read (a record set this update expected to be absent now exists); '
               'run again to read it anew',
    'SERVFAIL': 'the server failed to apply the update',
    'FORMERR': 'the server could not parse the update',
    'NOTIMP': 'the server does not take dynamic updates',
}


class PublishError(MailTLSError):
    """The zone could not be read or changed; nothing was changed (one UPDATE is applied whole or not at all)."""


def _text(rdata):
    return rdata.to_text()


def _txt_rdata(value):
    """A TXT record of one text, in character-strings of at most 255 octets (RFC 1035 3.3.14)."""
    data = value.encode('utf-8')
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b'']
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)


class RecordSet:
    """One managed record set: owner name, type, TTL and the values it must hold (none: it must not exist)."""

    def __init__(self, name, rdtype, ttl, rdatas):
        self.name = name
        self.rdtype = rdtype
        self.ttl = ttl
        self.rdatas = rdatas

    def lines(self):
        """Zone-file lines, sorted: what a diff shows."""
        return sorted('%s %d IN %s %s' % (self.name.to_text(), self.ttl, dns.rdatatype.to_text(self.rdtype),
                                          _text(r)) for r in self.rdatas)

    def same(self, other):
        return (set(_text(r) for r in self.rdatas) == set(_text(r) for r in other.rdatas)
                and (not self.rdatas or self.ttl == other.ttl))


def zone_name(zone):
    try:
        return dns.name.from_text(str(zone).strip().rstrip('.') + '.')
    except dns.exception.DNSException as e:
        raise PublishError('zone %r is not a domain name: %s' % (zone, e))


def tsig_key(key_name, key_secret, key_algorithm='hmac-sha256'):
    """A dnspython TSIG key, or None without a key name. The secret is never put in a message."""
    if not key_name:
        if key_secret:
            raise PublishError('key_secret needs key_name (the TSIG key\'s name, as the server knows it)')
        return None
    if key_algorithm not in ALGORITHMS:
        raise PublishError('key_algorithm %r is not one of %s' % (key_algorithm, ', '.join(ALGORITHMS)))
    if not key_secret:
        raise PublishError('TSIG key %s has no key_secret' % key_name)
    try:
        secret = base64.b64decode(str(key_secret).strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PublishError('the key_secret of TSIG key %s is not base64 (as in a tsig-keygen or keymgr -t line)'
                           % key_name)
    if not secret:
        raise PublishError('the key_secret of TSIG key %s is empty' % key_name)
    try:
        return dns.tsig.Key(dns.name.from_text(key_name), secret, dns.name.from_text(key_algorithm))
    except dns.exception.DNSException as e:
        raise PublishError('key_name %r is not a domain name: %s' % (key_name, e))


def certbot_credentials(server, key_name, key_secret, key_algorithm='hmac-sha256'):
    """The same publisher settings as certbot's RFC 2136 plugin reads them (its credentials INI, for dns-01):
    the server, its port, the TSIG key. Checked as dns_publish checks them; the text holds the secret."""
    if not server or not key_name:
        raise PublishError('dns-01 through RFC 2136 needs the zone\'s server and a TSIG key that may update it '
                           '(the tls role: postfix_tls_publish with server, zone, key_name, key_secret)')
    tsig_key(key_name, key_secret, key_algorithm)
    address, port = parse_nameserver(server)
    return ('# certbot dns-rfc2136 credentials, written by mailtls.postfix (the tls role); root only\n'
            'dns_rfc2136_server = %s\ndns_rfc2136_port = %d\ndns_rfc2136_name = %s\ndns_rfc2136_secret = %s\n'
            'dns_rfc2136_algorithm = %s\n' % (address, port, key_name, str(key_secret).strip(), key_algorithm.upper()))


def wanted_sets(records, zone):
    """The record sets the caller manages, validated: each inside the zone, a known type, values that parse."""
    out, seen = [], {}
    for i, record in enumerate(records):
        where = 'records[%d]' % i
        if not isinstance(record, dict):
            raise PublishError('%s must be a dict with name, type and values' % where)
        rdtype_text = str(record.get('type', '')).upper()
        if rdtype_text not in TYPES:
            raise PublishError('%s: type %r is not one of %s' % (where, record.get('type'), ', '.join(TYPES)))
        try:
            name = dns.name.from_text(str(record.get('name', '')).strip().rstrip('.') + '.')
        except dns.exception.DNSException as e:
            raise PublishError('%s: name %r is not a domain name: %s' % (where, record.get('name'), e))
        if not name.is_subdomain(zone):
            raise PublishError('%s: %s is not within the zone %s' % (where, name, zone))
        ttl = record.get('ttl', 3600)
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 2147483647:
            raise PublishError('%s (%s): ttl must be a number of seconds (0 to 2147483647)' % (where, name))
        values = record.get('values') or []
        if isinstance(values, str):
            values = [values]
        rdtype = dns.rdatatype.from_text(rdtype_text)
        rdatas = []
        for value in values:
            if rdtype_text == 'TXT':
                rdata = _txt_rdata(str(value))
            else:
                try:
                    rdata = dns.rdata.from_text(dns.rdataclass.IN, rdtype, str(value))
                except (dns.exception.DNSException, ValueError) as e:
                    raise PublishError('%s (%s): %r is not %s data: %s' % (where, name, value, rdtype_text, e))
            if _text(rdata) not in [_text(r) for r in rdatas]:
                rdatas.append(rdata)
        if (name, rdtype) in seen:
            raise PublishError('%s: %s %s is also records[%d]; give each record set once, with all its values'
                               % (where, name, rdtype_text, seen[(name, rdtype)]))
        seen[(name, rdtype)] = i
        out.append(RecordSet(name, rdtype, ttl, rdatas))
    return out


class Server:
    """The zone's primary server, asked over TCP (dns.query.tcp)."""

    def __init__(self, server, zone, key=None, timeout=10.0):
        self.address, self.port = parse_nameserver(server)
        self.label = '%s port %d' % (self.address, self.port)
        self.zone = zone
        self.key = key
        self.timeout = timeout

    def _where(self):
        return 'zone %s on %s' % (self.zone, self.label)

    def _ask(self, message, what):
        try:
            return dns.query.tcp(message, self.address, port=self.port, timeout=self.timeout)
        except dns.tsig.PeerBadKey:
            raise PublishError('%s: %s: NOTAUTH (BADKEY): the server does not know TSIG key %s with this algorithm, or '
                               'its ACL does not let that key update these names and types; nothing was changed' % (self._where(), what, self.key.name))
        except dns.tsig.PeerBadSignature:
            raise PublishError('%s: %s: NOTAUTH (BADSIG): the server knows TSIG key %s but not with this secret; '
                               'nothing was changed' % (self._where(), what, self.key.name))
        except dns.tsig.PeerBadTime:
            raise PublishError('%s: %s: NOTAUTH (BADTIME): the clocks of this host and the server differ by more '
                               'than the TSIG fudge; nothing was changed' % (self._where(), what))
        except dns.tsig.PeerError as e:
            raise PublishError('%s: %s: the server rejected the TSIG signature (%s); nothing was changed'
                               % (self._where(), what, e))
        except dns.exception.Timeout:
            raise PublishError('%s: %s: no answer within %s s; nothing was changed'
                               % (self._where(), what, self.timeout))
        except (OSError, EOFError) as e:
            raise PublishError('%s: %s: the server cannot be reached (%s); nothing was changed'
                               % (self._where(), what, e))
        except dns.exception.DNSException as e:
            raise PublishError('%s: %s: %s; nothing was changed' % (self._where(), what, e))

    def _query(self, name, rdtype):
        query = dns.message.make_query(name, rdtype)
        query.flags &= ~dns.flags.RD
        return self._ask(query, 'reading %s %s' % (name, dns.rdatatype.to_text(rdtype)))

    def check_authority(self):
        """The server answers for the zone with authority (its SOA, AA set); otherwise PublishError."""
        response = self._query(self.zone, dns.rdatatype.SOA)
        rcode = dns.rcode.to_text(response.rcode())
        soa = [r for r in response.answer if r.name == self.zone and r.rdtype == dns.rdatatype.SOA]
        if rcode != 'NOERROR' or not soa or not response.flags & dns.flags.AA:
            raise PublishError('%s: the server is not authoritative for the zone (its answer to SOA %s: %s%s); '
                               'nothing was changed' % (self._where(), self.zone, rcode,
                                                        '' if response.flags & dns.flags.AA else ', not authoritative'))

    def read(self, wanted):
        """The record sets as the zone holds them now, one per wanted set (no values: absent)."""
        self.check_authority()
        held = []
        for want in wanted:
            response = self._query(want.name, want.rdtype)
            rcode = dns.rcode.to_text(response.rcode())
            if rcode not in ('NOERROR', 'NXDOMAIN') or not response.flags & dns.flags.AA:
                raise PublishError('%s: reading %s %s: %s%s; nothing was changed'
                                   % (self._where(), want.name, dns.rdatatype.to_text(want.rdtype), rcode,
                                      '' if response.flags & dns.flags.AA else ' (not authoritative)'))
            rrsets = [r for r in response.answer if r.name == want.name and r.rdtype == want.rdtype]
            if rrsets:
                held.append(RecordSet(want.name, want.rdtype, rrsets[0].ttl, list(rrsets[0])))
            else:
                held.append(RecordSet(want.name, want.rdtype, want.ttl, []))
        return held

    def send(self, message):
        """Send the UPDATE; PublishError naming the zone, the server and the response code unless NOERROR."""
        response = self._ask(message, 'the update')
        rcode = dns.rcode.to_text(response.rcode())
        if rcode != 'NOERROR':
            raise PublishError('%s: the update was answered %s: %s; nothing was changed'
                               % (self._where(), rcode, _RCODE_REASONS.get(rcode, 'see the server\'s log')))
        return rcode


def difference(wanted, held):
    """[(held, wanted)] for each managed set whose values (or TTL) differ."""
    return [(old, new) for new, old in zip(wanted, held) if not new.same(old)]


def update_message(zone, changes, key=None):
    """One UPDATE for the zone: per changed set a prerequisite (as read, or absent), then delete and add."""
    message = dns.update.UpdateMessage(zone, keyring=key) if key is not None else dns.update.UpdateMessage(zone)
    for old, new in changes:
        if old.rdatas:
            rdataset = dns.rdataset.Rdataset(dns.rdataclass.IN, old.rdtype)
            for rdata in old.rdatas:
                rdataset.add(rdata)
            message.present(old.name, rdataset)
        else:
            message.absent(old.name, old.rdtype)
    for old, new in changes:
        if old.rdatas:
            message.delete(old.name, old.rdtype)
        if new.rdatas:
            message.add(new.name, new.ttl, *new.rdatas)
    return message


def diff(changes):
    """Ansible's before/after: the changed sets as zone-file lines."""
    return {
        'before': ''.join(line + '\n' for old, new in changes for line in old.lines()),
        'after': ''.join(line + '\n' for old, new in changes for line in new.lines()),
    }


def publish(server, zone, records, key_name=None, key_secret=None, key_algorithm='hmac-sha256', timeout=10.0,
            check_mode=False):
    """Read, compare, and (unless check_mode) send one signed UPDATE and read the sets back. Returns a dict."""
    zone = zone_name(zone)
    key = tsig_key(key_name, key_secret, key_algorithm)
    wanted = wanted_sets(records, zone)
    target = Server(server, zone, key, timeout)
    held = target.read(wanted)
    changes = difference(wanted, held)
    result = {
        'changed': bool(changes),
        'zone': zone.to_text(),
        'server': target.label,
        'changes': [{'name': new.name.to_text(), 'type': dns.rdatatype.to_text(new.rdtype),
                     'before': [_text(r) for r in old.rdatas], 'after': [_text(r) for r in new.rdatas]}
                    for old, new in changes],
        'diff': diff(changes),
        'rcode': None,
    }
    if not changes or check_mode:
        return result
    result['rcode'] = target.send(update_message(zone, changes, key))
    now = difference(wanted, target.read(wanted))
    if now:
        raise PublishError('zone %s on %s: the server answered NOERROR but now holds %s; another writer may have '
                           'changed it at once' % (zone, target.label,
                                                   '; '.join(line for old, new in now for line in old.lines())
                                                   or 'none of ' + ', '.join(str(new.name) for old, new in now)))
    return result


__all__ = ['ALGORITHMS', 'DNSPYTHON_IMPORT_ERROR', 'certbot_credentials', 'HAS_DNSPYTHON', 'PublishError', 'RecordSet', 'Server', 'TYPES',
           'difference', 'diff', 'publish', 'tsig_key', 'update_message', 'wanted_sets', 'zone_name']
