"""Resolution and probing, and the recommendations made from them, end to end against in-process DNS and SMTP servers."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import parse_nameserver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import parse_destinations

from labkit import probe_and_recommend


def by_destination(results):
    return dict((r['destination'], r) for r in results)


def test_recommendations_across_a_lab(lab):
    prober, servers, dns = lab
    destinations = ['secure.test', 'pinned.test', 'mixed.test', 'nomx.test', 'nullmx.test', 'missing.test', 'dangling.test']
    results, summary = probe_and_recommend(prober, destinations)
    assert [r['destination'] for r in results] == destinations
    r = by_destination(results)

    assert r['secure.test']['policy']['level'] == 'secure'
    assert r['secure.test']['policy_line'] == 'secure.test secure match=nexthop:dot-nexthop'
    assert [m['hostname'] for m in r['secure.test']['mx']] == ['mx1.secure.test', 'mx2.secure.test']
    assert all(e['chain_verified'] and e['name_verified'] for e in r['secure.test']['endpoints'])

    pinned = r['pinned.test']
    assert pinned['policy']['level'] == 'fingerprint'
    pins = [e['fingerprints']['pubkey']['sha256'] for e in pinned['endpoints']]
    assert len(set(pins)) == 2
    assert sorted(pinned['policy']['fingerprints']) == sorted(pins)
    assert pinned['policy_line'] == 'pinned.test fingerprint match=' + '|'.join(pinned['policy']['fingerprints'])
    assert 'self-signed' in pinned['policy']['reason']

    assert r['mixed.test']['policy']['level'] == 'may'
    assert 'plain.mixed.test[127.0.0.6] does not offer STARTTLS' in r['mixed.test']['policy']['reason']

    assert r['nomx.test']['mx_note'].startswith('no MX record')
    assert r['nomx.test']['policy']['level'] == 'secure'

    assert 'null MX' in r['nullmx.test']['error'] and r['nullmx.test']['endpoints'] == []
    assert 'NXDOMAIN' in r['missing.test']['error'] and r['missing.test']['policy']['level'] == 'may'
    assert r['dangling.test']['mx'][0]['error'] == 'gone.dangling.test: no A record'

    # every distinct endpoint is probed once, though mixed.test shares mx1.secure.test
    assert servers['mx1.secure.test'].connections == 1
    assert summary['destinations'] == 7
    assert summary['endpoints'] == 7  # secure 2, pinned 2, mixed 2 (one shared with secure), nomx 1
    assert summary['endpoints_no_starttls'] == 1
    assert summary['levels'] == {'dane': 0, 'secure': 2, 'fingerprint': 1, 'encrypt': 0, 'may': 4}


def test_unreachable_endpoint_gives_encrypt(lab, smtp_server, dns_server, pki):
    prober, servers, dns = lab
    servers['mx2.pinned.test'].stop()
    results, dummy = probe_and_recommend(prober, ['pinned.test'])
    policy = results[0]['policy']
    assert policy['level'] == 'encrypt'
    assert '1 of 2 failed' in policy['reason']


def test_bracketed_next_hop_needs_no_dns(lab):
    prober, servers, dns = lab
    before = len(dns.queries)
    results, dummy = probe_and_recommend(prober, ['[127.0.0.4]:%d' % servers['mx1.pinned.test'].port])
    assert len(dns.queries) == before
    assert results[0]['mx'] == [{'hostname': '127.0.0.4', 'preference': 0, 'addresses': ['127.0.0.4'], 'error': None}]
    # an IP next hop has no name to verify: pin it
    assert results[0]['policy']['level'] == 'fingerprint'


def test_pin_cert_and_digest(lab):
    prober, servers, dns = lab
    results, dummy = probe_and_recommend(prober, ['pinned.test'], digest='sha1', pin='cert')
    endpoint_pins = [e['fingerprints']['cert']['sha1'] for e in results[0]['endpoints']]
    assert sorted(results[0]['policy']['fingerprints']) == sorted(endpoint_pins)
    assert results[0]['policy']['digest'] == 'sha1' and results[0]['policy']['pin'] == 'cert'
    assert all(len(p) == 59 for p in endpoint_pins)


def test_duplicate_and_empty_destinations_are_refused():
    with pytest.raises(MailTLSError, match=r"destinations\[1\]: 'EXAMPLE.com' is the same destination as destinations\[0\]"):
        parse_destinations(['example.com', 'EXAMPLE.com'])
    with pytest.raises(MailTLSError, match='the list is empty'):
        parse_destinations([])
    with pytest.raises(MailTLSError, match=r"destinations\[0\]: 'a b' contains whitespace"):
        parse_destinations(['a b'])


@pytest.mark.parametrize('text, expected', [
    ('192.0.2.53', ('192.0.2.53', 53)),
    ('192.0.2.53:5353', ('192.0.2.53', 5353)),
    ('2001:db8::53', ('2001:db8::53', 53)),
    ('[2001:db8::53]:5353', ('2001:db8::53', 5353)),
])
def test_nameserver_forms(text, expected):
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize('text', ['dns.example.com', '192.0.2.53:0', '192.0.2.53:x', '[2001:db8::53', '[2001:db8::53]x'])
def test_bad_nameservers(text):
    with pytest.raises(MailTLSError, match='nameservers'):
        parse_nameserver(text)
