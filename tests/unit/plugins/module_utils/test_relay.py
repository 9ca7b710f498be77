"""The relay plan: what the role writes for postfix_tls_relayhost (relayhost, policy key, SASL, wrapper mode)."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry
from ansible_collections.mailtls.postfix.plugins.module_utils._relay import WRAPPER_SERVICE, plan, sasl_line
from ansible_collections.mailtls.postfix.plugins.module_utils._apply import _masked

PIN = ':'.join(['AB'] * 32)


@pytest.mark.parametrize('relay, relayhost, wrapper', [
    ({'host': 'smtp.example.com'}, '[smtp.example.com]:587', False),
    ({'host': 'smtp.example.com', 'port': 465}, '[smtp.example.com]:465', True),
    ({'host': 'smtp.example.com', 'port': 'submission'}, '[smtp.example.com]:submission', False),
    ({'host': 'Smtp.Example.COM', 'port': 587}, '[smtp.example.com]:587', False),
    ({'host': 'example.com', 'port': 587, 'mx': True}, 'example.com:587', False),
    ({'host': '192.0.2.25', 'port': 2525, 'tls_mode': 'implicit'}, '[192.0.2.25]:2525', True),
    ({'host': '2001:db8::25', 'port': 465, 'tls_mode': 'starttls'}, '[2001:db8::25]:465', False),
])
def test_relayhost_is_the_policy_key_and_the_wrapper_follows_the_port(relay, relayhost, wrapper):
    result = plan(relay)
    assert result['relayhost'] == relayhost
    assert result['main_cf']['relayhost'] == relayhost
    # the policy entry is looked up with the relayhost as written: the same string, as Postfix's map reads it
    assert PolicyEntry.from_dict(result['policy']).line().split()[0] == relayhost
    assert result['wrapper'] is wrapper
    assert result['main_cf']['default_transport'] == (WRAPPER_SERVICE if wrapper else None)
    assert result['service']['state'] == ('present' if wrapper else 'absent')
    if wrapper:
        assert result['service']['command'] == 'smtp'
        assert result['service']['parameters']['smtp_tls_wrappermode'] == 'yes'


def test_sasl_settings_keep_passwords_inside_tls_and_out_of_the_plan():
    result = plan({'host': 'smtp.example.com', 'sasl_username': 'sat', 'sasl_password': 'pa ss:word#1'})
    assert result['sasl'] is True
    assert result['main_cf']['smtp_sasl_auth_enable'] == 'yes'
    assert result['main_cf']['smtp_sasl_security_options'] == 'noanonymous, noplaintext'
    assert result['main_cf']['smtp_sasl_tls_security_options'] == 'noanonymous'
    assert result['main_cf']['smtp_sasl_mechanism_filter'] == 'plain, login'
    assert 'pa ss:word#1' not in repr(result)
    assert result['policy'] == {'destination': '[smtp.example.com]:587', 'level': 'secure'}


def test_without_credentials_the_sasl_parameters_are_removed():
    main_cf = plan({'host': 'smtp.example.com'})['main_cf']
    assert [k for k, v in main_cf.items() if v is None] == ['default_transport', 'smtp_sasl_auth_enable', 'smtp_sasl_security_options',
                                                            'smtp_sasl_tls_security_options', 'smtp_sasl_mechanism_filter']


def test_fingerprint_relay_pins_go_into_the_entry():
    result = plan({'host': 'smtp.example.com', 'level': 'fingerprint', 'fingerprints': [PIN.lower()]})
    assert PolicyEntry.from_dict(result['policy']).line() == '[smtp.example.com]:587 fingerprint match=' + PIN


@pytest.mark.parametrize('relay, message', [
    ({'host': 'smtp.example.com', 'level': 'dane-only', 'match': 'x'}, 'not allowed at level dane-only'),
    ({'host': 'smtp.example.com', 'port': 0}, "port '0'"),
    ({'host': 'smtp.example.com', 'port': True}, 'is not a port number or service name'),
    ({'host': 'smtp.example.com', 'mx': 'yes'}, 'mx must be true or false'),
    ({'host': 'smtp.example.com', 'tls_mode': 'ssl'}, "tls_mode 'ssl' is not one of"),
    ({'host': 'smtp.example.com', 'sasl_username': 'u', 'sasl_password': 'p\x01'}, 'control character'),
    ({'host': 'smtp.example.com', 'sasl_username': 'a b', 'sasl_password': 'p'}, 'white space'),
    ({'host': 'smtp.example.com', 'sasl_username': 'u', 'sasl_password': 'p', 'sasl_mechanisms': ['plain login']},
     'sasl_mechanisms must be a list'),
    ('smtp.example.com', 'must be a mapping'),
    ({}, 'host must be a host name'),
])
def test_bad_relays_are_refused_with_the_reason(relay, message):
    with pytest.raises(MailTLSError) as err:
        plan(relay)
    assert message in str(err.value)


def test_error_messages_never_hold_the_password():
    with pytest.raises(MailTLSError) as err:
        plan({'host': 'smtp.example.com', 'sasl_username': 'u', 'sasl_password': ' topsecret'})
    assert 'topsecret' not in str(err.value)


def test_sasl_line_and_its_masked_form():
    line = sasl_line('[smtp.example.com]:587', 'sat@example.com', 'pa ss:w#rd')
    assert line == '[smtp.example.com]:587 sat@example.com:pa ss:w#rd\n'
    assert _masked(line.rstrip('\n')) == '[smtp.example.com]:587 sat@example.com:********'
    assert _masked('# a comment') == '# a comment'
    with pytest.raises(MailTLSError):
        sasl_line('[smtp.example.com]:587', 'u', 'two\nlines')
