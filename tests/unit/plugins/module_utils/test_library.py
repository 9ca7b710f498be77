"""The OpenSSL that Postfix links (ldd output of the lab images) and the profile's OpenSSL baseline per host."""
import os

import jinja2
import pytest
import yaml

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._library import (
    OPENSSL_3_5,
    baseline,
    libssl_path,
    openssl_version_text,
    postfix_leaves_groups_to_openssl,
    server_services,
)

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
FIXTURES = os.path.join(ROOT, 'tests', 'unit', 'fixtures', 'ldd')
with open(os.path.join(ROOT, 'roles', 'tls', 'vars', 'profiles.yml')) as f:
    VARS = yaml.safe_load(f)
# the profiles' openssl settings, rendered with the file's own variables as the role renders them
OPENSSL = dict((name, dict((k, jinja2.Template(str(v)).render(VARS)) for k, v in p['openssl'].items()))
               for name, p in VARS['__postfix_tls_profiles'].items())
PATH = '/etc/postfix/mailtls-openssl.cnf'
# OPENSSL_VERSION_NUMBER of the lab images' libraries (Debian 11, 12, 13)
V111W, V3020, V359 = 0x1010117f, 0x30000140, 0x30500090


@pytest.mark.parametrize('image, path', [
    ('bullseye', '/lib/x86_64-linux-gnu/libssl.so.1.1'),
    ('bookworm', '/lib/x86_64-linux-gnu/libssl.so.3'),
    ('trixie', '/lib/x86_64-linux-gnu/libssl.so.3'),
])
def test_libssl_path_from_real_ldd_output(image, path):
    # captured with: ldd /usr/lib/postfix/sbin/smtpd (libssl comes in through libpostfix-tls.so)
    with open(os.path.join(FIXTURES, 'smtpd-%s.txt' % image)) as f:
        assert libssl_path(f.read()) == path


def test_libssl_path_absent():
    assert libssl_path('\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n') is None
    assert libssl_path('\tlibssl.so.3 => not found\n') is None


@pytest.mark.parametrize('number, text', [(V111W, '1.1.1w'), (V3020, '3.0.20'), (V359, '3.5.9'), (0x1010100f, '1.1.1')])
def test_openssl_version_text(number, text):
    assert openssl_version_text(number) == text


@pytest.mark.parametrize('version, leaves', [
    ('3.5.25', False), ('3.6.17', True), ('3.7.11', False), ('3.7.13', True), ('3.8.7', False), ('3.8.8', True),
    ('3.9.1', False), ('3.9.2', True), ('3.10.0', True), ('3.10.13', True),
])
def test_postfix_leaves_groups_to_openssl(version, leaves):
    assert postfix_leaves_groups_to_openssl(version) is leaves


def _settings(config, section='mailtls_server'):
    # a [NAME_baseline] section as name -> value
    body = config.split('[%s_baseline]\n' % section, 1)[1].split('\n[', 1)[0]
    return dict(line.split(' = ', 1) for line in body.splitlines() if line)


SERVER = {'tls_config_file': PATH, 'tls_config_name': 'mailtls_server'}
DEFAULTS = {'tls_config_file': None, 'tls_config_name': None}
PQ = '?X25519MLKEM768 / ?*X25519:?secp256r1:?secp384r1'


def test_intermediate_sigalgs_leave_out_sha1_and_sha224():
    algorithms = OPENSSL['intermediate']['signature_algorithms'].split(':')
    assert not [a for a in algorithms if a.upper().endswith(('SHA1', 'SHA224'))]
    # and keep what every current client needs: ECDSA and RSA-PSS (TLS 1.3) and PKCS#1 with SHA-256 (TLS 1.2)
    assert {'ECDSA+SHA256', 'rsa_pss_rsae_sha256', 'RSA+SHA256', 'ed25519'} <= set(algorithms)
    assert OPENSSL['modern'] == OPENSSL['intermediate']


def test_trixie_gets_server_signature_algorithms_and_post_quantum_groups_everywhere():
    # Debian 13: Postfix 3.10.13 linked with OpenSSL 3.5.9
    b = baseline('intermediate', OPENSSL['intermediate'], '3.10.13', PATH, True, V359)
    assert b['warnings'] == []
    assert b['parameters'] == {'tls_config_file': PATH, 'tls_config_name': 'mailtls',
                               'tls_eecdh_auto_curves': '', 'tls_ffdhe_auto_groups': ''}
    assert b['service_parameters'] == SERVER
    config = b['config']
    # the application names map to their sections before the first [section] (postconf(5), tls_config_file)
    assert config.index('mailtls_server = mailtls_server_settings\n') < config.index('[')
    assert config.index('mailtls = mailtls_settings\n') < config.index('[')
    assert _settings(config) == {'SignatureAlgorithms': OPENSSL['intermediate']['signature_algorithms'], 'Groups': PQ}
    # the client keeps OpenSSL's signature algorithms: a peer that signs only with SHA-1 still gets TLS
    assert _settings(config, 'mailtls') == {'Groups': PQ}


@pytest.mark.parametrize('version, number', [('3.7.11', V3020), ('3.5.25', V111W), ('3.9.1', V359), ('3.7.12', V359)])
def test_server_signature_algorithms_only_below_openssl_3_5_or_where_postfix_keeps_its_groups(version, number):
    b = baseline('intermediate', OPENSSL['intermediate'], version, PATH, True, number)
    # main.cf (every process, the client too) keeps Postfix's defaults: an empty section would disable TLS
    assert b['parameters'] == DEFAULTS
    assert b['service_parameters'] == SERVER
    assert _settings(b['config']) == {'SignatureAlgorithms': OPENSSL['intermediate']['signature_algorithms']}
    assert 'mailtls = ' not in b['config'] and '[mailtls_baseline]' not in b['config']
    assert b['groups'] == '' and b['warnings'] == []


def test_no_tls_config_file_writes_nothing_and_warns():
    b = baseline('intermediate', OPENSSL['intermediate'], '3.5.19', PATH, False, V111W)
    assert b['config'] == '' and b['parameters'] == DEFAULTS and b['service_parameters'] == DEFAULTS
    assert b['warnings'] == [
        'Postfix 3.5.19 has no tls_config_file (3.9, and 3.8.1, 3.7.6, 3.6.10, 3.5.20 and later): its server keeps '
        'accepting SHA-1 and SHA-224 signatures, which internet.nl rates insufficient; upgrade Postfix']


def test_compat_keeps_sha1_and_gets_the_groups_with_ffdhe_on_openssl_3_5():
    b = baseline('compat', OPENSSL['compat'], '3.10.13', PATH, True, V359)
    assert _settings(b['config']) == {'Groups': PQ + ' / ?ffdhe3072:?ffdhe4096'}
    assert _settings(b['config'], 'mailtls') == {'Groups': PQ + ' / ?ffdhe3072:?ffdhe4096'}
    # compat on OpenSSL 3.0: nothing to write, and the parameters go back to Postfix's defaults
    b = baseline('compat', OPENSSL['compat'], '3.7.11', PATH, True, V3020)
    assert b['config'] == '' and b['parameters'] == DEFAULTS and b['service_parameters'] == DEFAULTS
    assert OPENSSL_3_5 > V3020


MASTER = """smtp       inet  n       -       y       -       1       postscreen
smtpd      pass  -       -       y       -       -       smtpd
submission inet  n       -       y       -       -       smtpd -o syslog_name=postfix/submission
tlsproxy   unix  -       -       y       -       0       tlsproxy
smtp       unix  -       -       y       -       -       smtp
relay      unix  -       -       y       -       -       smtp -o syslog_name=postfix/$service_name
127.0.0.1:10025 inet n   -       n       -       -       smtpd -o content_filter=
"""


def test_server_services_are_every_smtpd_and_tlsproxy_but_the_ones_the_role_writes():
    got = server_services(MASTER, SERVER, written=['submission/inet'])
    assert [(s['name'], s['type']) for s in got] == [('127.0.0.1:10025', 'inet'), ('smtpd', 'pass'), ('tlsproxy', 'unix')]
    # parameters only: the postconf module keeps the fields and the command of each
    assert all(set(s) == {'name', 'type', 'parameters'} and s['parameters'] == SERVER for s in got)
    # the client transports (smtp, relay) are left alone
    assert server_services('smtp unix - - y - - smtp\n', SERVER) == []


def test_config_file_must_be_an_absolute_path_without_whitespace():
    for path in ('mailtls.cnf', '/etc/postfix/my file.cnf', ''):
        with pytest.raises(MailTLSError, match='^postfix_tls_openssl_config_file: .* must be an absolute path'):
            baseline('intermediate', OPENSSL['intermediate'], '3.10.13', path, True, V359)


@pytest.mark.parametrize('openssl, message', [
    ({'signature_algorithms': 'RSA+SHA256', 'ciphers': 'x'}, "profile p: openssl: unknown setting(s) ciphers"),
    ({'groups': 'X25519\nOptions = -x'}, "profile p: openssl: groups must be one line without \"#\""),
    ({'signature_algorithms': 'RSA+SHA256 # x'}, "profile p: openssl: signature_algorithms must be one line"),
])
def test_bad_profile_data_is_refused_with_the_profile_named(openssl, message):
    with pytest.raises(MailTLSError, match='^' + message.replace('(', r'\(').replace(')', r'\)')):
        baseline('p', openssl, '3.10.13', PATH, True, V359)
