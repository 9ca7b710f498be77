"""RFC 8460 TLS reports read from the places they arrive: RFC 8460's own example (Appendix B) to its stated figures,
gzip and JSON parts of mail in an mbox and a Maildir, files in a directory, and every bad input counted and named
while the rest is read."""
import datetime
import gzip
import io
import json
import mailbox
import zipfile
from email.message import EmailMessage

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import ReportError, check, decode, read

NOW = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)

# RFC 8460 Appendix B, as the RFC prints it (its figures: 5326 successful and 303 failed sessions; failures 100
# certificate-expired at mx1, 200 starttls-not-supported at mx2, 3 validation-failure at mx-backup)
RFC_EXAMPLE = '''{
     "organization-name": "Company-X",
     "date-range": {
       "start-datetime": "2016-04-01T00:00:00Z",
       "end-datetime": "2016-04-01T23:59:59Z"
     },
     "contact-info": "sts-reporting@company-x.example",
     "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
     "policies": [{
       "policy": {
         "policy-type": "sts",
         "policy-string": ["version: STSv1","mode: testing",
               "mx: *.mail.company-y.example","max_age: 86400"],
         "policy-domain": "company-y.example",
         "mx-host": ["*.mail.company-y.example"]
       },
       "summary": {
         "total-successful-session-count": 5326,
         "total-failure-session-count": 303
       },
       "failure-details": [{
         "result-type": "certificate-expired",
         "sending-mta-ip": "2001:db8:abcd:0012::1",
         "receiving-mx-hostname": "mx1.mail.company-y.example",
         "failed-session-count": 100
       }, {
         "result-type": "starttls-not-supported",
         "sending-mta-ip": "2001:db8:abcd:0013::1",
         "receiving-mx-hostname": "mx2.mail.company-y.example",
         "receiving-ip": "203.0.113.56",
         "failed-session-count": 200
       }, {
         "result-type": "validation-failure",
         "sending-mta-ip": "198.51.100.62",
         "receiving-ip": "203.0.113.58",
         "receiving-mx-hostname": "mx-backup.mail.company-y.example",
         "failed-session-count": 3,
         "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
       }]
     }]
   }'''


def report(report_id='r1', org='Company-X', start='2026-12-03T00:00:00Z', end='2026-12-03T23:59:59Z', success=10,
           failed=()):
    return {'organization-name': org, 'report-id': report_id, 'contact-info': 'x@example.org',
            'date-range': {'start-datetime': start, 'end-datetime': end},
            'policies': [{'policy': {'policy-type': 'tlsa', 'policy-domain': 'Example.COM.'},
                          'summary': {'total-successful-session-count': success,
                                      'total-failure-session-count': sum(n for mx, n in failed)},
                          'failure-details': [{'result-type': 'tlsa-invalid', 'sending-mta-ip': '192.0.2.1',
                                               'receiving-mx-hostname': mx, 'failed-session-count': n}
                                              for mx, n in failed]}]}


def mail(parts):
    msg = EmailMessage()
    msg['From'] = 'reports@company-x.example'
    msg['To'] = 'tlsrpt@example.com'
    msg['Subject'] = 'Report Domain: example.com'
    msg.set_content('This is an aggregate TLS report.')
    for ctype, name, data in parts:
        maintype, subtype = ctype.split('/')
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def gz(obj):
    return gzip.compress(json.dumps(obj).encode())


def test_the_rfc_example_parses_to_its_stated_figures():
    facts = check(decode(RFC_EXAMPLE.encode()), NOW)
    (policy,) = facts['policies']
    assert (facts['organization'], facts['report_id']) == ('Company-X', '5065427c-23d3-47ca-b6e0-946ea0e8c4be')
    assert (policy['type'], policy['domain'], policy['success'], policy['failure']) == ('sts', 'company-y.example', 5326, 303)
    assert [(f['result_type'], f['receiving_mx'], f['count']) for f in policy['failures']] == [
        ('certificate-expired', 'mx1.mail.company-y.example', 100),
        ('starttls-not-supported', 'mx2.mail.company-y.example', 200),
        ('validation-failure', 'mx-backup.mail.company-y.example', 3)]
    assert policy['failures'][2]['reason_code'] == 'X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED'


def test_an_mbox_is_read_one_message_at_a_time_and_each_bad_report_named(tmp_path):
    path = str(tmp_path / 'tlsrpt.mbox')
    box = mailbox.mbox(path)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, 'w') as z:
        z.writestr('report.json', json.dumps(report('z')))
    for parts in [
        [('application/tlsrpt+gzip', 'a.json.gz', gz(report('a', failed=[('mx1.example.com', 2)])))],
        [('application/tlsrpt+json', 'b.json', json.dumps(report('b', success=5, failed=[('MX1.example.com.', 1)])).encode())],
        # the same report twice counts once
        [('application/tlsrpt+gzip', 'a.json.gz', gz(report('a', failed=[('mx1.example.com', 2)])))],
        [('application/zip', 'c.zip', zipped.getvalue())],
        [('application/tlsrpt+gzip', 'd.json.gz', gz(report('d'))[:-12])],
        [('application/tlsrpt+json', 'e.json', b'{"organization-name": "\xff"}')],
        [('application/tlsrpt+json', 'f.json', json.dumps(report('f', start='2027-01-01T00:00:00Z',
                                                                 end='2027-01-01T23:59:59Z')).encode())],
        [('application/tlsrpt+gzip', 'g.json.gz', gzip.compress(b' ' * (2 * 1024 * 1024)))],
        [('application/tlsrpt+json', 'h.json', json.dumps(dict(report('h'), policies=[
            {'policy': {'policy-type': 'dane'}, 'summary': {}}])).encode())],
    ]:
        box.add(mail(parts))
    box.flush()
    got = read(path, NOW, cap=1024 * 1024)
    assert got['reports'] == 2
    assert got['summary'] == [{'organization': 'Company-X', 'policy_domain': 'example.com', 'policy_type': 'tlsa',
                               'day': '2026-12-03', 'success': 15, 'failure': 3}]
    assert got['failures'] == [{'organization': 'Company-X', 'policy_domain': 'example.com', 'policy_type': 'tlsa',
                                'day': '2026-12-03', 'receiving_mx': 'mx1.example.com', 'result_type': 'tlsa-invalid',
                                'sending_mta_ip': '192.0.2.1', 'sessions': 3}]
    reasons = [m['reason'] for m in got['malformed']]
    assert reasons[0] == 'no application/tlsrpt+gzip or +json part: it has c.zip (application/zip)'
    assert reasons[1].startswith('gzip data that cannot be read')
    assert reasons[2] == 'not UTF-8 (byte 23)'
    assert reasons[3] == 'report f of Company-X: its date range ends in the future (2027-01-01T23:59:59Z)'
    assert reasons[4] == 'larger than 1048576 bytes once decompressed; not read'
    assert reasons[5] == "report h of Company-X: policies[0]: policy-type 'dane' is not one of sts, tlsa, no-policy-found"
    assert [m['source'].split(':')[0] for m in got['malformed']] == ['message %d' % i for i in (3, 4, 5, 6, 7, 8)]


def test_a_maildir_and_a_directory_of_files(tmp_path):
    box = mailbox.Maildir(str(tmp_path / 'Maildir'))
    box.add(mail([('application/tlsrpt+gzip', 'a.json.gz', gz(report('a', success=7)))]))
    box.add(mail([('application/tlsrpt+gzip', 'b.json.gz', gz(report('b', success=5)))]))
    key = box.add(mail([('application/tlsrpt+json', 'c.json', json.dumps(report('c', success=1)).encode() + b' ' * 4096)]))
    # one message moved to cur/ (read as a mail client leaves it), one over twice the cap: named, not read
    box.get_message(key)
    msg = box.get_message(key)
    msg.set_subdir('cur')
    box[key] = msg
    got = read(str(tmp_path / 'Maildir'), NOW)
    assert got['reports'] == 3 and got['summary'][0]['success'] == 13 and got['malformed'] == []
    got = read(str(tmp_path / 'Maildir'), NOW, cap=2048)
    assert got['reports'] == 2 and got['summary'][0]['success'] == 12
    assert [m['source'].split('/')[0] for m in got['malformed']] == ['message cur']
    assert 'more than twice the 2048-byte cap; not read' in got['malformed'][0]['reason']
    files = tmp_path / 'files'
    files.mkdir()
    (files / 'a.json.gz').write_bytes(gz(report('a', success=1)))
    (files / 'b.json').write_text(json.dumps(report('b', success=2)))
    (files / 'c.json').write_text('{"truncated": ')
    (files / 'notes.txt').write_text('not a report')
    got = read(str(files), NOW)
    assert got['reports'] == 2 and got['summary'][0]['success'] == 3
    assert got['malformed'][0]['source'] == 'c.json' and got['malformed'][0]['reason'].startswith('not JSON')


@pytest.mark.parametrize('data, message', [
    (b'PK\x03\x04rest', 'a zip archive, not gzip'),
    (b'[1, 2]', 'the JSON is not an object'),
    (json.dumps(dict(report(), **{'date-range': {'start-datetime': '2026-12-03T00:00:00Z', 'end-datetime': 'yesterday'}})).encode(),
     "report r1 of Company-X: end-datetime 'yesterday' is not an RFC 3339 date-time"),
    (json.dumps(dict(report(), policies=[])).encode(), 'report r1 of Company-X: policies is missing or empty'),
])
def test_bad_reports_name_the_reason(data, message):
    with pytest.raises(ReportError) as e:
        check(decode(data), NOW)
    assert message in str(e.value)


def test_findings_weigh_each_failure_type_by_the_domains_sessions(tmp_path):
    """RFC 8460's example and a second organisation's report, from two directories (two mailboxes): 5326 + 990
    successful and 303 + 10 failed sessions; certificate-expired is 100 of 6629 sessions (1.51%), over 1% and
    bad; validation-failure 3 (0.05%) a warning; tlsa-invalid belongs to another domain."""
    from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import findings
    one, two = tmp_path / 'a', tmp_path / 'b'
    one.mkdir()
    two.mkdir()
    (one / 'rfc.json').write_text(RFC_EXAMPLE)
    other = json.loads(RFC_EXAMPLE)
    other.update({'organization-name': 'Org-Y', 'report-id': 'y1'})
    other['policies'][0]['summary'] = {'total-successful-session-count': 990, 'total-failure-session-count': 10}
    other['policies'][0]['failure-details'] = [{'result-type': 'certificate-expired', 'sending-mta-ip': '192.0.2.9',
                                                'receiving-mx-hostname': 'mx1.mail.company-y.example',
                                                'failed-session-count': 10}]
    (two / 'y.json.gz').write_bytes(gz(other))
    (two / 'x.json.gz').write_bytes(gz(report(failed=[('mx.example.com', 5)])))
    got = findings([read(str(one), NOW), read(str(two), NOW)])
    assert got['reports'] == 3 and got['malformed'] == []
    company = [d for d in got['domains'] if d['policy_domain'] == 'company-y.example'][0]
    assert (company['success'], company['failure'], company['sessions'], company['organizations']) == (6316, 313, 6629, 2)
    assert company['success_share'] == round(100.0 * 6316 / 6629, 2)
    by = dict(((f['policy_domain'], f['result_type']), f) for f in got['findings'])
    expired = by[('company-y.example', 'certificate-expired')]
    assert (expired['severity'], expired['sessions'], expired['share']) == ('bad', 110, round(100.0 * 110 / 6629, 2))
    assert 'mx1.mail.company-y.example' in expired['text'] and '6629 sessions' in expired['text']
    assert by[('company-y.example', 'validation-failure')]['severity'] == 'warn'
    assert by[('example.com', 'tlsa-invalid')]['severity'] == 'bad'  # 5 of 15
    row = [f for f in got['failures'] if f['result_type'] == 'certificate-expired'][0]
    assert row['sending_mtas'] == ['192.0.2.9', '2001:db8:abcd:0012::1'] and row['organizations'] == ['Company-X', 'Org-Y']
    assert got['findings'][0]['severity'] == 'bad'
    assert got['fleet'] == {'success': 6326, 'failure': 318, 'sessions': 6644, 'success_share': round(100.0 * 6326 / 6644, 2)}
    # a threshold of 2%: certificate-expired (1.66%) is a warning
    assert [f['severity'] for f in findings([read(str(one), NOW), read(str(two), NOW)], 2)['findings']
            if f['result_type'] == 'certificate-expired'] == ['warn']


@pytest.mark.parametrize('results, share, message', [
    ('text', 1, 'expected tlsrpt_read results'),
    ([{'reports': 1}], 1, 'result 0 is not a tlsrpt_read result'),
    ([], 'lots', 'must be a number'),
    ([], 101, 'must be 0 to 100'),
])
def test_findings_refuse_what_is_not_a_result(results, share, message):
    from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
    from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import findings
    with pytest.raises(MailTLSError, match=message):
        findings(results, share)
