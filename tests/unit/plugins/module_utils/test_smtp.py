"""The STARTTLS client against an in-process server, one test per way an endpoint can fail."""
import time

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import certificate_facts
from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import make_context, probe


@pytest.fixture
def chain(pki):
    ca = pki.issue('Lab Root CA', ca=True, days=(-10, 3650))
    intermediate = pki.issue('Lab Issuing CA', issuer=ca, ca=True, days=(-10, 1000))
    leaf = pki.issue('mx.example.com', ['mx.example.com'], issuer=intermediate)
    return ca, intermediate, leaf


def run(server, ca_file=None, timeout=2.0, mode='starttls'):
    verify = make_context(ca_file=ca_file) if ca_file else make_context()
    return probe('127.0.0.1', server.port, timeout, 'probe.test', verify, make_context(verify=False), mode=mode)


def test_ca_issued_chain_verifies(smtp_server, chain):
    ca, dummy, leaf = chain
    server = smtp_server(issued=leaf)
    result = run(server, ca_file=ca.cert_path)
    assert result['error'] is None
    assert result['starttls'] is True
    assert result['chain_verified'] is True and result['verify_error'] is None
    assert result['der'] == leaf.der
    assert result['tls']['version'] in ('TLSv1.2', 'TLSv1.3')
    assert server.connections == 1


def test_untrusted_chain_is_read_with_a_second_connection(smtp_server, chain):
    dummy, dummy2, leaf = chain
    server = smtp_server(issued=leaf)
    result = run(server)  # the system bundle does not know the lab CA
    assert result['error'] is None
    assert result['chain_verified'] is False
    assert 'unable to get local issuer certificate' in result['verify_error']
    assert result['der'] == leaf.der
    assert server.connections == 2


@pytest.mark.parametrize('key_type', ['rsa', 'ec'])
def test_self_signed(smtp_server, pki, key_type):
    leaf = pki.issue('self.example.com', ['self.example.com'], key_type=key_type)
    result = run(smtp_server(issued=leaf), ca_file=leaf.cert_path.replace('.crt', '.crt'))
    # trusting the certificate itself makes it verify; without that it is self-signed
    assert result['chain_verified'] is True
    result = run(smtp_server(issued=leaf))
    assert result['chain_verified'] is False
    assert 'self-signed' in result['verify_error']
    assert certificate_facts(result['der'])['certificate']['self_signed'] is True


def test_expired_certificate(smtp_server, pki):
    ca = pki.issue('Lab CA', ca=True, days=(-100, 3650))
    leaf = pki.issue('old.example.com', ['old.example.com'], issuer=ca, days=(-60, -1))
    result = run(smtp_server(issued=leaf), ca_file=ca.cert_path)
    assert result['error'] is None
    assert result['chain_verified'] is False
    assert 'expired' in result['verify_error']
    assert certificate_facts(result['der'])['expired'] is True


def test_connection_refused(smtp_server):
    result = run(smtp_server(mode='refused'))
    assert result['error'] == 'connection refused'
    assert result['starttls'] is False and result['der'] is None


def test_starttls_not_offered(smtp_server):
    result = run(smtp_server(mode='plain'))
    assert result['error'] == 'STARTTLS not offered'
    assert result['starttls'] is False


def test_not_an_smtp_server(smtp_server):
    result = run(smtp_server(mode='http'))
    assert result['error'].startswith('not an SMTP server: banner:')
    assert 'HTTP/1.1 400' in result['error']


def test_banner_refusal(smtp_server):
    result = run(smtp_server(mode='banner554'))
    assert result['error'] == 'server refused the session: 554 5.7.1 no SMTP service here'


def test_garbage_after_starttls(smtp_server, chain):
    result = run(smtp_server(mode='garbage', issued=chain[2]))
    assert result['starttls'] is True
    assert result['error'].startswith('TLS handshake failed')
    assert result['der'] is None


def test_plaintext_behind_the_starttls_reply_is_refused(smtp_server, chain):
    result = run(smtp_server(mode='injected', issued=chain[2]))
    assert result['starttls'] is True
    assert result['error'] == 'not an SMTP server: data after the STARTTLS reply (pipelining attack or broken server)'


@pytest.mark.parametrize('mode', ['tarpit', 'trickle'])
def test_tarpit_is_bounded_by_the_step_timeout(smtp_server, mode):
    server = smtp_server(mode=mode)
    start = time.monotonic()
    result = run(server, timeout=0.6)
    elapsed = time.monotonic() - start
    assert result['error'] == 'timeout waiting for banner'
    assert elapsed < 0.6 * 2


def test_implicit_tls_as_on_port_465(smtp_server, chain):
    """TLS from the first byte (RFC 8314), then the banner and EHLO inside it."""
    ca, dummy, leaf = chain
    server = smtp_server(mode='implicit', issued=leaf)
    result = run(server, ca_file=ca.cert_path, mode='implicit')
    assert result['error'] is None and result['tls_mode'] == 'implicit'
    assert result['starttls'] is None  # no STARTTLS step in this mode
    assert result['chain_verified'] is True and result['der'] == leaf.der
    assert result['tls']['version'].startswith('TLSv1.')
    # an untrusted chain is read as in STARTTLS mode
    assert run(server, mode='implicit')['verify_error'] and run(server, mode='implicit')['der'] == leaf.der


def test_implicit_tls_against_a_starttls_server_and_the_reverse(smtp_server, chain):
    ca, dummy, leaf = chain
    starttls = smtp_server(issued=leaf)
    result = run(starttls, ca_file=ca.cert_path, mode='implicit')
    assert result['der'] is None and result['error'].startswith('TLS handshake failed')
    implicit = smtp_server(mode='implicit', issued=leaf)
    result = run(implicit, ca_file=ca.cert_path, timeout=1.0)
    assert result['der'] is None and result['error'] == 'timeout waiting for banner'


def test_a_postscreen_style_delayed_multi_line_greeting(smtp_server, chain):
    """postscreen sends "220-", waits, then "220 ": the probe reads the whole greeting and goes on."""
    ca, dummy, leaf = chain
    server = smtp_server(mode='postscreen', issued=leaf)
    start = time.monotonic()
    result = run(server, ca_file=ca.cert_path)
    assert time.monotonic() - start >= 1.0
    assert result['error'] is None and result['chain_verified'] is True and result['der'] == leaf.der
