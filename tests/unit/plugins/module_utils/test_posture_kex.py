"""The key exchange part of tls_server_posture: openssl s_client's own output, captured from the lab images.

Fixtures (tests/unit/fixtures/s_client, 2026-12-05): Debian 13's openssl s_client against port 25 of Debian 13's
Postfix 3.10 with its defaults ("before") and with the tls role's OpenSSL baseline ("after"), and Debian 12's
(OpenSSL 3.0, which cannot offer X25519MLKEM768) - with the arguments of KEX_CASES. The server's CRLF line
endings (its SMTP replies) are stored as LF.
"""
import os

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._posture import (
    KEX_CASES,
    findings,
    key_exchange,
    parse_s_client,
    s_client_argv,
)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 's_client')


def text(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@pytest.mark.parametrize('name, cipher, digest, group, unsupported', [
    ('before-3.10-sha1.txt', 'ECDHE-RSA-AES256-GCM-SHA384', 'SHA1', 'X25519', False),
    ('before-3.7-sha1.txt', 'ECDHE-RSA-AES256-GCM-SHA384', 'SHA1', 'X25519', False),
    ('after-3.10-sha1.txt', None, None, None, False),
    ('after-3.10-sha224.txt', None, None, None, False),
    ('after-3.10-pq.txt', 'TLS_AES_256_GCM_SHA384', 'SHA256', 'X25519MLKEM768', False),
    ('before-3.10-pq.txt', None, None, None, False),  # "Negotiated TLS1.3 group: <NULL>" without a session
    ('client-3.0-pq.txt', None, None, None, True),
])
def test_parse_real_s_client_output(name, cipher, digest, group, unsupported):
    assert parse_s_client(text(name)) == {'cipher': cipher, 'digest': digest, 'group': group, 'unsupported': unsupported}


def test_argv_per_mode_and_no_shell():
    args = dict(KEX_CASES)['sha1']
    assert s_client_argv('192.0.2.1', 25, 'smtp', 'starttls', 10, args, 'mx.example.org') == [
        'timeout', '20', 'openssl', 's_client', '-connect', '192.0.2.1:25', '-starttls', 'smtp',
        '-servername', 'mx.example.org', '-tls1_2', '-cipher', 'DEFAULT@SECLEVEL=0', '-sigalgs', 'RSA+SHA1:ECDSA+SHA1']
    # TLS at once, an IPv6 address, no SNI for an address
    assert s_client_argv('2001:db8::1', 993, 'imap', 'implicit', 5, (), '2001:db8::1') == [
        'timeout', '10', 'openssl', 's_client', '-connect', '[2001:db8::1]:993']


def replay(outputs):
    """A run() that answers each case with a captured output, and records the argv."""
    seen = []

    def run(argv):
        seen.append(argv)
        case = [name for name, args in KEX_CASES if argv[-len(args):] == list(args)][0]
        return (0, outputs[case], '') if outputs[case] is not None else (127, '', 'timeout: failed to run command')
    return run, seen


def test_debian_defaults_sign_with_sha1_and_give_no_post_quantum_group():
    run, seen = replay({'sha1': text('before-3.10-sha1.txt'), 'sha224': text('before-3.10-sha1.txt'),
                        'post_quantum': text('before-3.10-pq.txt')})
    assert key_exchange('192.0.2.1', 25, 'smtp', 'starttls', 10, run) == {'sha1': True, 'sha224': True, 'post_quantum': False}
    assert len(seen) == 3


def test_the_role_refuses_sha1_and_sha224_and_gives_the_hybrid():
    run, dummy = replay({'sha1': text('after-3.10-sha1.txt'), 'sha224': text('after-3.10-sha224.txt'),
                         'post_quantum': text('after-3.10-pq.txt')})
    assert key_exchange('192.0.2.1', 25, 'smtp', 'starttls', 10, run) == {'sha1': False, 'sha224': False, 'post_quantum': True}


def test_a_client_that_cannot_ask_says_unknown_not_no():
    run, dummy = replay({'sha1': text('after-3.10-sha1.txt'), 'sha224': None, 'post_quantum': text('client-3.0-pq.txt')})
    assert key_exchange('192.0.2.1', 25, 'smtp', 'starttls', 10, run) == {'sha1': False, 'sha224': None, 'post_quantum': None}


def _port(kex):
    return {'address': '192.0.2.1', 'port': 25, 'protocol': 'smtp', 'tls_mode': 'starttls', 'users_log_in': False,
            'reachable': True, 'error': None, 'exposure': {'starttls_offered': True}, 'versions': ['TLSv1.2', 'TLSv1.3'],
            'weakest': None, 'session': {'version': 'TLSv1.3', 'cipher': 'TLS_AES_256_GCM_SHA384', 'forward_secrecy': True},
            'certificate': None, 'dane': None, 'key_exchange': kex}


def test_sha1_and_sha224_signatures_are_findings_and_the_hybrid_is_none():
    assert findings(_port({'sha1': True, 'sha224': True, 'post_quantum': False})) == [
        ('warn', '192.0.2.1:25 signs its key exchange with SHA-1 for a client that offers only SHA-1 (internet.nl: insufficient)'),
        ('warn', '192.0.2.1:25 signs its key exchange with SHA-224 for a client that offers only SHA-224 '
                 '(internet.nl: insufficient)')]
    assert [s for s, dummy in findings(_port({'sha1': False, 'sha224': False, 'post_quantum': False}))] == ['ok']
    assert [s for s, dummy in findings(_port(None))] == ['ok']
