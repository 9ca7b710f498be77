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
