"""MTA-STS: TXT record, policy file, fetch over real HTTPS (lab CA, in-process server), and the entry it gives."""
import socket
import ssl
import threading
import time

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import (
    fetch_policy, match_from_mx, parse_policy, parse_txt)
from labkit import probe_and_recommend

POLICY = 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.backup.example.org\r\nmax_age: 604800\r\n'


class HTTPSServer:
    """One-response HTTPS server on 127.0.0.1 with a given certificate."""

    def __init__(self, issued, response):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(issued.cert_path, issued.key_path)
        self.response = response
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, dummy = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    request = b''
                    while b'\r\n\r\n' not in request:
                        chunk = tls.recv(4096)
                        if not chunk:
                            break
                        request += chunk
                    self.requests.append(request.decode('latin-1'))
                    tls.sendall(self.response)
            except (OSError, ssl.SSLError):
                pass


def response(body, status='200 OK', ctype='text/plain', chunked=False):
    data = body.encode('utf-8')
    if chunked:
        # HTTP/1.1 chunked transfer coding (RFC 9112 7.1), in pieces of at most 16 bytes
        pieces = [data[i:i + 16] for i in range(0, len(data), 16)] + [b'']
        return (('HTTP/1.1 %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n\r\n' % (status, ctype)).encode()
                + b''.join(b'%x\r\n%s\r\n' % (len(p), p) for p in pieces))
    return ('HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n' % (status, ctype, len(data))).encode() + data


@pytest.fixture
def ca(pki):
    return pki.issue('STS lab CA', ca=True, days=(-10, 3650))


def serve(pki, ca, body=POLICY, names=('mta-sts.example.org',), **kw):
    issued = pki.issue(names[0], list(names), issuer=ca)
    return HTTPSServer(issued, response(body, **kw))


def test_txt_record():
    assert parse_txt(['v=spf1 -all', 'v=STSv1; id=20261129T000000;']) == {'id': '20261129T000000'}
    assert parse_txt(['v=spf1 -all']) is None
    with pytest.raises(MailTLSError, match='more than one v=STSv1 TXT record'):
        parse_txt(['v=STSv1; id=1', 'v=STSv1; id=2'])
    with pytest.raises(MailTLSError, match='id must be 1 to 32 letters or digits'):
        parse_txt(['v=STSv1; id=not-valid!'])


def test_policy_and_its_match_names():
    policy = parse_policy(POLICY)
    assert policy == {'version': 'STSv1', 'mode': 'enforce', 'max_age': 604800,
                      'mx': ['mx1.example.org', '*.backup.example.org'],
                      'lines': ['version: STSv1', 'mode: enforce', 'mx: mx1.example.org', 'mx: *.backup.example.org',
                                'max_age: 604800']}
    assert match_from_mx(policy['mx']) == ['mx1.example.org', '.backup.example.org']
    assert parse_policy(POLICY.replace('enforce', 'testing'))['mode'] == 'testing'
    assert parse_policy('version: STSv1\nmode: none\nmax_age: 0\n')['mx'] == []


@pytest.mark.parametrize('text, message', [
    ('mode: enforce\nmx: a.example\nmax_age: 1\n', "policy version must be STSv1, got None"),
    ('version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n', "policy mode must be enforce, testing or none, got 'strict'"),
    ('version: STSv1\nmode: enforce\nmx: a.example\nmax_age: soon\n', "policy max_age must be a number of seconds, got 'soon'"),
    ('version: STSv1\nmode: enforce\nmax_age: 1\n', 'policy in mode enforce names no mx'),
    ('version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n', "policy line 3: mx 'a..example' is not a host name"),
    ('version: STSv1\nmode enforce\n', 'policy line 2 \'mode enforce\' is not "key: value"'),
    ('version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n', 'policy line 3: mode given twice'),
])
def test_bad_policies_name_the_problem(text, message):
    with pytest.raises(MailTLSError) as err:
        parse_policy(text)
    assert message in str(err.value)


def test_fetch_over_https_with_the_lab_ca(pki, ca):
    server = serve(pki, ca)
    text = fetch_policy('example.org', timeout=5, ca_file=ca.cert_path, port=server.port, connect_address='127.0.0.1')
    assert parse_policy(text)['mode'] == 'enforce'
    request = server.requests[0]
    assert request.startswith('GET /.well-known/mta-sts.txt HTTP/1.1\r\n') and 'Host: mta-sts.example.org\r\n' in request


def test_a_chunked_policy_is_read_as_http_1_1_requires(pki, ca):
    server = serve(pki, ca, chunked=True)
    text = fetch_policy('example.org', timeout=5, ca_file=ca.cert_path, port=server.port, connect_address='127.0.0.1')
    assert text == POLICY and len(POLICY) > 16 * 5  # several chunks


@pytest.mark.parametrize('kind, message', [
    ('untrusted', 'the HTTPS certificate does not verify'),
    ('wrong-name', 'the HTTPS certificate does not verify'),
    ('redirect', 'HTTP status 301 Moved Permanently (RFC 8461: only 200, no redirects)'),
    ('html', "Content-Type 'text/html', not text/plain"),
    ('too-big', 'policy larger than 65536 bytes'),
    ('too-big-chunked', 'policy larger than 65536 bytes'),
    ('truncated', 'the policy ends after'),
    ('not-http', 'not a valid HTTP response'),
])
def test_fetch_refuses(pki, ca, kind, message):
    if kind == 'untrusted':
        server = HTTPSServer(pki.issue('mta-sts.example.org', ['mta-sts.example.org']), response(POLICY))
    elif kind == 'wrong-name':
        server = serve(pki, ca, names=('www.example.org',))
    elif kind == 'redirect':
        server = serve(pki, ca, body='', status='301 Moved Permanently')
    elif kind == 'html':
        server = serve(pki, ca, ctype='text/html')
    elif kind == 'too-big-chunked':
        server = serve(pki, ca, body='x' * 70000, chunked=True)
    elif kind == 'truncated':
        issued = pki.issue('mta-sts.example.org', ['mta-sts.example.org'], issuer=ca)
        server = HTTPSServer(issued, response(POLICY)[:-10])
    elif kind == 'not-http':
        issued = pki.issue('mta-sts.example.org', ['mta-sts.example.org'], issuer=ca)
        server = HTTPSServer(issued, b'220 mail.example.org ESMTP\r\n')
    else:
        server = serve(pki, ca, body='x' * 70000)
    with pytest.raises(MailTLSError) as err:
        fetch_policy('example.org', timeout=5, ca_file=ca.cert_path, port=server.port, connect_address='127.0.0.1')
    assert message in str(err.value) and 'mta-sts.example.org' in str(err.value)


def test_nothing_listening():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(MailTLSError, match='mta-sts.example.org:%d: cannot connect' % port):
        fetch_policy('example.org', timeout=2, port=port, connect_address='127.0.0.1')


@pytest.fixture
def sts_lab(lab, pki, ca, tmp_path):
    """The unit lab, and a prober that also looks up MTA-STS; returns (make_prober, dns) with make_prober(mode)."""
    from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import Prober
    prober, dummy, dns = lab
    bundle = tmp_path / 'cas.pem'
    bundle.write_text(open(prober.ca_file).read() + open(ca.cert_path).read())
    dns.add('mta-sts.secure.test', 'A', ['127.0.0.1'])

    def make(mode, txt=True):
        body = (POLICY.replace('enforce', mode).replace('mx1.example.org', 'mx1.secure.test')
                .replace('*.backup.example.org', '*.secure.test'))
        server = serve(pki, ca, body=body, names=('mta-sts.secure.test',))
        if txt:
            dns.add('_mta-sts.secure.test', 'TXT', ['"v=STSv1; id=20261129;"'])
        return Prober(prober.resolver, port=prober.port, timeout=2, concurrency=4, ehlo_name='probe.test',
                      ca_file=str(bundle), mta_sts=True, sts_port=server.port)
    return make, dns


def probe_one(prober, name):

    results, dummy = probe_and_recommend(prober, [name])
    return results[0]


def test_enforce_policy_gives_secure_with_the_policy_mx(sts_lab):
    make, dummy = sts_lab
    result = probe_one(make('enforce'), 'secure.test')
    assert result['mta_sts'] == {'id': '20261129', 'mode': 'enforce', 'mx': ['mx1.secure.test', '*.secure.test'],
                                 'max_age': 604800, 'error': None,
                                 'policy_strings': ['version: STSv1', 'mode: enforce', 'mx: mx1.secure.test',
                                                    'mx: *.secure.test', 'max_age: 604800'],
                                 'source': 'fetched', 'fetched': result['mta_sts']['fetched']}
    assert abs(result['mta_sts']['fetched'] - time.time()) < 60
    assert result['policy']['level'] == 'secure' and result['policy']['match'] == ['mx1.secure.test', '.secure.test']
    assert result['policy_line'] == 'secure.test secure match=mx1.secure.test:.secure.test'
    assert 'MTA-STS policy 20261129 in enforce mode' in result['policy']['reason']


def test_enforce_policy_becomes_sts_attributes_for_postfix_3_10_only(sts_lab):
    from ansible_collections.mailtls.postfix.plugins.module_utils._decide import decide
    from ansible_collections.mailtls.postfix.plugins.module_utils._policy import validate_entry
    make, dummy = sts_lab
    result = probe_one(make('enforce'), 'secure.test')
    new = decide([result], postfix_version='3.10.13')['policies']
    assert new == [{'destination': 'secure.test', 'level': 'secure', 'match': ['mx1.secure.test', '.secure.test'],
                    'policy_type': 'sts', 'policy_domain': 'secure.test',
                    'mx_host_pattern': ['mx1.secure.test', '*.secure.test'],
                    'policy_string': ['version: STSv1', 'mode: enforce', 'mx: mx1.secure.test', 'mx: *.secure.test',
                                      'max_age: 604800']}]
    assert validate_entry(new[0], postfix_version='3.10.13')[1] == (
        'secure.test secure match=mx1.secure.test:.secure.test policy_type=sts policy_domain=secure.test '
        'mx_host_pattern=mx1.secure.test mx_host_pattern=*.secure.test { policy_string = version: STSv1 } '
        '{ policy_string = mode: enforce } { policy_string = mx: mx1.secure.test } { policy_string = mx: *.secure.test } '
        '{ policy_string = max_age: 604800 }')
    # Postfix 3.7 (and an unknown version) gets the entry without them: the match names carry the policy
    for version in ('3.7.11', None):
        assert decide([result], postfix_version=version)['policies'] == [
            {'destination': 'secure.test', 'level': 'secure', 'match': ['mx1.secure.test', '.secure.test']}]


def test_testing_policy_enforces_nothing(sts_lab):
    make, dummy = sts_lab
    result = probe_one(make('testing'), 'secure.test')
    assert result['mta_sts']['mode'] == 'testing'
    # the probe's own recommendation stands
    assert result['policy']['level'] == 'secure' and result['policy']['match'] == ['nexthop', 'dot-nexthop']
    assert 'MTA-STS' not in result['policy']['reason']
    assert 'policy_type' not in decide_one(result)


def test_cached_policy_applies_when_no_live_one_can_be_read(sts_lab):
    """RFC 8461 3.3: stripping the TXT record or blocking the policy host must not switch enforcement off."""
    from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import Prober
    make, dns = sts_lab
    first = make('enforce')
    live = probe_one(first, 'secure.test')
    cache = first.sts_cache
    assert cache == {'secure.test': {'id': '20261129', 'mode': 'enforce', 'mx': ['mx1.secure.test', '*.secure.test'],
                                     'max_age': 604800, 'policy_strings': live['mta_sts']['policy_strings'],
                                     'fetched': live['mta_sts']['fetched']}}
    fetched = cache['secure.test']['fetched']

    def again(now, sts_cache, txt=True):
        if not txt:
            dns.add('_mta-sts.secure.test', 'TXT', ['"v=spf1 -all"'])
        prober = Prober(first.resolver, port=first.port, timeout=2, concurrency=4, ehlo_name='probe.test',
                        ca_file=first.ca_file, mta_sts=True, sts_port=1, sts_cache=sts_cache, now=now)
        return probe_one(prober, 'secure.test'), prober.sts_cache

    # the policy host unreachable (port 1), an hour later: the cached policy applies, and says why
    result, kept = again(fetched + 3600, dict(cache))
    assert result['mta_sts']['source'] == 'cache' and result['mta_sts']['mode'] == 'enforce'
    assert 'cannot connect' in result['mta_sts']['error'] and kept == cache
    assert result['policy']['level'] == 'secure' and result['policy']['match'] == ['mx1.secure.test', '.secure.test']
    assert 'cached policy, within its max_age; no live policy now: mta-sts.secure.test:1: cannot connect' \
        in result['policy']['reason']
    # no TXT record any more: still the cached policy
    result, kept = again(fetched + 3600, dict(cache), txt=False)
    assert result['mta_sts']['source'] == 'cache'
    assert result['mta_sts']['error'] == 'no v=STSv1 TXT record at _mta-sts now'
    # past max_age the cached policy is gone and nothing is enforced
    result, kept = again(fetched + 604800, dict(cache))
    assert result['mta_sts']['source'] is None and result['mta_sts']['mode'] is None and kept == {}
    assert 'MTA-STS' not in result['policy']['reason']
    # without a cache: no policy (the control)
    result, kept = again(fetched + 3600, None)
    assert result['mta_sts']['mode'] is None and 'MTA-STS' not in result['policy']['reason']


def test_a_live_policy_replaces_the_cached_one_and_other_domains_keep_theirs(sts_lab):
    make, dummy = sts_lab
    old = {'id': '1', 'mode': 'enforce', 'mx': ['old.secure.test'], 'max_age': 86400, 'policy_strings': [], 'fetched': 0}
    prober = make('testing')
    prober.sts_cache = {'secure.test': old, 'other.test': dict(old, fetched=int(time.time()) - 60),
                        'gone.test': dict(old, fetched=int(time.time()) - 86400)}
    result = probe_one(prober, 'secure.test')
    assert result['mta_sts']['mode'] == 'testing' and prober.sts_cache['secure.test']['mode'] == 'testing'
    assert sorted(prober.sts_cache) == ['other.test', 'secure.test']


@pytest.mark.parametrize('entry, message', [
    ('enforce', 'mta_sts_cache[a.test] is not a mapping'),
    ({'id': '1', 'mode': 'enforce'}, 'mta_sts_cache[a.test] lacks mx, max_age, policy_strings, fetched'),
    ({'id': '1', 'mode': 'strict', 'mx': [], 'max_age': 1, 'policy_strings': [], 'fetched': 0}, "mode 'strict' is not"),
    ({'id': '1', 'mode': 'enforce', 'mx': ['a.test'], 'max_age': '1d', 'policy_strings': [], 'fetched': 0},
     "max_age '1d' is not a whole number of seconds"),
    ({'id': '1', 'mode': 'enforce', 'mx': ['a b'], 'max_age': 1, 'policy_strings': [], 'fetched': 0},
     "mx ['a b'] is not a list of host names"),
])
def test_a_damaged_cache_entry_is_named(entry, message):
    from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import check_cache_entry
    with pytest.raises(MailTLSError) as e:
        check_cache_entry('a.test', entry)
    assert message in str(e.value)


def decide_one(result):
    from ansible_collections.mailtls.postfix.plugins.module_utils._decide import decide
    return decide([result], postfix_version='3.10.13')['policies'][0]


def test_no_txt_record_no_policy_and_a_broken_one_is_reported(sts_lab):
    make, dns = sts_lab
    result = probe_one(make('enforce', txt=False), 'secure.test')
    assert result['mta_sts'] == {'id': None, 'mode': None, 'mx': [], 'max_age': None, 'policy_strings': [], 'error': None,
                                 'source': None, 'fetched': None}
    dns.add('_mta-sts.secure.test', 'TXT', ['"v=STSv1; id=1;"'])
    dns.add('mta-sts.secure.test', 'A', ['127.0.0.9'])  # nothing listens there
    result = probe_one(make('enforce', txt=False), 'secure.test')
    assert result['mta_sts']['mode'] is None and 'cannot connect' in result['mta_sts']['error']
    assert 'MTA-STS' not in result['policy']['reason']
