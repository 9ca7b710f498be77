"""tls_policy_check and tls_host_key as Ansible runs them (a separate process, JSON arguments)."""
import json
import os
import stat
import subprocess
import sys

import pytest

MODULES = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules')


def run(tmp_path, module, args):
    path = tmp_path / ('args-%s.json' % module)
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=os.environ['MAILTLS_UNITS_COLLECTIONS'])
    proc = subprocess.run([sys.executable, os.path.join(MODULES, module + '.py'), str(path)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    return json.loads(proc.stdout)


def test_check_entries_naming_one_destination_twice(tmp_path, pki, smtp_server):
    leaf = pki.issue('mx.check.test', ['mx.check.test'])
    server = smtp_server(issued=leaf)
    dest = '[127.0.0.1]:%d' % server.port
    pin = ':'.join('%02X' % b for b in __import__('hashlib').sha256(leaf.spki).digest())
    result = run(tmp_path, 'tls_policy_check', {
        'entries': [{'destination': dest, 'level': 'fingerprint', 'fingerprints': [pin]},
                    {'destination': dest, 'level': 'fingerprint', 'fingerprints': [':'.join(['00'] * 32)]},
                    {'destination': dest, 'level': 'encrypt'}],
        'posttls_finger': 'never', 'digest': 'sha256', 'timeout': 2, '_ansible_check_mode': True})
    assert result.get('failed') is not True, result
    assert result['judge'] == 'mx_tls_info' and result['changed'] is False
    assert [c['status'] for c in result['checks']] == ['delivers', 'fails']
    assert result['unchecked'] == [dest]
    assert [f['status'] for f in result['failing']] == ['fails']


@pytest.mark.parametrize('args, message', [
    ({'entries': [{'destination': 'a.test', 'level': 'strict'}]}, "entries[0] (a.test): level 'strict' is not one of"),
    ({'entries': [], 'expiry_warn_days': -1}, 'expiry_warn_days: -1 is negative'),
    ({'entries': [], 'posttls_finger': 'sometimes'}, 'value of posttls_finger must be one of: auto, always, never'),
])
def test_check_bad_input(tmp_path, args, message):
    result = run(tmp_path, 'tls_policy_check', args)
    assert result['failed'] is True and message in result['msg']


def test_host_key_lifecycle(tmp_path):
    path, nxt = str(tmp_path / 'ecdsa.pem'), str(tmp_path / 'ecdsa.next.key')
    args = {'path': path, 'next_path': nxt, 'hostnames': ['mx.key.test']}
    planned = run(tmp_path, 'tls_host_key', dict(args, _ansible_check_mode=True))
    assert planned['changed'] is True and not os.path.exists(path) and not os.path.exists(nxt)

    first = run(tmp_path, 'tls_host_key', args)
    assert first['changed'] is True, first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(nxt).st_mode) == 0o600
    current_pin, next_pin = [p['sha256'] for p in first['pins']]
    assert first['certificate']['fingerprints']['pubkey']['sha256'] == current_pin
    assert 'PRIVATE KEY' not in json.dumps(first)
    # the file is key first, then the certificate, as smtpd_tls_chain_files wants
    text = open(path).read()
    assert text.startswith('-----BEGIN PRIVATE KEY-----') and '-----BEGIN CERTIFICATE-----' in text

    again = run(tmp_path, 'tls_host_key', args)
    assert again['changed'] is False and [p['sha256'] for p in again['pins']] == [current_pin, next_pin]
    assert first['retired'] == [] and again['retired'] == []

    rotated = run(tmp_path, 'tls_host_key', dict(args, rotate=True))
    assert rotated['changed'] is True
    assert rotated['pins'][0]['sha256'] == next_pin           # the pinned next key is now in use
    assert rotated['pins'][1]['sha256'] not in (current_pin, next_pin)
    # the replaced key, whose TLSA record stays published for a TTL after the switch
    assert [p['sha256'] for p in rotated['retired']] == [current_pin]
    assert stat.S_IMODE(os.stat(nxt).st_mode) == 0o600


@pytest.mark.parametrize('args, message', [
    ({'hostnames': ['a'], 'rotate': True}, 'rotate: there is no next key'),
    ({'hostnames': ['a'], 'key_bits': 1024, 'key_type': 'rsa'}, 'key_bits: 1024 is below 2048'),
    ({'hostnames': ['a'], 'days': 10, 'renew_days': 10}, 'renew_days from 0 to below days'),
    ({'hostnames': []}, 'needs at least one host name'),
])
def test_host_key_bad_input(tmp_path, args, message):
    result = run(tmp_path, 'tls_host_key', dict(args, path=str(tmp_path / 'k.pem')))
    assert result['failed'] is True and message in result['msg'], result
