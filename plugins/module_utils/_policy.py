# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Postfix smtp_tls_policy_maps entries: validate and render. Private to mailtls.postfix.

An entry is ``key level [attr=value ...]``. Attributes are separated by
whitespace or commas, so no key or value may contain either. What each
level accepts follows Postfix's smtp(8) and TLS_README.
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
_COMMON = ('protocols', 'ciphers', 'exclude', 'servername')
# attributes allowed at each level (Postfix 3.7; the STS ones 3.10). Not the STS ones at fingerprint:
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
ENTRY_FIELDS = ('destination', 'level', 'match', 'fingerprints', 'protocols', 'ciphers', 'exclude', 'servername',
                'tafile') + STS_FIELDS
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


def _protocols(where, value, postfix_version=None):
    items = []
    for part in _as_list(value):
        items.extend(str(part).split(':'))
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


def _sts_words(label, entry, postfix_version):
    """The MTA-STS attributes of an entry, rendered; [] when it has none."""
    given = [k for k in STS_FIELDS if entry.get(k) not in (None, [], '')]
    if not given:
        return []
    if postfix_version is not None and version_tuple(postfix_version) < STS_MIN_VERSION:
        raise MailTLSError('%s: %s need Postfix 3.10 or later, this Postfix is %s (it would reject the whole entry '
                           'with "invalid attribute name" and defer the mail)' % (label, ', '.join(given), postfix_version))
    kind = entry.get('policy_type')
    if kind in (None, ''):
        raise MailTLSError('%s: %s need policy_type (sts or no-policy-found); Postfix rejects them on a built-in policy'
                           % (label, ', '.join(given)))
    if kind not in STS_POLICY_TYPES:
        raise MailTLSError('%s: policy_type %r is not one of %s' % (label, kind, ', '.join(STS_POLICY_TYPES)))
    words = ['policy_type=' + kind]
    if entry.get('policy_domain') not in (None, ''):
        try:
            words.append('policy_domain=' + to_ascii_domain(_clean('%s: policy_domain' % label, entry['policy_domain'])))
        except MailTLSError as e:
            raise MailTLSError('%s: policy_domain is not a domain name (%s)' % (label, e))
    for pattern in _as_list(entry.get('mx_host_pattern')):
        pattern = _clean('%s: mx_host_pattern' % label, pattern).lower().rstrip('.')
        if not STS_MX_PATTERN.match(pattern):
            raise MailTLSError('%s: mx_host_pattern %r is not a host name or *.domain' % (label, pattern))
        words.append('mx_host_pattern=' + pattern)
    if entry.get('policy_failure') not in (None, ''):
        failure = entry['policy_failure']
        if failure not in STS_FAILURES:
            raise MailTLSError('%s: policy_failure %r is not one of %s' % (label, failure, ', '.join(STS_FAILURES)))
        words.append('policy_failure=' + failure)
    if entry.get('policy_ttl') not in (None, ''):
        ttl = str(entry['policy_ttl'])
        if not ttl.isdigit() or len(ttl) > 10:
            raise MailTLSError('%s: policy_ttl %r is not a number of seconds' % (label, entry['policy_ttl']))
        words.append('policy_ttl=' + ttl)
    for i, text in enumerate(_as_list(entry.get('policy_string'))):
        where = '%s: policy_string[%d]' % (label, i)
        if not isinstance(text, str):
            raise MailTLSError('%s is not a string' % where)
        if re.search(r'[{}\x00-\x08\x0a-\x1f\x7f]', text):
            raise MailTLSError('%s %r contains a brace, a line break or a control character' % (where, text))
        text = ' '.join(text.split())  # Postfix normalises the whitespace inside { ... } the same way
        if not text:
            raise MailTLSError('%s is empty' % where)
        words.append('{ policy_string = %s }' % text)
    return words


def validate_entry(entry, digest='sha256', where='entry', postfix_version=None):
    """Validate one entry (a dict) and return (key, line). MailTLSError names the entry and the problem.

    ``postfix_version``: the version of the Postfix that reads the map; the MTA-STS attributes are refused
    below 3.10. None: not checked.
    """
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
    given = [k for k in ENTRY_FIELDS[2:] if entry.get(k) not in (None, [], '')]
    wrong = [k for k in given if k not in ATTRIBUTES[level]]
    if wrong:
        allowed = ', '.join(ATTRIBUTES[level]) or 'none'
        raise MailTLSError('%s: %s not allowed at level %s (allowed: %s)' % (label, ', '.join(wrong), level, allowed))
    words = [key, level]
    if level == 'fingerprint':
        pins = _as_list(entry.get('fingerprints'))
        if not pins:
            raise MailTLSError('%s: level fingerprint needs at least one fingerprint' % label)
        normalized = []
        for i, pin in enumerate(pins):
            pin = normalize_fingerprint('%s: fingerprints[%d]' % (label, i), pin, digest)
            if pin not in normalized:
                normalized.append(pin)
        words.append('match=' + '|'.join(normalized))
    if entry.get('match') not in (None, [], ''):
        patterns = []
        for part in _as_list(entry['match']):
            patterns.extend(str(part).split(':'))
        for pattern in patterns:
            pattern = _clean('%s: match' % label, pattern)
            if pattern not in ('nexthop', 'dot-nexthop', 'hostname'):
                try:
                    policy_key(pattern) if pattern.startswith('.') else to_ascii_domain(pattern)
                except MailTLSError as e:
                    raise MailTLSError('%s: match %r is not nexthop, dot-nexthop, hostname or a domain (%s)'
                                       % (label, pattern, e))
        words.append('match=' + ':'.join(patterns))
    if entry.get('protocols') not in (None, [], ''):
        words.append('protocols=' + _protocols('%s: protocols' % label, entry['protocols'], postfix_version))
    if entry.get('ciphers') not in (None, ''):
        grade = _clean('%s: ciphers' % label, entry['ciphers'])
        if grade not in CIPHER_GRADES:
            raise MailTLSError('%s: ciphers %r is not a cipher grade (%s)' % (label, grade, ', '.join(CIPHER_GRADES)))
        words.append('ciphers=' + grade)
    if entry.get('exclude') not in (None, [], ''):
        names = []
        for part in _as_list(entry['exclude']):
            names.extend(str(part).split(':'))
        for name in names:
            if not _CIPHER_NAME.match(_clean('%s: exclude' % label, name)):
                raise MailTLSError('%s: exclude %r is not an OpenSSL cipher name' % (label, name))
        words.append('exclude=' + ':'.join(names))
    if entry.get('servername') not in (None, ''):
        name = _clean('%s: servername' % label, entry['servername'])
        if name not in ('hostname', 'nexthop'):
            try:
                name = to_ascii_domain(name)
            except MailTLSError as e:
                raise MailTLSError('%s: servername %r is not hostname, nexthop or a host name (%s)' % (label, name, e))
        words.append('servername=' + name)
    if entry.get('tafile') not in (None, ''):
        path = _clean('%s: tafile' % label, entry['tafile'])
        if not path.startswith('/'):
            raise MailTLSError('%s: tafile %r is not an absolute path' % (label, path))
        words.append('tafile=' + path)
    words.extend(_sts_words(label, entry, postfix_version))
    return key, ' '.join(words)


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
        elif name in ('protocols', 'ciphers', 'exclude', 'servername', 'tafile') + STS_FIELDS:
            if name in entry:
                raise MailTLSError('attribute %s appears twice' % name)
            entry[name] = value
        else:
            raise MailTLSError('attribute %r is not one this collection writes (%s)'
                               % (name, ', '.join(('match',) + ENTRY_FIELDS[4:])))
    return entry


def _canonical_line_re(ranges=True):
    """A regular expression for one policy line exactly as validate_entry renders it (ASCII only).

    Lines of this form are accepted and rendered unchanged by the full validation; the fast path
    of map_text_lines checks a whole file against it in one scan. ``ranges``: protocols may use
    >= and <= (Postfix 3.6 and later).
    """
    label = r'(?!-)[a-z0-9-]{1,63}(?<!-)'
    domain = r'(?:%s\.)*%s' % (label, label)
    any_label = r'(?!-)[A-Za-z0-9-]{1,63}(?<!-)'
    any_domain = r'(?:%s\.)*%s' % (any_label, any_label)
    port = r'(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])'
    key = r'(?:\.?%s|\[%s\](?::%s)?)' % (domain, domain, port)  # length: checked by the caller
    protocol = (r'(?:!|>=|<=)?' if ranges else r'!?') + r'(?:SSLv2|SSLv3|TLSv1|TLSv1\.1|TLSv1\.2|TLSv1\.3)(?=[: \n]|$)'
    common = (r'(?: protocols=%s(?::%s)*)?(?: ciphers=(?:export|low|medium|high|null))?'
              r'(?: exclude=[A-Za-z0-9_+!@=.-]+(?::[A-Za-z0-9_+!@=.-]+)*)?'
              r'(?: servername=(?:hostname|nexthop|(?=[^ \n]{1,253}(?: |$))%s))?') % (protocol, protocol, domain)
    pattern = r'(?:nexthop|dot-nexthop|hostname|(?=[^ :\n]{1,254}(?:[ :]|$))\.?%s)' % any_domain
    names = r'(?: match=%s(?::%s)*)?' % (pattern, pattern)
    levels = [
        r'none',
        r'(?:may|encrypt|dane|dane-only)' + common,
        r'fingerprint match=PINS' + common,
        r'(?:verify|secure)' + names + common + r'(?: tafile=/[^\s,]*)?',
    ]
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
    keys, lines = [], []
    for index, entry in enumerate(entries):
        key, line = validate_entry(entry, digest, '%s[%d]' % (source, index), postfix_version)
        keys.append(key)
        lines.append(line)
    return Lines(keys, lines, lambda i: '%s[%d]' % (source, i))


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


def map_text_lines(text, digest, source, postfix_version=None):
    """Validate a Postfix-format policy file.

    A file whose every entry line is already in the form validate_entry
    renders takes a fast path: one regular-expression scan checks all lines
    (C speed; 100,000 lines in a fraction of postmap's time). Any other file,
    and every error, goes line by line through the full validation, so both
    paths accept and render alike.
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
    keys, lines, numbers = [], [], []
    for number, raw in logical_lines(text, source):
        try:
            entry = parse_map_line(raw)
        except MailTLSError as e:
            raise MailTLSError('%s line %s: %s' % (source, number, e))
        if entry is None:
            continue
        key, line = validate_entry(entry, digest, '%s line %s' % (source, number), postfix_version)
        keys.append(key)
        lines.append(line)
        numbers.append(number)
    return Lines(keys, lines, lambda i: '%s line %s' % (source, numbers[i]))


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


__all__ = ['ATTRIBUTES', 'DIGEST_BYTES', 'LEVELS', 'Lines', 'STS_FAILURES', 'STS_FIELDS', 'STS_MX_PATTERN', 'STS_POLICY_TYPES',
           'build', 'entries_lines', 'logical_lines', 'map_text_lines', 'normalize_fingerprint', 'parse_map_line', 'policy_key', 'render',
           'validate_entry', 'version_tuple']
