"""TLSA lookups of mx_tls_info: records per MX host, the resolver's AD bit, whether the key matches, dane recommended."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import dane_verdict

from labkit import probe_and_recommend


def probe(prober, name):
    results, summary = probe_and_recommend(prober, [name])
    return results[0], summary


@pytest.fixture
def pinned(lab):
    """The lab, and the 3 1 1 data of the keys pinned.test's two MX present (computed from their certificates)."""
    prober, dummy, dns = lab
    result, dummy2 = probe(prober, 'pinned.test')
    return prober, dns, dict((e['hostname'], e['tlsa']['3 1 1']) for e in result['endpoints'])


def test_no_tlsa_records_is_not_an_error(pinned):
    prober, dns, dummy = pinned
    result, dummy2 = probe(prober, 'pinned.test')
    for e in result['endpoints']:
        assert e['dane'] == {'name': '_%d._tcp.%s' % (prober.port, e['hostname']), 'records': [], 'validated': False,
                             'error': None, 'ttl': None, 'usable': False, 'matches': None}
    assert result['policy']['level'] == 'fingerprint'
    # one TLSA query per MX host name, none for the addresses
    # (the lab's servers listen on one high port, so the records are _PORT._tcp.NAME)
    assert sorted(q for q in dns.queries if q[1] == 'TLSA') == sorted([
        ('_%d._tcp.mx1.pinned.test' % prober.port, 'TLSA'), ('_%d._tcp.mx2.pinned.test' % prober.port, 'TLSA')] * 2)


def test_validated_matching_records_recommend_dane(pinned):
    prober, dns, keys = pinned
    for host, data in keys.items():
        dns.add('_%d._tcp.%s' % (prober.port, host), 'TLSA', ['3 1 1 ' + data, '3 1 1 ' + 'ab' * 32])
    dns.validated.add('pinned.test')
    result, summary = probe(prober, 'pinned.test')
    for e in result['endpoints']:
        assert e['dane']['validated'] is True and e['dane']['usable'] is True and e['dane']['matches'] is True
        assert {'usage': 3, 'selector': 1, 'mtype': 1, 'data': keys[e['hostname']]} in e['dane']['records']
    assert result['policy']['level'] == 'dane' and result['policy_line'] == 'pinned.test dane'
    assert 'DNSSEC-validated TLSA records that match' in result['policy']['reason']
    assert summary['levels']['dane'] == 1


def test_tlsa_lookups_can_be_switched_off(pinned):
    """Option tlsa: false - no TLSA query is sent, no endpoint is judged for DANE, dane is not recommended."""
    from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import Prober
    prober, dns, keys = pinned
    for host, data in keys.items():
        dns.add('_%d._tcp.%s' % (prober.port, host), 'TLSA', ['3 1 1 ' + data])
    dns.validated.add('pinned.test')
    before = len([q for q in dns.queries if q[1] == 'TLSA'])
    off = Prober(prober.resolver, port=prober.port, timeout=2, concurrency=4, ehlo_name='probe.test',
                 ca_file=prober.ca_file, dane=False)
    result, dummy = probe(off, 'pinned.test')
    assert len([q for q in dns.queries if q[1] == 'TLSA']) == before
    assert [e['dane'] for e in result['endpoints']] == [None, None]
    assert result['policy']['level'] == 'fingerprint'
    # the same lab with the lookups on: dane (the control)
    assert probe(prober, 'pinned.test')[0]['policy']['level'] == 'dane'


def test_records_without_ad_bit_are_not_usable(pinned):
    prober, dns, keys = pinned
    for host, data in keys.items():
        dns.add('_%d._tcp.%s' % (prober.port, host), 'TLSA', ['3 1 1 ' + data])
    result, dummy = probe(prober, 'pinned.test')
    assert [e['dane']['matches'] for e in result['endpoints']] == [True, True]
    assert [e['dane']['usable'] for e in result['endpoints']] == [False, False]
    assert result['policy']['level'] == 'fingerprint'


def test_one_mx_with_a_stale_record_is_not_dane(pinned):
    prober, dns, keys = pinned
    dns.add('_%d._tcp.mx1.pinned.test' % prober.port, 'TLSA', ['3 1 1 ' + keys['mx1.pinned.test']])
    dns.add('_%d._tcp.mx2.pinned.test' % prober.port, 'TLSA', ['3 1 1 ' + 'cd' * 32])
    dns.validated.add('pinned.test')
    result, dummy = probe(prober, 'pinned.test')
    assert dict((e['hostname'], e['dane']['matches']) for e in result['endpoints']) == {
        'mx1.pinned.test': True, 'mx2.pinned.test': False}
    assert result['policy']['level'] == 'fingerprint'


def test_verdict_of_trust_anchor_and_other_digests():
    lookup = {'name': '_25._tcp.mx.example', 'validated': True, 'error': None,
              'records': [{'usage': 2, 'selector': 0, 'mtype': 1, 'data': 'ab' * 32}]}
    own = {'3 1 1': 'cd' * 32, '3 0 1': 'ef' * 32}
    # DANE-TA needs the chain: the leaf alone cannot tell
    assert dane_verdict(lookup, own)['matches'] is None and dane_verdict(lookup, own)['usable'] is True
    # a SHA2-512 record is not computed here: not judged either way
    lookup['records'] = [{'usage': 3, 'selector': 1, 'mtype': 2, 'data': 'ab' * 64}]
    assert dane_verdict(lookup, own)['matches'] is None
    # full certificate digest (3 0 1), any case
    lookup['records'] = [{'usage': 3, 'selector': 0, 'mtype': 1, 'data': 'EF' * 32}]
    assert dane_verdict(lookup, own)['matches'] is True
    assert dane_verdict(lookup, None)['matches'] is None


def test_dane_entries_are_judged_from_the_tlsa_lookup(pinned):
    from ansible_collections.mailtls.postfix.plugins.module_utils._judge import judge
    prober, dns, keys = pinned
    entries = [{'destination': 'pinned.test', 'level': 'dane'}, {'destination': 'pinned.test', 'level': 'dane-only'}]
    # no records: dane falls back to may, dane-only defers
    result, dummy = probe(prober, 'pinned.test')
    v = judge(entries, [result])
    assert (v[0]['status'], v[1]['status']) == ('delivers', 'fails')
    assert 'no DNSSEC-validated TLSA records for _%d._tcp.mx1.pinned.test (dane-only defers)' % prober.port in v[1]['reason']
    # validated records, one stale: the other MX delivers, so degraded at both levels
    dns.add('_%d._tcp.mx1.pinned.test' % prober.port, 'TLSA', ['3 1 1 ' + keys['mx1.pinned.test']])
    dns.add('_%d._tcp.mx2.pinned.test' % prober.port, 'TLSA', ['3 1 1 ' + 'cd' * 32])
    dns.validated.add('pinned.test')
    result, dummy = probe(prober, 'pinned.test')
    v = judge(entries, [result])
    assert (v[0]['status'], v[1]['status']) == ('degraded', 'degraded')
    assert v[0]['endpoints'][0]['reason'].endswith('a DNSSEC-validated TLSA record matches the key')
    assert 'no TLSA record of _%d._tcp.mx2.pinned.test matches the key presented (3 1 1 %s)' % (
        prober.port, keys['mx2.pinned.test']) in v[0]['endpoints'][1]['reason']
    # the same records without the AD bit are not used: dane is opportunistic again
    dns.validated.clear()
    result, dummy = probe(prober, 'pinned.test')
    v = judge(entries, [result])
    assert (v[0]['status'], v[1]['status']) == ('delivers', 'fails')
