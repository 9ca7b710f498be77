"""Policy entries: every level, every attribute, and the bad inputs the role must refuse."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from labkit import EXAMPLE_PINS, POSTCONF5_EXAMPLE

from ansible_collections.mailtls.postfix.plugins.module_utils._policy import (
    build,
    entries_lines,
    PolicyEntry,
    map_text_entries,
    map_text_lines,
    parse_map_line,
    render,
    validate_entry,
)

PIN256 = ':'.join(['AB'] * 32)
PIN1 = ':'.join(['CD'] * 20)


@pytest.mark.parametrize('entry, line', [
    ({'destination': 'example.com', 'level': 'none'}, 'example.com none'),
    ({'destination': '.example.com', 'level': 'may'}, '.example.com may'),
    ({'destination': 'example.com', 'level': 'encrypt', 'protocols': '>=TLSv1.2', 'ciphers': 'high'},
     'example.com encrypt protocols=>=TLSv1.2 ciphers=high'),
    ({'destination': '[mx.example.com]:587', 'level': 'encrypt', 'protocols': ['!SSLv2', '!SSLv3'], 'exclude': ['aNULL', 'RC4']},
     '[mx.example.com]:587 encrypt protocols=!SSLv2:!SSLv3 exclude=aNULL:RC4'),
    ({'destination': 'example.com', 'level': 'dane'}, 'example.com dane'),
    ({'destination': 'example.com', 'level': 'dane-only', 'servername': 'hostname'}, 'example.com dane-only servername=hostname'),
    ({'destination': 'Example.com', 'level': 'fingerprint', 'fingerprints': [PIN256.lower(), PIN256.replace(':', '')]},
     'example.com fingerprint match=' + PIN256),
    ({'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': [PIN256, PIN256.replace('AB', 'EF', 1)]},
     'example.com fingerprint match=%s|%s' % (PIN256, PIN256.replace('AB', 'EF', 1))),
    ({'destination': 'example.com', 'level': 'secure'}, 'example.com secure'),
    ({'destination': 'example.com', 'level': 'secure', 'match': ['nexthop', 'dot-nexthop']}, 'example.com secure match=nexthop:dot-nexthop'),
    ({'destination': 'example.com', 'level': 'verify', 'match': 'hostname:.example.net', 'tafile': '/etc/postfix/ta.pem'},
     'example.com verify match=hostname:.example.net tafile=/etc/postfix/ta.pem'),
    ({'destination': '[2001:db8::1]:25', 'level': 'encrypt'}, '[2001:db8::1]:25 encrypt'),
    ({'destination': 'bücher.example', 'level': 'encrypt'}, 'xn--bcher-kva.example encrypt'),
])
def test_valid_entries_render_as_postfix_reads_them(entry, line):
    assert validate_entry(entry)[1] == line


@pytest.mark.parametrize('entry, message', [
    ({'destination': 'example.com', 'level': 'strict'}, "level 'strict' is not one of none, may, encrypt"),
    ({'destination': 'example.com'}, 'level None is not one of'),
    ({'level': 'may'}, 'destination is missing'),
    ({'destination': 'example.com', 'level': 'may', 'colour': 'red'}, 'unknown attribute(s) colour'),
    ({'destination': 'example.com', 'level': 'encrypt', 'match': 'nexthop'}, 'match not allowed at level encrypt'),
    ({'destination': 'example.com', 'level': 'none', 'protocols': '>=TLSv1.2'}, 'protocols not allowed at level none (allowed: none)'),
    ({'destination': 'example.com', 'level': 'secure', 'fingerprints': [PIN256]}, 'fingerprints not allowed at level secure'),
    ({'destination': 'example.com', 'level': 'fingerprint', 'tafile': '/x'}, 'tafile not allowed at level fingerprint'),
    ({'destination': 'example.com', 'level': 'fingerprint'}, 'level fingerprint needs at least one fingerprint'),
    ({'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': [PIN1]},
     'has 20 bytes; a sha256 fingerprint has 32'),
    ({'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': ['AB:CD:XY']}, "is not hex digits in pairs"),
    ({'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': ['ABC:D']}, "is not hex digits in pairs"),
    ({'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': [PIN256 + ' ']}, 'contains whitespace'),
    ({'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': [PIN256 + ',' + PIN256]}, 'contains whitespace, a comma'),
    ({'destination': 'example.com', 'level': 'secure', 'match': 'nexthop\nexample.org none'}, 'contains whitespace, a comma or a line break'),
    ({'destination': 'example.com encrypt', 'level': 'may'}, 'contains whitespace or a comma'),
    ({'destination': 'example.com,evil.com', 'level': 'may'}, 'contains whitespace or a comma'),
    ({'destination': 'example.com\nevil.com none', 'level': 'may'}, 'contains whitespace or a comma'),
    ({'destination': '192.0.2.1:25', 'level': 'may'}, 'an IP address needs brackets, as in [192.0.2.1]:25'),
    ({'destination': '[mx.example.com]:99999', 'level': 'may'}, "port '99999' is not a number"),
    ({'destination': '..example.com', 'level': 'may'}, 'not a valid domain name'),
    ({'destination': 'example.com', 'level': 'encrypt', 'protocols': 'TLSv1.4'}, "'TLSv1.4' is not a TLS protocol"),
    ({'destination': 'example.com', 'level': 'encrypt', 'ciphers': 'strong'}, "ciphers 'strong' is not a cipher grade"),
    ({'destination': 'example.com', 'level': 'secure', 'match': 'next hop'}, 'contains whitespace'),
    ({'destination': 'example.com', 'level': 'secure', 'match': 'bad_name!'}, "match 'bad_name!' is not nexthop"),
    ({'destination': 'example.com', 'level': 'secure', 'tafile': 'relative/ta.pem'}, "tafile 'relative/ta.pem' is not an absolute path"),
    ({'destination': 'example.com', 'level': 'may', 'servername': 'a b'}, 'contains whitespace'),
])
def test_bad_entries_are_named(entry, message):
    with pytest.raises(MailTLSError) as e:
        validate_entry(entry, where='postfix_tls_policies[4]')
    assert 'postfix_tls_policies[4]' in str(e.value)
    assert message in str(e.value)


def test_sha1_digest_changes_the_required_length():
    assert validate_entry({'destination': 'a.example', 'level': 'fingerprint', 'fingerprints': [PIN1]}, digest='sha1')[1] \
        == 'a.example fingerprint match=' + PIN1
    with pytest.raises(MailTLSError, match='a sha1 fingerprint has 20'):
        validate_entry({'destination': 'a.example', 'level': 'fingerprint', 'fingerprints': [PIN256]}, digest='sha1')


def test_duplicates_within_a_source_are_refused_and_later_sources_win():
    with pytest.raises(MailTLSError, match=r'entries\[1\] \(example.com\): duplicate destination, also at entries\[0\]'):
        build([entries_lines([{'destination': 'example.com', 'level': 'may'}, {'destination': 'EXAMPLE.com.', 'level': 'encrypt'}],
                             'sha256', 'entries')])
    with pytest.raises(MailTLSError, match=r'src line 2 \(a.example\): duplicate destination, also at src line 1'):
        build([map_text_lines('a.example may\nA.example. encrypt\n', 'sha256', 'src')])
    lines, overridden = build([
        map_text_lines('a.example may\nb.example may\n', 'sha256', 'src'),
        entries_lines([{'destination': 'a.example', 'level': 'encrypt'}], 'sha256', 'entries'),
    ])
    assert render(lines) == 'a.example encrypt\nb.example may\n'
    assert overridden == ['a.example']


@pytest.mark.parametrize('line, entry', [
    ('# comment', None),
    ('   ', None),
    ('example.com secure match=nexthop:dot-nexthop', {'destination': 'example.com', 'level': 'secure', 'match': ['nexthop:dot-nexthop']}),
    ('example.com fingerprint match=AA|BB match=CC', {'destination': 'example.com', 'level': 'fingerprint', 'fingerprints': ['AA', 'BB', 'CC']}),
    ('[mx]:25 encrypt, protocols=>=TLSv1.2', {'destination': '[mx]:25', 'level': 'encrypt', 'protocols': '>=TLSv1.2'}),
])
def test_parse_map_line(line, entry):
    assert parse_map_line(line) == entry


@pytest.mark.parametrize('line, message', [
    ('example.com encrypt protocols', "attribute 'protocols' is not name=value"),
    ('example.com encrypt ciphers=high ciphers=low', 'attribute ciphers appears twice'),
    ('example.com encrypt colour=red', "attribute 'colour' is not one this collection writes"),
    ('example.com secure policy_type=sts policy_type=sts', 'attribute policy_type appears twice'),
    ('example.com secure { policy_string = mode: enforce', '"{" without its "}"'),
    ('example.com secure policy_string=x}', '"}" without its "{"'),
    ('example.com secure { policy_string }', "attribute 'policy_string' is not name=value"),
])
def test_parse_map_line_errors(line, message):
    with pytest.raises(MailTLSError) as e:
        parse_map_line(line)
    assert message in str(e.value)


STS = {'destination': 'example.com', 'level': 'secure', 'match': ['mail.example.com', '.example.net'],
       'policy_type': 'sts', 'policy_domain': 'example.com', 'mx_host_pattern': ['mail.example.com', '*.example.net'],
       'policy_string': ['version: STSv1', 'mode: enforce', 'mx: mail.example.com', 'mx: *.example.net', 'max_age: 604800']}
STS_LINE = ('example.com secure match=mail.example.com:.example.net policy_type=sts policy_domain=example.com '
            'mx_host_pattern=mail.example.com mx_host_pattern=*.example.net { policy_string = version: STSv1 } '
            '{ policy_string = mode: enforce } { policy_string = mx: mail.example.com } '
            '{ policy_string = mx: *.example.net } { policy_string = max_age: 604800 }')


def test_sts_attributes_render_in_postfix_3_10_syntax_and_parse_back():
    """TLSRPT_README: name=value, and { name = value } where the value has whitespace; repeated per pattern/line."""
    assert validate_entry(STS, postfix_version='3.10.13') == ('example.com', STS_LINE)
    assert validate_entry(STS) == ('example.com', STS_LINE)  # version not known: not checked
    assert parse_map_line(STS_LINE) == dict(STS, match=['mail.example.com:.example.net'])
    # as another tool may write them: commas, odd whitespace inside the braces, a line of several spaces
    other = ('example.com secure, match=mail.example.com, policy_type=sts,{policy_string=version:  STSv1}'
             ' {  policy_string =   mode: enforce  } mx_host_pattern=*.Example.NET policy_failure=sts-webpki-invalid'
             ' policy_ttl=604800')
    entry = parse_map_line(other)
    assert entry['policy_string'] == ['version: STSv1', 'mode: enforce']
    assert validate_entry(entry, postfix_version='3.10.13')[1] == (
        'example.com secure match=mail.example.com policy_type=sts mx_host_pattern=*.example.net '
        'policy_failure=sts-webpki-invalid policy_ttl=604800 { policy_string = version: STSv1 } '
        '{ policy_string = mode: enforce }')
    assert validate_entry({'destination': 'example.com', 'level': 'may', 'policy_type': 'no-policy-found'},
                          postfix_version='3.11-20250101')[1] == 'example.com may policy_type=no-policy-found'
    # a file with them takes the line-by-line path and keeps every attribute
    lines = map_text_lines(STS_LINE + '\n', 'sha256', 'src', '3.10.13')
    assert lines.lines == [STS_LINE] and not lines.verbatim


@pytest.mark.parametrize('change, version, message', [
    ({}, '3.7.11', 'policy_type, policy_domain, mx_host_pattern, policy_string need Postfix 3.10 or later, '
                   'this Postfix is 3.7.11 (it would reject the whole entry with "invalid attribute name"'),
    ({}, '3.9.3', 'need Postfix 3.10 or later, this Postfix is 3.9.3'),
    ({}, 'unknown', "Postfix version 'unknown' is not a version number"),
    ({'policy_type': None}, None, 'policy_domain, mx_host_pattern, policy_string need policy_type (sts or no-policy-found)'),
    ({'policy_type': 'dane'}, None, "policy_type 'dane' is not one of sts, no-policy-found"),
    ({'policy_domain': 'exa mple.com'}, None, "policy_domain 'exa mple.com' contains whitespace"),
    ({'mx_host_pattern': ['mail.example.com', '*.*.example.net']}, None, "mx_host_pattern '*.*.example.net' is not a host name"),
    ({'mx_host_pattern': 'a.example,b.example'}, None, 'contains whitespace, a comma'),
    ({'policy_string': ['mode: enforce }']}, None, "policy_string[0] 'mode: enforce }' contains a brace, a line break"),
    ({'policy_string': ['mode: enforce\nexample.org none']}, None, 'contains a brace, a line break'),
    ({'policy_string': ['  ']}, None, 'policy_string[0] is empty'),
    ({'policy_string': [7]}, None, 'policy_string[0] is not a string'),
    ({'policy_failure': 'bad-cert'}, None, "policy_failure 'bad-cert' is not one of sts-policy-fetch-error"),
    ({'policy_ttl': '1d'}, None, "policy_ttl '1d' is not a number of seconds"),
    ({'level': 'fingerprint', 'match': None, 'fingerprints': [PIN256]}, None,
     'policy_type, policy_domain, mx_host_pattern, policy_string not allowed at level fingerprint'),
    ({'level': 'none', 'match': None}, None, 'not allowed at level none'),
])
def test_sts_attribute_errors(change, version, message):
    entry = dict(STS, **change)
    with pytest.raises(MailTLSError) as e:
        validate_entry(entry, postfix_version=version)
    assert message in str(e.value)
    assert 'entry (example.com)' in str(e.value) or 'Postfix version' in str(e.value)


PIN_A, PIN_B = EXAMPLE_PINS


def test_postconf5_example_map():
    lines = map_text_lines(POSTCONF5_EXAMPLE, 'sha256', 'src', '3.7.11')
    assert dict(zip(lines.keys, lines.lines)) == {
        'example.edu': 'example.edu none',
        'example.mil': 'example.mil may',
        'example.gov': 'example.gov encrypt protocols=TLSv1',
        'example.com': 'example.com verify ciphers=high',
        'example.net': 'example.net secure',
        '.example.net': '.example.net secure match=.example.net:example.net',
        '[mail.example.org]:587': '[mail.example.org]:587 secure match=nexthop',
        '[thumb.example.org]': '[thumb.example.org] fingerprint match=%s|%s' % (PIN_A, PIN_B),
        'smtp.example.com:587': 'smtp.example.com:587 encrypt',
        '[smarthost.example]:submission': '[smarthost.example]:submission encrypt protocols=>=TLSv1.2',
    }
    assert lines.where(7) == 'src line 10 (continued to line 12)'


def test_continuation_errors_name_the_lines():
    # an indented line continues the entry before it: here it makes that entry invalid, as Postfix would read it
    with pytest.raises(MailTLSError, match=r"src line 1 \(continued to line 2\): attribute 'b.example' is not name=value"):
        map_text_lines('a.example may\n  b.example encrypt\n', 'sha256', 'src')
    # comments do not end a logical line (readlline(3))
    lines = map_text_lines('a.example fingerprint\n# pin 1\n  match=%s\n' % PIN_A, 'sha256', 'src')
    assert lines.lines == ['a.example fingerprint match=%s' % PIN_A]
    with pytest.raises(MailTLSError, match='src line 2 starts with whitespace but there is no line before it'):
        map_text_lines('# list\n  a.example may\n', 'sha256', 'src')


def test_map_lines_round_trip():
    text = ('example.com secure match=nexthop:dot-nexthop protocols=>=TLSv1.2\n'
            'partner.example fingerprint match=%s\n[relay.example]:587 encrypt\n' % PIN256)
    assert render(build([map_text_lines(text, 'sha256', 'src')])[0]) == text


FAST_AND_SLOW = [
    'a.example may', 'A.Example may', 'a.example  may', 'a.example\tmay', '.a.example encrypt ciphers=high',
    '[mx.a.example]:25 encrypt', '[mx.a.example]:0 encrypt', '[mx.a.example]:0025 encrypt', '[MX.a.example] may',
    '[192.0.2.1]:25 encrypt', 'bücher.example may', 'a.example secure match=nexthop:dot-nexthop',
    'a.example secure match=nexthop,protocols=>=TLSv1.2', 'a.example fingerprint match=%s' % PIN256,
    'a.example fingerprint match=%s|%s' % (PIN256, PIN256), 'a.example fingerprint match=%s' % PIN256.lower(),
    'a.example fingerprint match=%s' % PIN1, 'a.example fingerprint match=%s match=%s' % (PIN256, PIN256.replace('A', 'E')),
    'a.example dane-only', 'a.example strict', 'a.example', 'a.example encrypt tafile=/x', 'a..example may',
    '-a.example may', 'a.example may servername=hostname', 'localhost may', 'x' * 64 + '.example may',
]


@pytest.mark.parametrize('line', FAST_AND_SLOW)
def test_fast_path_accepts_and_renders_exactly_like_full_validation(line):
    """map_text_lines (fast path for canonical lines) against validate_entry on every line alone."""
    try:
        expected = validate_entry(parse_map_line(line), 'sha256', 'src line 1')
    except MailTLSError as e:
        with pytest.raises(MailTLSError) as fast:
            map_text_lines(line, 'sha256', 'src')
        assert str(fast.value) in (str(e), 'src line 1: ' + str(e))
        return
    lines = map_text_lines(line, 'sha256', 'src')
    assert list(zip(lines.keys, lines.lines)) == [expected]
    assert lines.where(0) == 'src line 1'


def test_protocol_range_needs_postfix_3_6():
    # Postfix 3.5 reads ">=TLSv1.2" as a protocol name it does not know: the entry would be invalid
    entry = {'destination': 'example.com', 'level': 'encrypt', 'protocols': '>=TLSv1.2'}
    assert validate_entry(entry, postfix_version='3.6.0')[1] == 'example.com encrypt protocols=>=TLSv1.2'
    with pytest.raises(MailTLSError, match=r"entry \(example.com\): protocols '>=TLSv1.2': the >= / <= form "
                                           r"needs Postfix 3.6 or later, this Postfix is 3.5.25"):
        validate_entry(entry, postfix_version='3.5.25')
    # the exclusion form means the same on every version
    old = dict(entry, protocols='!SSLv2:!SSLv3:!TLSv1:!TLSv1.1')
    assert validate_entry(old, postfix_version='3.5.25')[1] == 'example.com encrypt protocols=!SSLv2:!SSLv3:!TLSv1:!TLSv1.1'


def test_protocol_range_in_a_map_file_needs_postfix_3_6():
    # a file already in canonical form takes map_text_lines' fast path: it must refuse the range on 3.5 as well
    text = '# partner list\nbank.example secure match=nexthop:dot-nexthop protocols=>=TLSv1.2\nlegacy.example may\n'
    assert map_text_lines(text, 'sha256', 'src', '3.7.11').lines[0].endswith('protocols=>=TLSv1.2')
    with pytest.raises(MailTLSError, match=r"src line 2 \(bank.example\): protocols '>=TLSv1.2': the >= / <= form"):
        map_text_lines(text, 'sha256', 'src', '3.5.25')
    old = text.replace('>=TLSv1.2', '!SSLv2:!SSLv3:!TLSv1:!TLSv1.1')
    assert map_text_lines(old, 'sha256', 'src', '3.5.25').verbatim


def test_policy_text_round_trip():
    text = ('# deployed by mailtls.postfix\n\n'
            'a.test fingerprint match=%s|%s\n'
            '[mx.b.test]:25 secure match=nexthop:dot-nexthop protocols=>=TLSv1.2\n'
            'c.test encrypt\n' % (PIN256, PIN256.replace('AB', 'EF')))
    entries = [e.as_dict() for e in map_text_entries(text, 'sha256', 'policy map')[0]]
    assert entries == [
        {'destination': 'a.test', 'level': 'fingerprint', 'fingerprints': [PIN256, PIN256.replace('AB', 'EF')]},
        {'destination': '[mx.b.test]:25', 'level': 'secure', 'match': ['nexthop', 'dot-nexthop'], 'protocols': '>=TLSv1.2'},
        {'destination': 'c.test', 'level': 'encrypt'},
    ]
    assert [validate_entry(e)[1] for e in entries] == text.splitlines()[2:]
    assert [PolicyEntry.from_dict(e).line() for e in entries] == text.splitlines()[2:]
    with pytest.raises(MailTLSError, match=r"policy map line 2: attribute 'tafile' is not name=value"):
        map_text_entries('a.test encrypt\nb.test secure tafile\n', 'sha256', 'policy map')
