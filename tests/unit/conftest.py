"""Shared fixtures: the collection on sys.path, test certificates, an in-process SMTP server and DNS server."""
import os
import sys
import tempfile

_TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
_COLLECTIONS = tempfile.mkdtemp(prefix='mailtls-units-')
os.makedirs(os.path.join(_COLLECTIONS, 'ansible_collections', 'mailtls'))
os.symlink(_TOP, os.path.join(_COLLECTIONS, 'ansible_collections', 'mailtls', 'postfix'))
sys.path.insert(0, _COLLECTIONS)
sys.path.insert(0, os.path.dirname(__file__))
os.environ['MAILTLS_UNITS_COLLECTIONS'] = _COLLECTIONS

import pytest  # noqa: E402

from labkit import CertFactory, DNSServer, SMTPServer  # noqa: E402

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import Resolver  # noqa: E402
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import Prober  # noqa: E402


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    return CertFactory(tmp_path_factory.mktemp('pki'))


def _servers(factory):
    """A fixture body: start servers made by ``factory`` on request, stop them all afterwards."""
    servers = []

    def start(*args, **kwargs):
        server = factory(*args, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def smtp_server():
    yield from _servers(SMTPServer)


@pytest.fixture
def dns_server():
    yield from _servers(DNSServer)


@pytest.fixture
def lab(pki, smtp_server, dns_server):
    """secure.test: two MX with CA-issued certificates; pinned.test: two MX with self-signed keys;
    mixed.test: one TLS MX and one without STARTTLS; nomx.test: no MX, its own A record."""
    ca = pki.issue('Lab CA', ca=True, days=(-10, 3650))
    servers = {}
    first = smtp_server(issued=pki.issue('mx1.secure.test', ['mx1.secure.test'], issuer=ca), host='127.0.0.2')
    port = first.port
    servers['mx1.secure.test'] = first
    servers['mx2.secure.test'] = smtp_server(issued=pki.issue('*.secure.test', ['*.secure.test'], issuer=ca, key_type='ec'),
                                             host='127.0.0.3', port=port)
    servers['mx1.pinned.test'] = smtp_server(issued=pki.issue('mx1.pinned.test', ['mx1.pinned.test']), host='127.0.0.4', port=port)
    servers['mx2.pinned.test'] = smtp_server(issued=pki.issue('mx2.pinned.test', ['mx2.pinned.test'], key_type='ec'),
                                             host='127.0.0.5', port=port)
    servers['plain.mixed.test'] = smtp_server(mode='plain', host='127.0.0.6', port=port)
    servers['nomx.test'] = smtp_server(issued=pki.issue('nomx.test', ['nomx.test'], issuer=ca), host='127.0.0.7', port=port)
    zone = {
        ('secure.test', 'MX'): ['10 mx1.secure.test.', '20 mx2.secure.test.'],
        ('mx1.secure.test', 'A'): ['127.0.0.2'],
        ('mx2.secure.test', 'A'): ['127.0.0.3'],
        ('pinned.test', 'MX'): ['10 mx1.pinned.test.', '10 mx2.pinned.test.'],
        ('mx1.pinned.test', 'A'): ['127.0.0.4'],
        ('mx2.pinned.test', 'A'): ['127.0.0.5'],
        ('mixed.test', 'MX'): ['10 mx1.secure.test.', '20 plain.mixed.test.'],
        ('plain.mixed.test', 'A'): ['127.0.0.6'],
        ('nomx.test', 'A'): ['127.0.0.7'],
        ('nullmx.test', 'MX'): ['0 .'],
        ('dangling.test', 'MX'): ['10 gone.dangling.test.'],
        ('gone.dangling.test', 'TXT'): ['"nothing"'],
    }
    dns = dns_server(zone)
    resolver = Resolver(['127.0.0.1:%d' % dns.port], timeout=2, address_family='ipv4')
    prober = Prober(resolver, port=port, timeout=2, concurrency=8, ehlo_name='probe.test', ca_file=ca.cert_path)
    return prober, servers, dns


@pytest.fixture
def probed(lab):
    """Facts and recommendations of the lab's main destinations: ({key: result}, results)."""
    from labkit import probe_and_recommend
    prober, dummy, dummy2 = lab
    results, dummy3 = probe_and_recommend(prober, ['secure.test', 'pinned.test', 'mixed.test', 'missing.test'])
    return dict((r['key'], r) for r in results), results
