import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import parse_nexthop


@pytest.mark.parametrize('text, key, host, port, mx', [
    ('example.com', 'example.com', 'example.com', None, True),
    ('Example.COM.', 'example.com', 'example.com', None, True),
    ('[mx.example.com]', '[mx.example.com]', 'mx.example.com', None, False),
    ('[mx.example.com]:587', '[mx.example.com]:587', 'mx.example.com', 587, False),
    ('[192.0.2.1]:25', '[192.0.2.1]:25', '192.0.2.1', 25, False),
    ('[192.0.2.1]', '[192.0.2.1]', '192.0.2.1', None, False),
    ('[2001:db8::1]:2525', '[2001:db8::1]:2525', '2001:db8::1', 2525, False),
    ('[2001:DB8:0::1]', '[2001:db8:0::1]', '2001:db8::1', None, False),
    ('bücher.example', 'xn--bcher-kva.example', 'xn--bcher-kva.example', None, True),
    ('xn--bcher-kva.example', 'xn--bcher-kva.example', 'xn--bcher-kva.example', None, True),
    # postconf(5)/transport(5): an MX lookup on another port (the usual relayhost form)
    ('smtp.example.com:587', 'smtp.example.com:587', 'smtp.example.com', 587, True),
    # a symbolic service, resolved from /etc/services; the key keeps it as written
    ('[smarthost.example]:submission', '[smarthost.example]:submission', 'smarthost.example', 587, False),
    ('[smarthost.example]:SMTP', '[smarthost.example]:smtp', 'smarthost.example', 25, False),
    ('relay.example:submissions', 'relay.example:submissions', 'relay.example', 465, True),
])
def test_valid_next_hops(text, key, host, port, mx):
    nexthop = parse_nexthop(text)
    assert (nexthop.key, nexthop.host, nexthop.port, nexthop.mx) == (key, host, port, mx)


@pytest.mark.parametrize('text, message', [
    ('', 'empty destination'),
    ('   ', 'empty destination'),
    ('exa mple.com', 'contains whitespace or a comma'),
    ('example.com\nevil.com', 'contains whitespace or a comma'),
    ('a.com,b.com', 'contains whitespace or a comma'),
    ('[mx.example.com]:0', 'port \'0\' is not a number from 1 to 65535'),
    ('[mx.example.com]:65536', 'port \'65536\' is not a number from 1 to 65535'),
    ('[mx.example.com]:no-such-service', "service 'no-such-service' is not in the services database"),
    ('mx.example.com:2_5', "port '2_5' is not a number from 1 to 65535 or a service name"),
    ('192.0.2.1', 'an IP address needs brackets, as in [192.0.2.1]'),
    ('192.0.2.1:25', 'an IP address needs brackets, as in [192.0.2.1]:25'),
    ('2001:db8::1', 'an IP address needs brackets, as in [2001:db8::1]'),
    ('.example.com', 'parent-domain pattern'),
    ('-bad.example.com', 'bad label'),
    ('exa_mple.com', 'bad label'),
    ('[mx.example.com', 'is not of the form [host]'),
    ('[]', 'is not of the form [host]'),
    ('a' * 64 + '.com', 'not a valid domain name'),
])
def test_invalid_next_hops_name_the_problem(text, message):
    with pytest.raises(MailTLSError) as e:
        parse_nexthop(text)
    assert message in str(e.value)


def test_ip_literal_has_no_name_to_match():
    assert parse_nexthop('[192.0.2.1]').name_for_match is None
    assert parse_nexthop('[mx.example.com]').name_for_match == 'mx.example.com'
