"""tls_apply, run as Ansible runs a module, inside the bookworm lab image (Postfix 3.7): the plan applied in one call.

Three runs on one container: the first writes a chain file, the policy map, a plain file and main.cf, and takes
the snapshot before its first write; the second finds nothing to do, writes nothing and takes no snapshot (the
snapshot directory keeps the first run's record and its mtime); the third changes one parameter to a value the
plan refuses and fails with the record of a snapshot taken before anything was written. The judges are
Postfix's own tools: postmap -q reads the index, postconf -h the parameter, and the chain file's key matches its
certificate as openssl says. Needs the lab image (make lab); without it the test fails and says so.
"""
import json

import pytest

from labkit import lab_image_runner

INNER = r'''
import json, os, subprocess, sys
runs = json.loads(open('/work/runs.json').read())
out = []
for args in runs:
    p = subprocess.run([sys.executable, '/src/ansible_collections/mailtls/postfix/plugins/modules/tls_apply.py'],
                       input=json.dumps({'ANSIBLE_MODULE_ARGS': args}), capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH='/src'))
    result = json.loads(p.stdout)
    snap = '/var/lib/mailtls-postfix/snapshot'
    result['snapshot_files'] = sorted(os.listdir(snap)) if os.path.isdir(snap) else None
    result['query'] = subprocess.run(['postmap', '-q', 'example.org', 'hash:/etc/postfix/tls_policy'],
                                     capture_output=True, text=True).stdout.strip()
    result['level'] = subprocess.run(['postconf', '-h', 'smtp_tls_security_level'], capture_output=True, text=True).stdout.strip()
    result['cnf'] = open('/etc/postfix/mailtls-test.cnf').read() if os.path.exists('/etc/postfix/mailtls-test.cnf') else None
    if os.path.exists('/etc/postfix/tls/rsa.pem'):
        pub = [subprocess.run(argv, capture_output=True, text=True).stdout for argv in (
            ['openssl', 'pkey', '-in', '/etc/postfix/tls/rsa.pem', '-pubout'],
            ['openssl', 'x509', '-in', '/etc/postfix/tls/rsa.pem', '-pubkey', '-noout'])]
        result['key_matches_certificate'] = pub[0] == pub[1] and 'PUBLIC KEY' in pub[0]
        result['chain_mode'] = oct(os.stat('/etc/postfix/tls/rsa.pem').st_mode & 0o777)
    out.append(result)
print(json.dumps(out))
'''


@pytest.fixture(scope='module')
def runs(tmp_path_factory, pki):
    ca = pki.issue('Apply Test CA', ca=True)
    cert = pki.issue('mx.apply.test', names=['mx.apply.test'], issuer=ca, key_type='rsa')
    work = tmp_path_factory.mktemp('apply')
    (work / 'inner.py').write_text(INNER)
    base = {
        'config_dir': '/etc/postfix',
        'certificates': [{'path': '/etc/postfix/tls/rsa.pem', 'key_content': open(cert.key_path).read(),
                          'chain_content': open(cert.cert_path).read(),
                          'hostnames': ['mx.apply.test']}],
        'policy': {'path': '/etc/postfix/tls_policy', 'entries': [{'destination': 'example.org', 'level': 'secure'}],
                   'digest': 'sha256', 'map_type': 'hash'},
        'files': [{'path': '/etc/postfix/mailtls-test.cnf', 'content': '# test\n'}],
        'postconf': {'parameters': {'smtp_tls_security_level': 'encrypt',
                                    'smtp_tls_policy_maps': 'hash:/etc/postfix/tls_policy'}},
        'snapshot': {'paths': ['/etc/postfix/main.cf', '/etc/postfix/tls/rsa.pem', '/etc/postfix/tls_policy',
                               '/etc/postfix/tls_policy.db', '/etc/postfix/mailtls-test.cnf'],
                     'directory': '/var/lib/mailtls-postfix/snapshot'},
        '_ansible_diff': True,
    }
    bad = dict(base, postconf={'parameters': {'smtp_tls_security_level': 'encrypt', 'no_such_parameter': 'x'}},
               files=[{'path': '/etc/postfix/mailtls-test.cnf', 'content': '# changed\n'}])
    (work / 'runs.json').write_text(json.dumps([base, base, bad]))
    return lab_image_runner(work)()


def test_the_first_run_applies_every_part_after_the_snapshot(runs):
    first = runs[0]
    assert first['changed'] and first['changed_parts'] == ['certificate', 'policy', 'files', 'postconf'], first
    assert first['postfix_changed']
    # the snapshot was taken before the first write: main.cf existed, the other files did not
    kinds = dict((r['path'], r['kind']) for r in first['record'])
    assert kinds['/etc/postfix/main.cf'] == 'file' and kinds['/etc/postfix/tls/rsa.pem'] == 'absent'
    assert first['query'] == 'secure' and first['level'] == 'encrypt' and first['cnf'] == '# test\n'
    assert first['key_matches_certificate'] and first['chain_mode'] == '0o600'
    # no key in the result or its diff
    assert 'PRIVATE KEY' not in json.dumps(first)
    assert first['certificates'][0]['certificate']['subject'] == 'CN=mx.apply.test'


def test_a_run_with_nothing_to_do_writes_nothing_and_takes_no_snapshot(runs):
    first, second = runs[0], runs[1]
    assert not second['changed'] and second['changed_parts'] == [] and not second['postfix_changed']
    assert 'record' not in second and second['snapshot_files'] == first['snapshot_files']
    assert second['diff'] == [] and second['written'] == []


def test_a_refused_part_fails_with_the_snapshot_for_the_rollback(runs):
    bad = runs[2]
    assert bad['failed'] and "'no_such_parameter' is not a parameter this Postfix knows" in bad['msg']
    # refused while comparing: nothing was written and no snapshot was needed
    assert bad['cnf'] == '# test\n' and 'record' not in bad
