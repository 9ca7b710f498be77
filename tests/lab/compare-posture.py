"""Compare mailtls.postfix.tls_server_posture with testssl.sh on the same ports.

    python3 compare-posture.py POSTURE.json SCAN_DIR HOST

POSTURE.json is the module's result for HOST; SCAN_DIR holds testssl.sh's
HOST-PORT.json for the same ports (tests/lab/testssl-scan.sh). Per port:
  - the TLS versions accepted: testssl.sh's TLS1..TLS1_3 "offered" against the module's versions;
  - anonymous suites: testssl.sh's cipherlist_aNULL "offered" exactly when the module's weakest kind is anonymous;
  - CBC: when testssl.sh's cipherlist_AVERAGE (128/256-bit CBC) is offered, the module's weakest kind is CBC or
    weaker, and when testssl.sh offers none of aNULL, AVERAGE, LOW, 3DES_IDEA, EXPORT, NULL, the module found no
    anonymous, no-forward-secrecy or CBC suite either.
Where SCAN_DIR also holds handshakes-HOST.json (openssl s_client from inside HOST, the scanner scenario's
issue-28 play), the module's key exchange is compared with it on the ports both read: a SHA-1-only or a
SHA-224-only client served, and X25519MLKEM768 negotiated (where the module's client could offer it).
Prints a row per port and exits 1 on any disagreement, or unless every port of the posture result was compared
(a port without its scan fails: nothing may pass unjudged).
"""
import json
import os
import sys

VERSIONS = {'TLS1': 'TLSv1', 'TLS1_1': 'TLSv1.1', 'TLS1_2': 'TLSv1.2', 'TLS1_3': 'TLSv1.3'}
KINDS = ['anonymous', 'no forward secrecy', 'CBC', 'finite-field DHE']
WEAK_LISTS = ('cipherlist_NULL', 'cipherlist_aNULL', 'cipherlist_EXPORT', 'cipherlist_LOW', 'cipherlist_3DES_IDEA',
              'cipherlist_AVERAGE')


def offered(scan, fid):
    text = scan.get(fid)
    if text is None:
        raise KeyError('testssl.sh did not report %s' % fid)
    return text.startswith('offered')


def compare(port, scan):
    problems = []
    theirs = sorted(VERSIONS[v] for v in VERSIONS if offered(scan, v))
    if theirs != sorted(port['versions']):
        problems.append('versions: testssl.sh %s, module %s' % (theirs, port['versions']))
    kind = (port['weakest'] or {}).get('kind')
    rank = KINDS.index(kind) if kind else len(KINDS)
    if offered(scan, 'cipherlist_aNULL') != (kind == 'anonymous'):
        problems.append('anonymous: testssl.sh %s, module weakest %s' % (scan['cipherlist_aNULL'], kind))
    if offered(scan, 'cipherlist_AVERAGE') and rank > KINDS.index('CBC'):
        problems.append('CBC: testssl.sh offers AVERAGE (CBC) suites, module weakest %s' % kind)
    if not any(offered(scan, fid) for fid in WEAK_LISTS) and rank <= KINDS.index('CBC'):
        problems.append('testssl.sh offers no weak suite list, module weakest %s' % kind)
    return theirs, kind, problems


def compare_kex(port, handshakes):
    """(what was compared, problems): the module's key_exchange against openssl s_client from inside the host."""
    kex = port.get('key_exchange') or {}
    cases = dict((h['case'], h) for h in handshakes if h['port'] == port['port'])
    compared, problems = [], []
    for name, case in (('sha1', 'sha1'), ('sha224', 'sha224'), ('post_quantum', 'mlkem')):
        inside = cases.get(case)
        if inside is None or kex.get(name) is None:
            continue
        served = inside['group'] == 'X25519MLKEM768' if name == 'post_quantum' else inside['cipher'] != '(NONE)'
        compared.append(name)
        if served != kex[name]:
            problems.append('%s: inside the host %s, module %s' % (name, served, kex[name]))
    return compared, problems


def main(posture_path, scan_dir, host):
    with open(posture_path) as f:
        posture = json.load(f)
    handshakes_path = os.path.join(scan_dir, 'handshakes-%s.json' % host)
    handshakes = []
    if os.path.exists(handshakes_path):
        with open(handshakes_path) as f:
            handshakes = json.load(f)
    compared, failed = 0, 0
    print('| host:port | versions (both) | weakest (module) | anonymous / CBC (testssl.sh) | agree |')
    print('| --- | --- | --- | --- | --- |')
    for port in posture['ports']:
        path = os.path.join(scan_dir, '%s-%d.json' % (host, port['port']))
        if not os.path.exists(path):
            print('| %s:%d | | | | NO: testssl.sh has no scan of this port (%s) |' % (host, port['port'], path))
            continue
        with open(path) as f:
            scan = dict((x['id'], x.get('finding', '')) for x in json.load(f))
        try:
            theirs, kind, problems = compare(port, scan)
        except KeyError as e:
            theirs, kind, problems = [], None, [str(e)]
        kex_compared, kex_problems = compare_kex(port, handshakes)
        problems += kex_problems
        if kex_compared:
            kind = '%s; key exchange: %s' % (kind or 'none', ', '.join(kex_compared))
        compared += 1
        failed += bool(problems)
        verdict = 'yes' if not problems else 'NO: ' + '; '.join(problems)
        print('| %s:%d | %s | %s | %s / %s | %s |' % (host, port['port'], ' '.join(theirs), kind or 'none',
                                                      scan.get('cipherlist_aNULL'), scan.get('cipherlist_AVERAGE'), verdict))
    print('compare-posture: %d of %d port(s) compared, %d disagree' % (compared, len(posture['ports']), failed))
    if not posture['ports'] or compared != len(posture['ports']):
        print('compare-posture: every port of %s must be compared; %d were not' % (host, len(posture['ports']) - compared))
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sys.exit(main(*sys.argv[1:]))
