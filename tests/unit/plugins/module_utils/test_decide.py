"""The decide stage: recommendations from probe facts, and the merge of probe, fleet self-pins and explicit entries."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._decide import decide, recommend, sts_attributes_for
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import parse_nexthop
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry

PIN_A = ':'.join(['AA'] * 32)
PIN_B = ':'.join(['BB'] * 32)


def by_key(items):
    return dict((i['destination'], i) for i in items)


def endpoint(hostname, error=None, cert=True, chain=True, name=True, pin='AA'):
    return {'hostname': hostname, 'address': '192.0.2.1', 'error': error,
            'certificate': {} if cert else None, 'chain_verified': chain, 'name_verified': name,
            'verify_error': None if chain else 'self-signed certificate',
            'fingerprints': {'pubkey': {'sha256': ':'.join([pin] * 32)}, 'cert': {'sha256': ':'.join([pin] * 31 + ['CC'])}}}


@pytest.mark.parametrize('endpoints, level', [
    ([endpoint('a'), endpoint('b')], 'secure'),
    ([endpoint('a'), endpoint('b', chain=False, pin='BB')], 'fingerprint'),
    ([endpoint('a'), endpoint('b', name=False, pin='BB')], 'fingerprint'),
    ([endpoint('a'), endpoint('b', error='timeout waiting for banner', cert=False)], 'encrypt'),
    ([endpoint('a'), endpoint('b', error='STARTTLS not offered', cert=False)], 'may'),
    ([endpoint('a', error='connection refused', cert=False)], 'may'),
    ([], 'may'),
])
def test_recommendation_table(endpoints, level):
    policy, line = recommend(parse_nexthop('example.com'), endpoints)
    assert policy['level'] == level
    assert line.startswith('example.com ' + level)
    assert policy['reason']


def test_fingerprint_pins_every_distinct_key_once():
    endpoints = [endpoint('a', chain=False, pin='AA'), endpoint('a6', chain=False, pin='AA'), endpoint('b', chain=False, pin='BB')]
    policy, line = recommend(parse_nexthop('example.com'), endpoints)
    assert policy['fingerprints'] == [PIN_A, PIN_B]
    assert line == 'example.com fingerprint match=%s|%s' % (PIN_A, PIN_B)
    assert policy['digest'] == 'sha256' and policy['pin'] == 'pubkey'


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
        assert PolicyEntry.from_dict(entry).as_dict() == entry


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
