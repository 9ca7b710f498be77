"""The judge stage: whether Postfix would deliver under each entry to what the probe sees, on a real lab run."""
import copy

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._decide import decide
from ansible_collections.mailtls.postfix.plugins.module_utils._judge import judge, sts_mx_allowed

PIN_A = ':'.join(['AA'] * 32)
PIN_B = ':'.join(['BB'] * 32)


def by_key(items):
    return dict((i['destination'], i) for i in items)


def test_deployed_policy_delivers_to_what_was_probed(probed):
    r, results = probed
    entries = decide(results, [{'destination': 'mixed.test', 'level': 'encrypt'}])['policies']
    verdicts = by_key(judge(entries, results))
    assert verdicts['secure.test']['delivers'] is True and verdicts['secure.test']['degraded'] is False
    assert verdicts['pinned.test']['delivers'] is True
    assert verdicts['pinned.test']['reason'] == 'every endpoint passes'
    # mixed.test: the TLS MX passes, the plain one would defer: delivers, degraded
    mixed = verdicts['mixed.test']
    assert mixed['delivers'] is True and mixed['degraded'] is True and mixed['status'] == 'degraded'
    assert verdicts['secure.test']['status'] == 'delivers'
    assert 'plain.mixed.test[127.0.0.6]' in mixed['reason'] and 'STARTTLS not offered' in mixed['reason']


def test_a_changed_key_is_caught_per_endpoint(probed):
    r, dummy = probed
    entries = decide([r['pinned.test']])['policies']
    swapped = copy.deepcopy(r['pinned.test'])
    swapped['endpoints'][0]['fingerprints']['pubkey']['sha256'] = PIN_B
    swapped['endpoints'][0]['fingerprints']['cert']['sha256'] = PIN_B
    verdict = judge(entries, [swapped])[0]
    assert verdict['delivers'] is True and verdict['degraded'] is True
    assert verdict['endpoints'][0]['ok'] is False and 'no pin matches (presented public key sha256 %s)' % PIN_B in verdict['reason']
    for endpoint in swapped['endpoints']:
        endpoint['fingerprints']['pubkey']['sha256'] = PIN_B
        endpoint['fingerprints']['cert']['sha256'] = PIN_B
    assert judge(entries, [swapped])[0]['delivers'] is False
    assert judge(entries, [swapped])[0]['status'] == 'fails'
    # a certificate pin matches too
    cert_pins = [{'destination': 'pinned.test', 'level': 'fingerprint',
                  'fingerprints': [e['fingerprints']['cert']['sha256'] for e in r['pinned.test']['endpoints']]}]
    verdict = judge(cert_pins, [r['pinned.test']])[0]
    assert verdict['delivers'] is True and 'certificate pin matches' in verdict['endpoints'][0]['reason']


def test_levels_are_judged_as_postfix_would(probed):
    r, results = probed
    entries = [
        {'destination': 'pinned.test', 'level': 'secure'},          # self-signed: chain fails
        {'destination': 'secure.test', 'level': 'secure', 'match': ['other.test']},   # names do not match
        {'destination': 'secure.test', 'level': 'verify'},          # default match=hostname: MX names
        {'destination': 'mixed.test', 'level': 'may'},
        {'destination': 'pinned.test', 'level': 'dane'},
        {'destination': '.parent.test', 'level': 'encrypt'},
        {'destination': 'unprobed.test', 'level': 'encrypt'},
        {'destination': 'missing.test', 'level': 'encrypt'},
    ]
    v = judge(entries, results)
    assert v[0]['delivers'] is False and 'chain does not verify (self-signed' in v[0]['reason']
    assert v[1]['delivers'] is False and 'match none of other.test' in v[1]['reason']
    assert v[2]['delivers'] is True
    assert v[3]['delivers'] is True and v[3]['degraded'] is False and 'delivered in clear at level may' in v[3]['reason']
    # dane without TLSA records behaves as may (judged with TLSA records in test_dane_probe.py)
    assert v[4]['delivers'] is True
    assert v[4]['endpoints'][0]['reason'].endswith('no validated TLSA records, opportunistic TLS at level dane')
    assert v[5]['delivers'] is None and v[5]['reason'] == 'parent-domain entry: not probed'
    assert v[6]['delivers'] is None and v[6]['reason'] == 'not probed'
    assert v[7]['delivers'] is False and 'NXDOMAIN' in v[7]['reason']


def test_sts_attributes_close_the_wildcard_loophole(probed):
    """secure.test: mx1 (certificate mx1.secure.test) and mx2 (certificate *.secure.test), both CA-issued.

    A policy naming only mx1: Postfix 3.7's form (match=mx1.secure.test) also takes mx2, whose wildcard
    certificate covers the name mx1.secure.test; 3.10's STS attributes skip mx2 (its name matches no
    pattern) and check mx1 against its own name.
    """
    r, results = probed
    old = {'destination': 'secure.test', 'level': 'secure', 'match': ['mx1.secure.test']}
    new = dict(old, policy_type='sts', policy_domain='secure.test', mx_host_pattern=['mx1.secure.test'])
    v_old, v_new = judge([old, new], results)
    assert v_old['status'] == 'delivers'
    assert [e['ok'] for e in v_old['endpoints']] == [True, True]
    assert v_new['status'] == 'degraded'
    assert [e['ok'] for e in v_new['endpoints']] == [True, False]
    assert v_new['endpoints'][1]['reason'] == (
        'mx2.secure.test[127.0.0.3]:%d: Postfix skips this MX: mx2.secure.test matches no mx_host_pattern of the '
        'MTA-STS policy (mx1.secure.test)' % v_new['endpoints'][1]['port'])
    # a *. pattern takes both; each certificate is then checked against its own MX name
    star = dict(new, mx_host_pattern=['*.secure.test'], match=['.secure.test'])
    assert judge([star], results)[0]['status'] == 'delivers'
    # without match= Postfix does not enforce the patterns (its own condition), nor does the judge
    assert judge([dict(new, match=None)], results)[0]['status'] == 'delivers'


@pytest.mark.parametrize('pattern, name, allowed', [
    ('mail.example.com', 'MAIL.example.com.', True),
    ('*.example.net', 'a.example.net', True),
    ('*.example.net', 'a.b.example.net', False),   # one label only (RFC 8461 4.1)
    ('*.example.net', 'example.net', False),
    ('mail.example.com', 'mail2.example.com', False),
])
def test_sts_mx_patterns_match_as_postfix_does(pattern, name, allowed):
    assert sts_mx_allowed([pattern], name) is allowed
