"""The chain judge against OpenSSL: wherever it gives a verdict from the served chain alone, OpenSSL
(a verifying handshake, what Postfix's TLS library does) gives the same one."""
import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.mailtls.postfix.plugins.module_utils._chain import CHAIN_FROM_HANDSHAKE, HAS_VERIFIER, ChainJudge
from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import make_context, probe


@pytest.fixture
def pki_lab(pki):
    ca = pki.issue('Judge Root CA', ca=True, days=(-10, 3650))
    other_ca = pki.issue('Some Other CA', ca=True, days=(-10, 3650))
    inter = pki.issue('Judge Issuing CA', issuer=ca, ca=True, days=(-10, 1000))
    return {
        'ca-issued': pki.issue('mx.judge.test', ['mx.judge.test'], issuer=inter),
        'ca-issued, wildcard': pki.issue('*.judge.test', ['*.judge.test'], issuer=ca, key_type='ec'),
        'self-signed': pki.issue('mx.judge.test', ['mx.judge.test']),
        'another CA': pki.issue('mx.judge.test', ['mx.judge.test'], issuer=other_ca),
        'expired': pki.issue('mx.judge.test', ['mx.judge.test'], issuer=inter, days=(-100, -1)),
        'no SAN': pki.issue('mx.judge.test', issuer=inter),
    }, ca


def openssl_verdict(server, ca):
    """(verified, reason) from a verifying handshake: the judge of record."""
    result = probe('127.0.0.1', server.port, 2.0, 'judge.test', make_context(ca.cert_path), make_context(verify=False))
    return result['chain_verified'], result['verify_error']


@pytest.mark.skipif(not CHAIN_FROM_HANDSHAKE, reason='this Python does not hand over the served chain')
@pytest.mark.parametrize('kind, certain', [
    ('ca-issued', HAS_VERIFIER), ('ca-issued, wildcard', HAS_VERIFIER), ('self-signed', True), ('another CA', True),
    ('expired', False), ('no SAN', False)])
def test_the_judge_agrees_with_openssl_or_leaves_it_to_openssl(pki_lab, smtp_server, kind, certain):
    issued, ca = pki_lab
    server = smtp_server(issued=issued[kind])
    judge = ChainJudge(ca.cert_path)
    ders = [issued[kind].der] + [c.public_bytes(serialization.Encoding.DER) for c in issued[kind].chain]
    verdict = judge(ders)
    expected = openssl_verdict(server, ca)
    if certain:
        assert verdict == expected, (kind, verdict, expected)
    else:
        assert verdict is None  # not certain from the chain alone: a second session asks OpenSSL
    # the probe with the judge ends where OpenSSL does, in one session where the judge is certain
    result = probe('127.0.0.1', server.port, 2.0, 'judge.test', make_context(ca.cert_path), make_context(verify=False),
                   judge_chain=judge)
    assert (result['chain_verified'], result['verify_error']) == expected
    assert result['sessions'] == (1 if certain else 2)
    assert result['der'] == issued[kind].der


def test_reasons_are_openssl_s_words(pki_lab):
    issued, ca = pki_lab
    judge = ChainJudge(ca.cert_path)
    assert judge([issued['self-signed'].der]) == (False, 'self-signed certificate')
    assert judge([issued['another CA'].der]) == (False, 'unable to get local issuer certificate')
    assert judge([]) is None and judge([b'not DER']) is None


def test_a_bundle_gives_every_certificate(pki, tmp_path):
    """A CA file with several certificates (the system bundle is one): each one is an anchor."""
    first, second = pki.issue('Bundle CA 1', ca=True), pki.issue('Bundle CA 2', ca=True)
    bundle = tmp_path / 'bundle.pem'
    bundle.write_bytes(b'# a comment\n' + first.pem + second.pem)
    judge = ChainJudge(str(bundle))
    assert len(judge.anchors) == 2
    leaf = pki.issue('mx.bundle.test', ['mx.bundle.test'], issuer=second)
    assert judge([leaf.der]) != (False, 'unable to get local issuer certificate')


def test_a_self_signed_certificate_in_the_ca_file_verifies_in_one_session(pki, smtp_server, tmp_path):
    """A host that trusts its own snakeoil certificate: OpenSSL verifies it, and so does the judge."""
    issued = pki.issue('mx.self.test', ['mx.self.test'])
    server = smtp_server(issued=issued)
    judge = ChainJudge(issued.cert_path)
    assert judge([issued.der]) == (True, None) == openssl_verdict(server, issued)
    expired = pki.issue('mx.self.test', ['mx.self.test'], days=(-100, -1))
    assert ChainJudge(expired.cert_path)([expired.der]) is None  # OpenSSL decides (it says: expired)
