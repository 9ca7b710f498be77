"""dns_publish, run as Ansible runs a module, against a real Knot DNS (Debian's knotd, in the bookworm lab image,
on the container's loopback): a zone that Knot signs itself and that takes updates signed with one TSIG key, for
TLSA and TXT only (its ACL). The judge of what the zone holds is Knot's own kdig, not the module's read-back.
Needs the lab image (make lab).
"""
import json

import pytest

from labkit import lab_image_runner
from publish_cases import REFUSALS

SECRET = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI='
OTHER = 'b3RoZXJvdGhlcm90aGVyb3RoZXJvdGhlcm90aGVyMTI='

INNER = r'''
import json, os, subprocess, sys, time
SECRET, OTHER = sys.argv[1], sys.argv[2]
os.makedirs('/var/lib/knot/zones', exist_ok=True)
os.makedirs('/run/knot', exist_ok=True)
for zone in ('pub.test', 'static.test'):
    with open('/var/lib/knot/zones/%s.zone' % zone, 'w') as f:
        f.write('$ORIGIN %s.\n$TTL 60\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n'
                'other TXT "not ours"\n_25._tcp.mx A 127.0.0.2\n' % zone)
with open('/etc/knot/knot.conf', 'w') as f:
    f.write("""server:
  listen: 127.0.0.1@5300
  rundir: /run/knot
key:
  - id: publisher
    algorithm: hmac-sha256
    secret: %s
  - id: other
    algorithm: hmac-sha256
    secret: %s
acl:
  - id: publish
    key: publisher
    action: update
    update-type: [TLSA, TXT]
  - id: other
    key: other
    action: update
    update-type: [A]
policy:
  - id: lab
    algorithm: ecdsap256sha256
template:
  - id: default
    storage: /var/lib/knot/zones
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
zone:
  - domain: pub.test
    dnssec-signing: on
    dnssec-policy: lab
    acl: [publish, other]
  - domain: static.test
""" % (SECRET, OTHER))
knot = subprocess.Popen(['knotd', '-c', '/etc/knot/knot.conf'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(50):
    if subprocess.run(['kdig', '-p', '5300', '@127.0.0.1', '+short', 'pub.test', 'SOA'],
                      capture_output=True, text=True).stdout.strip():
        break
    time.sleep(0.1)


def kdig(name, rdtype):
    out = subprocess.run(['kdig', '-p', '5300', '@127.0.0.1', '+dnssec', '+noall', '+answer', name, rdtype],
                         capture_output=True, text=True).stdout
    return sorted(' '.join(line.split()[3:]) for line in out.splitlines()
                  if line.split()[3:4] == [rdtype] or line.split()[3:4] == ['RRSIG'])


def run(args, check=False, diff=True):
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    p = subprocess.run([sys.executable, '/src/ansible_collections/mailtls/postfix/plugins/modules/dns_publish.py'],
                       input=json.dumps({'ANSIBLE_MODULE_ARGS': args}), capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH='/src'))
    return {'result': json.loads(p.stdout), 'raw': p.stdout + p.stderr}


cases = json.loads(open('/work/cases.json').read())
out = {}
for name, case in cases:
    got = run(case['args'], case.get('check', False))
    got['zone'] = {n + ' ' + t: kdig(n, t) for n, t in case.get('look', [])}
    out[name] = got
# a concurrent edit between the read and the update: the prerequisite refuses it
sys.path.insert(0, '/src')
from ansible_collections.mailtls.postfix.plugins.module_utils import _publish
zone = _publish.zone_name('pub.test')
key = _publish.tsig_key('publisher', SECRET)
want = _publish.wanted_sets([{'name': 'race.pub.test', 'type': 'TXT', 'values': ['mine']}], zone)
server = _publish.Server('127.0.0.1:5300', zone, key)
held = server.read(want)
_publish.publish('127.0.0.1:5300', 'pub.test', [{'name': 'race.pub.test', 'type': 'TXT', 'values': ['theirs']}],
                 key_name='publisher', key_secret=SECRET)
try:
    server.send(_publish.update_message(zone, _publish.difference(want, held), key))
    out['race'] = {'error': None}
except _publish.PublishError as e:
    out['race'] = {'error': str(e)}
out['race']['zone'] = kdig('race.pub.test', 'TXT')
knot.terminate()
print(json.dumps(out))
'''

TLSA_A = '3 1 1 ' + 'ab' * 32
TLSA_B = '3 1 1 ' + 'cd' * 32
LONG = 'v=TLSRPTv1; rua=' + ','.join('mailto:tlsrpt%d@pub.test' % i for i in range(12))
BASE = {'server': '127.0.0.1:5300', 'zone': 'pub.test', 'key_name': 'publisher', 'key_secret': SECRET}
RECORDS = [
    {'name': '_25._tcp.mx.pub.test', 'type': 'TLSA', 'ttl': 60, 'values': [TLSA_A, TLSA_B]},
    {'name': '_smtp._tls.pub.test.', 'type': 'TXT', 'ttl': 60, 'values': [LONG]},
]
LOOK = [['_25._tcp.mx.pub.test', 'TLSA'], ['_smtp._tls.pub.test', 'TXT'], ['other.pub.test', 'TXT'],
        ['_25._tcp.mx.pub.test', 'A']]
CASES = [
    ('check-first', {'args': dict(BASE, records=RECORDS), 'check': True, 'look': LOOK}),
    ('publish', {'args': dict(BASE, records=RECORDS), 'look': LOOK}),
    ('again', {'args': dict(BASE, records=RECORDS)}),
    ('check-again', {'args': dict(BASE, records=RECORDS), 'check': True}),
    ('drop-one', {'args': dict(BASE, records=[dict(RECORDS[0], values=[TLSA_B])]), 'look': LOOK}),
    ('unknown-key', {'args': dict(BASE, key_name='nokey', records=RECORDS[:1])}),
    ('wrong-secret', {'args': dict(BASE, key_secret=OTHER, records=RECORDS[:1])}),
    ('key-not-allowed', {'args': dict(BASE, key_name='other', key_secret=OTHER, records=RECORDS[:1])}),
    ('unsigned', {'args': dict(server='127.0.0.1:5300', zone='pub.test', records=RECORDS[:1])}),
    ('not-authoritative', {'args': dict(BASE, zone='elsewhere.test', records=[
        {'name': 'x.elsewhere.test', 'type': 'TXT', 'values': ['a']}])}),
    ('no-updates', {'args': dict(BASE, zone='static.test', records=[
        {'name': 'x.static.test', 'type': 'TXT', 'values': ['a']}])}),
    ('server-down', {'args': dict(BASE, server='127.0.0.1:5301', timeout=2, records=RECORDS[:1])}),
    ('outside-zone', {'args': dict(BASE, records=[{'name': 'mx.other.test', 'type': 'TXT', 'values': ['a']}])}),
    ('secret-not-base64', {'args': dict(BASE, key_secret='not base64 %s!' % SECRET[:8], records=RECORDS[:1])}),
    ('bad-tlsa', {'args': dict(BASE, records=[dict(RECORDS[0], values=['3 1 1 xyz'])])}),
    ('remove', {'args': dict(BASE, records=[dict(r, values=[]) for r in RECORDS]), 'look': LOOK}),
]


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp('publish')
    (work / 'inner.py').write_text(INNER)
    (work / 'cases.json').write_text(json.dumps(CASES))
    return lab_image_runner(work)(SECRET, OTHER)


def _data(lines, rdtype):
    return sorted(line for line in lines if line.startswith(rdtype + ' '))


def test_check_mode_reports_and_sends_nothing(results):
    got = results['check-first']
    assert got['result']['changed'] is True
    assert got['result']['rcode'] is None
    assert '_25._tcp.mx.pub.test. 60 IN TLSA ' + TLSA_A in got['result']['diff']['after']
    assert got['zone']['_25._tcp.mx.pub.test TLSA'] == []


def test_one_update_publishes_every_set_signed_by_knot_and_leaves_the_rest(results):
    got = results['publish']
    assert got['result']['changed'] is True
    assert got['result']['rcode'] == 'NOERROR'
    zone = got['zone']
    assert _data(zone['_25._tcp.mx.pub.test TLSA'], 'TLSA') == sorted(
        'TLSA ' + v.upper() for v in (TLSA_A, TLSA_B))
    # Knot signs what the update added (an RRSIG over the TLSA set)
    assert any(line.startswith('RRSIG TLSA 13 ') for line in zone['_25._tcp.mx.pub.test TLSA'])
    # the long TXT is split into 255-octet strings, read back joined
    txt = _data(zone['_smtp._tls.pub.test TXT'], 'TXT')
    assert len(txt) == 1 and txt[0].replace('" "', '').strip('TX "') == LONG
    # other names and types stay
    assert _data(zone['other.pub.test TXT'], 'TXT') == ['TXT "not ours"']
    assert _data(zone['_25._tcp.mx.pub.test A'], 'A') == ['A 127.0.0.2']


@pytest.mark.parametrize('case', ['again', 'check-again'])
def test_a_second_run_changes_nothing(results, case):
    assert results[case]['result']['changed'] is False
    assert results[case]['result']['changes'] == []
    assert 'diff' not in results[case]['result']


def test_a_value_dropped_from_a_set(results):
    got = results['drop-one']
    assert got['result']['changes'] == [{'name': '_25._tcp.mx.pub.test.', 'type': 'TLSA',
                                         'before': sorted([TLSA_A, TLSA_B]), 'after': [TLSA_B]}]
    assert _data(got['zone']['_25._tcp.mx.pub.test TLSA'], 'TLSA') == ['TLSA ' + TLSA_B.upper()]


def test_removing_the_sets(results):
    got = results['remove']
    assert got['result']['changed'] is True
    assert got['zone']['_25._tcp.mx.pub.test TLSA'] == []
    assert got['zone']['_smtp._tls.pub.test TXT'] == []
    assert _data(got['zone']['other.pub.test TXT'], 'TXT') == ['TXT "not ours"']


@pytest.mark.parametrize('case, bad, message', REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_name_zone_server_and_code_and_change_nothing(results, case, bad, message):
    result = results[case]['result']
    assert result.get('failed') is True
    assert message in result['msg']
    if case not in ('outside-zone', 'secret-not-base64', 'bad-tlsa'):  # refused before asking the server
        assert result['msg'].endswith('nothing was changed')


def test_no_secret_in_any_output(results):
    for name, got in results.items():
        if name == 'race':
            continue
        assert SECRET not in got['raw'] and OTHER not in got['raw'] and SECRET[:8] not in got['raw'], name


def test_a_concurrent_edit_is_refused_not_overwritten(results):
    assert 'the update was answered YXRRSET: the zone changed since it was read' in results['race']['error']
    assert _data(results['race']['zone'], 'TXT') == ['TXT "theirs"']
