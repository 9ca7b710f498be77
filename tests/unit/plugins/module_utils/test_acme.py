"""module_utils/_acme.py, run as the scheduled renewal runs it: /usr/local/sbin/mailtls-acme (``entry_point``) and
the module_utils files it imports, installed with ``program_files`` into a directory of their own, started
without Ansible. What it installs, and what it refuses, around the ACME client.

certbot is replaced here by a stand-in CA that signs the CSR it is given (or, to test the guards, returns a
certificate for another key, or fails). The real certbot against the real pebble CA runs in the acme scenario,
through the module tls_acme_certificate and through the timer's command line.
"""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._acme import (
    PROGRAM_FILES, entry_point, program_files, settings_for)
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

MODULE_UTILS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'module_utils')

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
public = ec.generate_private_key(ec.SECP256R1()).public_key() if mode == 'other-key' else csr.public_key()
san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
if mode == 'other-names':
    san = x509.SubjectAlternativeName([x509.DNSName('other.example.org')])
now = datetime.datetime.utcnow()
start = now + datetime.timedelta(days=2) if mode == 'not-yet-valid' else now - datetime.timedelta(minutes=1)
cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject).public_key(public)
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(san, critical=False)
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
    # the settings as the role writes them (the module computes the same), with the stand-in certbot
    conf = settings_for('ecdsa', ['mx.example.org'], str(tls), str(tmp_path / 'state'), '/etc/postfix',
                        'https://acme.invalid/dir', next_key=True)
    conf['certbot'] = str(certbot)
    path = tmp_path / 'acme.json'
    path.write_text(json.dumps(conf))
    # the program as the role installs it: the entry point and the module_utils files it runs, nothing else
    lib = tmp_path / 'lib'
    sources = dict((n, open(os.path.join(MODULE_UTILS, n)).read()) for n in PROGRAM_FILES)
    for f in program_files(sources, str(lib)):
        os.makedirs(os.path.dirname(f['path']), exist_ok=True)
        with open(f['path'], 'w') as out:
            out.write(f['content'])
    script = tmp_path / 'mailtls-acme'
    script.write_text(entry_point(str(lib)))

    def run(*args, mode='sign'):
        # a clean environment: the collection is found only through the installed copy
        env = {'PATH': os.environ['PATH'], 'CA_DIR': str(ca_dir), 'CA_MODE': mode}
        proc = subprocess.run([sys.executable, '-I', str(script), '--config', str(path)] + list(args), env=env,
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
    assert rc == 0 and out['changed'] and len(out['pins']) == 2 and all(set(p) == {'sha256', 'sha1', 'md5'} for p in out['pins'])
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
    ('other-key', 'the new certificate fails its check, not installed: the private key does not match the first certificate'),
    ('other-names', 'the new certificate does not name mx.example.org: not installed'),
    ('not-yet-valid', 'the new certificate is not valid now'),
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


def test_the_installed_program_imports_only_what_is_installed_with_it():
    # the timer runs on hosts without Ansible: the program may import the standard library, cryptography and
    # its own files, nothing else of the collection or of ansible
    import ast
    for name in PROGRAM_FILES:
        tree = ast.parse(open(os.path.join(MODULE_UTILS, name)).read())
        for node in ast.walk(tree):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            for module in modules:
                assert not module.startswith('ansible.'), (name, module)
                if module.startswith('ansible_collections.'):
                    assert module.rsplit('.', 1)[1] + '.py' in PROGRAM_FILES, (name, module)


def test_a_missing_settings_file_fails_with_the_reason(lab, tmp_path):
    run, dummy, dummy2, dummy3 = lab
    proc = subprocess.run([sys.executable, str(tmp_path / 'mailtls-acme'), '--config', str(tmp_path / 'nothing.json')],
                          stdout=subprocess.PIPE, check=False)
    out = json.loads(proc.stdout)
    assert proc.returncode == 1 and out['failed'] and 'nothing.json' in out['msg']


@pytest.mark.parametrize('kwargs, message', [
    ({'directory': ''}, "the ACME directory must be an https:// URL (postfix_tls_acme_directory), not ''"),
    ({'hostnames': []}, 'needs at least one host name'),
    ({'key_type': 'dsa'}, "key_type 'dsa' is not one of ecdsa, rsa"),
    ({'renew_days': 0}, 'renew_days must be a whole number from 1 to 365, not 0'),
    ({'http_port': 70000}, 'http_port must be a whole number from 1 to 65535, not 70000'),
    ({'name': 'a/b'}, 'a name must be given and must not contain "/"'),
    ({'challenge': 'tls-alpn-01'}, "challenge 'tls-alpn-01' is not one of http-01, dns-01"),
    ({'challenge': 'dns-01', 'dns_propagation_seconds': -1}, 'dns_propagation_seconds must be a whole number from 0 to 3600'),
])
def test_bad_settings_name_the_setting(kwargs, message):
    args = dict(name='ecdsa', hostnames=['mx.example.org'], cert_dir='/etc/postfix/tls', state_dir='/var/lib/x',
                config_dir='/etc/postfix', directory='https://acme.example/dir')
    args.update(kwargs)
    with pytest.raises(MailTLSError) as e:
        settings_for(**args)
    assert message in str(e.value)


def test_rotate_without_a_next_key_is_refused(lab):
    run, read, dummy, dummy2 = lab
    assert run()[0] == 0
    chain = read('ecdsa.pem')
    os.unlink(str(dummy / 'ecdsa.next.key'))
    rc, out = run('--rotate')
    assert rc == 1 and 'rotate: there is no next key at' in out['msg'] and read('ecdsa.pem') == chain


def test_dns01_asks_certbot_for_its_rfc2136_plugin_with_the_credentials_file(lab, tmp_path):
    run, read, tls, ca_dir = lab
    conf = json.loads((tmp_path / 'acme.json').read_text())
    conf.update(settings_for('ecdsa', ['mx.example.org'], str(tls), str(tmp_path / 'state'), '/etc/postfix',
                             'https://acme.invalid/dir', next_key=True, challenge='dns-01', dns_propagation_seconds=6))
    (tmp_path / 'acme.json').write_text(json.dumps(conf))
    rc, out = run()
    assert rc == 0 and out['status'] == 'renewed: no certificate yet', out
    call = (ca_dir / 'calls').read_text().split()
    # certbot's own option names (certbot-dns-rfc2136): no standalone server, no http port
    assert call[call.index('--authenticator') + 1] == 'dns-rfc2136'
    assert call[call.index('--preferred-challenges') + 1] == 'dns'
    assert call[call.index('--dns-rfc2136-credentials') + 1] == str(tmp_path / 'state' / 'acme-ecdsa' / 'rfc2136.ini')
    assert call[call.index('--dns-rfc2136-propagation-seconds') + 1] == '6'
    assert '--standalone' not in call and '--http-01-port' not in call


def test_the_credentials_are_certbots_ini_and_checked_like_the_publisher():
    import configparser
    from ansible_collections.mailtls.postfix.plugins.module_utils._publish import certbot_credentials
    secret = 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI='
    text = certbot_credentials('192.0.2.53:5300', 'mailtls-publisher', secret)
    parsed = configparser.ConfigParser()
    # certbot reads it with configobj as key = value lines without a section
    parsed.read_string('[certbot]\n' + text)
    assert dict(parsed['certbot']) == {
        'dns_rfc2136_server': '192.0.2.53', 'dns_rfc2136_port': '5300', 'dns_rfc2136_name': 'mailtls-publisher',
        'dns_rfc2136_secret': secret, 'dns_rfc2136_algorithm': 'HMAC-SHA256'}
    for args, message in [(('192.0.2.53', '', ''), 'needs the zone\'s server and a TSIG key'), (('', 'k', 'c2Vj'), 'postfix_tls_publish with server'),
                          (('192.0.2.53', 'k', 'not base64!'), 'is not base64'),
                          (('mx.example', 'k', secret), 'is not an IP address')]:
        with pytest.raises(MailTLSError) as e:
            certbot_credentials(*args)
        assert message in str(e.value) and secret not in str(e.value)
