"""The inbound posture reader against scripted SMTP, IMAP and POP3 peers on 127.0.0.1 with real TLS.

Each peer speaks its protocol line by line, from a table of answers, and wraps the
connection in TLS on STARTTLS/STLS (or at once, for implicit TLS). What they allow
before TLS and which TLS versions they take is set per test, so every finding the
reader can give is seen once firing and once silent.
"""
import socket
import ssl
import threading

import pytest

import hashlib

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import Resolver
from ansible_collections.mailtls.postfix.plugins.module_utils._posture import findings, inspect, mta_sts, worst

SMTP_EHLO = ['250-peer.test', '250-PIPELINING', '250-STARTTLS', '250 8BITMIME']


class Peer:
    """A scripted mail server: greeting, then answers by command prefix, STARTTLS by wrapping the socket."""

    def __init__(self, issued, protocol, implicit=False, before=None, tls_versions=('TLSv1_2', 'TLSv1_3'),
                 ciphers='ECDHE+AESGCM:ECDHE+CHACHA20', also=()):
        self.protocol, self.implicit, self.before = protocol, implicit, dict(before or {})
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(issued.cert_path, issued.key_path)
        for more in also:  # a second key of the other kind, as smtpd_tls_chain_files with an RSA and an ECDSA chain
            self.ctx.load_cert_chain(more.cert_path, more.key_path)
        self.ctx.minimum_version = getattr(ssl.TLSVersion, tls_versions[0])
        self.ctx.maximum_version = getattr(ssl.TLSVersion, tls_versions[-1])
        # a hardened server's TLS 1.2 suites by default (the role's intermediate profile: ECDHE with AEAD only)
        self.ctx.set_ciphers(ciphers)
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.seen = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        try:
            if self.implicit:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            f = conn.makefile('rwb')
            greeting = {'smtp': ['220 peer.test ESMTP'], 'imap': ['* OK [CAPABILITY IMAP4rev1 STARTTLS%s] ready'
                                                                  % (' LOGINDISABLED' if self.before.get('logindisabled') else '')],
                        'pop3': ['+OK ready']}[self.protocol]
            self._say(f, greeting)
            while True:
                line = f.readline().decode().rstrip('\r\n')
                if not line:
                    return
                self.seen.append(line)
                word = line.split()[1].upper() if self.protocol == 'imap' and len(line.split()) > 1 else line.split()[0].upper()
                tag = line.split()[0] if self.protocol == 'imap' else ''
                if word in ('STARTTLS', 'STLS'):
                    self._say(f, {'smtp': ['220 go ahead'], 'imap': [tag + ' OK begin TLS'], 'pop3': ['+OK begin TLS']}[self.protocol])
                    conn = self.ctx.wrap_socket(conn, server_side=True)
                    f = conn.makefile('rwb')
                    continue
                self._say(f, self._answer(word, tag, line))
        except (OSError, ssl.SSLError, ValueError):
            return

    def _answer(self, word, tag, line):
        if self.protocol == 'smtp':
            if word == 'EHLO':
                return SMTP_EHLO[:-1] + (['250-AUTH PLAIN LOGIN'] if self.before.get('auth_offered') else []) + SMTP_EHLO[-1:]
            if word == 'AUTH':
                return ['235 ok'] if self.before.get('auth_taken') else ['530 5.7.0 Must issue a STARTTLS command first']
            if word == 'MAIL':
                return ['250 ok'] if self.before.get('mail_taken') else ['530 5.7.0 Must issue a STARTTLS command first']
            return ['250 ok']
        if self.protocol == 'imap':
            if word == 'CAPABILITY':
                return ['* CAPABILITY IMAP4rev1 STARTTLS%s' % (' LOGINDISABLED' if self.before.get('logindisabled') else ''),
                        tag + ' OK done']
            return [tag + ' OK']
        if word == 'CAPA':
            return ['+OK', 'TOP', 'STLS'] + ([] if self.before.get('user_refused') else ['USER']) + ['.']
        if word == 'USER':
            return ['-ERR [AUTH] Plaintext authentication disallowed'] if self.before.get('user_refused') else ['+OK']
        return ['+OK']

    @staticmethod
    def _say(f, lines):
        f.write(''.join(x + '\r\n' for x in lines).encode())
        f.flush()

    def close(self):
        self.sock.close()


@pytest.fixture
def certs(pki):
    ca = pki.issue('Posture CA', ca=True, days=(-10, 3650))
    return ca, pki.issue('peer.test', ['peer.test'], issuer=ca)


@pytest.fixture
def peer(certs):
    peers = []

    def start(*args, **kwargs):
        p = Peer(certs[1], *args, **kwargs)
        peers.append(p)
        return p

    yield start
    for p in peers:
        p.close()


def run(certs, p, protocol, mode, users=True):
    return inspect('127.0.0.1', p.port, protocol=protocol, mode=mode, timeout=5, ca_file=certs[0].cert_path,
                   hostname='peer.test', users=users)


def bad(result):
    return [text for severity, text in findings(result) if severity == 'bad']


def test_a_hardened_submission_port_is_ok(certs, peer):
    p = peer('smtp')
    result = run(certs, p, 'smtp', 'starttls')
    assert result['exposure'] == {'auth_offered_before_tls': False, 'auth_before_tls': '530 5.7.0 Must issue a STARTTLS command first',
                                  'auth_refused_before_tls': True,
                                  'mail_before_tls': '530 5.7.0 Must issue a STARTTLS command first',
                                  'mail_refused_before_tls': True, 'starttls_offered': True}
    assert result['versions'] == ['TLSv1.2', 'TLSv1.3']
    assert result['session']['forward_secrecy'] is True
    assert result['certificate']['chain_verified'] is True and result['certificate']['name_matches'] is True
    assert worst(findings(result)) == 'ok'
    # the made-up credential is what went out before TLS, never anything else
    assert [x for x in p.seen if x.startswith('AUTH')] == ['AUTH PLAIN AG1haWx0bHMtcHJvYmUAbm90LWEtcGFzc3dvcmQ=']


@pytest.mark.parametrize('before, finding', [
    ({'auth_offered': True}, 'offers AUTH before STARTTLS'),
    ({'auth_taken': True}, 'takes AUTH before STARTTLS (235 ok)'),
    ({'mail_taken': True}, 'takes MAIL before STARTTLS (250 ok)'),
])
def test_submission_that_works_in_clear_is_bad(certs, peer, before, finding):
    result = run(certs, peer('smtp', before=before), 'smtp', 'starttls')
    assert any(finding in text for text in bad(result)), findings(result)


def test_imap_without_logindisabled_is_bad_and_with_it_ok(certs, peer):
    assert any('allows LOGIN before STARTTLS' in t for t in bad(run(certs, peer('imap'), 'imap', 'starttls')))
    result = run(certs, peer('imap', before={'logindisabled': True}), 'imap', 'starttls')
    assert result['exposure']['login_disabled_before_tls'] is True
    assert worst(findings(result)) == 'ok', findings(result)


def test_pop3_user_before_stls_is_bad_and_refused_ok(certs, peer):
    assert any('takes USER before STLS' in t for t in bad(run(certs, peer('pop3'), 'pop3', 'starttls')))
    result = run(certs, peer('pop3', before={'user_refused': True}), 'pop3', 'starttls')
    assert result['exposure']['user_refused_before_tls'] is True
    assert worst(findings(result)) == 'ok', findings(result)


def test_implicit_tls_ports(certs, peer):
    result = run(certs, peer('imap', implicit=True, before={'logindisabled': True}), 'imap', 'implicit')
    assert result['exposure'] == {'tls_at_once': True}
    assert worst(findings(result)) == 'ok'
    # a server that speaks plain SMTP where TLS is due at once (port 465 misconfigured)
    result = run(certs, peer('smtp'), 'smtp', 'implicit')
    assert result['exposure'] == {'tls_at_once': False}
    assert any('does not speak TLS at once' in t for t in bad(result))


def test_old_tls_versions_are_seen_one_handshake_each(certs, peer):
    result = run(certs, peer('smtp', tls_versions=('TLSv1', 'TLSv1_3')), 'smtp', 'starttls', users=False)
    # what this Python's OpenSSL can still speak as a client; TLS 1.0/1.1 need security level 0
    assert 'TLSv1.2' in result['versions'] and 'TLSv1.3' in result['versions']
    if 'TLSv1' in result['versions']:
        assert ('warn', '127.0.0.1:%d accepts TLSv1, TLSv1.1' % result['port']) in findings(result)
        result['users_log_in'] = True
        assert any('accepts TLSv1, TLSv1.1' in t for t in bad(result))


@pytest.mark.parametrize('ciphers, kind', [
    ('ECDHE+AESGCM:ECDHE+AES', 'CBC'),
    ('ECDHE+AESGCM:AES256-GCM-SHA384', 'no forward secrecy'),
    ('ECDHE+AESGCM:AECDH-AES256-SHA:@SECLEVEL=0', 'anonymous'),
])
def test_the_weakest_kind_of_suite_accepted(certs, peer, ciphers, kind):
    result = run(certs, peer('smtp', ciphers=ciphers), 'smtp', 'starttls', users=False)
    assert result['weakest']['kind'] == kind
    assert result['session']['forward_secrecy'] is True  # what the server chooses for a default client
    assert ('warn', '127.0.0.1:%d accepts %s suites (%s)' % (result['port'], kind, result['weakest']['cipher'])) in findings(result)


def test_a_chain_the_client_cannot_verify(pki, peer):
    other_ca = pki.issue('Other CA', ca=True, days=(-10, 3650))
    p = peer('smtp')
    result = inspect('127.0.0.1', p.port, protocol='smtp', mode='starttls', timeout=5, ca_file=other_ca.cert_path,
                     hostname='other.test', users=True)
    assert result['certificate']['chain_verified'] is False
    assert result['certificate']['verify_error'] == 'unable to get local issuer certificate'
    assert result['certificate']['name_matches'] is False
    assert set(severity for severity, dummy in findings(result)) == {'bad'}


def test_nothing_listens(certs):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    result = inspect('127.0.0.1', port, protocol='smtp', mode='starttls', timeout=2)
    assert result['reachable'] is False
    assert [severity for severity, dummy in result['findings']] == ['warn']
    assert 'not reachable' in result['findings'][0][1]


def tlsa(issued):
    return '3 1 1 ' + hashlib.sha256(issued.spki).hexdigest()


@pytest.mark.parametrize('published, validated, severity, text', [
    (['rsa', 'ecdsa', 'next'], True, 'ok', None),
    (['rsa', 'ecdsa'], True, 'warn', 'has no rollover record'),
    (['ecdsa', 'next'], True, 'bad', 'RSA 2048 matches no TLSA record of _'),
    (['rsa', 'ecdsa', 'next'], False, 'warn', 'are not DNSSEC-validated'),
])
def test_every_key_served_against_the_tlsa_records(pki, certs, peer, dns_server, published, validated, severity, text):
    ca, rsa_leaf = certs
    ecdsa_leaf = pki.issue('peer.test', ['peer.test'], issuer=ca, key_type='ec')
    nxt = pki.issue('next.peer.test', ['peer.test'], issuer=ca, key_type='ec')
    records = {'rsa': tlsa(rsa_leaf), 'ecdsa': tlsa(ecdsa_leaf), 'next': tlsa(nxt)}
    p = Peer(rsa_leaf, 'smtp', also=[ecdsa_leaf])
    # the records of this test server's port (_PORT._tcp.HOST, as for 25 on a real MX)
    dns = dns_server({('_%d._tcp.peer.test' % p.port, 'TLSA'): [records[k] for k in published]})
    if validated:
        dns.validated.add('peer.test')
    try:
        result = inspect('127.0.0.1', p.port, protocol='smtp', mode='starttls', timeout=5, ca_file=ca.cert_path,
                         hostname='peer.test', users=False, resolver=Resolver(['127.0.0.1:%d' % dns.port], 5))
    finally:
        p.close()
    # both keys were seen, each in its own session
    assert sorted(k['key'] for k in result['dane']['keys']) == ['ECDSA 256', 'RSA 2048']
    assert result['dane']['validated'] is validated
    assert worst(findings(result)) == severity, findings(result)
    if text:
        assert any(text in t for dummy, t in findings(result)), findings(result)
    if severity == 'bad':
        assert any(t.endswith('._tcp.peer.test: DANE senders defer mail when they get it') for dummy, t in findings(result))


@pytest.mark.parametrize('published, severity', [(['rsa', 'next'], 'ok'), ([], 'warn')])
def test_dane_ee_makes_the_chain_of_an_mx_no_finding(pki, certs, dns_server, published, severity):
    """RFC 7672 3.1.1: DANE-EE senders check neither the chain nor the names; without records the chain counts."""
    ca = certs[0]
    # a certificate for another name: neither its chain (no CA file) nor its names fit peer.test
    leaf = pki.issue('elsewhere.test', ['elsewhere.test'], issuer=ca)
    nxt = pki.issue('next.peer.test', ['peer.test'], issuer=ca, key_type='ec')
    records = {'rsa': tlsa(leaf), 'next': tlsa(nxt)}
    p = Peer(leaf, 'smtp')
    dns = dns_server({('_%d._tcp.peer.test' % p.port, 'TLSA'): [records[k] for k in published]})
    dns.validated.add('peer.test')
    try:
        # no ca_file: the system bundle does not know the lab CA, so the chain does not verify
        result = inspect('127.0.0.1', p.port, protocol='smtp', mode='starttls', timeout=5, hostname='peer.test',
                         users=False, resolver=Resolver(['127.0.0.1:%d' % dns.port], 5))
    finally:
        p.close()
    assert result['certificate']['chain_verified'] is False and result['certificate']['name_matches'] is False
    assert worst(findings(result)) == severity, findings(result)
    texts = [t for dummy, t in findings(result)]
    assert any('the chain does not verify' in t for t in texts) == (severity == 'warn')
    assert any('does not name the host' in t for t in texts) == (severity == 'warn')


def test_no_tlsa_records_no_dane_finding(certs, peer, dns_server):
    dns = dns_server({('peer.test', 'A'): ['127.0.0.1']})
    p = peer('smtp')
    result = inspect('127.0.0.1', p.port, protocol='smtp', mode='starttls', timeout=5, ca_file=certs[0].cert_path,
                     hostname='peer.test', users=False, resolver=Resolver(['127.0.0.1:%d' % dns.port], 5))
    assert result['dane']['records'] == 0 and result['dane']['every_key_matches'] is None
    assert worst(findings(result)) == 'ok'


def sts(mode, mx, error=None, announced=True):
    """A stand-in for _mtasts.discover that reports one policy (discover itself is tested in test_mtasts.py)."""
    state = {'id': '1' if announced else None, 'mode': mode, 'mx': mx, 'max_age': 86400, 'policy_strings': [], 'error': error}
    return lambda domain, resolver, timeout, ca_file: dict(state)


@pytest.mark.parametrize('policy, severity, text', [
    (sts('enforce', ['mx1.example.org', 'mx2.example.org']), None, None),
    (sts('enforce', ['*.example.org']), None, None),
    (sts('enforce', ['mx2.example.org']), 'bad', 'does not cover mx1.example.org: senders that enforce it do not deliver'),
    (sts('enforce', ['*.mx1.example.org']), 'bad', 'does not cover'),
    (sts('testing', ['mx2.example.org']), 'warn', 'senders that enforce it report it'),
    (sts('none', []), None, None),
    (sts(None, []), None, None),
    (sts(None, [], error='policy: HTTP 404'), 'warn', 'MTA-STS is announced but no valid policy can be read (policy: HTTP 404)'),
    (sts(None, [], error='TXT: REFUSED', announced=False), 'warn', 'the MTA-STS TXT record cannot be looked up (TXT: REFUSED)'),
])
def test_mta_sts_policy_must_cover_the_host(policy, severity, text):
    states, found = mta_sts(['example.org'], 'mx1.example.org', None, discover_func=policy)
    assert [s for s, dummy in found] == ([severity] if severity else [])
    if text:
        assert text in found[0][1]
    applies = policy('', None, 0, None)['mode'] in ('enforce', 'testing')
    assert states[0]['covers_host'] is ((severity is None) if applies else None)
