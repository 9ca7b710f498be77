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

    # every distinct endpoint is probed once, though mixed.test shares mx1.secure.test, and in one session:
    # the chain read without verification is verified from that handshake, and an RSA key chosen in
    # TLS 1.3 (this client prefers ECDSA) needs no session asking for an ECDSA key
    assert servers['mx1.secure.test'].connections == 1
    first = r['secure.test']['endpoints'][0]
    assert first['sessions'] == 1 and len(first['keys']) == 1 and first['chain_verified'] is True
    assert first['other_key'] == 'not asked: RSA chosen in TLS 1.3 although ECDSA signatures were preferred, so no ECDSA key'
    # self-signed: known not to verify from the chain alone, also one session; an ECDSA key costs one more
    # session that asks for an RSA key (these servers have none: that handshake fails)
    assert [e['sessions'] for e in r['pinned.test']['endpoints']] == [1, 2]
    assert r['pinned.test']['endpoints'][0]['verify_error'] == 'self-signed certificate'
    assert r['pinned.test']['endpoints'][1]['other_key'].startswith('no RSA key (TLS 1.2 with aRSA suites only: TLS handshake failed')
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


def test_implicit_tls_endpoint_is_probed_and_pinned(lab, pki, smtp_server):
    prober, dummy, dummy2 = lab
    leaf = pki.issue('relay.test', ['relay.test'])
    server = smtp_server(mode='implicit', issued=leaf)
    assert (prober.mode_for(465), prober.mode_for(25), prober.mode_for(587)) == ('implicit', 'starttls', 'starttls')
    prober.tls_mode = 'implicit'
    results, summary = probe_and_recommend(prober, ['[127.0.0.1]:%d' % server.port])
    endpoint = results[0]['endpoints'][0]
    assert endpoint['tls_mode'] == 'implicit' and endpoint['starttls'] is None and endpoint['error'] is None
    assert endpoint['certificate']['subject'] == 'CN=relay.test'
    # self-signed: the key is pinned, as for a STARTTLS endpoint
    assert results[0]['policy']['level'] == 'fingerprint'
    assert results[0]['policy']['fingerprints'] == [endpoint['fingerprints']['pubkey']['sha256']]
    assert summary['endpoints_tls'] == 1 and summary['endpoints_no_starttls'] == 0


@pytest.fixture
def dual(lab, pki, smtp_server):
    """A server with an ECDSA and an RSA key (as the tls role deploys them), self-signed; and its probe result."""
    prober, dummy, dummy2 = lab
    ecdsa = pki.issue('dual.test', ['dual.test'], key_type='ec')
    rsa = pki.issue('dual.test', ['dual.test'])
    server = smtp_server(issued=ecdsa, also=[rsa])
    results, dummy3 = probe_and_recommend(prober, ['[127.0.0.1]:%d' % server.port])
    return results[0], server, ecdsa, rsa


def test_a_server_with_two_keys_is_reported_with_both(dual):
    result, server, ecdsa, rsa = dual
    endpoint = result['endpoints'][0]
    assert server.connections == 2
    kinds = [k['certificate']['key_type'] for k in endpoint['keys']]
    assert sorted(kinds) == ['ECDSA', 'RSA'] and endpoint['other_key'] is None
    # the first key is what a default client gets; the second was asked for with TLS 1.2 and its suites only
    assert endpoint['certificate']['key_type'] == kinds[0]
    assert endpoint['keys'][1]['tls']['version'] == 'TLSv1.2'
    assert ('ECDSA' in endpoint['keys'][1]['tls']['cipher']) == (kinds[1] == 'ECDSA')
    import hashlib
    served = set(':'.join('%02X' % b for b in hashlib.sha256(i.spki).digest()) for i in (ecdsa, rsa))
    assert set(k['fingerprints']['pubkey']['sha256'] for k in endpoint['keys']) == served
    # the recommendation pins both keys, so a sender deliveres whichever key the server picks
    assert result['policy']['level'] == 'fingerprint' and set(result['policy']['fingerprints']) == served
    assert '(2 keys: every key each endpoint holds)' in result['policy']['reason']


def test_every_key_is_judged(dual):
    from ansible_collections.mailtls.postfix.plugins.module_utils._judge import judge
    result, dummy, dummy2, dummy3 = dual
    endpoint = result['endpoints'][0]
    both = {'destination': result['key'], 'level': 'fingerprint', 'fingerprints': result['policy']['fingerprints']}
    verdict = judge([both], [result])[0]
    assert verdict['status'] == 'delivers' and 'every key passes (' in verdict['reason'] or \
        verdict['endpoints'][0]['reason'].startswith(endpoint['hostname'])
    assert 'every key passes' in verdict['endpoints'][0]['reason']
    first_only = dict(both, fingerprints=[endpoint['keys'][0]['fingerprints']['pubkey']['sha256']])
    verdict = judge([first_only], [result])[0]
    second = endpoint['keys'][1]['certificate']
    assert verdict['status'] == 'fails'
    assert '%s %s key: no pin matches' % (second['key_type'], second['key_bits']) in verdict['reason']
    assert 'a sender that gets this key defers' in verdict['reason']


def test_the_report_shows_every_key(dual):
    from ansible_collections.mailtls.postfix.plugins.module_utils._report import endpoint_facts, pki_trust
    result, dummy, dummy2, dummy3 = dual
    facts = endpoint_facts(result['endpoints'][0])
    assert sorted(facts['keys']) == ['ECDSA 256', 'RSA 2048']
    assert pki_trust(result['endpoints'][0]) == 'untrusted'


def test_posttls_finger_is_asked_for_every_key(dual):
    """The check asks posttls-finger once per key, forcing the second one as the probe did (-p, -o)."""
    from ansible_collections.mailtls.postfix.plugins.module_utils._finger import check
    from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import KEY_FAMILIES
    result, dummy, dummy2, dummy3 = dual
    endpoint = result['endpoints'][0]
    keys = endpoint['keys']

    class Finger:
        """Answers as posttls-finger would: Verified when the key the server shows for these options is pinned."""
        binary = 'posttls-finger'
        calls = []

        def __call__(self, argv):
            self.calls.append(argv)
            shown = keys[0]
            for key in keys:
                if 'tls_medium_cipherlist=' + KEY_FAMILIES[key['certificate']['key_type']] in argv:
                    shown = key
            word = 'Verified' if shown['fingerprints']['pubkey']['sha256'] in argv else 'Untrusted'
            return 'posttls-finger: %s TLS connection established to h[%s]:%d: TLSv1.2\n' % (
                word, endpoint['address'], endpoint['port'])

    both = {'destination': result['key'], 'level': 'fingerprint', 'fingerprints': result['policy']['fingerprints']}
    finger = Finger()
    out = check([both], [result], finger=finger)
    assert out['checks'][0]['status'] == 'delivers' and out['disagreements'] == []
    assert len(finger.calls) == 2 and finger.calls[1][:5] == ['posttls-finger', '-p', '!SSLv2:!SSLv3:!TLSv1.3', '-o',
                                                              'tls_medium_cipherlist=' + KEY_FAMILIES[keys[1]['certificate']['key_type']]]
    first_only = dict(both, fingerprints=[keys[0]['fingerprints']['pubkey']['sha256']])
    out = check([first_only], [result], finger=Finger())
    seen = out['checks'][0]['endpoints'][0]
    assert out['checks'][0]['status'] == 'fails' and seen['finger']['trust'] == 'Verified'
    assert seen['finger_keys'][0]['trust'] == 'Untrusted' and seen['finger_ok'] is False and seen['agree'] is True
