"""The scenarios' mail-log reader (extensions/molecule/resources/maillog_deliveries.py) on logs as Postfix writes them.

The lines follow Postfix's own formats (maillog_file: "%b %d %H:%M:%S host prog[pid]: text"; the TLS
lines of tls_client.c in 3.7 and in later versions). Two smtp processes interleave, so pairing a
delivery with its session goes by process ID, not by order alone.
"""
import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', 'extensions', 'molecule', 'resources', 'maillog_deliveries.py')

OLD = 'AA:' * 31 + 'AA'
NEW = 'BB:' * 31 + 'BB'

SENDER_LOG = '''\
Dec 02 08:00:00 mx postfix/pickup[10]: 1A2B: uid=0 from=<lab>
Dec 02 08:00:00 mx postfix/cleanup[11]: 1A2B: message-id=<rot-7-1@b.test>
Dec 02 08:00:00 mx postfix/cleanup[11]: 3C4D: message-id=<rot-7-2@b.test>
Dec 02 08:00:00 mx postfix/cleanup[11]: 9F9F: message-id=<other-1@b.test>
Dec 02 08:00:01 mx postfix/smtp[20]: mx.a.test[10.0.0.2]:25: subject_CN=mx.a.test, issuer_CN=mx.a.test, fingerprint=11, pkey_fingerprint={old}
Dec 02 08:00:01 mx postfix/smtp[21]: mx.a.test[10.0.0.2]:25: subject_CN=mx.a.test, issuer=mx.a.test, cert fingerprint=22, pkey fingerprint={new}
Dec 02 08:00:01 mx postfix/smtp[21]: Verified TLS connection established to mx.a.test[10.0.0.2]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
Dec 02 08:00:01 mx postfix/smtp[20]: Untrusted TLS connection established to mx.a.test[10.0.0.2]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384
Dec 02 08:00:02 mx postfix/smtp[21]: 3C4D: to=<lab@a.test>, relay=mx.a.test[10.0.0.2]:25, {delays}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as R2)
Dec 02 08:00:02 mx postfix/smtp[20]: 1A2B: to=<lab@a.test>, relay=mx.a.test[10.0.0.2]:25, {delays}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as R1)
Dec 02 08:00:03 mx postfix/cleanup[11]: 5E6F: message-id=<rot-7-3@b.test>
Dec 02 08:00:04 mx postfix/smtp[20]: 5E6F: to=<lab@a.test>, relay=mx.a.test[10.0.0.2]:25, {delays}, dsn=4.7.5, status=deferred (Server certificate not verified)
Dec 02 08:00:04 mx postfix/smtp[22]: 9F9F: to=<x@c.test>, relay=mx.c.test[10.0.0.3]:25, delay=1, dsn=2.0.0, status=sent (250 ok)
'''.format(old=OLD, new=NEW, delays='delay=1, delays=0/0/0/0')

RECEIVER_LOG = '''\
Dec 02 07:59:59 mx postfix/master[1]: reload -- version 3.7.11, configuration /etc/postfix
Dec 02 08:00:01 mx postfix/submission/smtpd[40]: connect from sat.test[10.0.0.1]
Dec 02 08:00:01 mx postfix/smtpd[41]: connect from sat.test[10.0.0.1]
Dec 02 08:00:01 mx postfix/submission/smtpd[40]: Anonymous TLS connection established from sat.test[10.0.0.1]: TLSv1.3 with cipher X
Dec 02 08:00:01 mx postfix/submission/smtpd[40]: R1: client=sat.test[10.0.0.1], sasl_method=PLAIN, sasl_username=alice@mx
Dec 02 08:00:01 mx postfix/smtpd[41]: R2: client=sat.test[10.0.0.1]
Dec 02 08:00:01 mx postfix/submission/smtpd[40]: disconnect from sat.test[10.0.0.1] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8
Dec 02 08:00:02 mx postfix/submission/smtpd[40]: connect from sat.test[10.0.0.1]
Dec 02 08:00:02 mx postfix/submission/smtpd[40]: R3: client=sat.test[10.0.0.1], sasl_method=PLAIN, sasl_username=bob@mx
Dec 02 08:00:02 mx postfix/local[30]: R1: to=<lab@a.test>, relay=local, delay=0, dsn=2.0.0, status=sent (delivered to mailbox)
Dec 02 08:00:02 mx postfix/local[30]: R2: to=<lab@a.test>, relay=local, delay=0, dsn=5.1.1, status=bounced (unknown user: "lab")
'''


def run(tmp_path, receiver=True):
    sender = tmp_path / 'b.log'
    sender.write_text(SENDER_LOG)
    receiver_path = '-'
    if receiver:
        receiver_path = str(tmp_path / 'a.log')
        (tmp_path / 'a.log').write_text(RECEIVER_LOG)
    out = subprocess.run([sys.executable, SCRIPT, str(sender), receiver_path, 'rot-7-', '2026'],
                         stdout=subprocess.PIPE, check=True)
    return json.loads(out.stdout)


def test_each_delivery_gets_the_key_and_trust_of_its_own_process(tmp_path):
    result = run(tmp_path)
    by_qid = dict((m['queue_id'], m) for m in result['messages'])
    assert sorted(by_qid) == ['1A2B', '3C4D', '5E6F']  # only the prefix's messages
    first, second = by_qid['1A2B']['attempts'], by_qid['3C4D']['attempts']
    assert [(a['pkey'], a['tls'], a['status'], a['remote_queue_id']) for a in first] == [(OLD, 'Untrusted', 'sent', 'R1')]
    assert [(a['pkey'], a['tls'], a['status'], a['remote_queue_id']) for a in second] == [(NEW, 'Verified', 'sent', 'R2')]
    assert first[0]['relay'] == 'mx.a.test[10.0.0.2]:25'


def test_each_delivery_gets_the_certificate_fingerprint_of_its_own_session(tmp_path):
    # "fingerprint=" (the certificate's digest) stands before "pkey_fingerprint=" on the same line
    by_qid = dict((m['queue_id'], m) for m in run(tmp_path)['messages'])
    assert [a['cert'] for a in by_qid['1A2B']['attempts']] == ['11']
    assert [a['cert'] for a in by_qid['3C4D']['attempts']] == ['22']
    assert [a['cert'] for a in by_qid['5E6F']['attempts']] == [None]
    # the handshake's time is its own line's, not the delivery's
    assert by_qid['1A2B']['attempts'][0]['time'] - by_qid['1A2B']['attempts'][0]['handshake_time'] == 1
    assert by_qid['5E6F']['attempts'][0]['handshake_time'] is None


def test_a_delivery_without_a_new_session_has_no_key(tmp_path):
    # smtp[20] logged no handshake before its second delivery: the key of its first session is not reused
    attempt = dict((m['queue_id'], m) for m in run(tmp_path)['messages'])['5E6F']['attempts'][0]
    assert (attempt['status'], attempt['pkey'], attempt['tls'], attempt['remote_queue_id']) == ('deferred', None, None, None)
    assert (attempt['dsn'], attempt['why']) == ('4.7.5', 'Server certificate not verified')


def test_receiver_reloads_and_mailbox_delivery(tmp_path):
    result = run(tmp_path)
    assert len(result['receiver_reloads']) == 1
    in_mailbox = dict((m['queue_id'], [a['in_mailbox'] for a in m['attempts']]) for m in result['messages'])
    assert in_mailbox == {'1A2B': [True], '3C4D': [False], '5E6F': [False]}  # R2 bounced at the receiver
    assert result['messages'][0]['attempts'][0]['time'] - result['receiver_reloads'][0] == 3


def test_the_receivers_smtpd_session_of_each_message_tls_and_sasl_user(tmp_path):
    # R1: TLS, then AUTH in process 40; R2: process 41 had no TLS and no AUTH. Process 40's next session
    # (R3, no queue ID of ours) starts without TLS: its handshake belongs to the session before.
    attempts = dict((m['queue_id'], m['attempts'][0]) for m in run(tmp_path)['messages'])
    assert (attempts['1A2B']['remote_tls'], attempts['1A2B']['remote_sasl_username']) == (True, 'alice@mx')
    assert (attempts['3C4D']['remote_tls'], attempts['3C4D']['remote_sasl_username']) == (False, None)
    assert (attempts['5E6F']['remote_tls'], attempts['5E6F']['remote_sasl_username']) == (None, None)
    # when the receiver's smtpd accepted the connection that carried the message
    assert attempts['1A2B']['remote_connect_time'] - attempts['1A2B']['time'] == -1
    assert attempts['5E6F']['remote_connect_time'] is None


def test_without_a_receiver_log(tmp_path):
    result = run(tmp_path, receiver=False)
    assert result['receiver_reloads'] == []
    assert all(not a['in_mailbox'] for m in result['messages'] for a in m['attempts'])


SERVICE_LOG = '''\
Dec 02 09:00:00 sat postfix/cleanup[11]: 7A7A: message-id=<rot-7-9@sat.test>
Dec 02 09:00:01 sat postfix/relay-smtps/smtp[23]: Verified TLS connection established to relay.test[10.0.0.9]:465: TLSv1.3 with cipher X
Dec 02 09:00:01 sat postfix/relay-smtps/smtp[23]: 7A7A: to=<lab@relay.test>, relay=relay.test[10.0.0.9]:465, {delays}, dsn=2.0.0, status=sent (250 ok)
'''.format(delays='delay=1, delays=0/0/0/0')


def test_a_service_with_its_own_syslog_name_is_read_as_its_program(tmp_path):
    # master.cf -o syslog_name=postfix/relay-smtps: Postfix logs postfix/relay-smtps/smtp[PID]
    log = tmp_path / 'sat.log'
    log.write_text(SERVICE_LOG)
    out = subprocess.run([sys.executable, SCRIPT, str(log), '-', 'rot-7-', '2026'], stdout=subprocess.PIPE, check=True)
    attempts = json.loads(out.stdout)['messages'][0]['attempts']
    assert [(a['tls'], a['status'], a['relay']) for a in attempts] == [('Verified', 'sent', 'relay.test[10.0.0.9]:465')]
