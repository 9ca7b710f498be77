"""The scanner scenario's judges (tests/lab/testssl-judge.py, compare-posture.py) on real testssl.sh results.

The fixtures are testssl.sh 3.0.8 JSON of the scanner scenario (2026-12-05): port 25 of scan-trixie and
scan-bookworm hardened by the tls role ("after") and of scan-client with Debian's Postfix 3.10 defaults
("before"). Each test breaks a good scan the way a real failure would (a scan cut short, a LOW finding, a scan
problem, a port without its scan) and shows that the judge fails it.
"""
import copy
import importlib.util
import json
import os

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FIXTURES = os.path.join(TOP, 'tests', 'unit', 'fixtures', 'testssl')
# what the scenario excepts, by name (extensions/molecule/scanner/verify.yml)
EXCEPT = ['--except=cert_revocation=lab CA', '--except=sessionresumption_ID=testssl.sh',
          '--except=sessionresumption_ticket=testssl.sh']


def _load(name):
    spec = importlib.util.spec_from_file_location(name.replace('-', '_'), os.path.join(TOP, 'tests', 'lab', name + '.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


JUDGE = _load('testssl-judge')
COMPARE = _load('compare-posture')


def scan(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def run(tmp_path, findings, tls_min='TLS1_2', extra=()):
    path = tmp_path / 'scan.json'
    path.write_text(json.dumps(findings))
    return JUDGE.main(EXCEPT + list(extra) + [str(path) + ('=' + tls_min if tls_min else '')])


@pytest.mark.parametrize('name', ['after-3.10-25.json', 'after-3.7-25.json'])
def test_hardened_ports_pass(tmp_path, name, capsys):
    assert run(tmp_path, scan(name)) == 0
    assert capsys.readouterr().out.startswith('PASS ')


def test_debian_defaults_fail_on_their_findings(tmp_path, capsys):
    assert run(tmp_path, scan('before-3.10-25.json'), tls_min=None) == 1
    out = capsys.readouterr().out
    for line in ('CRITICAL cipherlist_aNULL', 'HIGH cipher_order', 'LOW TLS1:', 'LOW LUCKY13'):
        assert line in out


def test_a_scan_cut_short_fails(tmp_path, capsys):
    # testssl.sh stopped after the protocols and ciphers: no forward secrecy, no vulnerability checks
    findings = scan('after-3.10-25.json')
    vulnerabilities = dict(JUDGE.REQUIRED)['vulnerabilities']
    cut = [f for f in findings if f['id'] not in vulnerabilities + ('PFS', 'FS')]
    assert run(tmp_path, cut) == 1
    out = capsys.readouterr().out
    assert 'truncated scan: testssl.sh reported no forward secrecy (PFS/FS)' in out
    assert 'truncated scan: testssl.sh reported no vulnerabilities (heartbleed, CCS, ROBOT' in out


def test_a_low_finding_fails_even_outside_protocols_and_ciphers(tmp_path, capsys):
    # the old judge looked at LOW only for protocol and cipher findings; a LOW certificate finding passed
    findings = scan('after-3.10-25.json')
    broken = copy.deepcopy(findings)
    for f in broken:
        if f['id'].startswith('cert_notAfter'):
            f['severity'], f['finding'] = 'LOW', 'expires < 60 days (45)'
            break
    else:
        pytest.fail('the fixture has no cert_notAfter finding')
    assert run(tmp_path, broken) == 1
    assert 'LOW cert_notAfter' in capsys.readouterr().out


def test_a_scan_problem_fails_unless_excepted_by_name(tmp_path, capsys):
    findings = scan('after-3.7-25.json')  # it holds testssl.sh's WARN sessionresumption_ID
    assert [f['id'] for f in findings if f['severity'] == 'WARN'] == ['sessionresumption_ID']
    path = tmp_path / 'scan.json'
    path.write_text(json.dumps(findings))
    assert JUDGE.main(['--except=cert_revocation=lab CA', '%s=TLS1_2' % path]) == 1
    assert 'WARN sessionresumption_ID: the scan had a problem: check failed, pls report' in capsys.readouterr().out
    interrupted = findings + [{'id': 'scanTime', 'severity': 'WARN', 'finding': 'Scan interrupted'}]
    assert run(tmp_path, interrupted) == 1


def test_compare_posture_fails_on_a_port_without_its_scan(tmp_path, capsys):
    # the module's result for two ports, the scan of only one of them (as bullseye's 993 and 995 were)
    scans = tmp_path / 'scans'
    scans.mkdir()
    (scans / 'h-25.json').write_text(json.dumps(scan('after-3.10-25.json')))
    port = {'port': 25, 'versions': ['TLSv1.2', 'TLSv1.3'], 'weakest': None}
    posture = tmp_path / 'posture.json'
    posture.write_text(json.dumps({'ports': [port]}))
    assert COMPARE.main(str(posture), str(scans), 'h') == 0
    posture.write_text(json.dumps({'ports': [port, dict(port, port=993)]}))
    assert COMPARE.main(str(posture), str(scans), 'h') == 1
    out = capsys.readouterr().out
    assert 'h:993 | | | | NO: testssl.sh has no scan of this port' in out
    assert 'compare-posture: every port of h must be compared; 1 were not' in out


def test_compare_posture_compares_the_key_exchange_with_s_client_inside_the_host(tmp_path, capsys):
    scans = tmp_path / 'scans'
    scans.mkdir()
    (scans / 'h-25.json').write_text(json.dumps(scan('after-3.10-25.json')))
    # what the scenario's handshake play wrote for a hardened 3.10 port: SHA-1 and SHA-224 refused, the hybrid got
    (scans / 'handshakes-h.json').write_text(json.dumps([
        {'port': 25, 'case': 'sha1', 'cipher': '(NONE)', 'digest': '', 'group': ''},
        {'port': 25, 'case': 'sha224', 'cipher': '(NONE)', 'digest': '', 'group': ''},
        {'port': 25, 'case': 'mlkem', 'cipher': 'TLS_AES_256_GCM_SHA384', 'digest': 'SHA256', 'group': 'X25519MLKEM768'}]))
    port = {'port': 25, 'versions': ['TLSv1.2', 'TLSv1.3'], 'weakest': None,
            'key_exchange': {'sha1': False, 'sha224': False, 'post_quantum': True}}
    posture = tmp_path / 'posture.json'
    posture.write_text(json.dumps({'ports': [port]}))
    assert COMPARE.main(str(posture), str(scans), 'h') == 0
    assert 'key exchange: sha1, sha224, post_quantum' in capsys.readouterr().out
    # a module that missed the SHA-1 signature, or saw a hybrid that is not there, disagrees
    posture.write_text(json.dumps({'ports': [dict(port, key_exchange={'sha1': True, 'sha224': False, 'post_quantum': False})]}))
    assert COMPARE.main(str(posture), str(scans), 'h') == 1
    out = capsys.readouterr().out
    assert 'sha1: inside the host False, module True' in out and 'post_quantum: inside the host True, module False' in out


# --sigalgs: Debian 13's testssl.sh 3.2.1 (-f, from scan-client) lists the signature algorithms a server accepts.
# The fixtures are the scanner scenario's (2026-12-05): port 25 of scan-client with Debian's Postfix 3.10 defaults
# (OpenSSL 3.5; "before"), and ports hardened by the tls role on 3.10 and 3.5 ("after"; 587 with the modern profile).
SIGALGS_EXCEPT = ['--except=engine_problem=no GOST engine']


def scan32(name):
    with open(os.path.join(TOP, 'tests', 'unit', 'fixtures', 'testssl32', name)) as f:
        return json.load(f)


def run_sigalgs(tmp_path, findings, tls_min='TLS1_2', extra=()):
    path = tmp_path / 'scan.json'
    path.write_text(json.dumps(findings))
    return JUDGE.main(['--sigalgs'] + SIGALGS_EXCEPT + list(extra) + [str(path) + '=' + tls_min])


@pytest.mark.parametrize('name,tls_min', [('after-3.10-25.json', 'TLS1_2'), ('after-3.5-25.json', 'TLS1_2'),
                                          ('after-3.10-587-modern.json', 'TLS1_3')])
def test_sigalgs_judge_passes_the_hardened_ports(tmp_path, name, tls_min, capsys):
    assert run_sigalgs(tmp_path, scan32(name), tls_min) == 0
    assert capsys.readouterr().out.startswith('PASS ')


def test_sigalgs_judge_fails_debian_defaults_on_sha1_and_sha224(tmp_path, capsys):
    assert run_sigalgs(tmp_path, scan32('before-3.10-25.json')) == 1
    out = capsys.readouterr().out
    assert '  LOW FS_TLS12_sig_algs: accepts RSA+SHA224 RSA+SHA1 ECDSA+SHA224 ECDSA+SHA1' in out
    assert 'FS_TLS13_sig_algs' not in out  # TLS 1.3 has no SHA-1 there
    # testssl.sh's own warning about its OpenSSL is a scan problem unless it is excepted by name
    assert JUDGE.main(['--sigalgs', '%s=TLS1_2' % (tmp_path / 'scan.json')]) == 1
    assert 'WARN engine_problem: the scan had a problem' in capsys.readouterr().out


def test_sigalgs_judge_fails_sha224_that_testssl_rates_info(tmp_path, capsys):
    # testssl.sh 3.2 rates SHA-224 nothing worse than INFO; the mail tests of 2026 rate it insufficient
    findings = scan32('after-3.10-25.json')
    for f in findings:
        if f['id'] == 'FS_TLS12_sig_algs':
            assert f['severity'] == 'INFO'
            f['finding'] += ' ECDSA+SHA224'
    assert run_sigalgs(tmp_path, findings) == 1
    assert '  INFO FS_TLS12_sig_algs: accepts ECDSA+SHA224' in capsys.readouterr().out


def test_sigalgs_judge_fails_a_scan_without_the_lists(tmp_path, capsys):
    # a scan without -f (or cut short before it) lists no signature algorithms: it must not pass
    findings = [f for f in scan32('after-3.10-25.json') if not f['id'].endswith('_sig_algs')]
    assert run_sigalgs(tmp_path, findings) == 1
    out = capsys.readouterr().out
    assert 'truncated scan: testssl.sh listed no TLS1_2 signature algorithms (FS_TLS12_sig_algs)' in out
    assert 'truncated scan: testssl.sh listed no TLS1_3 signature algorithms (FS_TLS13_sig_algs)' in out
    # a TLS 1.3-only port has no TLS 1.2 list, and none is asked of it
    findings = [f for f in scan32('after-3.10-587-modern.json') if f['id'] != 'FS_TLS13_sig_algs']
    assert run_sigalgs(tmp_path, findings, tls_min='TLS1_3') == 1
    out = capsys.readouterr().out
    assert 'TLS1_3 signature algorithms' in out and 'TLS1_2 signature' not in out
