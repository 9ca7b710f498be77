"""_publish without a server: what is managed, what differs, and the one UPDATE built from it (RFC 2136 sections)."""
import dns.update
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils import _publish
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import txt_text
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

ZONE = _publish.zone_name('example.com')
A = '3 1 1 ' + 'ab' * 32
B = '3 1 1 ' + 'cd' * 32


def sets(*records):
    return _publish.wanted_sets(list(records), ZONE)


def test_a_long_txt_is_split_into_255_octet_strings_and_read_back_joined():
    text = 'v=TLSRPTv1; rua=' + 'x' * 600
    (rrset,) = sets({'name': '_smtp._tls.example.com', 'type': 'TXT', 'values': [text]})
    strings = rrset.rdatas[0].strings
    assert [len(s) for s in strings] == [255, 255, 106]
    assert txt_text(rrset.rdatas[0]) == text


def test_values_are_deduplicated_and_order_does_not_matter():
    (one,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 300, 'values': [A, B, A.upper()]})
    (two,) = sets({'name': '_25._tcp.mx.example.com.', 'type': 'tlsa', 'ttl': 300, 'values': [B, A]})
    assert len(one.rdatas) == 2
    assert one.same(two)


def test_a_ttl_change_is_a_difference_but_not_for_an_absent_set():
    (old,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 300, 'values': [A]})
    (new,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 60, 'values': [A]})
    assert _publish.difference([new], [old]) == [(old, new)]
    (gone,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 60, 'values': []})
    (gone_too,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 300, 'values': []})
    assert _publish.difference([gone], [gone_too]) == []


def test_the_update_has_a_prerequisite_per_changed_set_then_its_delete_and_add():
    (held_tlsa, held_txt) = sets(
        {'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 60, 'values': [A]},
        {'name': '_mta-sts.example.com', 'type': 'TXT', 'values': []})
    (want_tlsa, want_txt) = sets(
        {'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 60, 'values': [A, B]},
        {'name': '_mta-sts.example.com', 'type': 'TXT', 'values': ['v=STSv1; id=1;']})
    message = _publish.update_message(ZONE, _publish.difference([want_tlsa, want_txt], [held_tlsa, held_txt]))
    assert isinstance(message, dns.update.UpdateMessage)
    text = message.to_text()
    # RFC 2136 2.4.2 "RRset exists (value dependent)": class IN, TTL 0, the values as read; 2.4.3 "RRset does not
    # exist": class NONE; 2.5.2 "delete an RRset": class ANY; then the values added with their TTL
    assert text[text.index(';PREREQ'):text.index(';ADDITIONAL')].splitlines() == [
        ';PREREQ',
        '_25._tcp.mx.example.com. 0 IN TLSA %s' % A,
        '_mta-sts.example.com. NONE TXT',
        ';UPDATE',
        '_25._tcp.mx.example.com. ANY TLSA',
        '_25._tcp.mx.example.com. 60 IN TLSA %s' % A,
        '_25._tcp.mx.example.com. 60 IN TLSA %s' % B,
        '_mta-sts.example.com. 3600 IN TXT "v=STSv1; id=1;"',
    ]
    assert text.splitlines()[text.splitlines().index(';ZONE') + 1] == 'example.com. IN SOA'


def test_the_diff_shows_zone_file_lines():
    (held,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 60, 'values': [A]})
    (want,) = sets({'name': '_25._tcp.mx.example.com', 'type': 'TLSA', 'ttl': 60, 'values': [B]})
    assert _publish.diff([(held, want)]) == {'before': '_25._tcp.mx.example.com. 60 IN TLSA %s\n' % A,
                                             'after': '_25._tcp.mx.example.com. 60 IN TLSA %s\n' % B}


@pytest.mark.parametrize('records, message', [
    ([{'name': 'mx.example.org', 'type': 'TXT', 'values': ['a']}], 'records[0]: mx.example.org. is not within the zone example.com.'),
    ([{'name': 'x.example.com', 'type': 'MX', 'values': ['10 mx']}], "records[0]: type 'MX' is not one of TLSA, TXT"),
    ([{'name': 'x.example.com', 'type': 'TXT', 'ttl': -1}], 'records[0] (x.example.com.): ttl must be a number of seconds'),
    ([{'name': 'x.example.com', 'type': 'TLSA', 'values': ['3 1 1 zz']}], "records[0] (x.example.com.): '3 1 1 zz' is not TLSA data"),
    ([{'name': 'x.example.com', 'type': 'TXT'}, {'name': 'X.example.com.', 'type': 'TXT'}],
     'records[1]: X.example.com. TXT is also records[0]; give each record set once'),
    (['x.example.com TXT a'], 'records[0] must be a dict with name, type and values'),
])
def test_bad_records_name_the_entry(records, message):
    with pytest.raises(MailTLSError) as e:
        _publish.wanted_sets(records, ZONE)
    assert message in str(e.value)


@pytest.mark.parametrize('args, message', [
    (('k', 'not base64!'), 'the key_secret of TSIG key k is not base64'),
    (('k', ''), 'TSIG key k has no key_secret'),
    ((None, 'c2VjcmV0'), 'key_secret needs key_name'),
    (('k', 'c2VjcmV0', 'hmac-md5'), "key_algorithm 'hmac-md5' is not one of"),
])
def test_bad_tsig_keys_never_show_the_secret(args, message):
    with pytest.raises(MailTLSError) as e:
        _publish.tsig_key(*args)
    assert message in str(e.value)
    assert 'c2VjcmV0' not in str(e.value) and 'not base64!' not in str(e.value)
