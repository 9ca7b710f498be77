"""The module as Ansible runs it: a separate Python process that reads its arguments as JSON."""
import json
import os
import subprocess
import sys

import pytest

MODULE = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'plugins', 'modules', 'mx_tls_info.py')


def run_module(tmp_path, args):
    path = tmp_path / 'args.json'
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=os.environ['MAILTLS_UNITS_COLLECTIONS'])
    proc = subprocess.run([sys.executable, MODULE, str(path)], capture_output=True, text=True, env=env, timeout=60, check=False)
    return json.loads(proc.stdout)


def test_probes_a_bracketed_next_hop(tmp_path, pki, smtp_server):
    leaf = pki.issue('mx.example.com', ['mx.example.com'])
    server = smtp_server(issued=leaf)
    result = run_module(tmp_path, {'destinations': ['[127.0.0.1]:%d' % server.port], 'timeout': 2,
                                   'digest': 'sha256', '_ansible_check_mode': True})
    assert result.get('failed') is not True, result
    assert result['changed'] is False
    entry = result['results'][0]
    assert entry['endpoints'][0]['fingerprints']['cert']['sha256'] == ':'.join(
        '%02X' % b for b in __import__('hashlib').sha256(leaf.der).digest())
    assert entry['policy']['level'] == 'fingerprint'
    assert result['summary']['endpoints_tls'] == 1
    # no private key material anywhere in what the module returns
    assert 'PRIVATE KEY' not in json.dumps(result)


@pytest.mark.parametrize('args, message', [
    ({'destinations': []}, 'destinations: the list is empty'),
    ({'destinations': ['[a]:70000']}, "destinations[0]: '[a]:70000': port '70000' is not a number from 1 to 65535"),
    ({'destinations': ['[a]'], 'port': 0}, 'port: 0 is not a number from 1 to 65535'),
    ({'destinations': ['[a]'], 'timeout': 0}, 'timeout: 0.0 is not a number of seconds above 0'),
    ({'destinations': ['[a]'], 'concurrency': 0}, 'concurrency: 0 is not a number from 1 to 1024'),
    ({'destinations': ['[a]'], 'ehlo_name': 'a b'}, "ehlo_name: 'a b' is empty or contains whitespace"),
    ({'destinations': ['[a]'], 'digest': 'sha512'}, 'value of digest must be one of: sha256, sha1, md5'),
    ({'destinations': ['[a]'], 'nameservers': ['ns.example']}, "nameservers: 'ns.example' is not an IP address"),
    ({'destinations': ['[a]'], 'ca_file': '/nonexistent/ca.pem'}, 'ca_file/ca_path: cannot load CA certificates'),
])
def test_bad_options_name_the_option_and_value(tmp_path, args, message):
    result = run_module(tmp_path, args)
    assert result['failed'] is True
    assert message in result['msg']
