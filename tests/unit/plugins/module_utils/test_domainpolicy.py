"""What the fleet's own domains publish: the MTA-STS policy and its id, the TLSRPT record. The policy is read back by
a peer's parser (postfix-mta-sts-resolver's, the resolver Postfix senders run as a socketmap) as well as the probe's."""
import pytest

from postfix_mta_sts_resolver.utils import parse_mta_sts_policy, parse_mta_sts_record

from ansible_collections.mailtls.postfix.plugins.module_utils._domainpolicy import (
    policy_id, policy_text, publication, publications, tlsrpt_record)
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import parse_txt


def test_the_policy_has_crlf_lines_and_reads_back_in_the_peers_parser():
    got = publication('Example.COM.', ['mx1.example.com.', 'mx2.example.com'], mode='enforce', max_age=86400,
                      tlsrpt_rua=['mailto:tlsrpt@example.com', 'https://reports.example.com/tlsrpt'])
    text = got['text']
    assert text == ('version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\n'
                    'max_age: 86400\r\n')
    assert text.count('\r\n') == text.count('\n') == 5
    peer = parse_mta_sts_policy(text)
    assert peer == {'version': 'STSv1', 'mode': 'enforce', 'mx': ['mx1.example.com', 'mx2.example.com'],
                    'max_age': '86400'}
    assert got['host'] == 'mta-sts.example.com'
    sts, tlsrpt = got['records']
    assert sts['name'] == '_mta-sts.example.com.' and sts['type'] == 'TXT'
    # the peer reads the TXT record as senders do; our own probe too
    assert parse_mta_sts_record(sts['values'][0]) == {'v': 'STSv1', 'id': got['id']}
    assert parse_txt(sts['values']) == {'id': got['id']}
    assert tlsrpt == {'name': '_smtp._tls.example.com.', 'type': 'TXT', 'ttl': 3600,
                      'values': ['v=TLSRPTv1; rua=mailto:tlsrpt@example.com,https://reports.example.com/tlsrpt']}


def test_the_id_changes_exactly_when_the_policy_does():
    one = publication('example.com', ['mx1.example.com'], mode='testing')
    same = publication('example.com', ['MX1.example.com.'], mode='testing')
    enforce = publication('example.com', ['mx1.example.com'], mode='enforce')
    longer = publication('example.com', ['mx1.example.com'], mode='testing', max_age=1209600)
    assert one['id'] == same['id'] == policy_id(one['text'])
    assert len({one['id'], enforce['id'], longer['id']}) == 3
    assert one['id'].isalnum() and len(one['id']) == 32


def test_a_wildcard_pattern_covers_the_mx_of_one_label_only():
    ok = publication('example.com', ['a.mail.example.com', 'b.mail.example.com'], mx=['*.mail.example.com'])
    assert ok['mx'] == ['*.mail.example.com']
    with pytest.raises(MailTLSError) as e:
        publication('example.com', ['a.b.mail.example.com'], mx=['*.mail.example.com'])
    assert 'leave out a.b.mail.example.com' in str(e.value)


@pytest.mark.parametrize('kwargs, message', [
    (dict(mx_hosts=['mx1.example.com', 'mx2.example.com'], mx=['mx1.example.com']),
     'MTA-STS policy of example.com: its mx lines (mx1.example.com) leave out mx2.example.com, which DNS lists as MX '
     'of example.com: senders under enforce would not deliver there; nothing was published'),
    (dict(mx_hosts=['mx1.example.com'], mode='strict'), "mode 'strict' is not one of testing, enforce, none"),
    (dict(mx_hosts=['mx1.example.com'], max_age=31557601), 'max_age must be a number of seconds from 1 to 31557600'),
    (dict(mx_hosts=['mx1.example.com'], max_age=0), 'max_age must be a number of seconds from 1 to 31557600'),
    (dict(mx_hosts=['mx%d.example.com' % i for i in range(4000)], mode='enforce'),
     'the policy is 94938 bytes, over the 65536 bytes (64 KiB) senders read (RFC 8461 3.3)'),
    (dict(mx_hosts=['mx1.example.com'], mx=['mx1.example.com', 'mx 2.example.com']),
     "mx 'mx 2.example.com' is not a host name or *.domain pattern"),
    (dict(mx_hosts=['mx1.example.com'], tlsrpt_rua=['http://reports.example.com/']),
     "TLSRPT record of example.com: rua 'http://reports.example.com/' is not a mailto: URI with one address or an https: URI"),
    (dict(mx_hosts=['mx1.example.com'], tlsrpt_rua=['mailto:a@example.com,b@example.com']),
     "rua 'mailto:a@example.com,b@example.com' is not a mailto: URI with one address"),
    (dict(mx_hosts=['mx1.example.com'], tlsrpt_rua=['tlsrpt@example.com']),
     "rua 'tlsrpt@example.com' is not a mailto: URI"),
])
def test_bad_policies_are_refused_naming_the_domain_and_the_reason(kwargs, message):
    with pytest.raises(MailTLSError) as e:
        publication('example.com', **kwargs)
    assert message in str(e.value)


def test_the_tlsrpt_record_alone():
    assert tlsrpt_record('example.com', 'mailto:tlsrpt@example.com') == 'v=TLSRPTv1; rua=mailto:tlsrpt@example.com'


def test_mode_none_withdraws_with_a_new_id():
    text = policy_text('example.com', 'none', [], 86400)
    assert text == 'version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n'


def _endpoint(hostname, san, verified=True, error=None, verify_error=None):
    key = {'certificate': {'san': san, 'subject': 'CN=%s' % (san[0] if san else 'x'), 'key_type': 'ECDSA'},
           'chain_verified': verified, 'verify_error': verify_error}
    return {'hostname': hostname, 'address': '192.0.2.10', 'port': 25, 'error': error, 'keys': [] if error else [key]}


def _probe(domain, endpoints, mx=None):
    return {'destination': domain, 'error': None, 'endpoints': endpoints,
            'mx': [{'hostname': h} for h in (mx or sorted(set(e['hostname'] for e in endpoints)))]}


def test_enforce_passes_when_every_mx_serves_a_certificate_for_its_name():
    probe = [_probe('example.com', [_endpoint('mx1.example.com', ['mx1.example.com']),
                                    _endpoint('mx2.example.com', ['*.example.com'])])]
    pubs, warnings = publications([{'domain': 'example.com', 'mode': 'enforce'}], probe)
    assert [p['mode'] for p in pubs] == ['enforce'] and warnings == []
    assert pubs[0]['mx'] == ['mx1.example.com', 'mx2.example.com']


@pytest.mark.parametrize('endpoint, reason', [
    (_endpoint('mx2.example.com', ['mx2.example.com'], verified=False, verify_error='self-signed certificate'),
     'MX mx2.example.com (192.0.2.10): its ECDSA certificate does not verify (self-signed certificate)'),
    (_endpoint('mx2.example.com', ['mx.other.example']),
     'MX mx2.example.com (192.0.2.10): its ECDSA certificate is not valid for the name mx2.example.com (it names mx.other.example)'),
    (_endpoint('mx2.example.com', [], error='STARTTLS not offered'), 'MX mx2.example.com (192.0.2.10): STARTTLS not offered'),
])
def test_enforce_is_refused_naming_the_mx_unless_forced(endpoint, reason):
    probe = [_probe('example.com', [_endpoint('mx1.example.com', ['mx1.example.com']), endpoint])]
    with pytest.raises(MailTLSError) as e:
        publications([{'domain': 'example.com', 'mode': 'enforce'}], probe)
    assert 'MTA-STS policy of example.com: mode enforce is refused, senders would not deliver: ' + reason in str(e.value)
    assert str(e.value).endswith('(nothing was published)')
    pubs, warnings = publications([{'domain': 'example.com', 'mode': 'enforce'}], probe, enforce_force=True)
    assert pubs[0]['mode'] == 'enforce' and reason in warnings[0]
    # testing needs no gate
    pubs, warnings = publications([{'domain': 'example.com', 'mode': 'testing'}], probe)
    assert pubs[0]['mode'] == 'testing' and warnings == []


def test_a_domain_whose_mx_cannot_be_read_publishes_nothing():
    with pytest.raises(MailTLSError) as e:
        publications([{'domain': 'example.com'}], [{'destination': 'example.com', 'error': 'example.com: no such domain (NXDOMAIN)'}])
    assert 'MTA-STS domain example.com: its MX hosts cannot be read (example.com: no such domain (NXDOMAIN))' in str(e.value)
