"""Benchmark a converge of the tls role on one host: first run, and a run that changes nothing. Prints figures.

Side by side in one run: the role at one or more baseline commits (default: the one before issue 32's work)
and the role in this working tree, each on its own fresh bookworm lab container (Postfix 3.7), as a user runs it:
ansible-playbook over the containers.podman.podman connection with pipelining on, ECDSA and RSA certificates
from a lab CA, the submission services on 587 and 465, and two policy entries (no preflight: the destinations
exist nowhere, so no DNS query leaves the lab). Beside them, Ansible's own floor on the same connection: one
`ansible -m ping`. For each: wall seconds (the median of --runs no-change runs), the number of task results
(ok + skipped in the recap) and the changed count (the no-change run must have 0).

Run with the Makefile's environment: `make bench-converge` (or tests/bench/converge_bench.py --runs 3).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BASELINE = '546725b'  # main before issue 32 (the role as the issue measured it)
PLAYBOOK = """- hosts: bench
  gather_facts: false
  roles:
    - role: mailtls.postfix.tls
      postfix_tls_hostnames: [bench.lab.test]
      postfix_tls_certificates:
        - {name: ecdsa, key_src: %(pki)s/bench.lab.test-ecdsa.key, chain_src: %(pki)s/bench.lab.test-ecdsa.chain.pem}
        - {name: rsa, key_src: %(pki)s/bench.lab.test-rsa.key, chain_src: %(pki)s/bench.lab.test-rsa.chain.pem}
      postfix_tls_submission_587: true
      postfix_tls_submissions_465: true
      postfix_tls_policies:
        - {destination: example.test, level: encrypt}
        - {destination: "[relay.example.test]:587", level: secure, match: [relay.example.test]}
      postfix_tls_preflight: "off"
"""


def sh(argv, **kwargs):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def collection(ref, workdir):
    """A collections path holding mailtls.postfix at ``ref`` (None: this working tree)."""
    path = os.path.join(workdir, ref or 'tree')
    dest = os.path.join(path, 'ansible_collections', 'mailtls')
    os.makedirs(dest)
    if ref is None:
        os.symlink(TOP, os.path.join(dest, 'postfix'))
    else:
        os.makedirs(os.path.join(dest, 'postfix'))
        archive = subprocess.run(['git', '-C', TOP, 'archive', ref], check=True, capture_output=True).stdout
        subprocess.run(['tar', '-x', '-C', os.path.join(dest, 'postfix')], input=archive, check=True)
    return path


def recap(stdout):
    line = [x for x in stdout.splitlines() if x.startswith('bench ') and 'ok=' in x][-1]
    counts = dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', line))
    return counts['ok'] + counts['skipped'], counts['changed']


def timed(argv, env):
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit('%s failed:\n%s' % (' '.join(argv[:2]), proc.stdout[-4000:]))
    return time.monotonic() - t0, proc.stdout


def measure(label, ref, workdir, pki, runs):
    name = 'mailtls-bench-converge-%s' % label
    subprocess.run(['podman', 'rm', '-f', '-t', '0', name], capture_output=True, check=False)
    sh(['podman', 'run', '-d', '--name', name, '--hostname', 'bench.lab.test', 'localhost/mailtls-lab:bookworm'])
    try:
        time.sleep(3)  # the lab init starts Postfix
        inventory = os.path.join(workdir, '%s.yml' % label)
        with open(inventory, 'w') as f:
            f.write('all:\n  hosts:\n    bench:\n      ansible_connection: containers.podman.podman\n'
                    '      ansible_host: %s\n      ansible_python_interpreter: /usr/bin/python3\n' % name)
        playbook = os.path.join(workdir, 'converge.yml')
        with open(playbook, 'w') as f:
            f.write(PLAYBOOK % {'pki': pki})
        env = dict(os.environ, ANSIBLE_PIPELINING='True', ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1',
                   ANSIBLE_COLLECTIONS_PATH=collection(ref, workdir))
        env.pop('ANSIBLE_CONNECTION_PLUGINS', None)
        ping = statistics.median(timed(['ansible', '-i', inventory, 'bench', '-m', 'ping'], env)[0] for dummy in range(3))
        first, out = timed(['ansible-playbook', '-i', inventory, playbook], env)
        first_tasks, first_changed = recap(out)
        again = []
        for dummy in range(runs):
            seconds, out = timed(['ansible-playbook', '-i', inventory, playbook], env)
            tasks, changed = recap(out)
            if changed:
                raise SystemExit('%s: the run after the first changed %d task(s)' % (label, changed))
            again.append(seconds)
        return {'label': label, 'ping': ping, 'first': first, 'first_tasks': first_tasks, 'first_changed': first_changed,
                'again': statistics.median(again), 'again_tasks': tasks}
    finally:
        subprocess.run(['podman', 'rm', '-f', '-t', '0', name], capture_output=True, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--baseline', nargs='+', default=[BASELINE], help='the commits to compare with (default %(default)s)')
    parser.add_argument('--runs', type=int, default=3, help='no-change runs per variant (median)')
    opts = parser.parse_args()
    os.environ['CONTAINERS_CONF'] = os.path.join(TOP, 'tests', 'lab', 'containers.conf')
    workdir = tempfile.mkdtemp(prefix='mailtls-bench-converge-')
    try:
        pki = os.path.join(workdir, 'pki')
        sh([sys.executable, os.path.join(TOP, 'extensions', 'molecule', 'resources', 'mkpki.py'), pki, 'bench.lab.test'])
        head = sh(['git', '-C', TOP, 'rev-parse', '--short', 'HEAD']).stdout.strip()
        dirty = ' + changes' if sh(['git', '-C', TOP, 'status', '--porcelain', '--untracked-files=no']).stdout else ''
        rows = [measure('baseline%d' % i, ref, workdir, pki, opts.runs) for i, ref in enumerate(opts.baseline)]
        rows.append(measure('tree', None, workdir, pki, opts.runs))
        print('| role | ansible -m ping s | first converge s | task results (changed) | no-change converge s (median of %d) |'
              ' task results |' % opts.runs)
        print('| --- | --- | --- | --- | --- | --- |')
        for r, title in zip(rows, ['%s (baseline)' % ref for ref in opts.baseline] + ['%s%s (this tree)' % (head, dirty)]):
            print('| %s | %.2f | %.1f | %d (%d) | %.1f | %d |' % (
                title, r['ping'], r['first'], r['first_tasks'], r['first_changed'], r['again'], r['again_tasks']))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    main()
