"""One home per concept (issue 32): the digest list, the severity order, the expiry threshold and the error type
are each defined once, and every place that used its own copy now honours the shared one."""
import ast
import glob
import os
import re
import socket
import threading
import time

from ansible_collections.mailtls.postfix.plugins.module_utils import _errors, _mxprobe, _options, _posture, _report, _smtp

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = sorted(glob.glob(os.path.join(TOP, 'plugins', '*', '*.py')))


def _code(path):
    """The file's code without its docstrings and comments (documentation may list the digests)."""
    with open(path) as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        body = getattr(node, 'body', None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body[0] = ast.Pass()
    return ast.unparse(tree)


def _homes(pattern):
    return sorted(os.path.relpath(p, TOP) for p in SOURCES if re.search(pattern, _code(p)))


def test_the_digest_list_has_one_home():
    # a tuple or list naming the three digests, in any order, outside _options is a second copy
    digests = r"""['"](sha256|sha1|md5)['"], ['"](sha256|sha1|md5)['"], ['"](sha256|sha1|md5)['"]"""
    assert _homes(digests) == ['plugins/module_utils/_options.py']


def test_the_severity_order_has_one_home():
    severities = r"""['"](ok|warn|bad)['"], ['"](ok|warn|bad)['"], ['"](ok|warn|bad)['"]"""
    assert _homes(severities) == ['plugins/module_utils/_judge.py']
    assert _report.SEVERITY_ORDER == ('bad', 'warn', 'ok')


def test_no_expiry_threshold_is_written_as_a_number():
    # days_remaining compared with a literal (21, 30) instead of expiry_warn_days; _mxprobe's deprecated
    # expiring_30_days is the one literal left, and it says so in its name
    literal = r"""days\w*'?\]?\)? *< *[1-9]"""
    assert _homes(literal) == []
    assert _options.EXPIRY_WARN_DAYS == 21


def test_every_error_type_derives_from_mailtlserror():
    found = {}
    for path in glob.glob(os.path.join(TOP, 'plugins', 'module_utils', '*.py')):
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = [getattr(b, 'id', getattr(b, 'attr', None)) for b in node.bases]
                if any(b and (b.endswith('Error') or b == 'Exception') for b in bases):
                    found[node.name] = bases
    assert found.pop('MailTLSError') == ['Exception']
    assert found and all(bases == ['MailTLSError'] for bases in found.values()), found
    assert issubclass(_smtp.ProbeError, _errors.MailTLSError) and issubclass(_posture.PostureError, _errors.MailTLSError)


def _port(days):
    return {'address': '192.0.2.1', 'port': 25, 'protocol': 'smtp', 'tls_mode': 'starttls', 'users_log_in': False,
            'reachable': True, 'error': None, 'exposure': {}, 'versions': ['TLSv1.3'], 'weakest': None,
            'session': {'forward_secrecy': True, 'cipher': 'TLS_AES_256_GCM_SHA384'},
            'certificate': {'chain_verified': True, 'name_matches': True, 'days_remaining': days, 'verify_error': None},
            'dane': None, 'key_exchange': None}


def test_the_posture_reader_honours_expiry_warn_days():
    # it warned at a fixed 21 days whatever the caller asked
    def warnings(days, **kw):
        return [f for f in _posture.findings(_port(days), **kw) if f[0] != 'ok']
    assert warnings(25) == []
    assert warnings(25, expiry_warn_days=30) == [('warn', '192.0.2.1:25: the certificate expires in 25 days')]
    assert warnings(10, expiry_warn_days=7) == []
    assert warnings(10) == [('warn', '192.0.2.1:25: the certificate expires in 10 days')]


def test_the_probe_summary_counts_expiring_at_the_threshold():
    results = [{'error': None, 'endpoints': [
        {'certificate': {'days_remaining': days}, 'chain_verified': True, 'name_verified': True, 'error': None}
        for days in (5, 25, 90)]}]
    summary = _mxprobe.summarize(results)
    assert (summary['expiring'], summary['expiring_30_days']) == (1, 2)
    assert _mxprobe.summarize(results, expiry_warn_days=60)['expiring'] == 2


def test_the_posture_reader_talks_through_the_one_smtp_client():
    # _posture had its own line reader (_Lines): no bound on a line, no check of the reply codes
    assert '.recv(' not in _code(_posture.__file__)


def test_a_server_that_sends_an_endless_line_is_cut_off_at_the_bound():
    # the old _Lines read on until the deadline, growing its buffer without a limit
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)

    def serve():
        conn, dummy = server.accept()
        try:
            conn.sendall(b'220-' + b'x' * 70000)
            time.sleep(2)
        finally:
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        result = _posture.inspect('127.0.0.1', server.getsockname()[1], protocol='smtp', mode='starttls', timeout=5)
    finally:
        thread.join()
        server.close()
    assert result['error'] == 'not an SMTP server: over 64 KiB without a line end in banner'
    assert [f[0] for f in result['findings']] == ['bad'], result['findings']


def test_the_tlsa_matcher_has_one_home():
    # a record's association data compared with a key's: _dns.key_matches alone (it was done three ways, in
    # _dns.dane_verdict, _posture.dane_state and _rollover.gate)
    compare = r"""\[['"]data['"]\]\.lower\(\) *==|== *\w+\[['"]data['"]\]\.lower\(\)"""
    assert _homes(compare) == ['plugins/module_utils/_dns.py']
    from ansible_collections.mailtls.postfix.plugins.module_utils._dns import key_matches
    ee = {'usage': 3, 'selector': 1, 'mtype': 1, 'data': 'AB' * 32}
    ta = {'usage': 2, 'selector': 1, 'mtype': 1, 'data': 'cd' * 32}
    assert key_matches([ee, ta], {'3 1 1': 'ab' * 32}) is True
    assert key_matches([ee], {'3 1 1': 'ef' * 32}) is False
    assert key_matches([ta], {'3 1 1': 'cd' * 32}) is None
    assert key_matches([dict(ee, selector=0)], {'3 1 1': 'ab' * 32}) is None
    assert key_matches([dict(ee, selector=0)], {'3 1 1': 'ef' * 32, '3 0 1': 'ab' * 32}) is True


def test_the_connection_options_have_one_home():
    # timeout, nameservers and ca_file of every module that talks to a mail server come from
    # _options.PROBE_CONNECTION_OPTIONS (tls_server_posture had its own, with an int timeout); the rollover gate
    # talks to no mail server: its timeout is per DNS query, with nameservers that default to none; dns_publish
    # talks to one DNS server (the zone's primary), its timeout per answer
    assert _homes(r"""\btimeout=dict\(""") == [
        'plugins/module_utils/_options.py', 'plugins/modules/dns_publish.py', 'plugins/modules/tls_rollover_gate.py']
    assert _homes(r"""\bca_file=dict\(""") == ['plugins/module_utils/_options.py']
