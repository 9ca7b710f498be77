"""Benchmark the tls role's policy-map step against postmap alone. Prints figures.

For 1,000 / 10,000 / 100,000 policy entries (Postfix map format, a mix of
levels with sha256 pins) it prints, measured inside a bookworm lab container
(Postfix 3.7, hash maps):
  postmap alone        postmap hash:FILE on the same entries
  module, first run    tls_policy_map as Ansible runs it (a Python process fed JSON
                       arguments): start, read, validate, render, write, postmap
  module, again        the same input a second time (must not run postmap)
(each the median of three runs)
and, from the controller, the whole converge of the tls role with that
policy file (ansible-playbook over the podman connection), first and again.

Run with the Makefile's environment: `make bench-policy` (or
tests/bench/policy_map_bench.py --sizes 1000 10000 100000).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
NAME = 'mailtls-bench-policy'


def make_policy(path, n, seed=1):
    rnd = random.Random(seed)
    with open(path, 'w') as f:
        for i in range(n):
            kind = i % 4
            domain = 'd%07d.example' % i
            if kind == 0:
                pin = ':'.join('%02X' % rnd.randrange(256) for dummy in range(32))
                f.write('%s fingerprint match=%s\n' % (domain, pin))
            elif kind == 1:
                f.write('%s secure match=nexthop:dot-nexthop protocols=>=TLSv1.2\n' % domain)
            elif kind == 2:
                f.write('[mx.%s]:25 encrypt ciphers=high\n' % domain)
            else:
                f.write('%s dane\n' % domain)


def sh(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def converge(inventory, policy, workdir):
    playbook = os.path.join(workdir, 'converge.yml')
    with open(playbook, 'w') as f:
        f.write('- hosts: bench\n  gather_facts: false\n  roles:\n    - role: mailtls.postfix.tls\n'
                '      postfix_tls_policy_file: %s\n      postfix_tls_policy_map: /etc/postfix/bench_policy\n'
                # the generated destinations (.example) exist nowhere: no preflight, so no DNS query leaves the lab
                '      postfix_tls_preflight: "off"\n' % policy)
    t0 = time.monotonic()
    proc = subprocess.run(['ansible-playbook', '-i', inventory, playbook], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit('converge failed:\n' + proc.stdout[-3000:])
    recap = [line for line in proc.stdout.splitlines() if line.startswith('bench ') and 'ok=' in line]
    return time.monotonic() - t0, bool(recap) and 'changed=0' in recap[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', type=int, nargs='+', default=[1000, 10000, 100000])
    opts = parser.parse_args()
    os.environ['CONTAINERS_CONF'] = os.path.join(TOP, 'tests', 'lab', 'containers.conf')
    ansible_pkg = sh([sys.executable, '-c', 'import ansible, os; print(os.path.dirname(ansible.__file__))']).stdout.strip()
    workdir = tempfile.mkdtemp(prefix='mailtls-bench-policy-')
    subprocess.run(['podman', 'rm', '-f', '-t', '0', NAME], capture_output=True, check=False)
    sh(['podman', 'run', '-d', '--name', NAME, '--hostname', 'bench.lab.test',
        '-v', '%s:/src/ansible_collections/mailtls/postfix:ro' % TOP, '-v', '%s:/src/ansible:ro' % ansible_pkg,
        '-v', '%s:/bench:ro' % workdir, 'localhost/mailtls-lab:bookworm'])
    inventory = os.path.join(workdir, 'inventory.yml')
    with open(inventory, 'w') as f:
        f.write('all:\n  hosts:\n    bench:\n      ansible_connection: containers.podman.podman\n'
                '      ansible_host: %s\n      ansible_python_interpreter: /usr/bin/python3\n' % NAME)
    try:
        for dummy in range(30):
            if subprocess.run(['podman', 'exec', NAME, 'postfix', 'status'], capture_output=True, check=False).returncode == 0:
                break
            time.sleep(1)
        print('policy-map benchmark: Postfix 3.7 (bookworm lab container), hash maps; seconds')
        print('%9s %9s %12s %12s %11s %12s %12s %10s' % ('entries', 'postmap', 'module 1st', 'module again',
                                                         'ratio 1st', 'converge 1st', 'conv. again', 'postmap again'))
        for n in opts.sizes:
            policy = os.path.join(workdir, 'policy-%d.txt' % n)
            make_policy(policy, n)
            inner = json.loads(sh(['podman', 'exec', '-e', 'PYTHONPATH=/src', NAME, 'python3',
                                   '/src/ansible_collections/mailtls/postfix/tests/bench/policy_map_inner.py',
                                   '/src/ansible_collections/mailtls/postfix/plugins/modules/tls_policy_map.py',
                                   '/bench/policy-%d.txt' % n]).stdout)
            assert inner['entries'] == n and inner['postmap_first'] and not inner['postmap_again'] and not inner['changed_again']
            conv1, dummy = converge(inventory, policy, workdir)
            conv2, unchanged = converge(inventory, policy, workdir)
            print('%9d %9.2f %12.2f %12.2f %10.2fx %12.2f %12.2f %10s' % (
                n, inner['postmap'], inner['module_first'], inner['module_again'],
                inner['module_first'] / inner['postmap'], conv1, conv2,
                'no' if not inner['postmap_again'] and unchanged else 'YES'))
            sys.stdout.flush()
            subprocess.run(['podman', 'exec', NAME, 'rm', '-f', '/etc/postfix/bench_policy', '/etc/postfix/bench_policy.db'],
                           check=False)
    finally:
        subprocess.run(['podman', 'rm', '-f', '-t', '0', NAME], capture_output=True, check=False)


if __name__ == '__main__':
    main()
