"""The mail log reader: Postfix's own log lines in the three stamp formats, sessions by process, windows, rotation."""
import gzip
import os
import time

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils import _maillog
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._maillog import (
    Reader, level_of, lookup_keys, nexthop_of, order_files, parse_postmap_output, parse_when, policy_keys, summarize,
    transport_nexthop)

# Lines as Postfix 3.7 and 3.10 log them (smtp_tls_loglevel 1), after the stamp and the host name.
TLS13 = ('{trust} TLS connection established to {mx}[{ip}]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) '
         'key-exchange X25519 server-signature ECDSA (P-256) server-digest SHA256')
TLS12 = ('{trust} TLS connection established to {mx}[{ip}]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 '
         '(256/256 bits)')
SENT = ('{qid}: to=<{rcpt}>, relay={mx}[{ip}]:25, delay=0.12, delays=0.02/0.01/0.05/0.04, dsn=2.0.0, '
        'status=sent (250 2.0.0 Ok: queued as 4Fz{qid})')
DEFERRED = ('{qid}: to=<{rcpt}>, relay={mx}[{ip}]:25, delay=5, delays=0.01/0/5/0, dsn=4.7.5, status=deferred '
            '(Server certificate not verified)')
BOUNCED = ('{qid}: to=<{rcpt}>, relay={mx}[{ip}]:25, delay=0.3, delays=0.01/0/0.2/0.1, dsn=5.1.1, status=bounced '
           '(host {mx}[{ip}] said: 550 5.1.1 <{rcpt}>: Recipient address rejected (in reply to RCPT TO command))')
NOISE = [
    'postfix/smtpd[900]: connect from unknown[192.0.2.9]',
    'postfix/smtpd[900]: Anonymous TLS connection established from unknown[192.0.2.9]: TLSv1.3 with cipher '
    'TLS_AES_256_GCM_SHA384 (256/256 bits)',
    'postfix/cleanup[901]: 1A2B3C: message-id=<x@example.net>',
    'postfix/qmgr[902]: 1A2B3C: from=<a@example.net>, size=320, nrcpt=1 (queue active)',
    'postfix/local[903]: 1A2B3C: to=<lab@example.net>, relay=local, delay=0.1, status=sent (delivered to mailbox)',
    'postfix/smtp[904]: connect to mx.gone.example[192.0.2.77]:25: Connection refused',
]


def traditional(when):
    t = time.localtime(when)
    return '%s %2d %s' % (time.strftime('%b', t), t.tm_mday, time.strftime('%H:%M:%S', t))


def maillog_file(when):
    return time.strftime('%b %d %H:%M:%S', time.localtime(when))


def rfc3339(when):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(when)) + '.123456+00:00'


T0 = 1764633600.0  # 2025-12-02T00:00:00Z


def story(stamp, t0=T0, program='postfix/smtp'):
    """A day of a sender's log: 3 Verified messages to good.example (one with two recipients), one Untrusted to
    weak.example, one in clear to plain.example on a process whose previous message went over TLS, two deferred
    attempts and one bounce for strict.example, and noise of other programs."""
    ip = '192.0.2.10'
    events = [
        (program + '[501]', TLS13.format(trust='Verified', mx='mx.good.example', ip=ip)),
        (program + '[501]', SENT.format(qid='A1', rcpt='a@good.example', mx='mx.good.example', ip=ip)),
        (program + '[501]', SENT.format(qid='A1', rcpt='b@GOOD.example', mx='mx.good.example', ip=ip)),
        (program + '[502]', TLS13.format(trust='Verified', mx='mx.good.example', ip=ip)),
        (program + '[502]', SENT.format(qid='A2', rcpt='a@Good.Example', mx='mx.good.example', ip=ip)),
        (program + '[501]', TLS13.format(trust='Verified', mx='mx.good.example', ip=ip)),
        (program + '[501]', SENT.format(qid='A3', rcpt='c@good.example', mx='mx.good.example', ip=ip)),
        (program + '[503]', TLS12.format(trust='Untrusted', mx='mx.weak.example', ip='192.0.2.11')),
        (program + '[503]', SENT.format(qid='B1', rcpt='x@weak.example', mx='mx.weak.example', ip='192.0.2.11')),
        # the same process delivers the next message without a TLS line of its own: in clear
        (program + '[503]', SENT.format(qid='C1', rcpt='p@plain.example', mx='mx.plain.example', ip='192.0.2.12')),
        (program + '[504]', DEFERRED.format(qid='D1', rcpt='s@strict.example', mx='mx.strict.example', ip='192.0.2.13')),
        (program + '[505]', DEFERRED.format(qid='D1', rcpt='s@strict.example', mx='mx.strict.example', ip='192.0.2.13')),
        (program + '[506]', TLS12.format(trust='Trusted', mx='mx.strict.example', ip='192.0.2.13')),
        (program + '[506]', BOUNCED.format(qid='D2', rcpt='t@strict.example', mx='mx.strict.example', ip='192.0.2.13')),
    ]
    lines = []
    for i, (tag, text) in enumerate(events):
        lines.append('%s mx %s: %s' % (stamp(t0 + 60 * i), tag, text))
        lines.append('%s mx %s' % (stamp(t0 + 60 * i + 1), NOISE[i % len(NOISE)]))
    return '\n'.join(lines) + '\n'


def write(tmp_path, name, text, mtime, compress=False):
    path = tmp_path / name
    data = text.encode()
    if compress:
        with gzip.open(str(path), 'wb') as f:
            f.write(data)
    else:
        path.write_bytes(data)
    os.utime(str(path), (mtime, mtime))
    return str(path)


def read(paths, since=None, until=None, block=None):
    reader = Reader(since, until)
    if block:
        reader.block_size = block
    for path in order_files(paths):
        reader.read_file(path)
    return reader


@pytest.mark.parametrize('stamp', [traditional, maillog_file, rfc3339], ids=['syslog', 'maillog_file', 'rfc3339'])
@pytest.mark.parametrize('program', ['postfix/smtp', 'postfix/relay-smtps/smtp', 'postfix-out/smtp'])
def test_three_stamp_formats_and_service_names_give_the_same_counts(tmp_path, stamp, program):
    path = write(tmp_path, 'mail.log', story(stamp, program=program), T0 + 86400)
    reader = read([path])
    d = reader.domains
    assert sorted(d) == ['good.example', 'plain.example', 'strict.example', 'weak.example']
    # two recipients of A1 in one session are one message; the domain is compared case-folded
    assert d['good.example']['delivered'] == 3
    assert d['good.example']['tls'] == {'Verified': 3, 'Trusted': 0, 'Untrusted': 0, 'Anonymous': 0, 'none': 0}
    assert d['good.example']['protocols'] == {'TLSv1.3': 3}
    assert d['good.example']['ciphers'] == {'TLS_AES_256_GCM_SHA384': 3}
    assert d['weak.example']['tls']['Untrusted'] == 1 and d['weak.example']['protocols'] == {'TLSv1.2': 1}
    # process 503's second message had no TLS line of its own
    assert d['plain.example']['tls']['none'] == 1 and d['plain.example']['protocols'] == {}
    assert (d['strict.example']['delivered'], d['strict.example']['deferred'], d['strict.example']['bounced']) == (0, 2, 1)
    assert reader.days == {'2025-12-02': {'verified': 3, 'unauthenticated': 1, 'clear': 1}}
    assert reader.files[0]['deliveries'] == 9


def test_gzip_and_rotated_files_are_read_oldest_first(tmp_path):
    old = write(tmp_path, 'mail.log.2.gz', story(traditional, T0), T0 + 3600, compress=True)
    mid = write(tmp_path, 'mail.log.1', story(traditional, T0 + 86400), T0 + 86400 + 3600)
    new = write(tmp_path, 'mail.log', story(traditional, T0 + 2 * 86400), T0 + 2 * 86400 + 3600)
    assert order_files([new, old, mid]) == [old, mid, new]
    reader = read([new, mid, old])
    assert reader.domains['good.example']['delivered'] == 9
    assert sorted(reader.days) == ['2025-12-02', '2025-12-03', '2025-12-04']


def test_window_counts_lines_inside_it_and_skips_files_written_before_it(tmp_path):
    old = write(tmp_path, 'mail.log.1', story(traditional, T0), T0 + 3600)
    new = write(tmp_path, 'mail.log', story(traditional, T0 + 86400), T0 + 86400 + 3600)
    # from the second day, up to (excluded) the sixth event of that day (A3): A1 (two lines) and A2
    reader = read([old, new], since=T0 + 86400, until=T0 + 86400 + 60 * 5)
    assert [f.get('skipped') for f in reader.files] == ['last written before the window', None]
    assert reader.files[0]['read'] is False
    assert reader.domains['good.example']['delivered'] == 2
    assert set(reader.domains) == {'good.example'}


@pytest.mark.parametrize('block', [1, 7, 64, 333])
def test_lines_cut_by_the_block_size_are_read_whole(tmp_path, block):
    path = write(tmp_path, 'mail.log', story(maillog_file).rstrip('\n'), T0 + 86400)  # no newline at the end
    reader = read([path], block=block)
    assert reader.domains['good.example']['delivered'] == 3
    assert reader.domains['strict.example']['bounced'] == 1


def test_traditional_stamps_take_the_year_of_the_file_or_the_one_before(tmp_path):
    # a log written on 2 January holds lines of 31 December: they are from the year before
    january = time.mktime((2027, 1, 2, 12, 0, 0, 0, 0, -1))
    text = 'Dec 31 23:59:00 mx ' + 'postfix/smtp[7]: ' + SENT.format(qid='Q1', rcpt='a@x.example', mx='mx', ip='192.0.2.1') + '\n'
    text += 'Jan  1 00:01:00 mx ' + 'postfix/smtp[8]: ' + SENT.format(qid='Q2', rcpt='a@x.example', mx='mx', ip='192.0.2.1') + '\n'
    path = write(tmp_path, 'mail.log', text, january)
    reader = read([path])
    assert reader.first == time.mktime((2026, 12, 31, 23, 59, 0, 0, 0, -1))
    assert reader.last == time.mktime((2027, 1, 1, 0, 1, 0, 0, 0, -1))


def test_rfc3339_offsets_are_honoured(tmp_path):
    line = '2026-12-02T01:30:00.5+02:00 mx postfix/smtp[9]: ' + SENT.format(qid='Q', rcpt='a@x.example', mx='m', ip='192.0.2.1')
    path = write(tmp_path, 'mail.log', line + '\n', T0 + 400 * 86400)
    reader = read([path])
    assert reader.first == 1796167800.0  # 2026-12-01T23:30:00Z
    assert list(reader.days) == ['2026-12-01']


def test_ipv6_peers_and_reused_sessions(tmp_path):
    lines = [
        'Dec 02 10:00:00 mx postfix/smtp[11]: Trusted TLS connection reused to mx6.example[2001:db8::25]:25: TLSv1.3 with '
        'cipher TLS_AES_128_GCM_SHA256 (128/128 bits)',
        'Dec 02 10:00:01 mx postfix/smtp[11]: ' + SENT.format(qid='R1', rcpt='a@six.example', mx='mx6.example', ip='2001:db8::25'),
        'Dec 02 10:00:02 mx postfix/smtp[12]: Anonymous TLS connection established to mx6.example[2001:db8::25]:25: TLSv1.2 '
        'with cipher ADH-AES256-GCM-SHA384 (256/256 bits)',
        'Dec 02 10:00:03 mx postfix/smtp[12]: ' + SENT.format(qid='R2', rcpt='a@six.example', mx='mx6.example', ip='2001:db8::25'),
    ]
    path = write(tmp_path, 'mail.log', '\n'.join(lines) + '\n', time.mktime((2026, 12, 2, 12, 0, 0, 0, 0, -1)))
    six = read([path]).domains['six.example']
    assert six['tls']['Trusted'] == 1 and six['tls']['Anonymous'] == 1
    assert six['ciphers'] == {'TLS_AES_128_GCM_SHA256': 1, 'ADH-AES256-GCM-SHA384': 1}


def test_memory_is_bounded_by_the_processes_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(_maillog, 'MAX_PROCESSES', 50)
    lines = []
    for pid in range(1000):
        lines.append('Dec 02 10:00:00 mx postfix/smtp[%d]: %s' % (pid, TLS12.format(trust='Verified', mx='m', ip='192.0.2.1')))
        lines.append('Dec 02 10:00:00 mx postfix/smtp[%d]: %s' % (pid, SENT.format(qid='Q%d' % pid, rcpt='a@x.example', mx='m', ip='192.0.2.1')))
    path = write(tmp_path, 'mail.log', '\n'.join(lines) + '\n', time.mktime((2026, 12, 2, 12, 0, 0, 0, 0, -1)))
    reader = read([path])
    assert len(reader._sessions) <= 50
    assert reader.domains['x.example']['tls']['Verified'] == 1000


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(MailTLSError, match='cannot read .*missing.log'):
        Reader().read_file(str(tmp_path / 'missing.log'))
    broken = tmp_path / 'mail.log.1.gz'
    broken.write_bytes(b'\x1f\x8b\x08\x00not gzip at all')
    with pytest.raises(MailTLSError, match='cannot read .*mail.log.1.gz'):
        Reader().read_file(str(broken))


@pytest.mark.parametrize('text, expected', [
    ('7d', 1000000.0 - 7 * 86400),
    ('24h', 1000000.0 - 86400),
    ('90m', 1000000.0 - 5400),
    ('2w', 1000000.0 - 14 * 86400),
    ('2026-12-01', 1796083200.0),
    ('2026-12-01T00:00:00Z', 1796083200.0),
    ('2026-12-01T02:00:00+02:00', 1796083200.0),
    ('2026-12-01T00:00:00', 1796083200.0),
    (None, None),
])
def test_window_bounds(text, expected):
    assert parse_when(text, 1000000.0) == expected


@pytest.mark.parametrize('text', ['yesterday', '7 days', '2026-13-01', '-1d'])
def test_bad_window_bounds_are_refused(text):
    with pytest.raises(MailTLSError, match='is not a time'):
        parse_when(text, 1000000.0)


def test_lookup_keys_are_transport5_parent_domains():
    assert lookup_keys('a.b.example.org') == ['a.b.example.org', '.b.example.org', '.example.org', '.org']


@pytest.mark.parametrize('value, expected', [
    ('smtp:[relay.example]:587', '[relay.example]:587'),
    ('relay-smtps:[relay.example]:465', '[relay.example]:465'),
    ('smtp:mx.example', 'mx.example'),
    ('smtp:', None),
    (':', None),
    ('local:', None),
    ('error:5.1.1 no such domain', None),
])
def test_transport_nexthop(value, expected):
    assert transport_nexthop(value) == expected


def test_nexthop_and_level_as_postfix_finds_them():
    transport = {'.corp.example': 'smtp:[gw.corp.example]:25', 'plain.example': 'smtp:'}
    assert nexthop_of('sales.corp.example', transport, '[relay.example]:587') == '[gw.corp.example]:25'
    # an entry without a next hop stops the search: the relayhost applies
    assert nexthop_of('plain.example', transport, '[relay.example]:587') == '[relay.example]:587'
    assert nexthop_of('other.example', transport, '') == 'other.example'
    policy = {'.example': 'encrypt', 'good.example': 'secure match=nexthop:dot-nexthop', '[relay.example]:587': 'secure'}
    assert level_of('good.example', policy, 'may') == ('secure', 'policy map (good.example)')
    assert level_of('sub.good.example', policy, 'may') == ('encrypt', 'policy map (.example)')
    assert level_of('[relay.example]:587', policy, 'may') == ('secure', 'policy map ([relay.example]:587)')
    assert level_of('[other.example]:587', policy, 'may') == ('may', 'smtp_tls_security_level')


def test_policy_keys_of_a_relay_are_verbatim_and_of_a_domain_include_its_parents():
    assert policy_keys('[relay.example]:587') == ['[relay.example]:587']
    assert policy_keys('[relay.example]') == ['[relay.example]']
    assert policy_keys('sub.good.example') == ['sub.good.example', '.good.example', '.example']


def test_postmap_output():
    assert parse_postmap_output('good.example\tsecure match=x\n.example\tencrypt\n') == {
        'good.example': 'secure match=x', '.example': 'encrypt'}


def test_summary_merges_domains_into_their_next_hop_and_counts_classes(tmp_path):
    path = write(tmp_path, 'mail.log', story(maillog_file), T0 + 86400)
    reader = read([path])
    result = summarize(reader, transport={'weak.example': 'smtp:[relay.example]:587', 'plain.example': 'smtp:[relay.example]:587'},
                       policy={'good.example': 'secure', '[relay.example]:587': 'encrypt'}, default_level='may')
    hops = dict((r['nexthop'], r) for r in result['nexthops'])
    assert [r['nexthop'] for r in result['nexthops']] == ['good.example', '[relay.example]:587', 'strict.example']
    assert hops['[relay.example]:587']['domains'] == ['plain.example', 'weak.example']
    assert hops['[relay.example]:587']['classes'] == {'verified': 0, 'unauthenticated': 1, 'clear': 1}
    assert hops['[relay.example]:587']['level'] == 'encrypt'
    assert hops['good.example']['level'] == 'secure' and hops['strict.example']['level'] == 'may'
    assert result['totals'] == {'delivered': 5, 'verified': 3, 'unauthenticated': 1, 'clear': 1, 'deferred': 2,
                                'bounced': 1, 'nexthops': 3}
    assert result['days'] == [{'day': '2025-12-02', 'verified': 3, 'unauthenticated': 1, 'clear': 1}]
    assert [r['nexthop'] for r in summarize(reader, top=1)['nexthops']] == ['good.example']
    assert [r['nexthop'] for r in summarize(reader, min_messages=1)['nexthops']] == ['good.example', 'plain.example', 'weak.example']


def test_a_message_to_several_domains_behind_one_next_hop_counts_once_per_session(tmp_path):
    # one session of process 601 to the relay delivers M1 to three domains (two behind [relay.example]:587, one
    # behind [other.example]); M2 in the next session of the same process goes to one of them; M3's two domains
    # behind the relay are deferred, then bounced in a later session
    relay, ip = 'relay.example', '192.0.2.20'
    lines = [
        ('postfix/smtp[601]', TLS13.format(trust='Verified', mx=relay, ip=ip)),
        ('postfix/smtp[601]', SENT.format(qid='M1', rcpt='a@one.example', mx=relay, ip=ip)),
        ('postfix/smtp[601]', SENT.format(qid='M1', rcpt='b@two.example', mx=relay, ip=ip)),
        ('postfix/smtp[601]', SENT.format(qid='M1', rcpt='c@three.example', mx=relay, ip=ip)),
        ('postfix/smtp[601]', TLS12.format(trust='Untrusted', mx=relay, ip=ip)),
        ('postfix/smtp[601]', SENT.format(qid='M2', rcpt='d@two.example', mx=relay, ip=ip)),
        ('postfix/smtp[602]', DEFERRED.format(qid='M3', rcpt='e@one.example', mx=relay, ip=ip)),
        ('postfix/smtp[602]', DEFERRED.format(qid='M3', rcpt='f@two.example', mx=relay, ip=ip)),
        ('postfix/smtp[603]', BOUNCED.format(qid='M3', rcpt='e@one.example', mx=relay, ip=ip)),
        ('postfix/smtp[603]', BOUNCED.format(qid='M3', rcpt='f@two.example', mx=relay, ip=ip)),
    ]
    text = ''.join('%s mx %s: %s\n' % (maillog_file(T0 + i), prog, line) for i, (prog, line) in enumerate(lines))
    reader = read([write(tmp_path, 'mail.log', text, T0 + 86400)])
    transport = {'one.example': 'smtp:[relay.example]:587', 'two.example': 'smtp:[relay.example]:587',
                 'three.example': 'smtp:[other.example]'}
    result = summarize(reader, transport=transport)
    hops = dict((r['nexthop'], r) for r in result['nexthops'])
    relay_row, other = hops['[relay.example]:587'], hops['[other.example]']
    assert (relay_row['delivered'], relay_row['deferred'], relay_row['bounced']) == (2, 1, 1)
    assert relay_row['tls'] == {'Verified': 1, 'Untrusted': 1, 'Trusted': 0, 'Anonymous': 0, 'none': 0}
    assert relay_row['protocols'] == {'TLSv1.3': 1, 'TLSv1.2': 1}
    assert relay_row['classes'] == {'verified': 1, 'unauthenticated': 1, 'clear': 0}
    assert (other['delivered'], other['tls']['Verified']) == (1, 1)
    assert result['totals']['delivered'] == 3 and result['totals']['deferred'] == 1 and result['totals']['bounced'] == 1
    assert result['days'] == [{'day': '2025-12-02', 'verified': 2, 'unauthenticated': 1, 'clear': 0}]
    # without the transport map every domain is its own next hop: each counts the message once
    alone = dict((r['nexthop'], r['delivered']) for r in summarize(reader)['nexthops'])
    assert alone == {'one.example': 1, 'two.example': 2, 'three.example': 1}
