import subprocess

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import (
    certificate_facts,
    colon_hex,
    fingerprint,
    match_names,
)


def openssl(args, data):
    return subprocess.run(['openssl'] + args, input=data, capture_output=True, check=True).stdout


@pytest.mark.parametrize('key_type', ['rsa', 'ec'])
@pytest.mark.parametrize('digest', ['sha256', 'sha1', 'md5'])
def test_fingerprints_match_the_openssl_command_line(pki, key_type, digest):
    issued = pki.issue('mx.example.com', ['mx.example.com'], key_type=key_type)
    facts = certificate_facts(issued.der)
    # certificate fingerprint: openssl x509 -fingerprint prints "<digest> Fingerprint=AB:CD:..."
    out = openssl(['x509', '-noout', '-fingerprint', '-' + digest], issued.pem).decode()
    assert facts['fingerprints']['cert'][digest] == out.strip().split('=', 1)[1]
    # public-key fingerprint: digest of the DER SubjectPublicKeyInfo, as posttls-finger computes it
    spki = openssl(['pkey', '-pubin', '-outform', 'DER'], openssl(['x509', '-noout', '-pubkey'], issued.pem))
    hexed = openssl(['dgst', '-' + digest, '-r'], spki).decode().split()[0]
    assert facts['fingerprints']['pubkey'][digest] == ':'.join(hexed[i:i + 2] for i in range(0, len(hexed), 2)).upper()


def test_tlsa_data_is_sha256_of_spki_and_cert(pki):
    issued = pki.issue('mx.example.com', ['mx.example.com'])
    facts = certificate_facts(issued.der)
    assert facts['tlsa']['3 1 1'] == facts['fingerprints']['pubkey']['sha256'].replace(':', '').lower()
    assert facts['tlsa']['3 0 1'] == facts['fingerprints']['cert']['sha256'].replace(':', '').lower()


def test_certificate_facts(pki):
    ca = pki.issue('Lab CA', ca=True, days=(-10, 3650))
    leaf = pki.issue('mx.example.com', ['mx.example.com', 'mail.example.com'], issuer=ca, key_type='ec', days=(-1, 61))
    cert = certificate_facts(leaf.der)['certificate']
    assert cert['subject'] == 'CN=mx.example.com'
    assert cert['issuer'] == 'CN=Lab CA'
    assert cert['san'] == ['mx.example.com', 'mail.example.com']
    assert cert['key_type'] == 'ECDSA' and cert['key_bits'] == 256
    assert cert['self_signed'] is False and certificate_facts(leaf.der)['expired'] is False
    assert cert['days_remaining'] in (60, 61)


def test_self_signed_and_expired(pki):
    old = pki.issue('old.example.com', ['old.example.com'], days=(-30, -1))
    cert = certificate_facts(old.der)['certificate']
    assert cert['self_signed'] is True
    assert certificate_facts(old.der)['expired'] is True
    assert cert['days_remaining'] < 0
    rsa = certificate_facts(old.der)
    assert rsa['certificate']['key_type'] == 'RSA' and rsa['certificate']['key_bits'] == 2048


def test_cn_is_used_only_without_dns_sans(pki):
    only_cn = pki.issue('mx.example.com')
    with_san = pki.issue('ignored.example.com', ['mx.example.com'])
    assert certificate_facts(only_cn.der)['match_names'] == ['mx.example.com']
    assert certificate_facts(with_san.der)['match_names'] == ['mx.example.com']


@pytest.mark.parametrize('names, patterns, expected', [
    (['example.com'], ['example.com', '.example.com'], True),
    (['mx1.example.com'], ['example.com', '.example.com'], True),
    (['a.b.example.com'], ['example.com', '.example.com'], True),
    (['mx1.example.com'], ['example.com'], False),
    (['example.com'], ['.example.com'], False),
    (['mx1.example.net'], ['example.com', '.example.com'], False),
    (['notexample.com'], ['example.com', '.example.com'], False),
    (['*.example.com'], ['example.com', '.example.com'], True),
    (['*.example.com'], ['mx.example.com'], True),
    (['*.example.com'], ['a.mx.example.com'], False),
    (['*.example.com'], ['example.com'], False),
    (['MX.Example.COM.'], ['mx.example.com'], True),
    ([], ['example.com'], False),
])
def test_match_names_follows_postfix(names, patterns, expected):
    assert match_names(names, patterns) is expected


def test_colon_hex_and_unknown_digest():
    assert colon_hex(b'\x00\xab\x10') == '00:AB:10'
    with pytest.raises(ValueError):
        fingerprint(b'x', 'sha512')
