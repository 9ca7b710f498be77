"""Posture report: rows, severities, counts and rendering, from verdicts on a real probe of the in-process lab."""
import copy
import re
from html.parser import HTMLParser

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._judge import judge

from ansible_collections.mailtls.postfix.plugins.module_utils._report import build, render, with_facts
from labkit import probe_and_recommend


@pytest.fixture
def checks(lab):
    prober, dummy, dummy2 = lab
    results, dummy3 = probe_and_recommend(prober, ['secure.test', 'pinned.test', 'mixed.test', 'missing.test'])
    by_key = dict((r['key'], r) for r in results)
    entries = [
        {'destination': 'secure.test', 'level': 'secure', 'match': ['nexthop', 'dot-nexthop']},
        {'destination': 'pinned.test', 'level': 'fingerprint',
         'fingerprints': [by_key['pinned.test']['endpoints'][0]['fingerprints']['pubkey']['sha256']]},
        {'destination': 'mixed.test', 'level': 'may'},
        {'destination': 'missing.test', 'level': 'encrypt'},
    ]
    return with_facts(judge(entries, results), results)


def rows_of(report, destination):
    return [r for r in report['rows'] if r['destination'] == destination]


def test_rows_carry_the_endpoint_facts_and_trust(checks):
    report = build({'mx1': {'checks': checks, 'defaulted': ['mixed.test']}}, warn_days=21)
    secure = rows_of(report, 'secure.test')
    assert [r['trust'] for r in secure] == ['verified', 'verified']
    assert [r['key'].split()[0] for r in secure] == ['RSA', 'ECDSA']
    assert all(r['tls_version'].startswith('TLSv1.') for r in secure)
    assert all(isinstance(r['days_remaining'], int) and r['days_remaining'] > 21 for r in secure)
    assert all(r['severity'] == 'ok' and r['delivery'] == 'yes' for r in secure)
    # self-signed, one of two MX pinned: the other MX would not take mail
    pinned = rows_of(report, 'pinned.test')
    assert [r['trust'] for r in pinned] == ['untrusted', 'untrusted']
    assert [r['severity'] for r in pinned] == ['ok', 'bad']
    assert pinned[1]['delivery'] == 'yes, degraded' and 'no pin matches' in pinned[1]['note']
    # may: the MX without STARTTLS delivers in clear, which is worth a look
    mixed = rows_of(report, 'mixed.test')
    # the TLS MX of mixed.test is mx1.secure.test: its chain verifies, its names are not mixed.test's
    assert [r['trust'] for r in mixed] == ['trusted', 'none']
    assert mixed[1]['severity'] == 'warn' and 'in clear' in mixed[1]['note']
    assert mixed[0]['level_source'] == 'default'
    # no endpoint at all: one row, would not deliver
    missing = rows_of(report, 'missing.test')
    assert len(missing) == 1 and missing[0]['endpoint'] == '-' and missing[0]['severity'] == 'bad'
    assert 'NXDOMAIN' in missing[0]['note']


def test_summary_counts(checks):
    report = build({'mx1': {'checks': checks}, 'mx2': {'checks': checks[:1]}}, warn_days=21)
    s = report['summary']
    assert s['hosts'] == 2
    assert s['destinations'] == 5
    assert s['delivery'] == {'delivers': 3, 'degraded': 1, 'fails': 1, 'unknown': 0}
    assert s['endpoints'] == 8
    assert s['trust'] == {'verified': 4, 'trusted': 1, 'untrusted': 2, 'none': 1}
    assert s['levels'] == {'secure': 2, 'fingerprint': 1, 'may': 1, 'encrypt': 1}
    assert s['problems'] == 3 and s['expiring'] == 0
    # problems: bad ones first
    assert [p['severity'] for p in report['problems']] == ['bad', 'bad', 'warn']


def test_expiry_within_warn_days_and_expired(checks):
    soon = copy.deepcopy(checks)
    soon[0]['endpoints'][0]['days_remaining'] = 5
    soon[0]['endpoints'][1]['days_remaining'] = -2
    report = build({'mx1': {'checks': soon}}, warn_days=21)
    secure = rows_of(report, 'secure.test')
    assert (secure[0]['severity'], secure[0]['note']) == ('warn', 'certificate expires in 5 days')
    assert (secure[1]['severity'], secure[1]['note']) == ('bad', 'certificate expired 2 days ago')
    assert report['summary']['expiring'] == 2
    assert build({'mx1': {'checks': soon}}, warn_days=3)['summary']['expiring'] == 1


class _Table(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.rows, self.cell, self.in_cell = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == 'tr':
            self.rows.append({'class': dict(attrs).get('class'), 'cells': []})
        if tag in ('td', 'th'):
            self.in_cell = True
            self.rows[-1]['cells'].append('')

    def handle_endtag(self, tag):
        if tag in ('td', 'th'):
            self.in_cell = False

    def handle_data(self, data):
        if self.in_cell:
            self.rows[-1]['cells'][-1] += data


def test_html_is_self_contained_escaped_and_marks_problems(checks):
    hostile = copy.deepcopy(checks)
    hostile[3]['reason'] = '<script>alert(1)</script> & "x"'
    page = render(build({'mx<1>': {'checks': hostile}}, 21, '2026-11-29T00:00:00Z'), 'html')
    assert page.startswith('<!DOCTYPE html>') and '</html>' in page
    # nothing loaded from elsewhere
    assert not re.search(r'(src|href)\s*=', page)
    assert '<script>' not in page and '&lt;script&gt;' in page and 'mx&lt;1&gt;' in page
    table = _Table()
    table.feed(page[page.index('<table id="posture"'):])
    header, body = table.rows[0], table.rows[1:]
    assert header['cells'] == ['Mail host', 'Destination', 'Level', 'Delivers', 'MX endpoint', 'TLS', 'Key',
                               'Days left', 'Trust', 'Note']
    assert len(body) == 7
    assert [r['class'] for r in body] == ['ok', 'ok', 'ok', 'bad', 'ok', 'warn', 'bad']
    assert body[6]['cells'][3] == 'no' and body[6]['cells'][4] == '-'
    assert 'class="badge bad"' in page  # the verdict at the top says red


def test_markdown_table_escapes_pipes(checks):
    odd = copy.deepcopy(checks)
    odd[3]['reason'] = 'a | b'
    text = render(build({'mx1': {'checks': odd}}, 21, None), 'markdown')
    lines = text.splitlines()
    assert lines[0] == '# Mail TLS posture'
    assert '| Would not deliver | 1 |' in lines
    table = [line for line in lines if line.startswith('| mx1 |')]
    assert len(table) == 7
    # every row has the ten columns (escaped pipes do not split cells)
    assert all(len(re.split(r'(?<!\\)\|', line)) == 12 for line in table)
    assert 'a \\| b' in text


@pytest.mark.parametrize('hosts, message', [
    (['mx1'], 'expected a mapping of host name'),
    ({'mx1': {'changed': False}}, 'mx1 has no tls_policy_check results'),
])
def test_bad_input_names_the_problem(hosts, message):
    with pytest.raises(MailTLSError, match=message):
        build(hosts)


def test_unknown_format():
    with pytest.raises(MailTLSError, match="format must be markdown, html or data, got 'pdf'"):
        render(build({}), 'pdf')


def test_tlsa_records_of_own_hosts_are_listed(checks):
    lines = ['_25._tcp.mx1.example.org. IN TLSA 3 1 1 ' + 'ab' * 32]
    report = build({'mx1': {'checks': checks, 'tlsa': lines}, 'mx2': {'checks': []}}, 21)
    assert report['tlsa'] == {'mx1': lines}
    md = render(report, 'markdown')
    assert "## DANE TLSA records of the fleet's own MX hosts" in md and '; mx1\n' + lines[0] in md
    page = render(report, 'html')
    assert '<pre id="tlsa">; mx1\n%s</pre>' % lines[0] in page
    assert 'DANE TLSA' not in render(build({'mx1': {'checks': checks}}, 21), 'html')
    with pytest.raises(MailTLSError, match='tlsa of mx1 must be a list of zone-file lines'):
        build({'mx1': {'checks': [], 'tlsa': 'x'}})


POSTURE = {
    'worst': 'bad',
    'ports': [
        {'port': 25, 'protocol': 'smtp', 'tls_mode': 'starttls', 'versions': ['TLSv1.2', 'TLSv1.3'], 'weakest': None,
         'session': {'forward_secrecy': True}, 'certificate': {'chain_verified': True, 'days_remaining': 80}},
        {'port': 587, 'protocol': 'smtp', 'tls_mode': 'starttls', 'versions': ['TLSv1.2', 'TLSv1.3'],
         'weakest': {'kind': 'CBC', 'cipher': 'ECDHE-RSA-AES128-SHA'},
         'session': {'forward_secrecy': True}, 'certificate': {'chain_verified': True, 'days_remaining': 80},
         'key_exchange': {'sha1': True, 'sha224': False, 'post_quantum': False}},
        {'port': 465, 'protocol': 'smtp', 'tls_mode': 'implicit', 'versions': ['TLSv1.3'], 'weakest': None,
         'session': {'forward_secrecy': True}, 'certificate': {'chain_verified': True, 'days_remaining': 80},
         'key_exchange': {'sha1': False, 'sha224': False, 'post_quantum': True}},
    ],
    'findings': [
        {'port': 25, 'severity': 'ok', 'text': 'mx1:25: TLSv1.2, TLSv1.3'},
        {'port': 587, 'severity': 'bad', 'text': 'mx1:587 takes MAIL before STARTTLS (250 2.1.0 Ok): submission without TLS'},
        {'port': 587, 'severity': 'warn', 'text': 'mx1:587 accepts CBC suites (ECDHE-RSA-AES128-SHA)'},
        {'port': 465, 'severity': 'ok', 'text': 'mx1:465: TLSv1.3'},
        {'port': None, 'severity': 'warn', 'text': 'example.org: the MTA-STS policy (mode testing, mx mx2) does not cover mx1'},
    ],
}


def test_own_ports_get_a_row_each_with_the_worst_severity_and_a_red_section(checks):
    report = build({'mx1': {'checks': checks, 'posture': POSTURE}, 'mx2': {'checks': checks, 'posture': None}})
    assert [(r['host'], r['port'], r['protocol'], r['severity']) for r in report['own']] == [
        ('mx1', 25, 'smtp (starttls)', 'ok'), ('mx1', 587, 'smtp (starttls)', 'bad'), ('mx1', 465, 'smtp (implicit)', 'ok'),
        ('mx1', '-', 'MTA-STS', 'warn')]
    # the key exchange (issue 28): the weak hashes accepted, or SHA-2 only, and the post-quantum group; blank when not read
    assert [(r['kex_hash'], r['post_quantum']) for r in report['own']] == [
        (None, None), ('SHA-1 accepted', 'no'), ('SHA-2 only', 'X25519MLKEM768'), (None, None)]
    assert report['own'][1]['note'] == ('mx1:587 takes MAIL before STARTTLS (250 2.1.0 Ok): submission without TLS; '
                                        'mx1:587 accepts CBC suites (ECDHE-RSA-AES128-SHA)')
    assert report['summary']['own'] == {'bad': 1, 'warn': 1, 'ok': 2}
    page = render(report, 'html')
    own = page[page.index('<table id="own"'):]
    assert re.findall(r'<tr class="(\w+)">', own[:own.index('</table>')]) == ['ok', 'bad', 'ok', 'warn']
    assert 'an own port lets mail or a password travel in clear' in page or 'some destinations would not deliver' in page
    md = render(report, 'markdown')
    assert ("| mx1 | 587 | smtp (starttls) | TLSv1.2 TLSv1.3 | CBC | yes | SHA-1 accepted | no | verifies | 80 | "
            "**BAD** mx1:587 takes MAIL") in md
    assert '| mx1 | 465 | smtp (implicit) | TLSv1.3 | none weak | yes | SHA-2 only | X25519MLKEM768 | verifies |' in md
    assert '| Own ports: bad / warn / ok | 1 / 1 / 2 |' in md


def test_without_posture_there_is_no_own_section(checks):
    report = build({'mx1': {'checks': checks}})
    assert report['own'] == [] and '<table id="own"' not in render(report, 'html')
    assert 'Own ports' not in render(report, 'markdown')
    with pytest.raises(MailTLSError) as err:
        build({'mx1': {'checks': checks, 'posture': {'ports': 'x'}}})
    assert 'posture of mx1 must be a tls_server_posture result' in str(err.value)


def _maillog(tmp_path):
    """A real tls_maillog summary of a crafted log (the reader's own test story), as the module returns it."""
    import os
    import time
    from ansible_collections.mailtls.postfix.plugins.module_utils._maillog import Reader, summarize
    lines = []
    for i, (trust, domain) in enumerate([('Verified', 'good.example')] * 6 + [('Untrusted', 'weak.example')] * 3
                                        + [(None, 'plain.example')] * 1):
        stamp = 'Dec 0%d 10:00:%02d' % (1 + i // 5, i)
        if trust:
            lines.append('%s mx postfix/smtp[%d]: %s TLS connection established to mx.%s[192.0.2.1]:25: TLSv1.3 with '
                         'cipher TLS_AES_256_GCM_SHA384 (256/256 bits)' % (stamp, 100 + i, trust, domain))
        lines.append('%s mx postfix/smtp[%d]: Q%d: to=<a@%s>, relay=mx.%s[192.0.2.1]:25, delay=1, delays=0/0/0/1, '
                     'dsn=2.0.0, status=sent (250 2.0.0 Ok)' % (stamp, 100 + i, i, domain, domain))
    path = tmp_path / 'mail.log'
    path.write_text('\n'.join(lines) + '\n')
    t = time.mktime((2026, 12, 3, 0, 0, 0, 0, 0, -1))
    os.utime(str(path), (t, t))
    reader = Reader()
    reader.read_file(str(path))
    return summarize(reader, policy={'good.example': 'secure'}, default_level='may')


def test_volume_shares_per_host_fleet_and_day_and_what_harden_does(checks, tmp_path):
    log = _maillog(tmp_path)
    probe = {'results': [{'destination': 'weak.example', 'key': 'weak.example', 'policy_line': 'weak.example encrypt',
                          'policy': {'level': 'encrypt', 'reason': 'self-signed certificate'}}]}
    report = build({'mx1': {'checks': checks, 'maillog': log},
                    'mx2': {'checks': checks, 'maillog': log, 'explicit': {'weak.example': 'may'}}}, probe=probe)
    volume = report['volume']
    assert volume['fleet']['delivered'] == 20
    assert (volume['fleet']['verified'], volume['fleet']['unauthenticated'], volume['fleet']['clear']) == (12, 6, 2)
    assert volume['fleet']['shares'] == {'verified': 60.0, 'unauthenticated': 30.0, 'clear': 10.0}
    assert [h['host'] for h in volume['hosts']] == ['mx1', 'mx2']
    assert volume['days'] == [
        {'day': '2026-12-01', 'verified': 10, 'unauthenticated': 0, 'clear': 0, 'delivered': 10,
         'shares': {'verified': 100.0, 'unauthenticated': 0.0, 'clear': 0.0}},
        {'day': '2026-12-02', 'verified': 2, 'unauthenticated': 6, 'clear': 2, 'delivered': 10,
         'shares': {'verified': 20.0, 'unauthenticated': 60.0, 'clear': 20.0}}]
    top = [(r['host'], r['nexthop'], r['not_authenticated'], r['harden']) for r in volume['top']]
    # mx2's explicit entry wins in harden over the probe's recommendation (tls_policy_decide)
    assert top == [('mx1', 'weak.example', 3, 'harden: weak.example encrypt (self-signed certificate)'),
                   ('mx2', 'weak.example', 3, 'keeps the explicit entry: may (postfix_tls_policies wins over the probe, '
                                              'which recommends weak.example encrypt (self-signed certificate))'),
                   ('mx1', 'plain.example', 1, top[2][3]), ('mx2', 'plain.example', 1, top[3][3])]
    assert top[2][3].startswith('not probed')
    md = render(report, 'markdown')
    assert '| **fleet** | 20 | 12 (60.0%) | 6 (30.0%) | 2 (10.0%) | | |' in md
    assert '| Mail sent: authenticated / not authenticated / in clear | 60.0% / 30.0% / 10.0% |' in md
    html = render(report, 'html')
    assert '<svg id="volume-chart"' in html and 'http://' not in html.replace('http://www.w3.org/2000/svg', '')
    # one bar segment per non-empty class and day: day 1 green only, day 2 all three
    assert len(re.findall(r'<rect class="(verified|unauthenticated|clear)"', html)) == 4
    assert '<table id="unauthenticated">' in html


def test_a_host_whose_mail_was_all_authenticated_and_bad_input(checks, tmp_path):
    log = _maillog(tmp_path)
    log['nexthops'] = [h for h in log['nexthops'] if h['nexthop'] == 'good.example']
    report = build({'mx1': {'checks': checks, 'maillog': log}})
    assert report['volume']['top'] == []
    assert 'every message delivered in the window went over authenticated TLS' in render(report, 'markdown')
    assert build({'mx1': {'checks': checks}})['volume'] is None
    with pytest.raises(MailTLSError, match='maillog of mx1 must be a tls_maillog result'):
        build({'mx1': {'checks': checks, 'maillog': {'nexthops': 'x'}}})


def _tlsrpt_result():
    """A tlsrpt_read result: two domains, one with an induced failure type over 1% of its sessions."""
    return {'reports': 2, 'malformed': [{'source': 'message 3: r.zip', 'reason': 'a zip archive, not gzip'}],
            'summary': [
                {'organization': 'mx.sender.test', 'policy_domain': 'acme.test', 'policy_type': 'no-policy-found',
                 'day': '2026-12-04', 'success': 300, 'failure': 0},
                {'organization': 'mx.sender.test', 'policy_domain': 'badtlsa.acme.test', 'policy_type': 'tlsa',
                 'day': '2026-12-04', 'success': 0, 'failure': 4}],
            'failures': [{'organization': 'mx.sender.test', 'policy_domain': 'badtlsa.acme.test', 'policy_type': 'tlsa',
                          'day': '2026-12-04', 'receiving_mx': 'badtlsa-mx.acme.test',
                          'result_type': 'certificate-not-trusted', 'sending_mta_ip': '10.89.0.4', 'sessions': 4}]}


def test_what_senders_saw_is_a_section_and_its_failures_are_problems(checks):
    posture = {'ports': [{'port': 587, 'protocol': 'submission', 'tls_mode': 'starttls'}],
               'findings': [{'port': 587, 'severity': 'bad', 'text': 'mx1:587 takes MAIL before STARTTLS'}]}
    report = build({'mx1': {'checks': checks[:1], 'posture': posture, 'tlsrpt': [_tlsrpt_result()]}}, warn_days=21)
    senders = report['senders']
    assert senders['fleet'] == {'success': 300, 'failure': 4, 'sessions': 304, 'success_share': 98.68}
    assert [(f['policy_domain'], f['receiving_mx'], f['result_type'], f['severity']) for f in senders['failures']] == [
        ('badtlsa.acme.test', 'badtlsa-mx.acme.test', 'certificate-not-trusted', 'bad')]
    assert senders['malformed'][0]['host'] == 'mx1'
    # the problems: the own port and the senders' failure type, worst first; the summary counts the same list
    kinds = [(p['kind'], p['severity']) for p in report['problems']]
    assert ('own', 'bad') in kinds and ('senders', 'bad') in kinds
    assert report['summary']['problems'] == len(report['problems'])
    assert report['summary']['senders']['sessions'] == 304 and report['summary']['senders']['malformed'] == 1
    md = render(report, 'markdown')
    assert '## What senders saw (their SMTP TLS reports)' in md
    assert '| badtlsa.acme.test | badtlsa-mx.acme.test | **certificate-not-trusted** (bad) | 4 | 100.0% | 10.89.0.4 | mx.sender.test |' in md
    assert '| **all** | | | | 304 | 300 | 4 | 98.7% |' in md
    assert '- **BAD** mx1 port 587 (submission (starttls)): mx1:587 takes MAIL before STARTTLS' in md
    assert '- **BAD** senders report badtlsa.acme.test: senders reported 4 session(s) failing with certificate-not-trusted' in md
    assert '| Problems | %d |' % len(report['problems']) in md
    page = render(report, 'html')
    assert re.search(r'<table id="senders">.*<tr class="bad"><td>badtlsa\.acme\.test</td><td>badtlsa-mx\.acme\.test</td>'
                     r'<td>certificate-not-trusted</td>', page, re.S)
    assert 'senders report failed TLS sessions' not in page  # the own port is named first in the verdict
    assert page.count('<li class="bad" data-kind=') == len([p for p in report['problems'] if p['severity'] == 'bad'])


def test_no_senders_section_without_reports(checks):
    report = build({'mx1': {'checks': checks[:1]}}, warn_days=21)
    assert report['senders'] is None and 'senders' not in report['summary']
    assert 'What senders saw' not in render(report, 'markdown')
