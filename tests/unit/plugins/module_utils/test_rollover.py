"""The DANE rollover gate (RFC 7671 8.1): switch only after the next key's record was validated for its TTL."""

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import Resolver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._rollover import gate, refusal

NEXT = 'ab' * 32
CURRENT = 'cd' * 32
NAME = '_25._tcp.mx.example'
T0 = 1800000000


def lookup(*datas, validated=True, ttl=3600, error=None, name=NAME):
    return {'name': name, 'validated': validated, 'error': error, 'ttl': ttl,
            'records': [{'usage': 3, 'selector': 1, 'mtype': 1, 'data': d} for d in datas]}


def only(result):
    assert len(result['names']) == 1
    return result['names'][0]


def test_first_seen_starts_the_wait_and_the_ttl_ends_it():
    first = gate([lookup(CURRENT, NEXT)], NEXT, {}, T0)
    assert not first['ready']
    row = only(first)
    assert row['status'] == 'waiting' and row['ttl'] == 3600
    assert row['record'] == '_25._tcp.mx.example. IN TLSA 3 1 1 ' + NEXT
    assert 'seen since 2027-01-15T08:00:00Z (0 s); its TTL is 3600 s: the switch is safe from 2027-01-15T09:00:00Z' in row['reason']
    assert first['state'] == {NAME: {'data': NEXT, 'first_seen': T0, 'ttl': 3600}}
    # one second short of the TTL: still waiting; at the TTL: ready
    assert only(gate([lookup(CURRENT, NEXT)], NEXT, first['state'], T0 + 3599))['status'] == 'waiting'
    later = gate([lookup(CURRENT, NEXT, ttl=120)], NEXT, first['state'], T0 + 3600)
    assert later['ready'] and only(later)['status'] == 'ready'
    # a smaller TTL seen later (a cache counting down) does not shorten the wait
    assert later['state'][NAME]['ttl'] == 3600


@pytest.mark.parametrize('answer, status, text', [
    (lookup(CURRENT), 'missing', '_25._tcp.mx.example. IN TLSA 3 1 1 %s is not published (the name has 1 other record(s))' % NEXT),
    (lookup(), 'missing', 'is not published (no TLSA record at that name)'),
    (lookup(CURRENT, NEXT, validated=False), 'unvalidated', 'not DNSSEC-validated (no AD bit)'),
    (lookup(error='DNS timeout'), 'failed', 'the lookup failed (DNS timeout)'),
])
def test_what_is_not_ready_is_named(answer, status, text):
    result = gate([answer], NEXT, {}, T0)
    assert not result['ready']
    assert only(result)['status'] == status
    assert text in only(result)['reason']
    message = refusal(result)
    assert message.startswith('the switch to the next key is refused: ') and text in message
    assert 'postfix_tls_rollover_force: true' in message


def test_a_record_other_than_3_1_1_of_the_next_key_does_not_count():
    answer = lookup(CURRENT)
    answer['records'].append({'usage': 3, 'selector': 0, 'mtype': 1, 'data': NEXT})
    assert only(gate([answer], NEXT, {}, T0))['status'] == 'missing'


def test_a_vanished_record_or_another_next_key_starts_the_clock_again():
    seen = gate([lookup(NEXT)], NEXT, {}, T0)['state']
    assert gate([lookup(CURRENT)], NEXT, seen, T0 + 7200)['state'] == {}
    other = 'ef' * 32
    again = gate([lookup(other)], other, seen, T0 + 7200)
    assert only(again)['status'] == 'waiting' and again['state'][NAME]['first_seen'] == T0 + 7200
    # a failed lookup keeps what was seen but does not let the switch happen
    failed = gate([lookup(error='SERVFAIL')], NEXT, seen, T0 + 7200)
    assert not failed['ready'] and failed['state'] == seen


def test_every_name_must_be_ready_and_min_ttl_lengthens_the_wait():
    other = '_25._tcp.mx2.example'
    state = {NAME: {'data': NEXT, 'first_seen': T0, 'ttl': 60}, other: {'data': NEXT, 'first_seen': T0 + 50, 'ttl': 60}}
    result = gate([lookup(NEXT, ttl=60), lookup(NEXT, ttl=60, name=other)], NEXT, state, T0 + 60)
    assert not result['ready'] and [r['status'] for r in result['names']] == ['ready', 'waiting']
    assert not gate([lookup(NEXT, ttl=60)], NEXT, state, T0 + 60, min_ttl=300)['ready']
    with pytest.raises(MailTLSError, match='postfix_tls_hostnames is empty'):
        gate([], NEXT, {}, T0)


def test_the_ttl_is_the_signatures_original_ttl(dns_server):
    # a resolver's cache counts the records' TTL down (here to a third); the RRSIG keeps the zone's TTL
    dns = dns_server({(NAME, 'TLSA'): ['3 1 1 ' + CURRENT, '3 1 1 ' + NEXT]})
    dns.validated.add('mx.example')
    dns.signed[(NAME, 'TLSA')] = 3600
    answer = Resolver(['127.0.0.1:%d' % dns.port], 5).tlsa('mx.example', 25)
    assert answer['validated'] and answer['ttl'] == 3600
    assert only(gate([answer], NEXT, {}, T0))['ttl'] == 3600
    # unsigned: the records' own TTL
    dns.signed.clear()
    assert Resolver(['127.0.0.1:%d' % dns.port], 5).tlsa('mx.example', 25)['ttl'] == 300


def test_retired_records_whose_time_has_come_are_left_out():
    from ansible_collections.mailtls.postfix.plugins.module_utils._rollover import retired_alive
    text = '{"AA:BB": 2000, "CC:DD": 1000, "EE:FF": true}'
    assert retired_alive(text, 1500) == {'AA:BB': 2000}
    assert retired_alive(None, 1500) == {} and retired_alive('', 1500) == {}
    with pytest.raises(MailTLSError, match='tlsa-retired.json is not valid JSON'):
        retired_alive('{', 0)
    with pytest.raises(MailTLSError, match='must hold a JSON object of pin: time'):
        retired_alive('[]', 0)
