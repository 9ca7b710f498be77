"""Print what `make demo` did: each host's decided policy, the verify verdicts, how each test message went,
and the posture report's summary.

Usage: demo-summary.py RESULTS_DIR   (the fleet scenario's lab_results)
"""
import glob
import json
import os
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main(results):
    harden = os.path.join(results, 'harden-latest.json')
    verify = os.path.join(results, 'verify-latest.json')
    if not os.path.exists(harden):
        sys.exit('demo: no results in %s (did the converge run?)' % results)
    print('\n=== policy decided by mailtls.postfix.harden (destination, level, source: reason)')
    for host, decisions in sorted(load(harden).items()):
        print(host)
        for d in decisions:
            note = '' if d['written'] else ' [not written]'
            print('  %-14s %-12s %-9s %s%s' % (d['destination'], d['level'], d['source'], d['reason'], note))
    if os.path.exists(verify):
        print('\n=== mailtls.postfix.verify, last run (status, destination, level: reason)')
        for host, report in sorted(load(verify).items()):
            print('%s (judge: %s)' % (host, report['judge']))
            for v in report['checks']:
                print('  %-9s %-14s %-12s %s' % (v['status'].upper(), v['destination'], v['level'], v['reason']))
            for x in report['expiring']:
                print('  EXPIRING  %-14s %s[%s] %s' % (x['destination'], x['hostname'], x['address'], x['not_after']))
    print('\n=== test messages (token, status, dsn, relay, TLS as the sender logged it)')
    for path in sorted(glob.glob(os.path.join(results, 'delivery-*.txt'))):
        print(os.path.basename(path)[len('delivery-'):-len('.txt')])
        with open(path) as f:
            for line in f:
                print('  ' + line.rstrip())
    report = os.path.join(results, 'report-latest.md')
    if os.path.exists(report):
        print('\n=== posture report (mailtls.postfix.report, the last step): summary and problems')
        with open(report) as f:
            text = f.read()
        print(text.split('## Destinations')[0].rstrip())
        print('\nReport: %s and %s' % (report, report[:-3] + '.html'))
    print('\nFiles: %s' % results)


if __name__ == '__main__':
    main(sys.argv[1])
