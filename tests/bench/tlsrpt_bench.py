"""Benchmark the TLS report reader (tlsrpt_read's _tlsrpt.read) on a Maildir of generated RFC 8460 reports, side by
side with parsedmarc's SMTP TLS parser on the same files. Prints figures.

The Maildir holds N messages (default 100,000), each a report mail as senders send them (RFC 8460 5.3: a
multipart/mixed with a text part and an application/tlsrpt+gzip attachment). Sizes are a mix: 80% small senders
(one policy, up to 2 failure details), 17% medium (2-5 policies, 5-20 details), 3%
large providers (1-3 policies, 20-200 details); 100 organisations about our 10 domains over 7 days, so that the
sums have a bounded number of rows (see report()): what grows with N is the reading, not the result. Then, each reader in its own
process (peak RSS from wait4 of that process), on the first 10% and on all of them (RSS must not grow with N):

  tlsrpt_read     _tlsrpt.read(MAILDIR): every report decoded, checked and summed
  parsedmarc      parsedmarc.parse_report_file(bytes, offline=True) per message file (its SMTP TLS parser; no
                  sums), run in the Python of --parsedmarc-python (make bench-tlsrpt installs it into
                  .cache/bench-parsedmarc), skipped when that has no parsedmarc

and checks that tlsrpt_read's session totals equal what the generator wrote.

    .venv/bin/python tests/bench/tlsrpt_bench.py [--reports 100000] [--dir DIR] [--parsedmarc-python PY]
"""
import argparse
import base64
import gzip
import json
import os
import random
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TYPES = ['certificate-expired', 'validation-failure', 'starttls-not-supported', 'certificate-host-mismatch',
         'tlsa-invalid', 'sts-policy-fetch-error']

MESSAGE = (b'Return-Path: <noreply@%(org)s>\nFrom: TLS reports <noreply@%(org)s>\nTo: tlsrpt@example.com\n'
           b'Subject: Report Domain: %(domain)s Submitter: %(org)s Report-ID: <%(rid)s>\n'
           b'Date: Fri, 04 Dec 2026 06:00:00 +0000\nMessage-ID: <%(rid)s@%(org)s>\nTLS-Report-Domain: %(domain)s\n'
           b'TLS-Report-Submitter: %(org)s\nMIME-Version: 1.0\n'
           b'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain; charset="us-ascii"\n\n'
           b'This is an aggregate TLS report from %(org)s\n\n--b1\nContent-Type: application/tlsrpt+gzip\n'
           b'Content-Transfer-Encoding: base64\nContent-Disposition: attachment;\n'
           b' filename="%(org)s!%(domain)s!1796342400!1796428799!%(n)d.json.gz"\n\n%(body)s\n--b1--\n')


def report(rnd, n):
    """One report (as JSON bytes) with its (success, failure) totals. 100 reporting organisations report about our 10
    domains (2 MX each; each domain one policy type and two ways to fail) over 7 days: three large providers (50
    sending MTAs, up to 200 failure details), 17 medium ones (5-20 details), 80 small ones (up to 2), each detail
    one sending MTA, MX and result type, as RFC 8460 4.4 sums them."""
    org_n = n % 100
    org = 'sender%03d.example' % org_n
    day = 3 + (n // 100) % 7
    if org_n < 3:
        policies, details, mtas = rnd.randint(1, 3), (20, 200), 50
    elif org_n < 20:
        policies, details, mtas = rnd.randint(2, 5), (5, 20), 3
    else:
        policies, details, mtas = 1, (0, 2), 2
    items, success, failure = [], 0, 0
    for p in rnd.sample(range(10), policies):
        domain = 'd%02d.example.com' % p
        kinds = [('sts', TYPES[0]), ('sts', TYPES[3]), ('tlsa', TYPES[4]), ('tlsa', TYPES[1]),
                 ('no-policy-found', TYPES[2])][p % 5:p % 5 + 2] or [('sts', TYPES[5])]
        combos = [(m, k, t) for m in range(mtas) for k in range(2) for dummy, t in kinds]
        fails = [{'result-type': t, 'sending-mta-ip': '192.0.%d.%d' % (org_n, m + 1), 'receiving-mx-hostname':
                  'mx%d.%s' % (k, domain), 'failed-session-count': rnd.randint(1, 20)}
                 for m, k, t in rnd.sample(combos, min(len(combos), rnd.randint(*details)))]
        ok = rnd.randint(10, 100000)
        bad = sum(f['failed-session-count'] for f in fails)
        success += ok
        failure += bad
        items.append({'policy': {'policy-type': kinds[0][0], 'policy-domain': domain,
                                 'policy-string': ['version: STSv1', 'mode: enforce', 'mx: *.%s' % domain, 'max_age: 86400'],
                                 'mx-host': ['*.%s' % domain]},
                      'summary': {'total-successful-session-count': ok, 'total-failure-session-count': bad},
                      'failure-details': fails})
    body = {'organization-name': org, 'contact-info': 'tlsrpt@%s' % org, 'report-id': 'r-%08d' % n,
            'date-range': {'start-datetime': '2026-11-%02dT00:00:00Z' % day, 'end-datetime': '2026-11-%02dT23:59:59Z' % day},
            'policies': items}
    return org, items[0]['policy']['policy-domain'], json.dumps(body).encode(), success, failure


def generate(path, count, seed=1):
    """A Maildir of ``count`` report mails; returns (success, failure) over all and over the first tenth."""
    rnd = random.Random(seed)
    for sub in ('cur', 'new', 'tmp'):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    totals, tenth = [0, 0], [0, 0]
    for n in range(count):
        org, domain, data, success, failure = report(rnd, n)
        mail = MESSAGE % {b'org': org.encode(), b'domain': domain.encode(), b'rid': b'r-%08d' % n, b'n': n,
                          b'body': base64.encodebytes(gzip.compress(data, 6)).rstrip(b'\n')}
        with open(os.path.join(path, 'cur', '%010d.bench:2,S' % n), 'wb') as f:
            f.write(mail)
        totals[0] += success
        totals[1] += failure
        if n < count // 10:
            tenth[0] += success
            tenth[1] += failure
    return totals, tenth


def only_first(path, count, target):
    """A Maildir of the first ``count`` messages of ``path`` (hard links)."""
    for sub in ('cur', 'new', 'tmp'):
        os.makedirs(os.path.join(target, sub), exist_ok=True)
    for n in range(count):
        name = '%010d.bench:2,S' % n
        dest = os.path.join(target, 'cur', name)
        if not os.path.exists(dest):
            os.link(os.path.join(path, 'cur', name), dest)


OURS = r'''
import json, sys, time
sys.path.insert(0, sys.argv[2])
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import read
t = time.time()
r = read(sys.argv[1])
print(json.dumps({'seconds': time.time() - t, 'reports': r['reports'], 'malformed': len(r['malformed']),
                  'rows': len(r['summary']) + len(r['failures']),
                  'success': sum(x['success'] for x in r['summary']), 'failure': sum(x['failure'] for x in r['summary'])}))
'''

THEIRS = r'''
import json, os, sys, time
import parsedmarc
t = time.time()
n = bad = 0
for sub in ('new', 'cur'):
    d = os.path.join(sys.argv[1], sub)
    for name in os.listdir(d):
        with open(os.path.join(d, name), 'rb') as f:
            data = f.read()
        try:
            parsed = parsedmarc.parse_report_file(data, offline=True)
            n += 1
        except Exception:
            bad += 1
print(json.dumps({'seconds': time.time() - t, 'reports': n, 'malformed': bad}))
'''


def run(python, code, maildir):
    """Run ``code`` in its own process; its JSON line, with its peak RSS (MiB, from wait4)."""
    proc = subprocess.Popen([python, '-c', code, maildir, os.path.join(TOP, '.cache', 'collections')],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    dummy, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit('%s failed: %s' % (python, err.decode(errors='replace')[-2000:]))
    result = json.loads(out.decode().strip().splitlines()[-1])
    result['rss_mib'] = usage.ru_maxrss / 1024.0
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--reports', type=int, default=100000)
    parser.add_argument('--dir', default=os.path.join(TOP, '.cache', 'bench', 'tlsrpt'))
    parser.add_argument('--parsedmarc-python', default=os.path.join(TOP, '.cache', 'bench-parsedmarc', 'bin', 'python'))
    args = parser.parse_args()
    full = os.path.join(args.dir, 'maildir-%d' % args.reports)
    tenth = os.path.join(args.dir, 'maildir-%d' % (args.reports // 10))
    stamp = os.path.join(full, 'totals.json')
    if not os.path.exists(stamp):
        t = time.time()
        totals, first = generate(full, args.reports)
        with open(stamp, 'w') as f:
            json.dump({'all': totals, 'tenth': first}, f)
        print('generated %d report mails in %.0f s' % (args.reports, time.time() - t))
    with open(stamp) as f:
        expected = json.load(f)
    only_first(full, args.reports // 10, tenth)
    size = sum(os.path.getsize(os.path.join(full, 'cur', n)) for n in os.listdir(os.path.join(full, 'cur')))
    print('Maildir: %d messages, %.0f MiB (gzip attachments, base64)' % (args.reports, size / 1048576.0))
    theirs = None
    if os.path.exists(args.parsedmarc_python) and subprocess.run(
            [args.parsedmarc_python, '-c', 'import parsedmarc'], capture_output=True, check=False).returncode == 0:
        theirs = subprocess.run([args.parsedmarc_python, '-c', 'import parsedmarc; print(parsedmarc.__version__)'],
                                capture_output=True, text=True, check=False).stdout.strip()
    else:
        print('parsedmarc: not installed at %s (make bench-tlsrpt installs it); only tlsrpt_read runs' % args.parsedmarc_python)
    heads = ('reader', 'reports', 'seconds', 'reports/s', 'peak RSS', 'malformed', 'result rows')
    print('%-24s %9s %9s %10s %12s %10s %s' % heads)
    ok = True
    for label, maildir, want in (('10%', tenth, expected['tenth']), ('100%', full, expected['all'])):
        mine = run(sys.executable, OURS, maildir)
        print('%-24s %9d %9.1f %10.0f %9.1f MiB %10d %d' % ('tlsrpt_read (' + label + ')', mine['reports'], mine['seconds'],
                                                            mine['reports'] / mine['seconds'], mine['rss_mib'],
                                                            mine['malformed'], mine['rows']))
        if [mine['success'], mine['failure']] != want:
            print('  MISMATCH: read %d/%d sessions, generated %d/%d' % (mine['success'], mine['failure'], want[0], want[1]))
            ok = False
        if theirs:
            other = run(args.parsedmarc_python, THEIRS, maildir)
            print('%-24s %9d %9.1f %10.0f %9.1f MiB %10d' % ('parsedmarc %s (%s)' % (theirs, label), other['reports'],
                                                             other['seconds'], other['reports'] / other['seconds'],
                                                             other['rss_mib'], other['malformed']))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
