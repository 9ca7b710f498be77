"""roles/tls/files/mailtls-acme: what it installs, and what it refuses, around the ACME client.

certbot is replaced here by a stand-in CA that signs the CSR it is given (or, to test the guards, returns a
certificate for another key, or fails). The real certbot against the real pebble CA runs in the acme scenario.
"""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'tls', 'files', 'mailtls-acme')

STAND_IN = r'''#!%(python)s
import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1]
with open(os.path.join(os.environ['CA_DIR'], 'calls'), 'a') as f:
    f.write(' '.join(args) + '\n')
mode = os.environ.get('CA_MODE', 'sign')
if mode == 'fail':
    sys.stderr.write('Error: connection refused\n')
    sys.exit(1)
with open(opt('--csr'), 'rb') as f:
    csr = x509.load_pem_x509_csr(f.read())
with open(os.path.join(os.environ['CA_DIR'], 'ca.key'), 'rb') as f:
    ca_key = serialization.load_pem_private_key(f.read(), None)
with open(os.path.join(os.environ['CA_DIR'], 'ca.crt'), 'rb') as f:
    ca = x509.load_pem_x509_certificate(f.read())
public = csr.public_key() if mode == 'sign' else ec.generate_private_key(ec.SECP256R1()).public_key()
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject).public_key(public)
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value, critical=False)
        .sign(ca_key, hashes.SHA256()))
with open(opt('--fullchain-path'), 'wb') as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
'''


@pytest.fixture
def lab(tmp_path, pki):
    ca = pki.issue('Stand-in ACME CA', ca=True, key_type='ec')
    ca_dir = tmp_path / 'ca'
    ca_dir.mkdir()
    (ca_dir / 'ca.key').write_bytes(open(ca.key_path, 'rb').read())
    (ca_dir / 'ca.crt').write_bytes(ca.pem)
    certbot = tmp_path / 'certbot'
    certbot.write_text(STAND_IN % {'python': sys.executable})
    certbot.chmod(0o755)
    tls = tmp_path / 'tls'
    tls.mkdir()
    conf = {'names': ['mx.example.org'], 'chain': str(tls / 'ecdsa.pem'), 'key': str(tls / 'ecdsa.key'),
            'next_key': str(tls / 'ecdsa.next.key'), 'key_type': 'ecdsa', 'directory': 'https://acme.invalid/dir',
            'email': '', 'ca_bundle': '', 'renew_days': 30, 'http_port': 80, 'state_dir': str(tmp_path / 'state'),
            'config_dir': '/etc/postfix', 'certbot': str(certbot)}
    path = tmp_path / 'acme.json'
    path.write_text(json.dumps(conf))

    def run(*args, mode='sign'):
        env = dict(os.environ, CA_DIR=str(ca_dir), CA_MODE=mode)
        proc = subprocess.run([sys.executable, SCRIPT, '--config', str(path)] + list(args), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        assert 'PRIVATE KEY' not in proc.stdout.decode() + proc.stderr.decode()
        return proc.returncode, json.loads(proc.stdout)

    def read(name):
        p = tls / name
        return p.read_bytes() if p.exists() else None

    return run, read, tls, ca_dir


def test_keys_are_made_once_root_only_and_only_pins_come_out(lab):
    run, read, tls, dummy = lab
    rc, out = run('--keys-only', '--check')
    assert rc == 0 and out['changed'] and out['pins'] == [] and read('ecdsa.key') is None
    rc, out = run('--keys-only')
    assert rc == 0 and out['changed'] and len(out['pins']) == 2
    assert oct((tls / 'ecdsa.key').stat().st_mode & 0o777) == '0o600'
    assert oct((tls / 'ecdsa.next.key').stat().st_mode & 0o777) == '0o600'
    rc, again = run('--keys-only')
    assert rc == 0 and not again['changed'] and again['pins'] == out['pins']


def test_issue_install_then_nothing_until_due_with_the_same_key(lab):
    run, read, tls, ca_dir = lab
    rc, out = run('--check')
    assert rc == 0 and out['changed'] and out['status'].startswith('would renew') and read('ecdsa.pem') is None
    rc, out = run()
    assert rc == 0 and out['status'] == 'renewed: no certificate yet', out
    chain = read('ecdsa.pem')
    # the key first, then the certificate and its issuer: smtpd_tls_chain_files order; root only
    assert chain.index(b'PRIVATE KEY') < chain.index(b'BEGIN CERTIFICATE') and chain.count(b'BEGIN CERTIFICATE') == 2
    assert oct((tls / 'ecdsa.pem').stat().st_mode & 0o777) == '0o600'
    rc, fresh = run()
    assert rc == 0 and not fresh['changed'] and fresh['status'] == 'fresh' and fresh['pins'] == out['pins']
    rc, forced = run('--force')
    assert rc == 0 and forced['status'] == 'renewed: forced' and forced['pins'] == out['pins']
    assert read('ecdsa.pem') != chain
    assert (ca_dir / 'calls').read_text().count('certonly') == 2


@pytest.mark.parametrize('mode, text', [
    ('other-key', "the new certificate is not for this host's key: not installed"),
    ('fail', 'certbot failed (exit 1) at https://acme.invalid/dir: Error: connection refused'),
])
def test_a_bad_or_failed_issuance_leaves_the_current_certificate(lab, mode, text):
    run, read, dummy, dummy2 = lab
    assert run()[0] == 0
    chain, key, nxt = read('ecdsa.pem'), read('ecdsa.key'), read('ecdsa.next.key')
    for args in (('--force',), ('--rotate',)):
        rc, out = run(*args, mode=mode)
        assert rc == 1 and out['failed'], out
        assert text in out['msg'] and out['msg'].endswith('(the current certificate stays in place)')
        assert (read('ecdsa.pem'), read('ecdsa.key'), read('ecdsa.next.key')) == (chain, key, nxt)
        assert 'retired' not in out


def test_rotate_makes_the_next_key_current_after_its_certificate_is_issued(lab):
    run, read, dummy, dummy2 = lab
    rc, first = run()
    nxt = read('ecdsa.next.key')
    rc, out = run('--rotate')
    assert rc == 0 and out['status'] == 'renewed: rotated to the next key'
    assert read('ecdsa.key') == nxt and out['pins'][0] == first['pins'][1] and out['pins'][1] not in first['pins']
    # the replaced key's pin, for its TLSA record to stay published a TTL longer; only a rotation names one
    assert out['retired'] == first['pins'][:1] and 'retired' not in first
    assert run()[1]['status'] == 'fresh'
