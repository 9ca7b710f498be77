"""The fleet filters: pins checked against the openssl command line, errors that name the problem."""
import subprocess

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.filter.tls_pins import tls_pins
from ansible_collections.mailtls.postfix.plugins.filter.tls_policy_decide import tls_policy_decide
from ansible_collections.mailtls.postfix.plugins.filter.tls_policy_judge import FilterModule as JudgeFilters
from ansible_collections.mailtls.postfix.plugins.filter.tls_policy_parse import tls_policy_parse


def openssl_fingerprint(pem, digest, pubkey):
    if pubkey:
        spki = subprocess.run(['openssl', 'x509', '-pubkey', '-noout'], input=pem, capture_output=True, check=True).stdout
        der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'], input=spki, capture_output=True, check=True).stdout
    else:
        der = subprocess.run(['openssl', 'x509', '-outform', 'DER'], input=pem, capture_output=True, check=True).stdout
    out = subprocess.run(['openssl', 'dgst', '-' + digest, '-c'], input=der, capture_output=True, check=True).stdout
    return out.decode().split('= ')[1].strip().upper()


@pytest.mark.parametrize('key_type', ['rsa', 'ec'])
@pytest.mark.parametrize('digest', ['sha256', 'sha1', 'md5'])
def test_pins_match_openssl(pki, key_type, digest):
    ca = pki.issue('Pin CA', ca=True, days=(-1, 3650))
    leaf = pki.issue('mx.pin.test', ['mx.pin.test'], issuer=ca, key_type=key_type)
    with open(leaf.cert_path, 'rb') as f:
        chain = f.read()
    pins = tls_pins(chain.decode(), digest)
    assert pins['pubkey'] == openssl_fingerprint(leaf.pem, digest, pubkey=True)
    assert pins['cert'] == openssl_fingerprint(leaf.pem, digest, pubkey=False)
    assert pins['subject'] == 'CN=mx.pin.test'


def test_pins_of_the_leaf_not_the_issuer(pki):
    ca = pki.issue('Pin CA 2', ca=True, days=(-1, 3650))
    leaf = pki.issue('mx2.pin.test', ['mx2.pin.test'], issuer=ca)
    # the text may start with anything (a comment, a key the caller should not pass): the first certificate counts
    text = b'# bundle\n' + leaf.pem + ca.pem
    assert tls_pins(text)['pubkey'] == openssl_fingerprint(leaf.pem, 'sha256', pubkey=True)


@pytest.mark.parametrize('value, digest, message', [
    ('not a certificate', 'sha256', 'the input has no PEM certificate'),
    ('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'sha256', 'the first certificate cannot be read'),
    ('', 'sha512', "digest 'sha512' is not sha256, sha1 or md5"),
    (None, 'sha256', 'the input has no PEM certificate'),
])
def test_pins_errors(value, digest, message):
    with pytest.raises(AnsibleFilterError, match=message):
        tls_pins(value, digest)


def test_decide_and_parse_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="tls_policy_decide: explicit policy 0 .a.test.: level 'x'"):
        tls_policy_decide([], [{'destination': 'a.test', 'level': 'x'}])
    with pytest.raises(AnsibleFilterError, match="tls_policy_parse: policy map line 1: attribute 'bogus' is not one this collection writes"):
        tls_policy_parse('a.test encrypt bogus=1\n')


def test_filters_are_registered_under_their_names():
    assert list(JudgeFilters().filters()) == ['tls_policy_judge']


def test_pins_of_role_certificate_entries(pki, tmp_path):
    rsa_leaf = pki.issue('mx.list.test', ['mx.list.test'])
    ec_leaf = pki.issue('mx.list.test', ['mx.list.test'], key_type='ec')
    entries = [{'name': 'rsa', 'key_src': '/nonexistent/never-read.key', 'chain_src': rsa_leaf.cert_path},
               {'name': 'ecdsa', 'key_content': 'never read', 'chain_content': ec_leaf.pem.decode()}]
    pins = tls_pins(entries)
    assert [p['name'] for p in pins] == ['rsa', 'ecdsa']
    assert pins[0]['pubkey'] == openssl_fingerprint(rsa_leaf.pem, 'sha256', pubkey=True)
    assert pins[1]['pubkey'] == openssl_fingerprint(ec_leaf.pem, 'sha256', pubkey=True)
    assert tls_pins([]) == []
    # keys made on the host have no chain here: skipped (their pins come from the host); generate false is read
    assert [p['name'] for p in tls_pins([{'name': 'made', 'generate': True, 'key_type': 'ecdsa'}, {'name': 'acme', 'acme': True}] + entries
                                        + [dict(entries[0], name='given', generate=False)])] == ['rsa', 'ecdsa', 'given']
    with pytest.raises(AnsibleFilterError, match=r'certificates\[0\] \(rsa\): chain_src .*/missing.pem cannot be read'):
        tls_pins([{'name': 'rsa', 'chain_src': str(tmp_path / 'missing.pem')}])
    with pytest.raises(AnsibleFilterError, match=r'certificates\[0\] \(x\) has neither chain_content nor chain_src'):
        tls_pins([{'name': 'x', 'key_src': '/k'}])
    with pytest.raises(AnsibleFilterError, match=r'certificates\[1\] is not a mapping'):
        tls_pins([entries[0], 'pem'])
    with pytest.raises(AnsibleFilterError, match=r'certificates\[0\] \(bad\): tls_pins: the input has no PEM certificate'):
        tls_pins([{'name': 'bad', 'chain_content': 'junk'}])
