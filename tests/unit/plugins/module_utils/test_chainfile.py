"""Key and chain checks before a certificate is installed, and the 0600 file."""
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import check_chain, write_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


def pem(issued):
    return issued.pem.decode()


def key_pem(issued):
    return issued.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode()


@pytest.fixture(scope='module')
def pki_chain(pki):
    root = pki.issue('Root', ca=True, days=(-10, 3650))
    inter = pki.issue('Issuing', issuer=root, ca=True, days=(-10, 1000))
    leaf = pki.issue('mx.example.com', ['mx.example.com'], issuer=inter)
    return root, inter, leaf


def test_good_chain_is_key_first_then_leaf_then_intermediate(pki_chain):
    dummy, inter, leaf = pki_chain
    content, cert, warnings = check_chain('rsa', key_pem(leaf), pem(leaf) + pem(inter), ['mx.example.com'])
    assert content.startswith('-----BEGIN PRIVATE KEY-----')
    assert content.index(pem(leaf).strip()) < content.index(pem(inter).strip())
    assert warnings == []
    assert cert['subject'] == 'CN=mx.example.com' and cert['chain_length'] == 2
    assert 'PRIVATE' not in repr(cert)


def test_name_not_covered_is_a_warning(pki_chain):
    dummy, inter, leaf = pki_chain
    dummy2, dummy3, warnings = check_chain('rsa', key_pem(leaf), pem(leaf) + pem(inter), ['mail.example.org'])
    assert warnings == ["certificate 'rsa' does not cover mail.example.org (it names mx.example.com)"]


@pytest.mark.parametrize('case, message', [
    ('wrong key', 'the private key does not match the first certificate (CN=mx.example.com)'),
    ('out of order', 'the chain is out of order: certificate 1 (CN=Issuing) is not issued by certificate 2 (CN=mx.example.com)'),
    ('expired', 'certificate 1 (CN=old.example.com) expired on'),
    ('not pem key', 'the key is not a PEM private key'),
    ('broken key', 'the private key cannot be read'),
    ('no cert', 'the chain holds no PEM certificate'),
])
def test_bad_chains_are_refused_without_quoting_the_key(pki, pki_chain, case, message):
    dummy, inter, leaf = pki_chain
    other = pki.issue('other.example.com', ['other.example.com'])
    old = pki.issue('old.example.com', ['old.example.com'], days=(-30, -1))
    broken = key_pem(leaf).replace('\n', '', 3)[:200] + '\n-----END RSA PRIVATE KEY-----\n'
    key, chain = {
        'wrong key': (key_pem(other), pem(leaf) + pem(inter)),
        'out of order': (key_pem(inter), pem(inter) + pem(leaf)),
        'expired': (key_pem(old), pem(old)),
        'not pem key': ('hello', pem(leaf)),
        'broken key': ('-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n', pem(leaf)),
        'no cert': (key_pem(leaf), 'not a certificate'),
    }[case]
    with pytest.raises(MailTLSError) as e:
        check_chain('rsa', key, chain)
    assert "certificate 'rsa': " + message in str(e.value)
    assert 'MII' not in str(e.value) and broken not in str(e.value)


def test_write_secret_is_0600_from_creation(tmp_path, monkeypatch):
    seen = []
    real_fchmod = os.fchmod

    def spy_fchmod(fd, mode):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        real_fchmod(fd, mode)

    monkeypatch.setattr(os, 'fchmod', spy_fchmod)
    path = str(tmp_path / 'rsa.pem')
    old_umask = os.umask(0)
    try:
        write_secret(path, 'secret\n', os.getuid(), os.getgid())
    finally:
        os.umask(old_umask)
    # the temporary file already had 0600 when it was created, before any chmod
    assert seen == [0o600]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert open(path).read() == 'secret\n'
    assert os.listdir(str(tmp_path)) == ['rsa.pem']
