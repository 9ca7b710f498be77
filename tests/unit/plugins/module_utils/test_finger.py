"""posttls-finger as a judge: the command line per endpoint, its output as Postfix 3.7 prints it, and check()."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._finger import check, finger_argv, parse_finger
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry

from labkit import probe_and_recommend

# captured from posttls-finger 3.7 in the fleet scenario (certificate detail lines trimmed)
VERIFIED = """posttls-finger: warning: DNSSEC validation may be unavailable
posttls-finger: mx.beta.test[10.89.0.13]:25: matched peername: mx.beta.test
posttls-finger: Verified TLS connection established to mx.beta.test[10.89.0.13]:25: TLSv1.3 with cipher \
TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
"""
UNTRUSTED = """posttls-finger: server certificate verification failed for mx1.delta.test[10.89.0.15]:25: \
num=65:no matching DANE TLSA records
posttls-finger: mx1.delta.test[10.89.0.15]:25: subject_CN=mx1.delta.test, issuer_CN=mx1.delta.test, fingerprint=19:AD, pkey_fingerprint=73:0E
posttls-finger: Untrusted TLS connection established to mx1.delta.test[10.89.0.15]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
"""
NO_STARTTLS = """posttls-finger: warning: DNSSEC validation may be unavailable
posttls-finger: warning: reason: dnssec_probe 'ns:.' received no response
"""


@pytest.mark.parametrize('output, address, port, trust', [
    (VERIFIED, '10.89.0.13', 25, 'Verified'),
    (VERIFIED, '10.89.0.13', 587, None),          # another port: not this session
    (VERIFIED, '10.89.0.1', 25, None),            # another address
    (UNTRUSTED, '10.89.0.15', 25, 'Untrusted'),
    (NO_STARTTLS, '10.89.0.8', 25, None),
    ('', '10.89.0.8', 25, None),
])
def test_parse_real_output(output, address, port, trust):
    found, line = parse_finger(output, address, port)
    assert found == trust
    assert (line.startswith(trust + ' TLS connection established') if trust else line == '')


ENDPOINT = {'hostname': 'mx1.example.com', 'address': '192.0.2.10', 'port': 25}


PIN_A = ':'.join(['AA'] * 32)
PIN_C = ':'.join(['CC'] * 32)


@pytest.mark.parametrize('entry, argv', [
    ({'level': 'fingerprint', 'fingerprints': [PIN_A, PIN_C.lower()]},
     ['posttls-finger', '-c', '-l', 'fingerprint', '-d', 'sha256', '[192.0.2.10]:25', PIN_A, PIN_C]),
    ({'level': 'secure'},
     ['posttls-finger', '-c', '-l', 'secure', '-F', '/ca.pem', '[192.0.2.10]:25', 'example.com', '.example.com']),
    ({'level': 'secure', 'match': ['hostname:nexthop']},
     ['posttls-finger', '-c', '-l', 'secure', '-F', '/ca.pem', '[192.0.2.10]:25', 'mx1.example.com', 'example.com']),
    ({'level': 'verify'},
     ['posttls-finger', '-c', '-l', 'verify', '-F', '/ca.pem', '[192.0.2.10]:25', 'mx1.example.com']),
])
def test_argv_per_endpoint_with_names_written_out(entry, argv):
    entry = PolicyEntry.from_dict(dict(entry, destination='example.com'))
    assert finger_argv('posttls-finger', entry, 'example.com', ENDPOINT, '/ca.pem') == argv


def test_argv_refuses_levels_it_cannot_judge():
    with pytest.raises(ValueError):
        finger_argv('posttls-finger', PolicyEntry.from_dict({'destination': 'example.com', 'level': 'encrypt'}),
                    'example.com', ENDPOINT)


class FakeFinger:
    """Answers like posttls-finger: Verified when the endpoint's pin is among the arguments."""
    binary = 'posttls-finger'

    def __init__(self, good, lie=()):
        self.good = good          # address -> pin that posttls-finger would accept
        self.lie = set(lie)       # addresses where it says the opposite (to see disagreements)
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        target = argv[argv.index('-d') + 2] if '-d' in argv else argv[-1]
        address = target[1:target.index(']')]
        verified = self.good.get(address) in argv
        if address in self.lie:
            verified = not verified
        word = 'Verified' if verified else 'Untrusted'
        port = target.rsplit(':', 1)[1]
        return 'posttls-finger: %s TLS connection established to %s[%s]:%s: TLSv1.3\n' % (word, address, address, port)


def test_check_with_posttls_finger(lab):
    prober, dummy, dummy2 = lab
    results, dummy3 = probe_and_recommend(prober, ['pinned.test'])
    endpoints = results[0]['endpoints']
    pins = [e['fingerprints']['pubkey']['sha256'] for e in endpoints]
    good = dict((e['address'], pin) for e, pin in zip(endpoints, pins))
    entries = [{'destination': 'pinned.test', 'level': 'fingerprint', 'fingerprints': pins},
               {'destination': 'pinned.test', 'level': 'encrypt'}]
    finger = FakeFinger(good)
    out = check(entries, results, finger=finger)
    assert len(out['checks']) == 1 and out['checks'][0]['judge'] == 'posttls-finger'
    assert out['checks'][0]['status'] == 'delivers' and out['failing'] == [] and out['disagreements'] == []
    assert len(finger.calls) == 2 and all(e['agree'] for e in out['checks'][0]['endpoints'])

    # one stale pin: degraded, listed as failing, both judges agree
    out = check([{'destination': 'pinned.test', 'level': 'fingerprint', 'fingerprints': pins[:1]}], results,
                finger=FakeFinger(good))
    assert out['failing'] == [{'destination': 'pinned.test', 'level': 'fingerprint', 'status': 'degraded',
                               'reason': out['checks'][0]['reason']}]
    assert out['disagreements'] == []

    # posttls-finger decides; a disagreement is reported
    liar = endpoints[0]['address']
    out = check(entries[:1], results, finger=FakeFinger(good, lie=[liar]))
    assert out['checks'][0]['status'] == 'degraded'
    assert [d['address'] for d in out['disagreements']] == [liar]

    # without posttls-finger the module judges
    out = check(entries[:1], results)
    assert out['checks'][0]['judge'] == 'mx_tls_info' and out['checks'][0]['status'] == 'delivers'


def test_sts_entry_skips_mx_hosts_outside_the_policy(lab):
    """Postfix 3.10 never connects to an MX that matches no mx_host_pattern: posttls-finger is not asked there."""
    prober, dummy, dummy2 = lab
    results, dummy3 = probe_and_recommend(prober, ['secure.test'])
    entry = {'destination': 'secure.test', 'level': 'secure', 'match': ['mx1.secure.test'], 'policy_type': 'sts',
             'mx_host_pattern': ['mx1.secure.test']}
    assert finger_argv('posttls-finger', PolicyEntry.from_dict(entry), 'secure.test',
                       results[0]['endpoints'][0])[-1] == 'mx1.secure.test'

    class Names(FakeFinger):
        def __call__(self, argv):
            self.calls.append(argv)
            address = argv[-2][1:argv[-2].index(']')]
            return 'posttls-finger: Verified TLS connection established to x[%s]:%s: TLSv1.3\n' % (
                address, argv[-2].rsplit(':', 1)[1])

    finger = Names({})
    out = check([entry], results, finger=finger)
    assert len(finger.calls) == 1 and finger.calls[0][-1] == 'mx1.secure.test'
    skipped = out['checks'][0]['endpoints'][1]
    assert skipped['finger']['line'].startswith('not asked: Postfix skips this MX: mx2.secure.test matches no')
    assert skipped['agree'] and not skipped['finger_ok']
    assert out['checks'][0]['status'] == 'degraded' and out['disagreements'] == []


def test_check_lists_expiring_certificates(pki, smtp_server, lab):
    prober, dummy, dummy2 = lab
    soon = smtp_server(issued=pki.issue('soon.test', ['soon.test'], days=(-80, 5)), host='127.0.0.9')
    prober.port = soon.port
    results, dummy3 = probe_and_recommend(prober, ['[127.0.0.9]'])
    pin = results[0]['endpoints'][0]['fingerprints']['pubkey']['sha256']
    entries = [{'destination': '[127.0.0.9]', 'level': 'fingerprint', 'fingerprints': [pin]}]
    out = check(entries, results, expiry_warn_days=21)
    assert [(x['address'], x['days_remaining'] in (4, 5)) for x in out['expiring']] == [('127.0.0.9', True)]
    assert out['checks'][0]['expiring'] == out['expiring'] and out['failing'] == []
    assert check(entries, results, expiry_warn_days=3)['expiring'] == []


def test_an_implicit_tls_endpoint_is_asked_in_wrapper_mode():
    entry = PolicyEntry.from_dict({'destination': '[relay.example]:465', 'level': 'fingerprint', 'fingerprints': [PIN_A]})
    endpoint = dict(ENDPOINT, port=465, tls_mode='implicit')
    assert finger_argv('posttls-finger', entry, 'relay.example', endpoint) == [
        'posttls-finger', '-c', '-l', 'fingerprint', '-d', 'sha256', '-w', '[192.0.2.10]:465', PIN_A]
