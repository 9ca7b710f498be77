# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy model stage: Postfix smtp_tls_policy_maps entries: the one entry type of the collection. Private to mailtls.postfix.

An entry is ``key level [attr=value ...]``. Attributes are separated by
whitespace or commas, so no key or value may contain either. What each
level accepts follows Postfix's smtp(8) and TLS_README. PolicyEntry builds
an entry from a dict or from a map line, validates it through ATTRIBUTE_TABLE
(one validator per attribute) and renders it; the map's fast path is a
regular expression built from the same table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import parse_nexthop, to_ascii_domain

LEVELS = ('none', 'may', 'encrypt', 'dane', 'dane-only', 'fingerprint', 'verify', 'secure')
DIGEST_BYTES = {'sha256': 32, 'sha1': 20, 'md5': 16}
# The MTA-STS attributes of Postfix 3.10 (TLSRPT_README, "MTA-STS Support via smtp_tls_policy_maps"):
# older versions reject the whole entry ("invalid attribute name") and defer the mail.
STS_FIELDS = ('policy_type', 'policy_domain', 'mx_host_pattern', 'policy_failure', 'policy_ttl', 'policy_string')
STS_MIN_VERSION = (3, 10)
# protocols=>=TLSv1.2 (a range) needs Postfix 3.6; before it, only a list of names to exclude (!TLSv1)
RANGE_MIN_VERSION = (3, 6)
STS_POLICY_TYPES = ('sts', 'no-policy-found')
STS_FAILURES = ('sts-policy-fetch-error', 'sts-policy-invalid', 'sts-webpki-invalid', 'validation-failure')
# an MTA-STS mx pattern: a host name, or *. and a domain (RFC 8461 3.2, 4.1)
STS_MX_PATTERN = re.compile(r'^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$')
_COMMON = ('protocols', 'ciphers', 'exclude', 'servername', 'connection_reuse', 'enable_rpk')
# attributes that need a later Postfix than the role's 3.4 (postconf(5) smtp_tls_policy_maps): older ones
# reject the whole entry ("invalid attribute name") and defer the mail. The STS ones: STS_MIN_VERSION.
MIN_VERSION = {'servername': (3, 4), 'connection_reuse': (3, 4), 'enable_rpk': (3, 9)}
# attributes allowed at each level (Postfix 3.7; enable_rpk 3.9, the STS ones 3.10). Not the STS ones at fingerprint:
# with policy_type=sts and mx_host_pattern, Postfix 3.10 replaces the match list with "hostname",
# which would leave no pin to match.
ATTRIBUTES = {
    'none': (),
    'may': _COMMON + STS_FIELDS,
    'encrypt': _COMMON + STS_FIELDS,
    'dane': _COMMON + STS_FIELDS,
    'dane-only': _COMMON + STS_FIELDS,
    'fingerprint': ('fingerprints',) + _COMMON,
    'verify': ('match',) + _COMMON + ('tafile',) + STS_FIELDS,
    'secure': ('match',) + _COMMON + ('tafile',) + STS_FIELDS,
}
CIPHER_GRADES = ('export', 'low', 'medium', 'high', 'null')
PROTOCOLS = ('SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3')
_HEX = re.compile(r'^[0-9A-Fa-f]+$')
_CIPHER_NAME = re.compile(r'^[A-Za-z0-9_+!@=.-]+$')
_FORBIDDEN = re.compile(r'[\s,]')


def policy_key(text):
    """Validate a policy-map key (domain, .domain, [host], [host]:port) and return it normalised."""
    if not isinstance(text, str):
        raise MailTLSError('destination %r is not a string' % (text,))
    if text.startswith('.'):
        if _FORBIDDEN.search(text):
            raise MailTLSError('destination %r contains whitespace or a comma' % text)
        return '.' + to_ascii_domain(text[1:])
    return parse_nexthop(text).key


def _clean(where, value):
    if not isinstance(value, str):
        value = str(value)
    if value == '':
        raise MailTLSError('%s is empty' % where)
    if _FORBIDDEN.search(value):
        raise MailTLSError('%s %r contains whitespace, a comma or a line break' % (where, value))
    return value


def normalize_fingerprint(where, value, digest):
    """AB:CD:... upper-case, of the digest's length; accepts plain hex too."""
    value = _clean(where, value)
    plain = value.replace(':', '')
    if not _HEX.match(plain) or (':' in value and not re.match(r'^([0-9A-Fa-f]{2}:)*[0-9A-Fa-f]{2}$', value)):
        raise MailTLSError('%s %r is not hex digits in pairs joined by colons' % (where, value))
    want = DIGEST_BYTES[digest]
    if len(plain) != 2 * want:
        raise MailTLSError('%s %r has %d bytes; a %s fingerprint has %d (smtp_tls_fingerprint_digest)'
                           % (where, value, len(plain) // 2, digest, want))
    plain = plain.upper()
    return ':'.join(plain[i:i + 2] for i in range(0, len(plain), 2))


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _colon_list(value):
    """The words of an attribute given as a list, a colon-joined string, or both (match, exclude, protocols)."""
    words = []
    for part in _as_list(value):
        words.extend(str(part).split(':'))
    return words


def _protocols(where, value, postfix_version=None):
    items = _colon_list(value)
    for item in items:
        item = _clean(where, item)
        bare = item.lstrip('!')
        for prefix in ('>=', '<='):
            if item.startswith(prefix):
                bare = item[2:]
        if bare not in PROTOCOLS:
            raise MailTLSError('%s %r is not a TLS protocol (%s, with ! or >= / <=)' % (where, item, ', '.join(PROTOCOLS)))
        if (item != bare and not item.startswith('!') and postfix_version is not None
                and version_tuple(postfix_version) < RANGE_MIN_VERSION):
            # Postfix 3.5 reads ">=TLSv1.2" as an unknown protocol name: the entry is invalid and mail defers
            raise MailTLSError('%s %r: the >= / <= form needs Postfix 3.6 or later, this Postfix is %s; '
                               'exclude the older ones instead (!SSLv2:!SSLv3:!TLSv1:!TLSv1.1)'
                               % (where, item, postfix_version))
    return ':'.join(items)


def version_tuple(text):
    """'3.10.13' -> (3, 10, 13); a snapshot such as '3.11-20250101' -> (3, 11)."""
    numbers = []
    for part in str(text).split('.'):
        digits = re.match(r'^[0-9]+', part)
        if not digits:
            break
        numbers.append(int(digits.group(0)))
        if digits.group(0) != part:
            break
    if not numbers:
        raise MailTLSError('Postfix version %r is not a version number' % (text,))
    return tuple(numbers)


def _pins(label, value, ctx):
    pins = []
    for i, pin in enumerate(_as_list(value)):
        pin = normalize_fingerprint('%s: fingerprints[%d]' % (label, i), pin, ctx['digest'])
        if pin not in pins:
            pins.append(pin)
    return pins


def _names(label, value, ctx):
    patterns = _colon_list(value)
    for pattern in patterns:
        pattern = _clean('%s: match' % label, pattern)
        if pattern not in ('nexthop', 'dot-nexthop', 'hostname'):
            try:
                policy_key(pattern) if pattern.startswith('.') else to_ascii_domain(pattern)
            except MailTLSError as e:
                raise MailTLSError('%s: match %r is not nexthop, dot-nexthop, hostname or a domain (%s)'
                                   % (label, pattern, e))
    return patterns


def _ciphers(label, value, ctx):
    grade = _clean('%s: ciphers' % label, value)
    if grade not in CIPHER_GRADES:
        raise MailTLSError('%s: ciphers %r is not a cipher grade (%s)' % (label, grade, ', '.join(CIPHER_GRADES)))
    return grade


def _exclude(label, value, ctx):
    names = _colon_list(value)
    for name in names:
        if not _CIPHER_NAME.match(_clean('%s: exclude' % label, name)):
            raise MailTLSError('%s: exclude %r is not an OpenSSL cipher name' % (label, name))
    return ':'.join(names)


def _servername(label, value, ctx):
    name = _clean('%s: servername' % label, value)
    if name in ('hostname', 'nexthop'):
        return name
    try:
        return to_ascii_domain(name)
    except MailTLSError as e:
        raise MailTLSError('%s: servername %r is not hostname, nexthop or a host name (%s)' % (label, name, e))


def _tafile(label, value, ctx):
    path = _clean('%s: tafile' % label, value)
    if not path.startswith('/'):
        raise MailTLSError('%s: tafile %r is not an absolute path' % (label, path))
    return path


def _one_of(name, choices):
    """A validator for an attribute that takes one word of ``choices``."""
    def check(label, value, ctx):
        if value not in choices:
            raise MailTLSError('%s: %s %r is not one of %s' % (label, name, value, ', '.join(choices)))
        return value
    return check


def _yes_no(name):
    """A validator for a boolean attribute: yes or no in any case (Postfix compares with strcasecmp), or a bool."""
    def check(label, value, ctx):
        if isinstance(value, bool):
            return 'yes' if value else 'no'
        word = str(value).lower()
        if word not in ('yes', 'no'):
            raise MailTLSError('%s: %s %r is not yes or no' % (label, name, value))
        return word
    return check


def _policy_domain(label, value, ctx):
    try:
        return to_ascii_domain(_clean('%s: policy_domain' % label, value))
    except MailTLSError as e:
        raise MailTLSError('%s: policy_domain is not a domain name (%s)' % (label, e))


def _mx_host_patterns(label, value, ctx):
    patterns = []
    for pattern in _as_list(value):
        pattern = _clean('%s: mx_host_pattern' % label, pattern).lower().rstrip('.')
        if not STS_MX_PATTERN.match(pattern):
            raise MailTLSError('%s: mx_host_pattern %r is not a host name or *.domain' % (label, pattern))
        patterns.append(pattern)
    return patterns


def _policy_ttl(label, value, ctx):
    ttl = str(value)
    if not ttl.isdigit() or len(ttl) > 10:
        raise MailTLSError('%s: policy_ttl %r is not a number of seconds' % (label, value))
    return ttl


def _policy_strings(label, value, ctx):
    texts = []
    for i, text in enumerate(_as_list(value)):
        where = '%s: policy_string[%d]' % (label, i)
        if not isinstance(text, str):
            raise MailTLSError('%s is not a string' % where)
        if re.search(r'[{}\x00-\x08\x0a-\x1f\x7f]', text):
            raise MailTLSError('%s %r contains a brace, a line break or a control character' % (where, text))
        text = ' '.join(text.split())  # Postfix normalises the whitespace inside { ... } the same way
        if not text:
            raise MailTLSError('%s is empty' % where)
        texts.append(text)
    return texts


def _check_sts(label, given, ctx):
    """The rules that bind the MTA-STS attributes together (Postfix 3.10's smtp_tls_policy_maps)."""
    sts = [k for k in STS_FIELDS if k in given]
    if not sts:
        return
    version = ctx['postfix_version']
    if version is not None and version_tuple(version) < STS_MIN_VERSION:
        raise MailTLSError('%s: %s need Postfix 3.10 or later, this Postfix is %s (it would reject the whole entry '
                           'with "invalid attribute name" and defer the mail)' % (label, ', '.join(sts), version))
    if 'policy_type' not in given:
        raise MailTLSError('%s: %s need policy_type (sts or no-policy-found); Postfix rejects them on a built-in policy'
                           % (label, ', '.join(sts)))


class Attribute:
    """One attribute of a policy entry.

    ``check(label, value, ctx)`` validates a value as given (a dict's value, or the values read from a
    map line) and returns it normalised: a list for the attributes that take several values, else a
    string. ``render(value)`` gives the words of the map line. ``pattern``: a regular expression for
    the rendered word, for the fast path of map_text_lines; None where that path does not apply.
    """

    __slots__ = ('name', 'check', 'render', 'pattern')

    def __init__(self, name, check, render, pattern=None):
        self.name = name
        self.check = check
        self.render = render
        self.pattern = pattern


_PROTOCOL_RE = r'(?:SSLv2|SSLv3|TLSv1|TLSv1\.1|TLSv1\.2|TLSv1\.3)(?=[: \n]|$)'
_LABEL_RE = r'(?!-)[a-z0-9-]{1,63}(?<!-)'
_DOMAIN_RE = r'(?:%s\.)*%s' % (_LABEL_RE, _LABEL_RE)
_ANY_LABEL_RE = r'(?!-)[A-Za-z0-9-]{1,63}(?<!-)'
_NAME_RE = r'(?:nexthop|dot-nexthop|hostname|(?=[^ :\n]{1,254}(?:[ :]|$))\.?(?:%s\.)*%s)' % (_ANY_LABEL_RE, _ANY_LABEL_RE)
_OPENSSL_NAME_RE = r'[A-Za-z0-9_+!@=.-]+'

# The attributes in the order an entry is rendered. fingerprints and match are both written as
# match= (pins joined by |, names by :); the entry's level says which one a match= holds.
ATTRIBUTE_TABLE = (
    Attribute('fingerprints', _pins, lambda v: ['match=' + '|'.join(v)], 'PINS'),
    Attribute('match', _names, lambda v: ['match=' + ':'.join(v)], r'%s(?::%s)*' % (_NAME_RE, _NAME_RE)),
    Attribute('protocols', lambda label, v, ctx: _protocols('%s: protocols' % label, v, ctx['postfix_version']),
              lambda v: ['protocols=' + v], 'PROTOCOLS'),
    Attribute('ciphers', _ciphers, lambda v: ['ciphers=' + v], r'(?:%s)' % '|'.join(CIPHER_GRADES)),
    Attribute('exclude', _exclude, lambda v: ['exclude=' + v], r'%s(?::%s)*' % (_OPENSSL_NAME_RE, _OPENSSL_NAME_RE)),
    Attribute('servername', _servername, lambda v: ['servername=' + v],
              r'(?:hostname|nexthop|(?=[^ \n]{1,253}(?: |$))%s)' % _DOMAIN_RE),
    Attribute('tafile', _tafile, lambda v: ['tafile=' + v], r'/[^\s,]*'),
    Attribute('connection_reuse', _yes_no('connection_reuse'), lambda v: ['connection_reuse=' + v], r'(?:yes|no)'),
    # no fast-path pattern: the full validation refuses it below Postfix 3.9
    Attribute('enable_rpk', _yes_no('enable_rpk'), lambda v: ['enable_rpk=' + v]),
    Attribute('policy_type', _one_of('policy_type', STS_POLICY_TYPES), lambda v: ['policy_type=' + v]),
    Attribute('policy_domain', _policy_domain, lambda v: ['policy_domain=' + v]),
    Attribute('mx_host_pattern', _mx_host_patterns, lambda v: ['mx_host_pattern=' + p for p in v]),
    Attribute('policy_failure', _one_of('policy_failure', STS_FAILURES), lambda v: ['policy_failure=' + v]),
    Attribute('policy_ttl', _policy_ttl, lambda v: ['policy_ttl=' + v]),
    Attribute('policy_string', _policy_strings, lambda v: ['{ policy_string = %s }' % t for t in v]),
)
_BY_NAME = dict((a.name, a) for a in ATTRIBUTE_TABLE)
ENTRY_FIELDS = ('destination', 'level', 'match', 'fingerprints') + tuple(a.name for a in ATTRIBUTE_TABLE[2:])
# attributes that a map line may repeat (each word adds values); the others appear once
_REPEATABLE = ('match', 'mx_host_pattern', 'policy_string')


def _empty(value):
    return value is None or value == [] or value == ''


class PolicyEntry:
    """One smtp_tls_policy_maps entry, validated and normalised: ``key``, ``level`` and ``attributes``.

    The one entry type of the collection. Build it from a dict (``from_dict``: the role's
    postfix_tls_policies, JSON sources, the decide stage) or from a map line (``from_line``);
    ``line()`` renders it as Postfix reads it and ``as_dict()`` gives it back as a dict that
    ``from_dict`` takes unchanged. ``attributes`` holds lists for fingerprints, match,
    mx_host_pattern and policy_string, and strings for the others.
    """

    __slots__ = ('key', 'level', 'attributes')

    def __init__(self, key, level, attributes):
        self.key = key
        self.level = level
        self.attributes = attributes

    @classmethod
    def from_dict(cls, entry, digest='sha256', where='entry', postfix_version=None):
        """Validate a dict of destination, level and attributes. MailTLSError names the entry and the problem.

        ``postfix_version``: the version of the Postfix that reads the entry; the MTA-STS attributes are
        refused below 3.10 and protocol ranges below 3.6. None: not checked.
        """
        if isinstance(entry, cls):
            return entry
        if not isinstance(entry, dict):
            raise MailTLSError('%s is not a mapping of destination, level and attributes' % where)
        dest = entry.get('destination')
        label = '%s (%s)' % (where, dest) if isinstance(dest, str) else where
        unknown = sorted(k for k in entry if k not in ENTRY_FIELDS)
        if unknown:
            raise MailTLSError('%s: unknown attribute(s) %s; known: %s' % (label, ', '.join(unknown), ', '.join(ENTRY_FIELDS)))
        if dest is None:
            raise MailTLSError('%s: destination is missing' % label)
        try:
            key = policy_key(dest)
        except MailTLSError as e:
            raise MailTLSError('%s: %s' % (label, e))
        level = entry.get('level')
        if level not in LEVELS:
            raise MailTLSError('%s: level %r is not one of %s' % (label, level, ', '.join(LEVELS)))
        given = [a.name for a in ATTRIBUTE_TABLE if not _empty(entry.get(a.name))]
        wrong = [k for k in given if k not in ATTRIBUTES[level]]
        if wrong:
            allowed = ', '.join(ATTRIBUTES[level]) or 'none'
            raise MailTLSError('%s: %s not allowed at level %s (allowed: %s)' % (label, ', '.join(wrong), level, allowed))
        if level == 'fingerprint' and 'fingerprints' not in given:
            raise MailTLSError('%s: level fingerprint needs at least one fingerprint' % label)
        ctx = {'digest': digest, 'postfix_version': postfix_version}
        if postfix_version is not None:
            late = [k for k in given if k in MIN_VERSION and version_tuple(postfix_version) < MIN_VERSION[k]]
            if late:
                raise MailTLSError('%s: %s need%s Postfix %s or later, this Postfix is %s (it would reject the whole entry '
                                   'with "invalid attribute name" and defer the mail)'
                                   % (label, ', '.join(late), 's' if len(late) == 1 else '',
                                      '.'.join(str(n) for n in max(MIN_VERSION[k] for k in late)), postfix_version))
        _check_sts(label, given, ctx)
        attributes = {}
        for name in given:
            attributes[name] = _BY_NAME[name].check(label, entry[name], ctx)
        return cls(key, level, attributes)

    @classmethod
    def from_line(cls, text, digest='sha256', where='line', postfix_version=None):
        """Parse and validate one logical map line; None for a blank line or a comment."""
        try:
            entry = parse_map_line(text)
        except MailTLSError as e:
            raise MailTLSError('%s: %s' % (where, e))
        if entry is None:
            return None
        return cls.from_dict(entry, digest, where, postfix_version)

    def get(self, name, default=None):
        return self.attributes.get(name, default)

    def line(self):
        words = [self.key, self.level]
        for attribute in ATTRIBUTE_TABLE:
            if attribute.name in self.attributes:
                words.extend(attribute.render(self.attributes[attribute.name]))
        return ' '.join(words)

    def as_dict(self):
        result = {'destination': self.key, 'level': self.level}
        for name, value in self.attributes.items():
            result[name] = list(value) if isinstance(value, list) else value
        return result

    def replace(self, digest='sha256', where='entry', postfix_version=None, **attributes):
        """A new entry with some attributes set (None removes one), validated again."""
        entry = self.as_dict()
        entry.update(attributes)
        return PolicyEntry.from_dict(dict((k, v) for k, v in entry.items() if not _empty(v)), digest, where, postfix_version)

    @property
    def nexthop(self):
        """The parsed next hop of the key; None for a parent-domain pattern (.example.com)."""
        return None if self.key.startswith('.') else parse_nexthop(self.key)

    def __eq__(self, other):
        return isinstance(other, PolicyEntry) and self.line() == other.line()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.line())

    def __repr__(self):
        return 'PolicyEntry(%r)' % self.line()


def validate_entry(entry, digest='sha256', where='entry', postfix_version=None):
    """(key, line) of one entry dict; see PolicyEntry.from_dict."""
    entry = PolicyEntry.from_dict(entry, digest, where, postfix_version)
    return entry.key, entry.line()


def _tokens(text):
    """Split a policy line as Postfix does: at whitespace and commas, but not inside { ... }."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        if text[i] in ' \t,\r\n':
            i += 1
            continue
        start, depth = i, 0
        while i < n and (depth or text[i] not in ' \t,\r\n'):
            if text[i] == '{':
                depth += 1
            elif text[i] == '}':
                depth -= 1
                if depth < 0:
                    raise MailTLSError('%r has a "}" without its "{"' % text[start:])
            i += 1
        if depth:
            raise MailTLSError('%r has a "{" without its "}"' % text[start:])
        tokens.append(text[start:i])
    return tokens


def parse_map_line(line):
    """One line of a Postfix-format policy file -> entry dict (None for blanks and comments)."""
    stripped = line.strip()
    if not stripped or stripped.startswith('#'):
        return None
    words = _tokens(stripped)
    entry = {'destination': words[0], 'level': words[1] if len(words) > 1 else None}
    for word in words[2:]:
        if word.startswith('{'):
            # { name = value }: Postfix strips the braces and the whitespace around the name and the value
            word = ' '.join(word[1:-1].split())
            name, sep, value = word.partition('=')
            name, value = name.strip(), value.strip()
        else:
            name, sep, value = word.partition('=')
        if not sep:
            raise MailTLSError('attribute %r is not name=value' % word)
        if name == 'match':
            field = 'fingerprints' if entry['level'] == 'fingerprint' else 'match'
            entry[field] = _as_list(entry.get(field)) + (value.split('|') if field == 'fingerprints' else [value])
        elif name in ('mx_host_pattern', 'policy_string'):
            entry[name] = _as_list(entry.get(name)) + [value]
        elif name in ('protocols', 'ciphers', 'exclude', 'servername', 'tafile', 'connection_reuse', 'enable_rpk') + STS_FIELDS:
            if name in entry:
                raise MailTLSError('attribute %s appears twice' % name)
            entry[name] = value
        else:
            raise MailTLSError('attribute %r is not one this collection writes (%s)'
                               % (name, ', '.join(('match',) + ENTRY_FIELDS[4:])))
    return entry


def _canonical_line_re(ranges=True):
    """A regular expression for one policy line exactly as PolicyEntry renders it (ASCII only).

    Built from ATTRIBUTE_TABLE's patterns and ATTRIBUTES, so it knows what the validators know:
    lines of this form are accepted and rendered unchanged by the full validation; the fast path of
    map_text_lines checks a whole file against it in one scan. An attribute without a pattern (the
    MTA-STS ones) sends its lines to the full validation. ``ranges``: protocols may use >= and <=
    (Postfix 3.6 and later).
    """
    port = r'(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])'
    key = r'(?:\.?%s|\[%s\](?::%s)?)' % (_DOMAIN_RE, _DOMAIN_RE, port)  # length: checked by the caller
    protocol = (r'(?:!|>=|<=)?' if ranges else r'!?') + _PROTOCOL_RE
    patterns = {'PROTOCOLS': r'%s(?::%s)*' % (protocol, protocol)}
    groups = {}  # the attribute part -> the levels that share it, in LEVELS order
    for level in LEVELS:
        words = []
        for name in ATTRIBUTES[level]:
            attribute = _BY_NAME[name]
            if attribute.pattern is None:
                continue
            word = r' %s=%s' % ('match' if name == 'fingerprints' else name, patterns.get(attribute.pattern, attribute.pattern))
            # a fingerprint entry has its pins; every other attribute may be left out
            words.append(word if name == 'fingerprints' else '(?:%s)?' % word)
        groups.setdefault(''.join(words), []).append(level)
    levels = [(names[0] if len(names) == 1 else '(?:%s)' % '|'.join(names)) + words
              for words, names in sorted(groups.items(), key=lambda item: LEVELS.index(item[1][0]))]
    return r'^%s (?:%s)$' % (key, '|'.join(levels))


_CANONICAL_LINE = dict(
    ((digest, ranges), re.compile(_canonical_line_re(ranges).replace(
        'PINS', r'(?:[0-9A-F]{2}:){%d}[0-9A-F]{2}(?:\|(?:[0-9A-F]{2}:){%d}[0-9A-F]{2})*' % (n - 1, n - 1)), re.M))
    for digest, n in DIGEST_BYTES.items() for ranges in (True, False))
_BLANK_OR_COMMENT = re.compile(r'^[ \t]*(?:#[^\n]*)?$', re.M)
_PIN_LISTS = re.compile(r'match=([0-9A-F:]*\|[0-9A-F:|]*)')


class Lines:
    """Validated policy lines of one source: keys, lines, and where each came from (for messages).

    ``verbatim``: every entry line of the source was already in rendered form, so an index built
    from the source text holds exactly these lines.
    """

    def __init__(self, keys, lines, where, verbatim=False):
        self.keys = keys
        self.lines = lines
        self.where = where
        self.verbatim = verbatim


def entries_lines(entries, digest, source, postfix_version=None):
    """Validate entry dicts."""
    parsed = [PolicyEntry.from_dict(entry, digest, '%s[%d]' % (source, index), postfix_version)
              for index, entry in enumerate(entries)]
    return Lines([e.key for e in parsed], [e.line() for e in parsed], lambda i: '%s[%d]' % (source, i))


def logical_lines(text, source):
    """(first line number, logical line) of a map source, read as Postfix's readlline() reads it.

    Blank lines and lines whose first non-whitespace character is # are ignored; a line that starts
    with whitespace continues the logical line before it (postconf(5)'s example writes one match=
    per continuation line). A continuation with nothing before it is refused: Postfix would warn and
    ignore it, losing what it says.
    """
    result = []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith('#'):
            continue
        if raw[:1] in (' ', '\t'):
            if not result:
                raise MailTLSError('%s line %d starts with whitespace but there is no line before it to continue '
                                   '(Postfix would ignore it)' % (source, number))
            result[-1][1] += ' ' + stripped
            result[-1][2] = number
        else:
            result.append([number, stripped, number])
    return [(first if first == last else '%d (continued to line %d)' % (first, last), line)
            for first, line, last in result]


def map_text_entries(text, digest, source, postfix_version=None):
    """The entries of a Postfix-format map source, as PolicyEntry objects, and where each came from.

    Returns (entries, numbers): ``numbers[i]`` is the line (or "N (continued to line M)") of entry i.
    """
    entries, numbers = [], []
    for number, raw in logical_lines(text or '', source):
        entry = PolicyEntry.from_line(raw, digest, '%s line %s' % (source, number), postfix_version)
        if entry is not None:
            entries.append(entry)
            numbers.append(number)
    return entries, numbers


def map_text_lines(text, digest, source, postfix_version=None):
    """Validate a Postfix-format policy file.

    A file whose every entry line is already in the form PolicyEntry renders takes a fast path: one
    regular-expression scan (built from the same attribute table) checks all lines (C speed; 100,000
    lines in a fraction of postmap's time). Any other file, and every error, goes entry by entry
    through PolicyEntry, so both paths accept and render alike.
    """
    ranges = postfix_version is None or version_tuple(postfix_version) >= RANGE_MIN_VERSION
    lines = _CANONICAL_LINE[(digest, ranges)].findall(text)
    total = text.count('\n') + (0 if text.endswith('\n') or not text else 1)
    # every line is canonical, blank or a comment (canonical lines are none of the others)
    if len(lines) + len(_BLANK_OR_COMMENT.findall(text.rstrip('\n'))) == total and all(
            len(set(pins.split('|'))) == pins.count('|') + 1 for pins in _PIN_LISTS.findall(text)):
        keys = [line[:line.index(' ')] for line in lines]
        if len(set(keys)) == len(keys) and (not keys or max(map(len, keys)) <= 253):
            numbers = []

            def where(i):
                if not numbers:
                    numbers.extend(n for n, raw in enumerate(text.splitlines(), 1) if raw.strip() and raw.strip()[0] != '#')
                return '%s line %d' % (source, numbers[i])
            return Lines(keys, lines, where, verbatim=True)
    entries, numbers = map_text_entries(text, digest, source, postfix_version)
    return Lines([e.key for e in entries], [e.line() for e in entries], lambda i: '%s line %s' % (source, numbers[i]))


def build(sources):
    """Collect validated Lines in order; later sources override earlier ones.

    Within one source a destination may appear once. Returns (ordered {key: line}, overridden keys).
    """
    result, overridden = {}, []
    for source in sources:
        if len(set(source.keys)) != len(source.keys):
            first = {}
            for i, key in enumerate(source.keys):
                if key in first:
                    raise MailTLSError('%s (%s): duplicate destination, also at %s' % (source.where(i), key, source.where(first[key])))
                first[key] = i
        if result:
            overridden.extend(key for key in source.keys if key in result)
        result.update(zip(source.keys, source.lines))
    return result, overridden


def render(lines):
    return '\n'.join(lines.values()) + '\n' if lines else ''


__all__ = ['ATTRIBUTES', 'ATTRIBUTE_TABLE', 'DIGEST_BYTES', 'ENTRY_FIELDS', 'LEVELS', 'Lines', 'MIN_VERSION', 'PolicyEntry', 'STS_FAILURES',
           'STS_FIELDS', 'STS_MX_PATTERN', 'STS_POLICY_TYPES', 'build', 'entries_lines', 'logical_lines', 'map_text_entries',
           'map_text_lines', 'normalize_fingerprint', 'parse_map_line', 'policy_key', 'render', 'validate_entry', 'version_tuple']
