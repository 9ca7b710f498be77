"""The dovecot role's plan: the names of 2.3 and 2.4 from one profile of the tls role's table, the listeners, the
groups by the linked OpenSSL, Postfix's SASL socket, and Dovecot's version and known settings as its programs print
them (dovecot --version, doveconf -d; the lab images' Dovecot judges them in test_dovecot_tls.py)."""
import pytest

import roledata

from ansible_collections.mailtls.postfix.plugins.module_utils._dovecot import known_settings, parse_version, plan
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

KNOWN_23 = {'import_environment', 'ssl', 'disable_plaintext_auth', 'ssl_cert', 'ssl_key', 'ssl_alt_cert', 'ssl_alt_key', 'ssl_min_protocol',
            'ssl_cipher_list', 'ssl_curve_list', 'ssl_prefer_server_ciphers'}
KNOWN_24 = {'import_environment', 'ssl', 'auth_allow_cleartext', 'ssl_server_cert_file', 'ssl_server_key_file', 'ssl_server_alt_cert_file',
            'ssl_server_alt_key_file', 'ssl_min_protocol', 'ssl_cipher_list', 'ssl_curve_list', 'ssl_server_prefer_ciphers'}
PROFILES = roledata.profiles()
ALL = {'imap': True, 'imaps': True, 'pop3': True, 'pop3s': True}


def test_versions_and_known_settings_as_dovecot_prints_them():
    assert parse_version('2.4.1-4 (7d8c0e5759)\n') == '2.4.1'
    assert parse_version('2.3.19.1 (9b53102964)') == '2.3.19.1'
    with pytest.raises(MailTLSError, match="dovecot --version said 'nothing'"):
        parse_version('nothing')
    # 2.4 prints its list and map settings as blocks (import_environment {); nested ones are not top-level names
    assert known_settings('ssl = yes\nssl_cert = \nimport_environment {\n  TZ = %{env:TZ}\n}\n'
                          'service imap {\n  executable = imap\n}\n') == {'ssl', 'ssl_cert', 'import_environment'}


def test_one_profile_two_versions():
    certs = ['/etc/postfix/tls/rsa.pem', '/etc/postfix/tls/ecdsa.pem']
    old = plan('2.3.19', KNOWN_23, PROFILES['intermediate'], certs, ALL, 0x30000140)
    new = plan('2.4.1', KNOWN_24, PROFILES['intermediate'], certs, ALL, 0x30500040)
    assert old['settings']['ssl_cert'] == '</etc/postfix/tls/rsa.pem' and old['settings']['ssl_alt_key'] == '</etc/postfix/tls/ecdsa.pem'
    assert new['settings']['ssl_server_cert_file'] == '/etc/postfix/tls/rsa.pem'
    assert (old['settings']['disable_plaintext_auth'], new['settings']['auth_allow_cleartext']) == ('yes', 'no')
    assert old['settings']['ssl'] == new['settings']['ssl'] == 'required'
    # the same suites as Postfix's users' ports (tls_high_cipherlist), the hybrid group only with OpenSSL 3.5
    assert old['settings']['ssl_cipher_list'] == new['settings']['ssl_cipher_list'] == \
        PROFILES['intermediate']['parameters']['tls_high_cipherlist']
    assert old['settings']['ssl_curve_list'] == 'X25519:prime256v1:secp384r1'
    assert new['settings']['ssl_curve_list'] == 'X25519MLKEM768:X25519:prime256v1:secp384r1'
    assert plan('2.4.1', KNOWN_24, PROFILES['modern'], certs[:1], ALL)['settings']['ssl_min_protocol'] == 'TLSv1.3'
    assert old['listening'] == [143, 993, 110, 995]


def test_ports_off_and_the_postfix_sasl_socket():
    p = plan('2.4.1', KNOWN_24, PROFILES['intermediate'], ['/c.pem'], {'imaps': True}, 0,
             '/var/spool/postfix/private/auth')
    assert p['listening'] == [993]
    assert 'inet_listener imap {\n    port = 0\n  }' in p['content']
    assert 'inet_listener pop3s {\n    port = 0\n    ssl = yes\n  }' in p['content']
    assert 'unix_listener /var/spool/postfix/private/auth {\n    mode = 0660\n    user = postfix\n' in p['content']
    assert 'ssl_server_alt_cert_file' not in p['content']
