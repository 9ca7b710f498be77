"""tls_check, run as Ansible runs a module, inside the bookworm lab image (Postfix 3.7): one call for the checks
before a reload. Each case breaks main.cf the way the rollback scenario does (or names a missing file or map
key), runs the module, and puts main.cf back; the judges are Postfix's own check, postconf and postmap, which
the module runs. The trial smtpd needs a Postfix the lab init has set up (in a bare container smtpd -S waits
for ever), so its case runs against a recorded runner here and against real Postfix in the rollback scenario
(invalid-value), and every converge of every scenario passes it. Needs the lab image (make lab).
"""
import os
import json

import pytest

from labkit import lab_image_runner

INNER = r'''
import json, os, shutil, subprocess, sys
cases = json.loads(open('/work/cases.json').read())
# a chain file of its own, as the role installs one (the image's snakeoil pair is made only by the lab init)
os.makedirs('/etc/postfix/tls', exist_ok=True)
subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj',
                '/CN=mx.check.test', '-keyout', '/tmp/k.pem', '-out', '/tmp/c.pem', '-days', '2'], check=True,
               capture_output=True)
with open('/etc/postfix/tls/ecdsa.pem', 'w') as f:
    f.write(open('/tmp/k.pem').read() + open('/tmp/c.pem').read())
subprocess.run(['postconf', '-X', 'smtpd_tls_cert_file', 'smtpd_tls_key_file'], check=True)
subprocess.run(['postconf', '-e', 'smtpd_tls_chain_files=/etc/postfix/tls/ecdsa.pem'], check=True)
shutil.copyfile('/etc/postfix/main.cf', '/tmp/main.cf.orig')
with open('/etc/postfix/tls_policy', 'w') as f:
    f.write('example.org secure\n')
subprocess.run(['postmap', 'hash:/etc/postfix/tls_policy'], check=True)
out = {}
for name, case in cases.items():
    for setting in case.get('postconf', []):
        subprocess.run(['postconf', '-e', setting], check=True)
    p = subprocess.run([sys.executable, '/src/ansible_collections/mailtls/postfix/plugins/modules/tls_check.py'],
                       input=json.dumps({'ANSIBLE_MODULE_ARGS': case['args']}), capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH='/src'))
    out[name] = json.loads(p.stdout)
    shutil.copyfile('/tmp/main.cf.orig', '/etc/postfix/main.cf')
print(json.dumps(out))
'''

ARGS = {'daemon_directory': '/usr/lib/postfix/sbin', 'policy_map': 'hash:/etc/postfix/tls_policy', 'first_key': 'example.org'}


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp('check')
    (work / 'inner.py').write_text(INNER)
    (work / 'cases.json').write_text(json.dumps({
        'missing-certificate-file': {'args': ARGS, 'postconf': ['smtpd_tls_chain_files=/etc/postfix/tls/none.pem']},
        'postfix-check-fails': {'args': ARGS, 'postconf': ['daemon_directory=/nonexistent']},
        'map-without-the-key': {'args': dict(ARGS, first_key='missing.example')},
        'misspelled-parameter': {'args': ARGS, 'postconf': ['smtpd_tls_security_lvel=may']},
    }))
    return lab_image_runner(work)()


@pytest.mark.parametrize('case, message', [
    ('missing-certificate-file', 'main.cf names certificate files that do not exist: /etc/postfix/tls/none.pem'),
    ('postfix-check-fails', 'postfix check fails (status 1): '),
    ('map-without-the-key', 'postmap -q missing.example hash:/etc/postfix/tls_policy finds no entry (status 1)'),
    ('misspelled-parameter',
     'postfix check fails (status 0): /usr/sbin/postconf: warning: /etc/postfix/main.cf: unused parameter: smtpd_tls_security_lvel=may'),
])
def test_each_check_fails_with_its_reason(results, case, message):
    result = results[case]
    assert result.get('failed') and message in result['msg'], result


def test_the_checks_run_in_order_and_the_reason_comes_from_the_mail_log(tmp_path):
    from ansible_collections.mailtls.postfix.plugins.module_utils._check import check
    log = tmp_path / 'mail.log'
    log.write_text('Dec  5 07:00:00 mx postfix/smtpd[41]: warning: an older complaint\n'
                   'Dec  5 07:00:01 mx postfix/smtpd[42]: fatal: Invalid TLS level "sometimes"\n'
                   'Dec  5 07:00:01 mx postfix/master[1]: warning: not the program asked about\n')
    calls = []

    def run(argv, env, data):
        calls.append((argv, env, data))
        if argv[-1] == 'maillog_file':
            return 0, str(log) + '\n', ''
        if argv[0].endswith('/smtpd'):
            return 1, '', ''
        if 'smtpd_tls_chain_files' in argv:
            return 0, str(log) + '\n\n\n', ''
        return 0, '', ''
    with pytest.raises(Exception) as e:
        check(run, '/etc/postfix', '/usr/lib/postfix/sbin', 'hash:/etc/postfix/tls_policy', 'example.org')
    assert str(e.value) == ('smtpd exits at startup with the new configuration (status 1), so Postfix would stop accepting '
                            'mail: fatal: Invalid TLS level "sometimes"')
    assert [c[0][0] for c in calls] == ['postconf', 'postfix', 'postconf', 'postconf', 'postmap', '/usr/lib/postfix/sbin/smtpd']
    assert calls[-1][1:] == ({'MAIL_CONFIG': '/etc/postfix'}, 'QUIT')
    assert all(os.path.isabs(c[0][0]) or '-c' in c[0] for c in calls)
