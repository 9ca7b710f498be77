"""Judge testssl.sh JSON results (--jsonfile) as a public mail-TLS test would.

    python3 testssl-judge.py [--except ID=REASON ...] [--expect-failure] [--sigalgs] SCAN.json[=TLSMIN] ...

A scan fails on
  - any finding of severity LOW, MEDIUM, HIGH or CRITICAL,
  - any scan problem testssl.sh reports (severity WARN or FATAL: an interrupted scan, a check it could not run),
  - a missing group of checks: the protocols, the cipher lists, forward secrecy and the vulnerability checks
    must each be in the scan, so that a scan cut short fails instead of passing on what it did not test,
unless its id is excepted with --except ID=REASON (each exception is printed with its reason and how often it
applied). TLSMIN (TLS1_2 or TLS1_3) also checks which TLS versions are offered: exactly TLSMIN and later.

--sigalgs judges only the signature algorithms a server accepts, as testssl.sh 3.2 lists them in its
forward-secrecy checks (-f; FS_TLS12_sig_algs, FS_TLS13_sig_algs): a scan fails when one lists SHA-1, SHA-224
or MD5, when testssl.sh rates one above INFO, when one is missing (TLS 1.2's only where TLSMIN is TLS1_2), and
on any scan problem. testssl.sh rates SHA-1 LOW and lists SHA-224 without a rating; the mail tests of 2026
(internet.nl) rate both insufficient, so both fail here.

Prints one line per scan and a Markdown table of severities; exits 1 when a
scan fails. With --expect-failure it exits 1 unless every scan fails (the
negative control: the judge must see the findings of an unhardened server).
"""

import argparse
import collections
import json
import sys

SEVERITIES = ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')
# testssl.sh's own problems with a scan (its JSON severities besides the findings' and INFO/OK/DEBUG)
SCAN_PROBLEMS = ('WARN', 'FATAL')
_VERSIONS = ('SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3')
# the groups of checks every scan must hold (testssl-scan.sh runs -p -s -f -P -S -U), each as ids of which all
# must be there (a tuple of alternatives where testssl.sh versions name one differently)
REQUIRED = (
    ('protocols', _VERSIONS),
    ('cipher lists', ('cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW',
                      'cipherlist_3DES_IDEA', ('cipherlist_AVERAGE', 'cipherlist_OBSOLETED'),
                      ('cipherlist_STRONG', 'cipherlist_STRONG_FS'), 'cipher_order')),
    ('forward secrecy', (('PFS', 'FS'),)),
    # testssl.sh reports these on every port (SWEET32 not where only TLS 1.3 is offered, so it is not here)
    ('vulnerabilities', ('heartbleed', 'CCS', 'ROBOT', 'secure_renego', 'secure_client_renego', 'CRIME_TLS',
                         'POODLE_SSL', 'fallback_SCSV', 'FREAK', 'DROWN', 'LOGJAM', 'BEAST', 'LUCKY13', 'RC4')),
)


def missing_groups(ids):
    """The groups of checks (REQUIRED) with an id the scan does not hold, as 'group (id, ...)'."""
    out = []
    for group, wanted in REQUIRED:
        absent = []
        for want in wanted:
            alternatives = want if isinstance(want, tuple) else (want,)
            if not any(a in ids for a in alternatives):
                absent.append('/'.join(alternatives))
        if absent:
            out.append('%s (%s)' % (group, ', '.join(absent)))
    return out


def judge(findings, exceptions, tls_min):
    """-> (failures, counts by severity, excepted ids used)."""
    failures, used = [], collections.Counter()
    counts = collections.Counter(f.get('severity', '') for f in findings)
    for f in findings:
        # ids of per-certificate findings end in " <cert#N>"
        sev, fid = f.get('severity', ''), f.get('id', '').split(' ', 1)[0]
        if sev not in SEVERITIES + SCAN_PROBLEMS:
            continue
        if fid in exceptions:
            used[fid] += 1
        elif sev in SCAN_PROBLEMS:
            failures.append('%s %s: the scan had a problem: %s' % (sev, fid, f.get('finding', '')))
        else:
            failures.append('%s %s: %s' % (sev, fid, f.get('finding', '')))
    for group in missing_groups(set(f.get('id', '').split(' ', 1)[0] for f in findings)):
        failures.append('truncated scan: testssl.sh reported no %s' % group)
    if tls_min:
        offered = dict((f['id'], f.get('finding', '')) for f in findings if f.get('id') in _VERSIONS)
        for version in _VERSIONS:
            want = _VERSIONS.index(version) >= _VERSIONS.index(tls_min)
            text = offered.get(version)
            if text is None:
                failures.append('%s: testssl.sh did not report it' % version)
            elif want != (text.startswith('offered')):
                failures.append('%s: %r, expected %s' % (version, text, 'offered' if want else 'not offered'))
    return failures, counts, used


SIGALG_IDS = {'TLS1_2': 'FS_TLS12_sig_algs', 'TLS1_3': 'FS_TLS13_sig_algs'}
WEAK_HASHES = ('SHA1', 'SHA224', 'MD5')


def judge_sigalgs(findings, exceptions, tls_min):
    """The --sigalgs judge -> (failures, counts by severity, excepted ids used)."""
    failures, used = [], collections.Counter()
    by_id = {}
    for f in findings:
        sev, fid = f.get('severity', ''), f.get('id', '').split(' ', 1)[0]
        by_id.setdefault(fid, f)
        if sev in SCAN_PROBLEMS:
            if fid in exceptions:
                used[fid] += 1
            else:
                failures.append('%s %s: the scan had a problem: %s' % (sev, fid, f.get('finding', '')))
    wanted = ('TLS1_3',) if tls_min == 'TLS1_3' else ('TLS1_2', 'TLS1_3')
    counts = collections.Counter()
    for version in wanted:
        fid = SIGALG_IDS[version]
        f = by_id.get(fid)
        if f is None:
            failures.append('truncated scan: testssl.sh listed no %s signature algorithms (%s)' % (version, fid))
            continue
        counts[f.get('severity', '')] += 1
        algorithms = f.get('finding', '').split()
        weak = [a for a in algorithms if a.rpartition('+')[2] in WEAK_HASHES]
        if weak:
            failures.append('%s %s: accepts %s' % (f.get('severity', ''), fid, ' '.join(weak)))
        elif f.get('severity') != 'INFO':
            failures.append('%s %s: %s' % (f.get('severity', ''), fid, f.get('finding', '')))
    return failures, counts, used


def suites(findings):
    """Counts of the offered suites: all, anonymous, without forward secrecy, CBC, finite-field DHE."""
    offered = [f.get('finding', '') for f in findings if f.get('id', '').startswith(('cipher-tls', 'cipher_x'))]
    if not offered:
        return ('-',) * 5  # the scan did not list suites (testssl-scan.sh without SCAN_FULL)
    iana = [line.split()[-1] if line.split() else '' for line in offered]
    return (len(offered),
            sum(1 for n in iana if '_anon_' in n),
            sum(1 for n in iana if n.startswith('TLS_RSA_WITH_')),
            sum(1 for n in iana if '_CBC_' in n),
            sum(1 for n in iana if n.startswith('TLS_DHE_')))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scans', nargs='+', help='SCAN.json or SCAN.json=TLS1_2|TLS1_3')
    parser.add_argument('--except', dest='exceptions', action='append', default=[], metavar='ID=REASON')
    parser.add_argument('--expect-failure', action='store_true')
    parser.add_argument('--sigalgs', action='store_true', help='judge only the signature algorithms (testssl.sh 3.2, -f)')
    args = parser.parse_args(argv)
    exceptions = dict(e.split('=', 1) for e in args.exceptions)
    failed, rows, used_all = 0, [], collections.Counter()
    for spec in args.scans:
        path, dummy, tls_min = spec.partition('=')
        with open(path) as f:
            findings = json.load(f)
        if not findings:
            print('FAIL %s: no findings at all (the scan did not run)' % path)
            failed += 1
            continue
        # the first finding may be about testssl.sh itself (3.2's engine_problem, with no target)
        first = next((f for f in findings if f.get('id') == 'service'), findings[0])
        target = '%s:%s' % (first.get('ip', '?'), first.get('port', '?'))
        failures, counts, used = (judge_sigalgs if args.sigalgs else judge)(findings, exceptions, tls_min or None)
        used_all.update(used)
        rows.append((path, target, counts, len(failures), suites(findings)))
        if failures:
            failed += 1
            print('FAIL %s (%s): %d finding(s)' % (path, target, len(failures)))
            for line in failures:
                print('  ' + line)
        else:
            if args.sigalgs:
                print('PASS %s (%s) no SHA-1, SHA-224 or MD5 signature%s' % (
                    path, target, ' (TLS 1.3 only)' if tls_min == 'TLS1_3' else ' for TLS 1.2 and 1.3'))
            else:
                print('PASS %s (%s)%s' % (path, target, ' TLS versions from ' + tls_min if tls_min else ''))
    for fid, n in sorted(used_all.items()):
        print('excepted %s (%d times): %s' % (fid, n, exceptions[fid]))
    print()
    print('| scan | target | ' + ' | '.join(SEVERITIES) + ' | failing | suites | anonymous | no FS | CBC | DHE |')
    print('| --- | --- | ' + ' | '.join('---' for dummy in SEVERITIES) + ' | --- | --- | --- | --- | --- | --- |')
    for path, target, counts, n, kinds in rows:
        severities = ' | '.join(str(counts[s]) for s in SEVERITIES)
        print('| %s | %s | %s | %d | %s |' % (path.rsplit('/', 1)[-1], target, severities, n, ' | '.join(str(k) for k in kinds)))
    if args.expect_failure:
        if failed != len(args.scans):
            print('judge: expected every scan to fail (negative control), %d of %d did' % (failed, len(args.scans)))
            return 1
        print('judge: every scan failed, as the negative control should')
        return 0
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
