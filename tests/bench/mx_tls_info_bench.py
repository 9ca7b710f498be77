"""Benchmark mx_tls_info against a sequential posttls-finger loop. Prints figures.

Runs inside a lab container (tests/bench/run-mx-tls-info.sh starts one):
a real Postfix smtpd on 127.0.0.1:25 with its snakeoil certificate, and a
user-space latency proxy listening on one port that every address
127.1.x.y reaches, so N distinct endpoints [127.1.x.y]:PORT all lead,
through the proxy, to Postfix. The proxy delays every chunk by RTT/2 in each
direction (this kernel has no netem).

For each run it prints wall time, CPU seconds per probe and peak RSS of
  - the module (run as Ansible runs it: a Python process fed JSON arguments),
  - posttls-finger in a sequential loop over the same endpoints,
  - the physical limit: ceil(N / concurrency) x round trips per probe x RTT.

With --mx the destinations are N domains instead of bracketed addresses: an
in-process DNS server (tests/unit/labkit.py, answering after one RTT, with the
AD bit as a validating resolver sets it) gives each domain an MX host, its
address and a TLSA record for the Postfix key, so every destination costs the
MX, A, AAAA and TLSA lookups as well as the probe. The module then runs twice,
with and without the TLSA lookups (option tlsa), to show what DANE support costs.
"""
import argparse
import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# Round trips one module probe waits for behind the proxy: banner (half:
# the server speaks first), EHLO, STARTTLS, TLS 1.3 handshake. QUIT is sent
# without waiting for the reply.
MODULE_ROUND_TRIPS = 3.5


def endpoint_address(i):
    return '127.1.%d.%d' % (i // 250, i % 250 + 1)


class DelayProxy:
    """Forward connections to an upstream, delaying each chunk by `delay` seconds in each direction."""

    def __init__(self, listen_port, upstream, delay):
        self.listen_port = listen_port
        self.upstream = upstream
        self.delay = delay
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    def start(self):
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, '0.0.0.0', self.listen_port, backlog=1024))
        self.server = server
        self.ready.set()
        self.loop.run_forever()

    async def _pump(self, reader, writer):
        queue = asyncio.Queue()

        async def send():
            while True:
                due, data = await queue.get()
                wait = due - self.loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    try:
                        writer.write_eof()
                    except OSError:
                        pass
                    return
                writer.write(data)
                try:
                    await writer.drain()
                except OSError:
                    return

        sender = asyncio.ensure_future(send())
        try:
            while True:
                data = await reader.read(65536)
                queue.put_nowait((self.loop.time() + self.delay, data or None))
                if not data:
                    break
        except OSError:
            queue.put_nowait((self.loop.time() + self.delay, None))
        await sender

    async def _handle(self, client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(self._pump(client_reader, up_writer), self._pump(up_reader, client_writer),
                             return_exceptions=True)
        for w in (client_writer, up_writer):
            w.close()


def run_measured(argv, env=None):
    """Run a command; return (stdout bytes, wall s, cpu s, peak RSS KiB) of that process alone."""
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = proc.stdout.read()
    proc.stdout.close()
    dummy, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return out, time.monotonic() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


CPUACCT = '/sys/fs/cgroup/cpuacct/cpuacct.usage'


def container_cpu():
    """CPU seconds used so far by everything in this container (cgroup v1 cpuacct), or None."""
    try:
        with open(CPUACCT) as f:
            return int(f.read()) / 1e9
    except (OSError, ValueError):
        return None


class CpuSplit:
    """Where the CPU of one measured run went: the runner, the delay proxy (this process) and the rest (Postfix)."""

    def __init__(self):
        self.container, self.own = container_cpu(), time.process_time()

    def split(self, runner_cpu):
        own = time.process_time() - self.own
        total = container_cpu()
        if total is None or self.container is None:
            return None
        total -= self.container
        return {'total': total, 'runner': runner_cpu, 'proxy': own, 'server': max(total - runner_cpu - own, 0.0)}


def run_module(module, collections, endpoints, port, concurrency, timeout, extra=None):
    args = {'ANSIBLE_MODULE_ARGS': dict({
        'destinations': ['[%s]:%d' % (a, port) for a in endpoints],
        'concurrency': concurrency, 'timeout': timeout, 'digest': 'sha256'}, **(extra or {}))}
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump(args, f)
    env = dict(os.environ, PYTHONPATH=collections)
    meter = CpuSplit()
    out, wall, cpu, rss = run_measured([sys.executable, module, f.name], env)
    run_module.cpu = meter.split(cpu)
    os.unlink(f.name)
    result = json.loads(out)
    if result.get('failed'):
        raise SystemExit('module failed: %s' % result.get('msg'))
    run_module.last = result
    return wall, cpu, rss, result['summary']['endpoints_tls']


# the playbook shapes measured against the bare module: the gather playbook before the action saved the results
# (register the full result, write it to two files with copy and to_nice_json, print every recommendation), and
# now (the action writes the files on the controller and returns a compact result)
PLAYBOOKS = {
    'playbook (register)': """- hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe
      mailtls.postfix.mx_tls_info: "{{ bench_args }}"
      register: probe
    - name: Write the results (as gather did)
      ansible.builtin.copy:
        dest: "{{ item }}"
        mode: "0644"
        content: "{{ {'digest': probe.digest, 'summary': probe.summary, 'results': probe.results} | to_nice_json }}"
      loop: ["{{ bench_dir }}/gather-1.json", "{{ bench_dir }}/gather-latest.json"]
    - name: Show every recommendation (as gather did)
      ansible.builtin.debug:
        msg: "{{ probe.results | map(attribute='policy_line') | list }}"
    - name: Count
      ansible.builtin.debug:
        msg: "TLS ok {{ probe.summary.endpoints_tls }}"
""",
    'playbook (save)': """- hosts: localhost
  gather_facts: false
  tasks:
    - name: Probe and save (as gather does)
      mailtls.postfix.mx_tls_info: "{{ bench_args | combine({'save': {'dir': bench_dir, 'files': ['gather-1.json', 'gather-latest.json']}}) }}"
      register: probe
    - name: Show the first recommendations (as gather does)
      ansible.builtin.debug:
        msg: "{{ probe.shown | map(attribute='policy_line') | list }}"
    - name: Count
      ansible.builtin.debug:
        msg: "TLS ok {{ probe.summary.endpoints_tls }}"
""",
}


def run_playbook(collections, endpoints, port, concurrency, timeout, extra=None, shape='playbook (save)'):
    """The module through ansible-playbook (local connection) in one of PLAYBOOKS' shapes: wall s, CPU s, the
    peak RSS of the playbook's process tree, and the endpoints with TLS (as the play counted them)."""
    work = tempfile.mkdtemp()
    if shape == 'playbook (register)':
        os.mkdir(os.path.join(work, 'results'))  # gather made it with a file task
    with open(os.path.join(work, 'vars.json'), 'w') as f:
        json.dump({'bench_dir': os.path.join(work, 'results'),
                   'bench_args': dict({'destinations': ['[%s]:%d' % (a, port) for a in endpoints],
                                       'concurrency': concurrency, 'timeout': timeout, 'digest': 'sha256'},
                                      **(extra or {}))}, f)
    with open(os.path.join(work, 'probe.yml'), 'w') as f:
        f.write(PLAYBOOKS[shape])
    env = dict(os.environ, PYTHONPATH=collections, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_HOME=work,
               ANSIBLE_LOCAL_TEMP=work, ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    argv = [sys.executable, '-c', 'import sys; from ansible.cli.playbook import main; sys.argv[0] = "ansible-playbook"; main()',
            '-i', 'localhost,', '-c', 'local', '-e', '@' + os.path.join(work, 'vars.json'), os.path.join(work, 'probe.yml')]
    out, wall, cpu, rss = run_measured(argv, env)
    text = out.decode('utf-8', 'replace')
    if 'failed=0' not in text:
        raise SystemExit('ansible-playbook failed:\n' + text[-3000:])
    with open(os.path.join(work, 'results', 'gather-latest.json')) as f:
        saved = json.load(f)
    if len(saved['results']) != len(endpoints):
        raise SystemExit('%s saved %d results for %d endpoints' % (shape, len(saved['results']), len(endpoints)))
    ok = int(text.split('TLS ok ', 1)[1].split('"', 1)[0])
    return wall, cpu, rss, ok


def mx_zone(n, port, spki_sha256):
    """N domains, each with one MX, its address and a DANE-EE TLSA record of the served key."""
    zone = {}
    for i in range(n):
        domain, mx = 'd%d.bench.test' % i, 'mx.d%d.bench.test' % i
        zone[(domain, 'MX')] = ['10 %s.' % mx]
        zone[(mx, 'A')] = [endpoint_address(i)]
        zone[('_%d._tcp.%s' % (port, mx), 'TLSA')] = ['3 1 1 %s' % spki_sha256]
    return zone


def run_mx(opts, module, n):
    """--mx: N domains through DNS (one RTT per answer), with and without the TLSA lookups."""
    sys.path.insert(0, os.path.join(opts.collections, 'ansible_collections', 'mailtls', 'postfix', 'tests', 'unit'))
    from labkit import DNSServer  # the unit tests' DNS server, here with a delay
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    with open('/etc/ssl/certs/ssl-cert-snakeoil.pem', 'rb') as f:
        cert = x509.load_pem_x509_certificate(f.read())
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki)
    dns = DNSServer(mx_zone(n, opts.port, digest.finalize().hex()), delay=opts.rtt)
    dns.validated.add('bench.test')
    dns.start()
    domains = ['d%d.bench.test' % i for i in range(n)]
    base = {'destinations': domains, 'port': opts.port, 'nameservers': ['127.0.0.1:%d' % dns.port]}
    rows = []
    for label, tlsa in (('module+TLSA', True), ('module, no TLSA', False)):
        wall, cpu, rss, ok = run_module(module, opts.collections, [], opts.port, opts.concurrency, opts.timeout,
                                        dict(base, tlsa=tlsa))
        result = run_module.last
        matched = sum(1 for r in result['results'] for e in r['endpoints'] if (e.get('dane') or {}).get('matches'))
        rows.append((label, wall, cpu, rss, ok, matched))
    dns.stop()
    # resolve (MX, then A and AAAA side by side) + probe + TLSA, each destination on one worker
    per = {'module+TLSA': 2 + MODULE_ROUND_TRIPS + 1, 'module, no TLSA': 2 + MODULE_ROUND_TRIPS}
    for label, wall, cpu, rss, ok, matched in rows:
        limit = math.ceil(n / float(opts.concurrency)) * per[label] * opts.rtt
        print('%-6d %-16s %9.2f %8s %14.2f %12.1f %9s  TLSA match %d/%d; limit %.2f s (%.1f RTT each), module/limit %.2f'
              % (n, label, wall, '%.2fx' % (wall / rows[1][1]), 1000 * cpu / n, rss / 1024.0, '%d/%d' % (ok, n),
                 matched, n, limit, per[label], wall / limit))
    sys.stdout.flush()


def run_finger(endpoints, port, parallel=1):
    """posttls-finger over the endpoints, ``parallel`` processes at a time (1: a sequential loop)."""
    t0 = time.monotonic()

    def one(address):
        out, dummy, p_cpu, p_rss = run_measured(
            ['posttls-finger', '-c', '-l', 'may', '-d', 'sha256', '[%s]:%d' % (address, port)])
        return p_cpu, p_rss, b'pkey fingerprint=' in out

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        done = list(pool.map(one, endpoints))
    return (time.monotonic() - t0, sum(d[0] for d in done), max(d[1] for d in done) if done else 0,
            sum(1 for d in done if d[2]))


def untrusted_ca_file(directory):
    """A CA file that does not hold the snakeoil certificate: every chain then fails to verify."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import datetime
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'Bench CA that issued nothing')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = os.path.join(directory, 'untrusted-ca.pem')
    with open(path, 'wb') as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, nargs='+', default=[500], help='endpoint counts to run (default 500)')
    parser.add_argument('--rtt', type=float, default=0.100, help='round-trip time in seconds (default 0.100)')
    parser.add_argument('--concurrency', type=int, default=32)
    parser.add_argument('--timeout', type=float, default=10)
    parser.add_argument('--port', type=int, default=2525, help='proxy port (default 2525)')
    parser.add_argument('--finger-max', type=int, default=500,
                        help='skip the posttls-finger loop above this many endpoints (default 500)')
    parser.add_argument('--collections', required=True, help='directory holding ansible_collections/mailtls/postfix')
    parser.add_argument('--mx', action='store_true', help='N domains through DNS (MX, A, AAAA, TLSA) instead of [address]:port')
    parser.add_argument('--finger-parallel', type=int, default=1,
                        help='posttls-finger processes at a time (default 1: a sequential loop)')
    parser.add_argument('--playbook', action='store_true',
                        help='also run the module through ansible-playbook and report its tree\'s peak RSS')
    parser.add_argument('--untrusted', action='store_true',
                        help='give the module a CA file that did not issue the server certificate: no chain verifies')
    opts = parser.parse_args()

    module = os.path.join(opts.collections, 'ansible_collections', 'mailtls', 'postfix', 'plugins', 'modules', 'mx_tls_info.py')
    proxy = DelayProxy(opts.port, ('127.0.0.1', 25), opts.rtt / 2)
    proxy.start()
    print('mx_tls_info benchmark: rtt=%.0f ms concurrency=%d, Postfix smtpd behind a user-space delay proxy'
          % (opts.rtt * 1000, opts.concurrency))
    print('%-6s %-20s %9s %8s %14s %12s %9s' % ('N', 'runner', 'wall s', 'ratio', 'cpu ms/probe', 'peak RSS MB', 'TLS ok'))
    if opts.mx:
        for n in opts.n:
            run_mx(opts, module, n)
        return
    for n in opts.n:
        endpoints = [endpoint_address(i) for i in range(n)]
        limit = math.ceil(n / float(opts.concurrency)) * MODULE_ROUND_TRIPS * opts.rtt
        extra = {'ca_file': untrusted_ca_file(tempfile.mkdtemp())} if opts.untrusted else None
        m_wall, m_cpu, m_rss, m_ok = run_module(module, opts.collections, endpoints, opts.port, opts.concurrency, opts.timeout,
                                                extra)
        eps = [e for r in run_module.last['results'] for e in r['endpoints']]
        sessions = sum(e.get('sessions') or 0 for e in eps)
        verified = sum(1 for e in eps if e.get('chain_verified'))
        print('%-6d module: %d SMTP sessions for %d endpoints (%.2f each), %d chains verified' % (
            n, sessions, len(eps), sessions / float(len(eps) or 1), verified))
        rows = [('module', m_wall, m_cpu, m_rss, m_ok)]
        if opts.playbook:
            for shape in PLAYBOOKS:
                rows.append((shape,) + run_playbook(opts.collections, endpoints, opts.port, opts.concurrency,
                                                    opts.timeout, extra, shape))
        if n <= opts.finger_max:
            label = 'posttls-finger' if opts.finger_parallel == 1 else 'finger x%d' % opts.finger_parallel
            rows.append((label,) + run_finger(endpoints, opts.port, opts.finger_parallel))
        for name, wall, cpu, rss, ok in rows:
            print('%-6d %-20s %9.2f %8s %14.2f %12.1f %9s' % (
                n, name, wall, '%.1fx' % (wall / m_wall) if name != 'module' else '1.0x',
                1000 * cpu / n, rss / 1024.0, '%d/%d' % (ok, n)))
        print('%-6d %-20s %9.2f %8s   (ceil(N/concurrency) x %.1f round trips x RTT; module/limit = %.2f)'
              % (n, 'physical limit', limit, '', MODULE_ROUND_TRIPS, m_wall / limit if limit else float('nan')))
        cpu = run_module.cpu
        if cpu:
            cores = len(os.sched_getaffinity(0))
            print('%-6d module run CPU s: %.1f in all = module %.1f + delay proxy %.1f + Postfix and the rest %.1f; '
                  'on %d cores that is at least %.2f s of wall time (CPU floor), module/max(limit, floor) = %.2f'
                  % (n, cpu['total'], cpu['runner'], cpu['proxy'], cpu['server'], cores, cpu['total'] / cores,
                     m_wall / max(limit, cpu['total'] / cores)))
        sys.stdout.flush()


if __name__ == '__main__':
    main()
