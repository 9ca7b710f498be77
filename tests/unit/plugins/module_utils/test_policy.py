"""Policy entries: every level, every attribute, and the bad inputs the role must refuse."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import (
    build,
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
    ({'destination': 'mx.example.com:25', 'level': 'may'}, 'a port needs brackets'),
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
        build([('entries', [{'destination': 'example.com', 'level': 'may'}, {'destination': 'EXAMPLE.com.', 'level': 'encrypt'}])])
    lines, overridden = build([
        ('src', [{'destination': 'a.example', 'level': 'may'}, {'destination': 'b.example', 'level': 'may'}]),
        ('entries', [{'destination': 'a.example', 'level': 'encrypt'}]),
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
    ('example.com encrypt policy_type=sts', "attribute 'policy_type' is not one this collection writes"),
])
def test_parse_map_line_errors(line, message):
    with pytest.raises(MailTLSError) as e:
        parse_map_line(line)
    assert message in str(e.value)


def test_map_lines_round_trip():
    text = ('example.com secure match=nexthop:dot-nexthop protocols=>=TLSv1.2\n'
            'partner.example fingerprint match=%s\n[relay.example]:587 encrypt\n' % PIN256)
    entries = [parse_map_line(line) for line in text.splitlines()]
    assert render(build([('src', entries)])[0]) == text
