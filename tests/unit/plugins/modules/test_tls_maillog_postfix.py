"""tls_maillog against a real Postfix configuration, in a lab container (Postfix 3.7, bookworm).

The module runs as Ansible runs it (a process fed JSON arguments) in the bookworm lab image with a
relayhost, a transport map that sends one domain tree to a gateway, and a TLS policy map with a parent
domain entry. The judge of the next hops and the levels is Postfix: ``postmap -q`` of the same keys, in
the order transport(5) and postconf(5) give. Needs the lab image (make lab); without it the test fails
and says so.
"""
import json

import pytest

from labkit import lab_image_runner

TRANSPORT = """\
.corp.example      smtp:[gw.corp.example]:2525
local.example      local:
bare.example       smtp:
"""
POLICY = """\
[relay.example]:587   secure match=relay.example
[gw.corp.example]:2525 encrypt
.partner.example      verify
"""
TLS = '{t} TLS connection established to {mx}: {proto} with cipher {cipher} (256/256 bits)'
DELIVERY = '{qid}: to=<{rcpt}>, relay={mx}, delay=1, delays=0/0/0/1, dsn={dsn}, status={status} ({why})'
RELAY, GW = 'relay.example[192.0.2.1]:587', 'gw.corp.example[192.0.2.2]:2525'
LOG = '\n'.join('Dec 01 10:00:0%d mx postfix/smtp[%d]: %s' % (i // 2, 10 + i // 2, line) for i, line in enumerate([
    TLS.format(t='Verified', mx=RELAY, proto='TLSv1.3', cipher='TLS_AES_256_GCM_SHA384'),
    DELIVERY.format(qid='A1', rcpt='a@anywhere.example', mx=RELAY, dsn='2.0.0', status='sent', why='250 2.0.0 Ok'),
    TLS.format(t='Untrusted', mx=GW, proto='TLSv1.2', cipher='ECDHE-RSA-AES256-GCM-SHA384'),
    DELIVERY.format(qid='A2', rcpt='b@sales.corp.example', mx=GW, dsn='2.0.0', status='sent', why='250 2.0.0 Ok'),
    TLS.format(t='Verified', mx=RELAY, proto='TLSv1.3', cipher='TLS_AES_256_GCM_SHA384'),
    DELIVERY.format(qid='A3', rcpt='c@www.partner.example', mx=RELAY, dsn='2.0.0', status='sent', why='250 2.0.0 Ok'),
    # process 13 logs no TLS line: a connection that failed before TLS
    'connect to relay.example[192.0.2.1]:587: Connection timed out',
    DELIVERY.format(qid='A4', rcpt='d@bare.example', mx=RELAY, dsn='4.4.2', status='deferred', why='lost connection'),
])) + '\n' + '\n'.join('Dec 01 10:00:04 mx postfix/smtp[14]: ' + line for line in [
    # one message, one session, two recipient domains that both go to the relayhost: one message for its row
    TLS.format(t='Verified', mx=RELAY, proto='TLSv1.3', cipher='TLS_AES_256_GCM_SHA384'),
    DELIVERY.format(qid='A5', rcpt='e@anywhere.example', mx=RELAY, dsn='2.0.0', status='sent', why='250 2.0.0 Ok'),
    DELIVERY.format(qid='A5', rcpt='f@www.partner.example', mx=RELAY, dsn='2.0.0', status='sent', why='250 2.0.0 Ok'),
]) + '\n'

# runs inside the container: Postfix's settings, the maps, the module, then postmap -q of every key
INNER = r'''
import json, os, subprocess, sys
for name in ('transport', 'tls_policy'):
    subprocess.run(['cp', '/work/' + name, '/etc/postfix/' + name], check=True)
    subprocess.run(['postmap', 'hash:/etc/postfix/' + name], check=True)
subprocess.run(['postconf', '-e', 'relayhost=[relay.example]:587', 'transport_maps=hash:/etc/postfix/transport',
                'smtp_tls_policy_maps=hash:/etc/postfix/tls_policy', 'smtp_tls_security_level=may',
                'maillog_file=/var/log/postfix.log'], check=True)
subprocess.run(['cp', '/work/mail.log', '/var/log/postfix.log'], check=True)
out = {}
p = subprocess.run([sys.executable, '/src/ansible_collections/mailtls/postfix/plugins/modules/tls_maillog.py',
                    '/work/args.json'], capture_output=True, text=True, env=dict(os.environ, PYTHONPATH='/src'))
out['module'] = json.loads(p.stdout)
out['postmap'] = {}
for table in ('transport', 'tls_policy'):
    for key in json.loads(sys.argv[1]):
        q = subprocess.run(['postmap', '-q', key, 'hash:/etc/postfix/' + table], capture_output=True, text=True)
        out['postmap'][table + ' ' + key] = q.stdout.strip() if q.returncode == 0 else None
print(json.dumps(out))
'''


@pytest.fixture(scope='module')
def run_in_postfix(tmp_path_factory):
    work = tmp_path_factory.mktemp('maillog')
    (work / 'transport').write_text(TRANSPORT)
    (work / 'tls_policy').write_text(POLICY)
    (work / 'mail.log').write_text(LOG)
    (work / 'inner.py').write_text(INNER)
    # no paths: the module finds maillog_file itself
    (work / 'args.json').write_text(json.dumps({'ANSIBLE_MODULE_ARGS': {'_ansible_check_mode': True}}))
    run = lab_image_runner(work)
    return lambda keys: run(json.dumps(keys))


def test_next_hops_and_levels_are_the_ones_postfix_finds(run_in_postfix):
    keys = ['anywhere.example', '.example', 'sales.corp.example', '.corp.example', 'www.partner.example',
            '.partner.example', 'bare.example', '[relay.example]:587', '[gw.corp.example]:2525']
    out = run_in_postfix(keys)
    module, postmap = out['module'], out['postmap']
    assert module.get('failed') is not True, module
    assert module['changed'] is False
    hops = dict((h['nexthop'], h) for h in module['nexthops'])
    # transport(5): sales.corp.example has no entry of its own, its parent .corp.example names the gateway
    assert postmap['transport sales.corp.example'] is None
    assert postmap['transport .corp.example'] == 'smtp:[gw.corp.example]:2525'
    assert hops['[gw.corp.example]:2525']['domains'] == ['sales.corp.example']
    # an entry without a next hop (bare.example) and no entry at all: the relayhost
    assert postmap['transport bare.example'] == 'smtp:'
    assert sorted(hops['[relay.example]:587']['domains']) == ['anywhere.example', 'bare.example', 'www.partner.example']
    assert set(hops) == {'[relay.example]:587', '[gw.corp.example]:2525'}
    # the levels: each next hop's own policy entry, as postmap -q finds it
    assert postmap['tls_policy [relay.example]:587'].split()[0] == hops['[relay.example]:587']['level'] == 'secure'
    assert postmap['tls_policy [gw.corp.example]:2525'] == hops['[gw.corp.example]:2525']['level'] == 'encrypt'
    # A1, A3 and A5 (two domains behind the relay, one session): three messages, not four
    assert hops['[relay.example]:587']['delivered'] == 3
    assert hops['[relay.example]:587']['classes'] == {'verified': 3, 'unauthenticated': 0, 'clear': 0}
    assert module['totals']['delivered'] == 4
    assert hops['[relay.example]:587']['deferred'] == 1
    assert hops['[gw.corp.example]:2525']['tls']['Untrusted'] == 1
    assert module['files'][0]['path'] == '/var/log/postfix.log' and module['default_level'] == 'may'
