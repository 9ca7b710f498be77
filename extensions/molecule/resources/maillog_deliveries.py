"""Read a sender's and a receiver's Postfix mail logs; print, as JSON, each test message's path keyed by queue ID.

Usage: maillog_deliveries.py SENDER_LOG RECEIVER_LOG|- MESSAGE_ID_PREFIX YEAR

For every message whose Message-ID starts with MESSAGE_ID_PREFIX (the
sender's cleanup line ties it to a queue ID), it reports each delivery attempt
the sender's smtp client logged for that queue ID: the time, the status, the
DSN code and the reason in parentheses, the relay, the receiver's queue ID
("queued as"), and what the same smtp process
logged about that session before the delivery line:
  - tls: the trust of the "... TLS connection established to" line, or
    "... reused to" for a cached connection (smtp_tls_loglevel 1): Verified,
    Trusted, Untrusted or Anonymous; null when the session had no TLS;
  - pkey: the server's public-key fingerprint, from the "pkey_fingerprint="
    line (Postfix 3.7; "pkey fingerprint=" later) that smtp_tls_loglevel 2
    logs for every full handshake;
  - cert: the server's certificate fingerprint, the "fingerprint=" before it
    on the same line ("subject_CN=..., issuer_CN=..., fingerprint=...,
    pkey_fingerprint=..."), in smtp_tls_fingerprint_digest;
  - handshake_time: when that line was logged, the end of the handshake.
One smtp process delivers one message at a time, so the last such lines of
that process belong to the session that delivered. RECEIVER_LOG adds the
receiver's master reloads and, per receiver queue ID ("queued as"): whether
local delivery to the mailbox succeeded (in_mailbox), and how the receiver's
smtpd took the message: remote_tls, whether that smtpd session had completed
a TLS handshake ("... TLS connection established from ...") before the line
that names the queue ID ("QID: client=..."), and remote_sasl_username, the
sasl_username= of that line (null when the session did not authenticate),
and remote_connect_time, when that smtpd logged the session's "connect from"
(it accepted the connection then: a certificate is served by the process that
accepted the connection, whatever time the handshake ends under load).
Times are the logs' own (second resolution) as seconds since the epoch.
The scenarios assert on this; it decides nothing itself.
"""
import datetime
import json
import re
import sys

# maillog_file and traditional syslog stamps ("Dec  4 21:19:27"), or RFC 3339 (rsyslog's default on Debian 12)
LINE = re.compile(r'^(?:(?P<stamp>\w{3} +\d+ \d\d:\d\d:\d\d)|(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)))'
                  r' \S+ postfix/(?P<prog>[\w/-]+)\[(?P<pid>\d+)\]: (?P<text>.*)$')
MESSAGE_ID = re.compile(r'^(?P<qid>[0-9A-Za-z]+): message-id=<(?P<mid>[^>]*)>')
# a new session, or one the connection cache reused (smtp_tls_connection_reuse, through tlsproxy)
TLS = re.compile(r'^(?P<trust>\w+) TLS connection (?:established|reused) to (?P<peer>[^:\s]+(?::\d+)?)')
PKEY = re.compile(r'pkey[_ ]fingerprint=(?P<fp>[0-9A-Fa-f:]+)')
CERT = re.compile(r', (?:cert )?fingerprint=(?P<fp>[0-9A-Fa-f:]+)')
DELIVERY = re.compile(r'^(?P<qid>[0-9A-Za-z]+): to=<[^>]*>, relay=(?P<relay>[^,]+), .*?(?:dsn=(?P<dsn>[0-9.]+), )?'
                      r'status=(?P<status>\w+) \((?P<why>.*)\)$')
QUEUED_AS = re.compile(r'queued as (?P<qid>[0-9A-Za-z]+)')
RELOAD = re.compile(r'^reload -- ')
SMTPD_CLIENT = re.compile(r'^(?P<qid>[0-9A-Za-z]+): client=[^,]*(?:, .*?sasl_username=(?P<user>[^,]*))?')


def parse(path, year):
    with open(path, encoding='utf-8', errors='replace') as f:
        for raw in f:
            match = LINE.match(raw.rstrip('\n'))
            if not match:
                continue
            if match.group('iso'):
                # whole seconds, as the other stamps
                when = float(int(datetime.datetime.fromisoformat(match.group('iso').replace('Z', '+00:00')).timestamp()))
            else:
                stamp = datetime.datetime.strptime('%d %s' % (year, ' '.join(match.group('stamp').split())), '%Y %b %d %H:%M:%S')
                when = stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
            # a master.cf service with its own syslog_name logs as postfix/SERVICE/PROGRAM: keep the program
            yield when, match.group('prog').rsplit('/', 1)[-1], match.group('pid'), match.group('text')


def sender_side(path, prefix, year):
    messages, attempts, session_key, session_cert, session_time, session_tls = {}, {}, {}, {}, {}, {}
    for when, prog, pid, text in parse(path, year):
        if prog == 'cleanup':
            found = MESSAGE_ID.match(text)
            if found and found.group('mid').startswith(prefix):
                messages[found.group('qid')] = found.group('mid')
        elif prog == 'smtp':
            key = PKEY.search(text)
            if key:
                session_key[pid] = key.group('fp').upper()
                cert = CERT.search(text)
                session_cert[pid] = cert.group('fp').upper() if cert else None
                session_time[pid] = when
                continue
            tls = TLS.match(text)
            if tls:
                session_tls[pid] = tls.group('trust')
                continue
            found = DELIVERY.match(text)
            if found and found.group('qid') in messages:
                queued = QUEUED_AS.search(found.group('why'))
                attempts.setdefault(found.group('qid'), []).append({
                    'time': when, 'status': found.group('status'), 'relay': found.group('relay'),
                    'dsn': found.group('dsn'), 'why': found.group('why'),
                    'pkey': session_key.pop(pid, None), 'cert': session_cert.pop(pid, None),
                    'handshake_time': session_time.pop(pid, None), 'tls': session_tls.pop(pid, None),
                    'remote_queue_id': queued.group('qid') if queued else None})
    return [{'queue_id': qid, 'message_id': mid, 'attempts': attempts.get(qid, [])} for qid, mid in messages.items()]


def receiver_side(path, year):
    reloads, mailbox, received, tls_session, connected = [], {}, {}, {}, {}
    for when, prog, pid, text in parse(path, year):
        if prog == 'master' and RELOAD.match(text):
            reloads.append(when)
        elif prog == 'smtpd':
            # one smtpd process serves one client at a time: its session starts at "connect from"
            if text.startswith('connect from '):
                tls_session[pid] = False
                connected[pid] = when
            elif ' TLS connection established from ' in text:
                tls_session[pid] = True
            else:
                found = SMTPD_CLIENT.match(text)
                if found:
                    received[found.group('qid')] = (tls_session.get(pid, False), found.group('user'), connected.get(pid))
        elif prog == 'local':
            found = DELIVERY.match(text)
            if found:
                mailbox[found.group('qid')] = found.group('status') == 'sent' and 'delivered to mailbox' in found.group('why')
    return reloads, mailbox, received


def main(sender_log, receiver_log, prefix, year):
    messages = sender_side(sender_log, prefix, int(year))
    reloads, mailbox, received = receiver_side(receiver_log, int(year)) if receiver_log != '-' else ([], {}, {})
    for message in messages:
        for attempt in message['attempts']:
            attempt['in_mailbox'] = bool(mailbox.get(attempt['remote_queue_id']))
            attempt['remote_tls'], attempt['remote_sasl_username'], attempt['remote_connect_time'] = received.get(
                attempt['remote_queue_id'], (None, None, None))
    json.dump({'messages': messages, 'receiver_reloads': reloads}, sys.stdout, indent=1)


if __name__ == '__main__':
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
