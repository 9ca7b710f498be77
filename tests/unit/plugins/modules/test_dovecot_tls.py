"""dovecot_tls in the lab images, with Debian's own Dovecot: 2.3.13 (Debian 11), 2.3.19 (Debian 12) and 2.4.1
(Debian 13). The module runs as Ansible runs it (a process with JSON arguments) inside each image; the judges are
Dovecot's own doveconf (-n, and the values it reports in effect) and the files left behind.

Each run in a fresh container: chain files made with openssl (RSA and ECDSA, key first), the role's profile
table's intermediate entry; then the bad inputs - a chain whose key is another's, Dovecot not installed (its
programs moved away) and a profile that needs a setting this Dovecot does not have - each refused with its
reason and nothing written, as is a configuration already broken before the change - and a fault after
writing (a drop-in dovecot.conf does not read): put back, Dovecot still serving. tests/unit/dovecot_cases.py lists
them for docs/bad-inputs.md.
"""
import json

import pytest

import roledata
from dovecot_cases import FAULTS
from labkit import inner_work, lab_image_runner

IMAGES = {'2.3.13': 'localhost/mailtls-lab:bullseye', '2.3.19': 'localhost/mailtls-lab:bookworm',
          '2.4.1': 'localhost/mailtls-lab:trixie'}

INNER = r'''
import json, os, subprocess, sys
env = dict(os.environ, PYTHONPATH='/src')
mod = '/src/ansible_collections/mailtls/postfix/plugins/modules/dovecot_tls.py'
def module(args):
    with open('/tmp/args.json', 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, f)
    p = subprocess.run([sys.executable, mod, '/tmp/args.json'], capture_output=True, text=True, env=env)
    return json.loads(p.stdout)
def sh(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True)
# what the lab's init does first (Debian's dovecot.conf serves the snakeoil certificate until the role's file)
sh('make-ssl-cert', 'generate-default-snakeoil', '--force-overwrite')
os.makedirs('/etc/postfix/tls', exist_ok=True)
for name, alg in (('rsa', ['-newkey', 'rsa:2048']), ('ecdsa', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])):
    sh('openssl', 'req', '-x509', *alg, '-nodes', '-keyout', '/tmp/k.pem', '-out', '/tmp/c.pem', '-days', '30', '-subj', '/CN=mx.example')
    with open('/etc/postfix/tls/%s.pem' % name, 'w') as f:
        f.write(open('/tmp/k.pem').read() + open('/tmp/c.pem').read())
    os.chmod('/etc/postfix/tls/%s.pem' % name, 0o600)
    if name == 'rsa':
        # a chain whose key is not its certificate's: the ECDSA key comes below
        rsa_cert = open('/tmp/c.pem').read()
# Dovecot runs before the role, on Debian's configuration (it daemonizes: its output goes nowhere, or the pipes
# would stay open)
subprocess.run(['dovecot'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
profile = json.loads(sys.argv[1])
certs = ['/etc/postfix/tls/rsa.pem', '/etc/postfix/tls/ecdsa.pem']
out = {}
out['first'] = module({'profile': profile, 'certificates': certs, 'ports': {'imap': True, 'imaps': True, 'pop3': False, 'pop3s': True}, '_ansible_diff': True})
out['file'] = open('/etc/dovecot/conf.d/99-mailtls-tls.conf').read()
out['doveconf_n'] = sh('doveconf', '-n').returncode
out['effective'] = sh('doveconf', 'ssl', 'ssl_min_protocol', 'disable_plaintext_auth', 'auth_allow_cleartext', 'ssl_curve_list').stdout
out['second'] = module({'profile': profile, 'certificates': certs, 'ports': {'imap': True, 'imaps': True, 'pop3': False, 'pop3s': True}})
# Dovecot itself, which the first run restarted (it ran before, without OPENSSL_CONF): which signature algorithms
# its 993 takes with TLS 1.2 (OpenSSL's own client offering one algorithm at a time)
import time
for i in range(50):
    if sh('sh', '-c', 'echo | timeout 5 openssl s_client -connect 127.0.0.1:993 -brief').returncode == 0:
        break
    time.sleep(0.2)
out['sigalgs'] = {}
for alg in ('RSA+SHA224', 'RSA+SHA1', 'ECDSA+SHA224', 'rsa_pss_rsae_sha256', 'ECDSA+SHA256'):
    r = sh('sh', '-c', 'echo | timeout 10 openssl s_client -connect 127.0.0.1:993 -tls1_2 -sigalgs %s -brief' % alg)
    out['sigalgs'][alg] = r.returncode == 0
out['openssl_cnf'] = open('/etc/dovecot/mailtls-openssl.cnf').read()
# the ACME timer's renewal reloads Dovecot where the role serves the renewed chain (its state file lists it)
sys.path.insert(0, '/src')
from ansible_collections.mailtls.postfix.plugins.module_utils import _acme
os.makedirs('/var/lib/mailtls-postfix/acme-rsa', exist_ok=True)
with open('/var/lib/mailtls-postfix/dovecot-tls.json', 'w') as f:
    json.dump({'certificates': {'/etc/postfix/tls/rsa.pem': 'old', '/etc/postfix/tls/ecdsa.pem': 'old'}}, f)
pid_before = open('/run/dovecot/master.pid').read()
out['acme_reload'] = _acme._reload_dovecot({'state_dir': '/var/lib/mailtls-postfix/acme-rsa', 'chain': '/etc/postfix/tls/rsa.pem'}, _acme.run_argv)
out['acme_state'] = json.load(open('/var/lib/mailtls-postfix/dovecot-tls.json'))['certificates']
out['acme_other'] = _acme._reload_dovecot({'state_dir': '/var/lib/mailtls-postfix/acme-x', 'chain': '/etc/postfix/tls/x.pem'}, _acme.run_argv)
time.sleep(1)
out['master_same'] = open('/run/dovecot/master.pid').read() == pid_before and sh('kill', '-0', pid_before.strip()).returncode == 0
# a fault after writing: a drop-in that dovecot.conf does not include (its settings are not in effect) - put back,
# the running Dovecot reloaded on the previous configuration and still serving TLS 1.2 on 993
modern = json.loads(sys.argv[2])
out['fault'] = module({'profile': modern, 'certificates': certs, 'config_file': '/etc/dovecot/99-not-included.conf'})
out['fault_left'] = os.path.exists('/etc/dovecot/99-not-included.conf')
time.sleep(1)
out['fault_serving'] = sh('sh', '-c', 'echo | timeout 10 openssl s_client -connect 127.0.0.1:993 -tls1_2 -brief').returncode == 0 \
    and sh('kill', '-0', open('/run/dovecot/master.pid').read().strip()).returncode == 0
subprocess.run(['doveadm', 'stop'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.unlink('/etc/dovecot/conf.d/99-mailtls-tls.conf')
with open('/etc/postfix/tls/mixed.pem', 'w') as f:
    f.write(open('/tmp/k.pem').read() + rsa_cert)
out['mismatch'] = module({'profile': profile, 'certificates': ['/etc/postfix/tls/mixed.pem']})
out['three'] = module({'profile': profile, 'certificates': certs + ['/etc/postfix/tls/rsa.pem']})
# a configuration already broken before the change (an operator's file with a setting this Dovecot does not know)
with open('/etc/dovecot/conf.d/50-broken.conf', 'w') as f:
    f.write('mailtls_no_such_setting = yes\n')
out['broken'] = module({'profile': profile, 'certificates': certs})
out['broken_left'] = os.path.exists('/etc/dovecot/conf.d/99-mailtls-tls.conf')
os.unlink('/etc/dovecot/conf.d/50-broken.conf')
os.rename('/usr/bin/doveconf', '/usr/bin/doveconf.away')
out['missing'] = module({'profile': profile, 'certificates': certs})
out['left'] = os.path.exists('/etc/dovecot/conf.d/99-mailtls-tls.conf')
print(json.dumps(out))
'''


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    return inner_work(tmp_path_factory, 'dovecot-tls', INNER)


@pytest.mark.parametrize('version', sorted(IMAGES))
def test_dovecot_tls_in_each_debian(work, version):
    profile = roledata.profiles()['intermediate']
    got = lab_image_runner(work, IMAGES[version])(json.dumps(profile), json.dumps(roledata.profiles()['modern']))
    first = got['first']
    assert not first.get('failed'), first
    assert first['changed'] is True and first['version'].startswith(version)
    v24 = version.startswith('2.4')
    cert, cleartext = ('ssl_server_cert_file', 'auth_allow_cleartext') if v24 else ('ssl_cert', 'disable_plaintext_auth')
    # the names of this version, the files as this version reads them (2.3: '<path', its content)
    assert first['settings'][cert] == ('' if v24 else '<') + '/etc/postfix/tls/rsa.pem'
    assert first['settings'][cleartext] == ('no' if v24 else 'yes')
    assert ('ssl_server_alt_key_file' if v24 else 'ssl_alt_key') in first['settings']
    assert first['listening'] == [143, 993, 995]
    assert 'inet_listener pop3 {\n    port = 0\n' in got['file'] and 'inet_listener pop3s {\n    port = 995\n    ssl = yes' in got['file']
    # Dovecot's own word: the whole configuration parses, and the values in effect are the role's
    assert got['doveconf_n'] == 0
    assert 'ssl = required' in got['effective'] and 'ssl_min_protocol = TLSv1.2' in got['effective']
    assert ('auth_allow_cleartext = no' if v24 else 'disable_plaintext_auth = yes') in got['effective']
    # the hybrid group only where the linked OpenSSL has it (3.5, Debian 13)
    assert ('X25519MLKEM768' in got['effective']) is v24
    # the running Dovecot was restarted once (its master had no OPENSSL_CONF), then left alone
    assert first['restarted'] is True and first['reloaded'] is True
    assert got['second']['changed'] is False and 'restarted' not in got['second']
    # nothing of the profile is left undone: no list of what this Dovecot cannot do is returned
    assert 'unsupported' not in first
    # the profile's signature algorithms, through OPENSSL_CONF: no SHA-1, no SHA-224 (OpenSSL's client is the judge)
    assert 'import_environment' in got['file'] and 'SignatureAlgorithms = ' in got['openssl_cnf']
    # the timer's renewal reloaded the running Dovecot (same master, alive) and recorded the new digest; a chain the
    # role does not serve reloads nothing
    assert got['acme_reload'] is True and got['master_same'] is True
    assert got['acme_state']['/etc/postfix/tls/rsa.pem'] != 'old' and got['acme_state']['/etc/postfix/tls/ecdsa.pem'] == 'old'
    assert got['acme_other'] is False
    assert '/etc/dovecot/99-not-included.conf was removed again and Dovecot keeps serving' in got['fault']['msg']
    assert got['fault_left'] is False and got['fault_serving'] is True
    assert got['sigalgs'] == {'RSA+SHA224': False, 'RSA+SHA1': False, 'ECDSA+SHA224': False,
                              'rsa_pss_rsae_sha256': True, 'ECDSA+SHA256': True}
    # bad inputs and faults (docs/bad-inputs.md): each refused with the documented reason; nothing written where
    # the module refused before writing
    for key, dummy, message, dummy2 in FAULTS:
        assert got[key]['failed'] and message in got[key]['msg'], (key, got[key])
    assert got['three']['failed'] and 'at most two' in got['three']['msg']
    assert 'mailtls_no_such_setting' in got['broken']['msg'] and '50-broken.conf' in got['broken']['msg']
    assert got['left'] is False and got['broken_left'] is False
    assert 'PRIVATE KEY' not in json.dumps(got)
