"""TLSA 3 1 1 records for own keys, cross-checked with the openssl command line."""
import hashlib
import subprocess

import pytest

from ansible_collections.mailtls.postfix.plugins.filter.tls_pins import tls_pins
from ansible_collections.mailtls.postfix.plugins.filter.tls_tlsa_records import tls_tlsa_records
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsa import tlsa_data, tlsa_records

from ansible.errors import AnsibleFilterError


def openssl_311(cert_path):
    """sha256 of the DER SubjectPublicKeyInfo, as `openssl x509 -pubkey | openssl pkey -pubin -outform DER` gives it."""
    pem = subprocess.run(['openssl', 'x509', '-in', cert_path, '-noout', '-pubkey'], check=True,
                         stdout=subprocess.PIPE).stdout
    der = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'], input=pem, check=True,
                         stdout=subprocess.PIPE).stdout
    return hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize('key_type', ['rsa', 'ec'])
def test_records_match_openssl(pki, key_type):
    issued = pki.issue('mx1.example.org', ['mx1.example.org'], key_type=key_type)
    with open(issued.cert_path) as f:
        pin = tls_pins(f.read(), 'sha256')['pubkey']
    records = tls_tlsa_records([pin], ['mx1.example.org', 'MX2.Example.org.'])
    want = openssl_311(issued.cert_path)
    assert records == ['_25._tcp.mx1.example.org. IN TLSA 3 1 1 %s' % want,
                       '_25._tcp.mx2.example.org. IN TLSA 3 1 1 %s' % want]


def test_current_and_next_key_distinct_in_order_with_ttl_and_port():
    a, b = ':'.join(['AB'] * 32), 'cd' * 32
    assert tlsa_records(['mx.example.org'], [a, b, a.lower()], port=587, ttl=300) == [
        '_587._tcp.mx.example.org. 300 IN TLSA 3 1 1 ' + 'ab' * 32,
        '_587._tcp.mx.example.org. 300 IN TLSA 3 1 1 ' + 'cd' * 32]
    assert tlsa_records(['bücher.example'], [b]) == ['_25._tcp.xn--bcher-kva.example. IN TLSA 3 1 1 ' + 'cd' * 32]
    assert tlsa_records([], [b]) == [] and tlsa_records(['mx.example.org'], []) == []


@pytest.mark.parametrize('hostnames, pins, kwargs, message', [
    (['mx.example.org'], [':'.join(['AB'] * 20)], {}, r"pins\[0\] .* is not a sha256 public-key fingerprint"),
    (['mx.example.org'], ['zz' * 32], {}, r"pins\[0\] .* is not a sha256"),
    (['*.example.org'], ['ab' * 32], {}, r"hostnames\[0\] is not an MX host name"),
    (['[192.0.2.1]'], ['ab' * 32], {}, r"hostnames\[0\] is not an MX host name"),
    ('mx.example.org', ['ab' * 32], {}, 'hostnames must be a list'),
    (['mx.example.org'], 'ab' * 32, {}, 'pins must be a list'),
    (['mx.example.org'], ['ab' * 32], {'port': 0}, 'port must be 1-65535'),
    (['mx.example.org'], ['ab' * 32], {'ttl': -1}, 'ttl must be a number of seconds'),
])
def test_bad_inputs_name_the_problem(hostnames, pins, kwargs, message):
    with pytest.raises(MailTLSError, match=message):
        tlsa_records(hostnames, pins, **kwargs)
    with pytest.raises(AnsibleFilterError, match='tls_tlsa_records: '):
        tls_tlsa_records(pins, hostnames, **kwargs)


def test_data_accepts_both_spellings():
    assert tlsa_data(':'.join(['0A'] * 32)) == '0a' * 32 == tlsa_data('0A' * 32)


def test_the_same_records_as_record_sets_for_the_publisher():
    a, b = ':'.join(['AB'] * 32), 'cd' * 32
    assert tls_tlsa_records([a, b, a.lower()], ['mx1.example.org', 'mx2.example.org'], ttl=300, form='rrsets') == [
        {'name': '_25._tcp.mx1.example.org.', 'type': 'TLSA', 'ttl': 300,
         'values': ['3 1 1 ' + 'ab' * 32, '3 1 1 ' + 'cd' * 32]},
        {'name': '_25._tcp.mx2.example.org.', 'type': 'TLSA', 'ttl': 300,
         'values': ['3 1 1 ' + 'ab' * 32, '3 1 1 ' + 'cd' * 32]}]
    # no key: the set is removed (dns_publish: no values)
    assert tls_tlsa_records([], ['mx1.example.org'], form='rrsets') == [
        {'name': '_25._tcp.mx1.example.org.', 'type': 'TLSA', 'ttl': 3600, 'values': []}]
    with pytest.raises(AnsibleFilterError, match="form must be lines or rrsets, got 'zone'"):
        tls_tlsa_records([b], ['mx1.example.org'], form='zone')
