# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: what Postfix's SMTP client delivered and how, read from the mail log. Private to mailtls.postfix.

The log is read as bytes in fixed-size blocks (plain or gzip files, in bounded
memory). Only the lines of an smtp(8) process matter: they are found with a
byte search for ``/smtp[`` and parsed one by one; every other line costs one
pass of that search. Three stamp formats are read:
  - traditional syslog ``Dec  2 17:26:19`` (local time, no year: the year is
    taken from the file's modification time; a line later in the year than the
    file itself is from the year before);
  - Postfix's own maillog_file ``Dec 02 17:26:19`` (the same, zero-padded);
  - RFC 3339 ``2026-12-02T17:26:19.123456+00:00`` (rsyslog's high-precision
    format, the default of newer Debian).
Per smtp(8) process (the pid), the last ``<trust> TLS connection established
to`` (or ``reused to``, through tlsproxy) line belongs to the session that
delivers the next message of that process: Postfix does not hand a TLS session
to another process unless it is reused through tlsproxy, which logs "reused".
A delivery of another message on the same process without a new TLS line went
in clear (a plain connection, possibly from the connection cache).
Counts, per recipient domain:
  - delivered: messages (one queue ID in one session, whatever its number of
    recipients there) with status=sent, by the trust of their session
    (Verified, Trusted, Untrusted, Anonymous, or none: no TLS) and its
    protocol and cipher;
  - deferred: delivery attempts that deferred (a message tried three times counts three);
  - bounced: messages with status=bounced.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import collections
import datetime
import gzip
import os
import re
import time
import zlib

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

TRUSTS = ('Verified', 'Trusted', 'Untrusted', 'Anonymous')
# the report's three classes of a delivered message
CLASS_OF = {'Verified': 'verified', 'Trusted': 'unauthenticated', 'Untrusted': 'unauthenticated',
            'Anonymous': 'unauthenticated', None: 'clear'}
CLASSES = ('verified', 'unauthenticated', 'clear')
MONTHS = dict((m.encode(), i + 1) for i, m in enumerate(
    ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')))
BLOCK = 1 << 22
# the smtp(8) processes kept track of; older ones are forgotten (default_process_limit is 100)
MAX_PROCESSES = 4096

# One expression for both kinds of smtp(8) line. It starts with a literal, so the regular expression engine
# skips to each "/smtp[" at the speed of a byte search; the stamp is read from the start of that line.
_SMTP = re.compile(
    rb'/smtp\[(\d+)\]: (?:(Anonymous|Untrusted|Trusted|Verified) TLS connection (?:established|reused) to \S+: '
    rb'(\S+) with cipher (\S+)|([0-9A-Za-z]+): to=<([^>\n]*)>, (?:orig_to=<[^>\n]*>, )?relay=[^,\n]*, '
    rb'[^\n]*?status=(sent|deferred|bounced)\b)')
_TRADITIONAL = re.compile(rb'([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d:\d\d:\d\d)(?:\.\d+)? \S+ \S+$')
_ISO = re.compile(rb'(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:[.,]\d+)?(Z|[+-]\d\d:?\d\d)? \S+ \S+$')
# a delivery line's status -> the count it goes into
_STATUS_COUNT = {'sent': 'delivered', 'deferred': 'deferred', 'bounced': 'bounced'}
_RELATIVE = re.compile(r'^(\d+)\s*([smhdw])$')
_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


def parse_when(text, now):
    """Seconds since the epoch for an ISO 8601 time or date (UTC unless it says otherwise) or a time before
    ``now`` written as N followed by s, m, h, d or w ("7d": seven days before now). None for None."""
    if text is None or text == '':
        return None
    relative = _RELATIVE.match(str(text).strip())
    if relative:
        return now - int(relative.group(1)) * _UNITS[relative.group(2)]
    value = str(text).strip()
    if value.endswith('Z'):
        value = value[:-1] + '+00:00'
    try:
        parsed = datetime.datetime.strptime(value, '%Y-%m-%d') if len(value) == 10 else _fromiso(value)
    except ValueError:
        raise MailTLSError('maillog: %r is not a time: write an ISO 8601 time (2026-12-01T00:00:00Z), a date '
                           '(2026-12-01) or a span before now (90m, 24h, 7d, 2w)' % (text,))
    if parsed.tzinfo is None:
        return float(calendar.timegm(parsed.timetuple()))
    return parsed.timestamp()


def _fromiso(value):
    for fmt in ('%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%f%z', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M:%S.%f',
                '%Y-%m-%d %H:%M:%S'):
        try:
            # %z takes +00:00 from Python 3.7 on
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise ValueError(value)


class _Clock:
    """Stamp -> seconds since the epoch, with the conversions of a file cached by day (or hour, for local time)."""

    def __init__(self, reference):
        ref = time.localtime(reference)
        self.year, self.ref = ref.tm_year, (ref.tm_mon, ref.tm_mday + 1)
        self._local, self._iso = {}, {}

    def traditional(self, mon, day, hms):
        month = MONTHS.get(mon)
        if month is None:
            return None
        day = int(day)
        hour, minute, second = int(hms[0:2]), int(hms[3:5]), int(hms[6:8])
        key = (month, day, hour)
        base = self._local.get(key)
        if base is None:
            # a line dated after the file's last write is from the year before
            year = self.year - 1 if (month, day) > self.ref else self.year
            base = time.mktime((year, month, day, hour, 0, 0, 0, 0, -1))
            self._local[key] = base
        return base + minute * 60 + second

    def stamp(self, head):
        """The time of a line from what precedes its program name ("Dec  2 17:26:19 host postfix"), or None."""
        m = _TRADITIONAL.match(head)
        if m is not None:
            return self.traditional(m.group(1), m.group(2), m.group(3))
        m = _ISO.match(head)
        if m is not None:
            return self.iso(m.group(1), m.group(2), m.group(3))
        return None

    def iso(self, date, hms, tz):
        key = (date, tz)
        base = self._iso.get(key)
        if base is None:
            offset = 0
            if tz and tz != b'Z':
                sign = -1 if tz[0:1] == b'-' else 1
                digits = tz[1:].replace(b':', b'')
                offset = sign * (int(digits[0:2]) * 3600 + int(digits[2:4]) * 60)
            base = calendar.timegm((int(date[0:4]), int(date[5:7]), int(date[8:10]), 0, 0, 0)) - offset
            self._iso[key] = base
        return base + int(hms[0:2]) * 3600 + int(hms[3:5]) * 60 + int(hms[6:8])


def _blocks(path, size=BLOCK):
    """The file's bytes in blocks that end at a line end (gzip read as it is inflated)."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        tail = b''
        while True:
            block = f.read(size)
            if not block:
                if tail:
                    yield tail + b'\n'
                return
            if tail:
                block = tail + block
            cut = block.rfind(b'\n') + 1
            tail = block[cut:]
            if cut:
                yield block if cut == len(block) else block[:cut]


def _domain_stats():
    return {'delivered': 0, 'deferred': 0, 'bounced': 0, 'tls': dict((t, 0) for t in TRUSTS + ('none',)),
            'protocols': {}, 'ciphers': {}}


class Reader:
    """Counts of the SMTP client's deliveries per recipient domain and per day, fed file by file."""

    def __init__(self, since=None, until=None):
        self.since, self.until = since, until
        self.domains = {}
        self.days = {}
        self.files = []
        self.first = self.last = None
        self.block_size = BLOCK
        self._sessions = collections.OrderedDict()
        self._day_names = {}
        # one message's recipients in several domains, in one session and with one status, are counted once per
        # domain; summarize() takes the repeats back where those domains share a next hop. Key: (domain, status,
        # the message's earlier domains with that status, trust, protocol, cipher, day) -> how many such lines
        self.repeats = {}

    def read_file(self, path):
        """Read one log file (plain or .gz). A file last written before the window is skipped unread."""
        try:
            st = os.stat(path)
        except OSError as e:
            raise MailTLSError('maillog: cannot read %s: %s' % (path, e.strerror))
        record = {'path': path, 'bytes': st.st_size, 'read': False, 'deliveries': 0}
        self.files.append(record)
        if self.since is not None and st.st_mtime < self.since:
            record['skipped'] = 'last written before the window'
            return record
        clock = _Clock(st.st_mtime)
        try:
            for block in _blocks(path, self.block_size):
                record['deliveries'] += self._block(block, clock)
        except (OSError, EOFError, zlib.error) as e:
            raise MailTLSError('maillog: cannot read %s: %s' % (path, e))
        record['read'] = True
        return record

    def _block(self, block, clock):
        rfind = block.rfind
        since, until = self.since, self.until
        sessions = self._sessions
        count = 0
        last_head, last_when = None, None
        for m in _SMTP.finditer(block):
            at = m.start()
            start = rfind(b'\n', 0, at) + 1
            head = block[start:at]
            if head == last_head:
                when = last_when
            else:
                when = clock.stamp(head)
                last_head, last_when = head, when
            if when is None or (since is not None and when < since) or (until is not None and when >= until):
                continue
            pid, trust = m.group(1), m.group(2)
            if trust is not None:
                # a new session of this process: its trust, protocol and cipher, not yet bound to a message
                self._session(pid, [trust.decode(), m.group(3).decode(), m.group(4).decode(), None, None])
                continue
            count += 1
            qid, recipient = m.group(5), m.group(6)
            session = sessions.get(pid)
            if session is None or (session[3] is not None and session[3] != qid):
                # another message on this process without a TLS line of its own: no TLS
                session = self._session(pid, [None, None, None, qid, None])
            session[3] = qid
            at = recipient.rfind(b'@')
            key = (recipient[at + 1:].lower() if at >= 0 else b'', m.group(7))
            seen = session[4]
            if seen is None:
                seen = session[4] = set()
            elif key in seen:
                # another recipient of the same message in the same session
                continue
            domain = key[0].decode('utf-8', 'replace').lower().rstrip('.')
            earlier = tuple(sorted(set(d.decode('utf-8', 'replace').lower().rstrip('.') for d, status in seen
                                       if status == key[1]) - set([domain])))
            seen.add(key)
            day = self._count(domain, key[1].decode(), session, when)
            if earlier:
                repeat = (domain, key[1].decode(), earlier, session[0], session[1], session[2], day)
                self.repeats[repeat] = self.repeats.get(repeat, 0) + 1
        return count

    def _session(self, pid, session):
        """Make ``session`` the current one of process ``pid``; forget the process seen longest ago beyond
        MAX_PROCESSES (memory stays bounded whatever the log's length)."""
        sessions = self._sessions
        sessions[pid] = session
        sessions.move_to_end(pid)
        if len(sessions) > MAX_PROCESSES:
            sessions.popitem(last=False)
        return session

    def _count(self, domain, status, session, when):
        stats = self.domains.get(domain)
        if stats is None:
            stats = self.domains[domain] = _domain_stats()
        self.first = when if self.first is None or when < self.first else self.first
        self.last = when if self.last is None or when > self.last else self.last
        if status == 'deferred':
            stats['deferred'] += 1
            return None
        if status == 'bounced':
            stats['bounced'] += 1
            return None
        stats['delivered'] += 1
        trust, protocol, cipher = session[0], session[1], session[2]
        stats['tls'][trust or 'none'] += 1
        if protocol:
            stats['protocols'][protocol] = stats['protocols'].get(protocol, 0) + 1
            stats['ciphers'][cipher] = stats['ciphers'].get(cipher, 0) + 1
        day = self._day_names.get(when // 86400)
        if day is None:
            day = self._day_names[when // 86400] = time.strftime('%Y-%m-%d', time.gmtime(when))
        per_day = self.days.get(day)
        if per_day is None:
            per_day = self.days[day] = dict((c, 0) for c in CLASSES)
        per_day[CLASS_OF[trust]] += 1
        return day


def order_files(paths):
    """Oldest first: by modification time, then rotated names (mail.log.2.gz before mail.log.1 before mail.log)."""
    def key(path):
        try:
            return (os.stat(path).st_mtime, -_rotation_number(path))
        except OSError:
            return (0, 0)
    return sorted(set(paths), key=key)


def _rotation_number(path):
    parts = os.path.basename(path).split('.')
    for part in reversed(parts):
        if part.isdigit() and len(part) < 6:
            return int(part)
    return 0


def lookup_keys(domain):
    """The keys Postfix tries for a domain in transport(5) and smtp_tls_policy_maps: the domain, then
    each parent domain with a leading dot (sub.example.org, .example.org, .org)."""
    labels = domain.split('.')
    return [domain] + ['.' + '.'.join(labels[i:]) for i in range(1, len(labels))]


def transport_nexthop(value):
    """The next hop of a transport(5) value ("smtp:[relay.example]:587" -> "[relay.example]:587"); None when the
    entry names none (the recipient's domain is the next hop) or names a transport that is not SMTP delivery."""
    transport, _sep, nexthop = value.strip().partition(':')
    if transport in ('local', 'virtual', 'error', 'retry', 'discard', 'lmtp', 'pipe'):
        return None
    return nexthop.strip() or None


def nexthop_of(domain, transport, relayhost):
    """The next hop Postfix's SMTP client uses for a recipient domain: a transport_maps entry with a next hop
    (the domain, then its parents), else relayhost, else the domain. ``transport``: key -> value found."""
    for key in lookup_keys(domain):
        if key in transport:
            found = transport_nexthop(transport[key])
            if found:
                return found
            break
    return relayhost or domain


def policy_keys(nexthop):
    """The smtp_tls_policy_maps keys Postfix tries for a next hop: a [host] or [host]:port next hop verbatim
    only, a domain then its parents' .domain keys."""
    return [nexthop] if nexthop.startswith('[') else lookup_keys(nexthop)


def level_of(nexthop, policy, default):
    """The TLS level in force for a next hop: its smtp_tls_policy_maps entry (for a domain also its parents'
    .domain entries), else smtp_tls_security_level. Returns (level, where it comes from)."""
    for key in policy_keys(nexthop):
        if key in policy:
            words = policy[key].split()
            return (words[0] if words else default), 'policy map (%s)' % key
    return default, 'smtp_tls_security_level'


def summarize(reader, transport=None, relayhost='', policy=None, default_level='may', top=0, min_messages=0):
    """The module's result from a filled Reader: per next hop (domains merged into their relay), the counts,
    the trust of the delivered messages, protocols, ciphers and the level in force; per day and in total the
    delivered messages by class (verified, unauthenticated, clear)."""
    transport, policy = transport or {}, policy or {}
    hops = {}

    def hop_of(domain):
        return nexthop_of(domain, transport, relayhost) if domain else relayhost or '(no domain)'

    for domain, stats in reader.domains.items():
        hop = hop_of(domain)
        into = hops.get(hop)
        if into is None:
            into = hops[hop] = dict(_domain_stats(), nexthop=hop, domains=[])
        into['domains'].append(domain)
        for k in ('delivered', 'deferred', 'bounced'):
            into[k] += stats[k]
        for group in ('tls', 'protocols', 'ciphers'):
            for name, n in stats[group].items():
                into[group][name] = into[group].get(name, 0) + n
    rows = []
    # a message counts once per next hop and session, however many of that hop's domains it went to
    days = dict((d, dict(n)) for d, n in reader.days.items())
    for (domain, status, earlier, trust, protocol, cipher, day), n in reader.repeats.items():
        hop = hops[hop_of(domain)]
        if hop['nexthop'] not in set(hop_of(d) for d in earlier):
            continue
        hop[_STATUS_COUNT[status]] -= n
        if status == 'sent':
            hop['tls'][trust or 'none'] -= n
            if protocol:
                hop['protocols'][protocol] -= n
                hop['ciphers'][cipher] -= n
            days[day][CLASS_OF[trust]] -= n
    for hop, row in hops.items():
        row['domains'] = sorted(row['domains'])
        row['level'], row['level_from'] = level_of(hop, policy, default_level)
        row['classes'] = dict((c, sum(n for t, n in row['tls'].items() if CLASS_OF[None if t == 'none' else t] == c))
                              for c in CLASSES)
        rows.append(row)
    rows.sort(key=lambda r: (-r['delivered'], -r['deferred'], r['nexthop']))
    totals = dict((c, sum(r['classes'][c] for r in rows)) for c in CLASSES)
    totals.update(delivered=sum(r['delivered'] for r in rows), deferred=sum(r['deferred'] for r in rows),
                  bounced=sum(r['bounced'] for r in rows), nexthops=len(rows))
    chosen = [r for r in rows if r['delivered'] >= min_messages]
    if top:
        chosen = chosen[:top]
    return {'nexthops': chosen, 'totals': totals,
            'days': [dict(days[d], day=d) for d in sorted(days)],
            'files': reader.files, 'first': utc_stamp(reader.first), 'last': utc_stamp(reader.last)}


def utc_stamp(when):
    """Seconds since the epoch as an ISO 8601 UTC time, None for None."""
    return None if when is None else time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))


def parse_postmap_output(text):
    """``postmap -q -`` prints "key<TAB>value" for each key it finds."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition('\t')
        if sep and key not in found:
            found[key] = value
    return found


__all__ = ['CLASSES', 'CLASS_OF', 'Reader', 'TRUSTS', 'level_of', 'lookup_keys', 'nexthop_of', 'order_files', 'policy_keys',
           'parse_postmap_output', 'parse_when', 'summarize', 'transport_nexthop', 'utc_stamp']
