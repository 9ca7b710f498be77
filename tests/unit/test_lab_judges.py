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
