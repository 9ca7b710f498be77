"""Fleet decisions (probe + fleet self-pins + explicit) and verdicts, on probe results of a real lab run."""
import copy

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._fleet import (
    decide,
    judge,
    parse_policy_text,
    sts_attributes_for,
    sts_mx_allowed,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import parse_destinations
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import validate_entry

PIN_A = ':'.join(['AA'] * 32)
PIN_B = ':'.join(['BB'] * 32)


@pytest.fixture
def probed(lab):
    prober, dummy, dummy2 = lab
    results, dummy3 = prober.run(parse_destinations(['secure.test', 'pinned.test', 'mixed.test', 'missing.test']))
    return dict((r['key'], r) for r in results), results


def by_key(items):
    return dict((i['destination'], i) for i in items)


def test_probe_recommendations_become_entries(probed):
    r, results = probed
    out = decide(results)
    policies = by_key(out['policies'])
    assert sorted(policies) == ['pinned.test', 'secure.test']
    assert policies['secure.test'] == {'destination': 'secure.test', 'level': 'secure', 'match': ['nexthop', 'dot-nexthop']}
    assert policies['pinned.test']['level'] == 'fingerprint'
    assert sorted(policies['pinned.test']['fingerprints']) == sorted(
        e['fingerprints']['pubkey']['sha256'] for e in r['pinned.test']['endpoints'])
    decisions = by_key(out['decisions'])
    # may recommendations are not written, and say why
    assert decisions['mixed.test']['written'] is False and 'does not offer STARTTLS' in decisions['mixed.test']['reason']
    assert decisions['missing.test']['written'] is False and 'NXDOMAIN' in decisions['missing.test']['reason']
    assert decisions['secure.test'] == {'destination': 'secure.test', 'level': 'secure', 'source': 'probe', 'written': True,
                                        'reason': 'every endpoint presents a certificate that verifies for the destination'}
    # every written entry is valid for the role
    for entry in out['policies']:
        validate_entry(entry)


def test_explicit_wins_over_fleet_which_wins_over_probe(probed):
    dummy, results = probed
    fleet = [{'host': 'mx1', 'domains': ['pinned.test', 'fleet.test'], 'pins': [PIN_A]},
             {'host': 'mx2', 'domains': ['fleet.test'], 'pins': [PIN_B.lower(), PIN_A]}]
    explicit = [{'destination': 'secure.test', 'level': 'encrypt', 'match': None},
                {'destination': 'mixed.test', 'level': 'encrypt'}]
    out = decide(results, explicit, fleet)
    policies, decisions = by_key(out['policies']), by_key(out['decisions'])
    assert [p['destination'] for p in out['policies']] == ['fleet.test', 'mixed.test', 'pinned.test', 'secure.test']
    assert policies['secure.test'] == {'destination': 'secure.test', 'level': 'encrypt'}
    assert decisions['secure.test']['reason'] == 'explicit entry (overrides the probe recommendation secure)'
    assert policies['mixed.test'] == {'destination': 'mixed.test', 'level': 'encrypt'}
    assert decisions['mixed.test']['source'] == 'explicit' and decisions['mixed.test']['written'] is True
    # fleet pins replace the probed ones, pins of every host serving the domain, once each, normalised
    assert policies['pinned.test']['fingerprints'] == [PIN_A]
    assert decisions['pinned.test']['source'] == 'fleet'
    assert policies['fleet.test']['fingerprints'] == [PIN_A, PIN_B]
    assert decisions['fleet.test']['reason'] == 'fleet self-pin: public keys of mx1, mx2 (2 pin(s))'
    assert len([d for d in out['decisions'] if d['destination'] == 'mixed.test']) == 1


@pytest.mark.parametrize('explicit, fleet, message', [
    ([{'destination': 'a.test', 'level': 'encrypt'}, {'destination': 'A.test', 'level': 'may'}], [],
     'explicit policy 1 (a.test): duplicate destination, already given by explicit policy 0'),
    ([{'destination': 'a.test', 'level': 'strict'}], [], "level 'strict' is not one of"),
    ([{'destination': 'a.test', 'level': 'encrypt', 'fingerprints': [PIN_A]}], [], 'fingerprints not allowed at level encrypt'),
    ([{'destination': 'a.test b.test', 'level': 'encrypt'}], [], 'explicit policy 0'),
    ([], [{'host': 'mx9', 'domains': ['x.test'], 'pins': []}], 'fleet host mx9 serves x.test but has no certificate to pin'),
    ([], [{'host': 'mx9', 'domains': ['x.test'], 'pins': ['AA:BB']}], 'fleet host mx9: pin'),
])
def test_bad_inputs_name_the_problem(probed, explicit, fleet, message):
    dummy, results = probed
    with pytest.raises(MailTLSError, match=None) as err:
        decide(results, explicit, fleet)
    assert message in str(err.value)


def test_probe_results_in_another_digest_are_refused(probed):
    dummy, results = probed
    with pytest.raises(MailTLSError, match='pin sha256 fingerprints, but the fleet uses sha1'):
        decide(results, digest='sha1')
    with pytest.raises(MailTLSError, match=r'probe results\[0\] is not a result'):
        decide([{'destination': 'x'}])


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


def test_sts_attributes_only_from_postfix_3_10():
    assert [sts_attributes_for(v) for v in ('3.10.13', '3.10.0', '3.11-20250101', '3.9.3', '3.7.11', None, '')] == [
        True, True, True, False, False, False, False]


def test_explicit_sts_entries_are_refused_for_an_older_postfix(probed):
    r, results = probed
    explicit = [{'destination': 'secure.test', 'level': 'secure', 'match': ['mx1.secure.test'],
                 'policy_type': 'sts', 'mx_host_pattern': ['mx1.secure.test']}]
    assert decide(results, explicit=explicit, postfix_version='3.10.13')['policies'][1]['policy_type'] == 'sts'
    with pytest.raises(MailTLSError, match=r'explicit policy 0 \(secure.test\): policy_type, mx_host_pattern need Postfix 3.10'):
        decide(results, explicit=explicit, postfix_version='3.7.11')


def test_policy_text_round_trip():
    text = ('# deployed by mailtls.postfix\n\n'
            'a.test fingerprint match=%s|%s\n'
            '[mx.b.test]:25 secure match=nexthop:dot-nexthop protocols=>=TLSv1.2\n'
            'c.test encrypt\n' % (PIN_A, PIN_B))
    entries = parse_policy_text(text)
    assert entries == [
        {'destination': 'a.test', 'level': 'fingerprint', 'fingerprints': [PIN_A, PIN_B]},
        {'destination': '[mx.b.test]:25', 'level': 'secure', 'match': ['nexthop:dot-nexthop'], 'protocols': '>=TLSv1.2'},
        {'destination': 'c.test', 'level': 'encrypt'},
    ]
    assert [validate_entry(e)[1] for e in entries] == text.splitlines()[2:]
    with pytest.raises(MailTLSError, match=r"policy map line 2: attribute 'tafile' is not name=value"):
        parse_policy_text('a.test encrypt\nb.test secure tafile\n')
