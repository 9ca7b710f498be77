"""Resolver.addresses against the in-process DNS server: A before AAAA (asked side by side), and the errors."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import Resolver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

ZONE = {
    ('both.test', 'A'): ['192.0.2.1', '192.0.2.2'],
    ('both.test', 'AAAA'): ['2001:db8::1'],
    ('six.test', 'AAAA'): ['2001:db8::6'],
    ('four.test', 'A'): ['192.0.2.4'],
    ('nothing.test', 'TXT'): ['"no address"'],
}


@pytest.fixture
def resolver(dns_server):
    def make(family='any'):
        return Resolver(['127.0.0.1:%d' % server.port], timeout=2, address_family=family)
    server = dns_server(ZONE)
    return make, server


@pytest.mark.parametrize('host, family, addresses', [
    ('both.test', 'any', ['192.0.2.1', '192.0.2.2', '2001:db8::1']),
    ('both.test', 'ipv4', ['192.0.2.1', '192.0.2.2']),
    ('both.test', 'ipv6', ['2001:db8::1']),
    ('six.test', 'any', ['2001:db8::6']),
    ('four.test', 'any', ['192.0.2.4']),
])
def test_addresses_in_postfix_order(resolver, host, family, addresses):
    make, server = resolver
    found = make(family).addresses(host)
    # the order inside one RRset is not defined (DNS, dnspython); every A comes before every AAAA
    assert sorted(found) == sorted(addresses)
    assert [':' in a for a in found] == sorted(':' in a for a in found)
    asked = [t for n, t in server.queries if n == host]
    assert sorted(asked) == sorted({'any': ['A', 'AAAA'], 'ipv4': ['A'], 'ipv6': ['AAAA']}[family])


@pytest.mark.parametrize('host, message', [
    ('nothing.test', 'nothing.test: no A/AAAA record'),
    ('missing.test', 'missing.test: no such domain (NXDOMAIN)'),
])
def test_no_address_is_an_error_that_names_the_host(resolver, host, message):
    make, dummy = resolver
    with pytest.raises(MailTLSError) as e:
        make().addresses(host)
    assert str(e.value) == message
