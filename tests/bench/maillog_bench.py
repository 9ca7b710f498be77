"""Benchmark the mail log reader (tls_maillog's _maillog.Reader). Prints figures.

Writes Postfix logs of the given sizes (default 128 MiB and 1 GiB) in Postfix's
maillog_file format, with what a busy sender logs for each message: smtpd's
connect, TLS and disconnect, cleanup, qmgr, the smtp client's TLS session and
its status=sent (or deferred) lines for 2,000 destination domains, with a mix of
Verified, Trusted, Untrusted and plain-text sessions. Then, for each file, each
reader in its own process (peak RSS from getrusage of that process):

  module reader   _maillog.Reader (byte search for "/smtp[" in 4 MiB blocks)
  line regex      the obvious alternative: every line matched against one
                  regular expression (as tests' maillog_deliveries.py does)
  grep -c         grep -F -c '/smtp[': the floor, no parsing at all

and checks that the module's counts equal what the generator wrote.
Goals (issue 19): 100 MiB/s or more; peak RSS the same for both sizes.

    .venv/bin/python tests/bench/maillog_bench.py [--sizes 128 1024] [--dir DIR] [--keep]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MIB = 1 << 20

TRUSTS = ['Verified'] * 6 + ['Trusted'] * 1 + ['Untrusted'] * 2 + [None]


def generate(path, size, seed=1):
    """Write about ``size`` bytes of log; return the number of messages sent per trust class."""
    rnd = random.Random(seed)
    domains = ['d%04d.example' % i for i in range(2000)]
    expected = {'Verified': 0, 'Trusted': 0, 'Untrusted': 0, 'none': 0, 'deferred': 0}
    t = 0
    written = 0
    chunk = []
    with open(path, 'w') as f:
        n = 0
        while written < size:
            n += 1
            t += rnd.randrange(0, 3)
            stamp = 'Dec %02d %02d:%02d:%02d' % (1 + t // 86400 % 28, t // 3600 % 24, t // 60 % 60, t % 60)
            qid = '%X' % (0x4A000000 + n)
            spid, cpid = 1000 + n % 97, 20000 + n % 211
            domain = domains[int(rnd.paretovariate(1.2)) % len(domains)]
            ip = '192.0.2.%d' % (n % 250 + 1)
            trust = rnd.choice(TRUSTS)
            lines = [
                '%s mx postfix/smtpd[%d]: connect from client%d.example.net[198.51.100.%d]' % (stamp, spid, n % 500, n % 250),
                '%s mx postfix/smtpd[%d]: Anonymous TLS connection established from client%d.example.net[198.51.100.%d]: '
                'TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS '
                '(3072 bits) server-digest SHA256' % (stamp, spid, n % 500, n % 250),
                '%s mx postfix/smtpd[%d]: %s: client=client%d.example.net[198.51.100.%d], sasl_method=PLAIN, '
                'sasl_username=user%d' % (stamp, spid, qid, n % 500, n % 250, n % 300),
                '%s mx postfix/cleanup[%d]: %s: message-id=<%d.%d@client%d.example.net>' % (stamp, spid + 7, qid, n, t, n % 500),
                '%s mx postfix/qmgr[333]: %s: from=<user%d@example.net>, size=%d, nrcpt=1 (queue active)' % (
                    stamp, qid, n % 300, 1000 + rnd.randrange(100000)),
                '%s mx postfix/smtpd[%d]: disconnect from client%d.example.net[198.51.100.%d] ehlo=2 starttls=1 auth=1 '
                'mail=1 rcpt=1 data=1 quit=1 commands=8' % (stamp, spid, n % 500, n % 250),
            ]
            if trust:
                lines.append('%s mx postfix/smtp[%d]: %s TLS connection established to mx.%s[%s]:25: TLSv1.3 with cipher '
                             'TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) '
                             'server-digest SHA256' % (stamp, cpid, trust, domain, ip))
            if n % 50 == 0:
                lines.append('%s mx postfix/smtp[%d]: %s: to=<rcpt%d@%s>, relay=mx.%s[%s]:25, delay=5, '
                             'delays=0.01/0/5/0, dsn=4.4.2, status=deferred (conversation with mx.%s[%s] timed out while '
                             'receiving the initial server greeting)' % (stamp, cpid, qid, n, domain, domain, ip, domain, ip))
                expected['deferred'] += 1
            else:
                lines.append('%s mx postfix/smtp[%d]: %s: to=<rcpt%d@%s>, relay=mx.%s[%s]:25, delay=0.42, '
                             'delays=0.08/0.01/0.17/0.16, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %X)' % (
                                 stamp, cpid, qid, n, domain, domain, ip, 0x7B000000 + n))
                expected[trust or 'none'] += 1
                lines.append('%s mx postfix/qmgr[333]: %s: removed' % (stamp, qid))
            text = '\n'.join(lines) + '\n'
            chunk.append(text)
            written += len(text)
            if len(chunk) >= 2000:
                f.write(''.join(chunk))
                chunk = []
        f.write(''.join(chunk))
    # the file's mtime says "December of this year" to the traditional-stamp year rule
    return expected


READ_MODULE = r'''
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from ansible_collections.mailtls.postfix.plugins.module_utils._maillog import Reader, summarize
t0 = time.perf_counter()
r = Reader()
r.read_file(sys.argv[1])
s = summarize(r)
t = time.perf_counter() - t0
tls = {}
for hop in s['nexthops']:
    for k, v in hop['tls'].items():
        tls[k] = tls.get(k, 0) + v
tls['deferred'] = s['totals']['deferred']
print(json.dumps({'seconds': t, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'counts': tls}))
'''

READ_REGEX = r'''
import json, re, resource, sys, time
LINE = re.compile(r'^(\w{3} +\d+ \d\d:\d\d:\d\d) \S+ postfix/([\w/-]+)\[(\d+)\]: (.*)$')
TLS = re.compile(r'^(\w+) TLS connection established to ')
DELIVERY = re.compile(r'^([0-9A-Za-z]+): to=<[^>]*@([^>]*)>, relay=([^,]+), .*?status=(\w+)')
t0 = time.perf_counter()
session, counts = {}, {}
with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
    for raw in f:
        m = LINE.match(raw.rstrip('\n'))
        if not m or m.group(2).rsplit('/', 1)[-1] != 'smtp':
            continue
        text = m.group(4)
        t = TLS.match(text)
        if t:
            session[m.group(3)] = t.group(1)
            continue
        d = DELIVERY.match(text)
        if d:
            key = d.group(4) if d.group(4) != 'sent' else (session.pop(m.group(3), None) or 'none')
            counts[key] = counts.get(key, 0) + 1
t = time.perf_counter() - t0
print(json.dumps({'seconds': t, 'rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'counts': counts}))
'''


def run_python(code, path):
    out = subprocess.run([sys.executable, '-c', code, path, os.path.join(TOP, '.cache', 'collections')],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


RUN_GREP = r'''
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(['grep', '-F', '-c', '/smtp[', sys.argv[1]], check=True, capture_output=True)
t = time.perf_counter() - t0
print(json.dumps({'seconds': t, 'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[128, 1024], help='log sizes in MiB')
    parser.add_argument('--dir', help='where to write the logs (default a temporary directory)')
    parser.add_argument('--keep', action='store_true', help='keep the logs')
    args = parser.parse_args()
    where = args.dir or tempfile.mkdtemp(prefix='mailtls-maillog-bench-')
    os.makedirs(where, exist_ok=True)
    rows = []
    try:
        for size in args.sizes:
            path = os.path.join(where, 'mail-%dM.log' % size)
            t0 = time.perf_counter()
            expected = generate(path, size * MIB)
            actual = os.path.getsize(path)
            print('log %d MiB: %d bytes, %d lines of smtp deliveries, written in %.1f s'
                  % (size, actual, sum(expected.values()), time.perf_counter() - t0), flush=True)
            module = run_python(READ_MODULE, path)
            assert module['counts'] == dict(expected, Anonymous=0), (module['counts'], expected)
            regex = run_python(READ_REGEX, path)
            grep = run_python(RUN_GREP, path)
            for name, r in (('module reader', module), ('line regex', regex), ('grep -c', grep)):
                rows.append((size, name, actual / MIB / r['seconds'], r['seconds'], r['rss_kib'] / 1024.0))
                print('  %-14s %7.1f MiB/s  %6.2f s  peak RSS %6.1f MiB' % rows[-1][1:], flush=True)
            if not args.keep:
                os.unlink(path)
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(where, ignore_errors=True)
    print()
    print('| log | reader | MiB/s | seconds | peak RSS (MiB) |')
    print('| --- | --- | --- | --- | --- |')
    for row in rows:
        print('| %d MiB | %s | %.1f | %.2f | %.1f |' % row)
    module_rows = [r for r in rows if r[1] == 'module reader']
    print()
    slowest = min(r[2] for r in module_rows)
    print('goal 100 MiB/s: %s (slowest %.1f MiB/s)' % ('met' if slowest >= 100 else 'NOT met', slowest))
    rss = [r[4] for r in module_rows]
    print('peak RSS of the module reader: %s MiB for %s MiB of log' % (
        ' / '.join('%.1f' % x for x in rss), ' / '.join(str(r[0]) for r in module_rows)))


if __name__ == '__main__':
    main()
