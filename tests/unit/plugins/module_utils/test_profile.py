"""TLS profiles: the role's data (roles/tls/vars/profiles.yml) and the protocols syntax per Postfix version."""
import os
import subprocess

import jinja2
import pytest
import yaml

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._plan import SERVICE_PROFILE_PARAMETERS, VERSION_DEPENDENT
from ansible_collections.mailtls.postfix.plugins.module_utils._profile import (
    PROTOCOL_PARAMETERS,
    profile_parameters,
    protocols_value,
    service_overrides,
    translate_protocols,
)

ROOT = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..')
with open(os.path.join(ROOT, 'roles', 'tls', 'vars', 'profiles.yml')) as f:
    VARS = yaml.safe_load(f)
AEAD = VARS['__postfix_tls_aead_ciphers']


def _resolved(params):
    # the Jinja expressions in the data, rendered with the file's own variables as the role renders them
    context = dict(VARS, postfix_tls_config_dir='/etc/postfix')
    return dict((k, None if v is None else jinja2.Template(str(v)).render(context)) for k, v in (params or {}).items())


PROFILES = dict((name, {'protocols': p['protocols'], 'parameters': _resolved(p['parameters']),
                        'parameters_before': dict((v, _resolved(ps)) for v, ps in (p.get('parameters_before') or {}).items())})
                for name, p in VARS['__postfix_tls_profiles'].items())


@pytest.mark.parametrize('lowest, version, value', [
    ('TLSv1.2', '3.6.0', '>=TLSv1.2'),
    ('TLSv1.3', '3.10.13', '>=TLSv1.3'),
    ('TLSv1.2', '3.5.25', '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'),
    ('TLSv1.3', '3.5.25', '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2'),
    ('TLSv1', '3.5.25', '!SSLv2, !SSLv3'),
])
def test_protocols_value(lowest, version, value):
    assert protocols_value(lowest, version) == value


def test_operator_values_are_translated_only_where_needed():
    assert translate_protocols('>=TLSv1.2', '3.5.25') == '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'
    assert translate_protocols('>=TLSv1.2', '3.7.11') == '>=TLSv1.2'
    assert translate_protocols('!SSLv2, !SSLv3', '3.5.25') == '!SSLv2, !SSLv3'
    with pytest.raises(MailTLSError, match="'SSLv3' is not a TLS version to start from"):
        protocols_value('SSLv3', '3.7.11')


def test_every_profile_sets_the_same_parameters():
    names = set(PROFILES)
    assert names == {'intermediate', 'modern', 'compat'}
    for name, profile in PROFILES.items():
        assert sorted(profile['protocols']) == sorted(PROTOCOL_PARAMETERS), name
    # every profile writes what the others write (compat adds its medium list), so switching back removes nothing
    base = set(PROFILES['intermediate']['parameters'])
    assert set(PROFILES['modern']['parameters']) == base
    assert set(PROFILES['compat']['parameters']) == base | {'tls_medium_cipherlist'}


def test_intermediate_for_3_5_and_3_7():
    old = profile_parameters(PROFILES, 'intermediate', '3.5.25')
    new = profile_parameters(PROFILES, 'intermediate', '3.7.11')
    assert old['smtpd_tls_protocols'] == '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'
    assert new['smtpd_tls_protocols'] == '>=TLSv1.2'
    assert new['tls_preempt_cipherlist'] == 'yes' and new['smtpd_tls_ciphers'] == 'high'
    # an operator's value wins, in the syntax of the version; an empty one means "from the profile"
    mine = profile_parameters(PROFILES, 'intermediate', '3.5.25',
                              {'smtpd_tls_mandatory_protocols': '>=TLSv1.3', 'smtp_tls_mandatory_protocols': ''})
    assert mine['smtpd_tls_mandatory_protocols'] == '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2'
    assert mine['smtp_tls_mandatory_protocols'] == '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1'
    with pytest.raises(MailTLSError, match="profile 'strict' is not one of compat, intermediate, modern"):
        profile_parameters(PROFILES, 'strict', '3.7.11')


def test_submission_overrides_are_the_smtpd_differences():
    names = SERVICE_PROFILE_PARAMETERS
    assert all(n.startswith('smtpd_') for n in names)
    main = profile_parameters(PROFILES, 'intermediate', '3.7.11')
    modern = profile_parameters(PROFILES, 'modern', '3.7.11')
    assert service_overrides(main, modern, names) == {
        'smtpd_tls_protocols': '>=TLSv1.3', 'smtpd_tls_mandatory_protocols': '>=TLSv1.3'}
    assert service_overrides(main, main, names) == {}
    # before 3.6 the exclusion list is one word in master.cf
    old = service_overrides(profile_parameters(PROFILES, 'intermediate', '3.5.25'),
                            profile_parameters(PROFILES, 'modern', '3.5.25'), names)
    assert old['smtpd_tls_protocols'] == '!SSLv2,!SSLv3,!TLSv1,!TLSv1.1,!TLSv1.2'
    # the tls_* parameters are global: the same in every profile but compat's own medium list and DH groups
    for name in ('tls_high_cipherlist', 'tls_eecdh_auto_curves', 'tls_preempt_cipherlist', 'tls_ssl_options'):
        assert len(set(p['parameters'][name] for p in PROFILES.values())) == 1, name


def _openssl_ciphers(spec):
    out = subprocess.run(['openssl', 'ciphers', '-v', spec], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()]


def test_server_suites_are_ecdhe_aead_only_says_openssl():
    # OpenSSL itself expands the list: TLS 1.2 suites all ECDHE with AES-GCM or ChaCha20-Poly1305
    suites = [s for s in _openssl_ciphers(PROFILES['intermediate']['parameters']['tls_high_cipherlist'] + ':-aNULL')
              if s[1] == 'TLSv1.2']
    assert len(suites) == 6
    for name, _version, kx, au, enc, mac in suites:
        assert kx == 'Kx=ECDH' and au in ('Au=RSA', 'Au=ECDSA'), name
        assert enc.split('(')[0] in ('Enc=AESGCM', 'Enc=CHACHA20/POLY1305') and mac == 'Mac=AEAD', name


def test_compat_has_no_weak_suites_says_openssl():
    params = PROFILES['compat']['parameters']
    spec = params['tls_medium_cipherlist'] + ':!' + ':!'.join(params['smtpd_tls_exclude_ciphers'].split(','))
    suites = _openssl_ciphers(spec)
    assert suites
    for s in suites:
        text = ' '.join(s)
        for weak in ('Au=None', 'Enc=None', 'RC4', '3DES', 'Enc=DES', 'Mac=MD5', 'Enc=SEED', 'Enc=IDEA'):
            assert weak not in text, text


def test_compat_dh_file_only_before_3_8():
    # Postfix 3.10 warns that smtpd_tls_dh1024_param_file is deprecated; 3.8+ has tls_ffdhe_auto_groups
    assert profile_parameters(PROFILES, 'compat', '3.7.11')['smtpd_tls_dh1024_param_file'] == '/etc/postfix/ffdhe3072.pem'
    assert profile_parameters(PROFILES, 'compat', '3.10.13')['smtpd_tls_dh1024_param_file'] is None
    assert profile_parameters(PROFILES, 'intermediate', '3.5.25')['smtpd_tls_dh1024_param_file'] is None
    assert 'tls_ffdhe_auto_groups' in VERSION_DEPENDENT
