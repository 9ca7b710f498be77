"""Capture real Postfix mail logs from the lab images, as fixtures for the mail-log readers' unit tests.

    python3 tests/lab/capture-maillogs.py OUT_DIR     (needs podman and the lab images: make lab)

One receiver (bookworm, Postfix 3.7: port 25 with STARTTLS, port 465 in wrapper mode, a local user "lab")
and one sender per lab image (bullseye 3.5, bookworm 3.7, trixie 3.10) on a podman network of their own.
Each sender, in this order, with its own Postfix doing every delivery:

  1. smtp_tls_loglevel 1: verify.test at "verify" (the receiver's certificate as CA file), may.test at "may" (no name check),
     relayed.test through a relay-smtps service (smtp_tls_wrappermode=yes on 465, its own syslog_name),
     a bounce (an unknown user at verify.test), dead.test to a port where nothing listens (deferred),
     strict.test to the same host as [HOST]:smtp (another policy key than [HOST]:25) at "secure" with a
     name the certificate lacks (deferred, 4.7.5);
  2. smtp_tls_loglevel 2 and smtp_tls_connection_reuse=yes (the TLS sessions go through tlsproxy; the
     connection cache keeps them open for the next message): a burst to verify.test and to may.test;
  3. maximal_queue_lifetime=0 and a flush: the deferred messages expire and are returned to the sender.

A second bookworm sender logs through syslog instead: Debian 12's rsyslog (its default configuration, RFC 3339
stamps), installed into that container from the packages apt-get download fetches on this Debian 12 host.

Writes OUT_DIR/postfix-VERSION.log (and postfix-3.7-syslog.log): the sender's mail log, with the lab's addresses replaced by
192.0.2.N (documentation addresses) and nothing else changed. The unit tests take the expected counts
from pflogsumm, not from this script. Every podman call is an argument list; nothing goes through a shell.
"""
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
import time

NETWORK = 'mailtls-logs'
RECEIVER = 'logs-rcv'
# (suite, how the sender logs): maillog_file (Postfix's postlogd, as every lab host) or syslog (rsyslog)
SENDERS = (('bullseye', 'maillog_file'), ('bookworm', 'maillog_file'), ('trixie', 'maillog_file'), ('bookworm', 'syslog'))
# rsyslog and what it needs beyond the bookworm image, fetched with apt-get download on a Debian 12 host
RSYSLOG_DEBS = ('rsyslog', 'libestr0', 'libfastjson4', 'liblognorm5')
RCV_NAME = 'rcv.logs.test'


def podman(*args, check=True, stdin=None):
    return subprocess.run(['podman'] + list(args), input=stdin, capture_output=True, text=True, check=check)


def run_in(container, *argv, stdin=None):
    p = podman('exec', '-i', container, *argv, stdin=stdin, check=False)
    if p.returncode != 0:
        raise SystemExit('capture-maillogs: %s: %s failed (%d): %s' % (container, ' '.join(argv), p.returncode,
                                                                       p.stderr.strip()))
    return p.stdout


def start(name, image, hostname):
    podman('rm', '-f', name, check=False)
    podman('run', '-d', '--name', name, '--hostname', hostname, '--network', NETWORK, image,
           '/usr/local/sbin/mailtls-lab-init')


def ip_of(name):
    return podman('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name).stdout.strip()


def wait_for_postfix(name):
    for dummy in range(60):
        if podman('exec', name, 'postfix', 'status', check=False).returncode == 0:
            return
        time.sleep(1)
    raise SystemExit('capture-maillogs: Postfix did not start in %s' % name)


def send(container, recipient, subject):
    # from the sender's own lab user, so that a bounce's notification is delivered locally
    run_in(container, '/usr/sbin/sendmail', '-f', 'lab@' + container_hostname(container), recipient,
           stdin='Subject: %s\nMessage-ID: <fixture-%s@%s>\n\nA fixture for the mail-log readers.\n' % (
               subject, subject, container))


def container_hostname(container):
    return podman('inspect', '-f', '{{.Config.Hostname}}', container).stdout.strip()


def wait_idle(container, queued=0, timeout=120):
    """Wait until the sender's queue holds exactly ``queued`` messages, all deferred."""
    for dummy in range(timeout):
        out = run_in(container, 'postqueue', '-j')
        queue = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(queue) == queued and all(m['queue_name'] == 'deferred' for m in queue):
            return
        time.sleep(1)
    raise SystemExit('capture-maillogs: %s: the queue did not settle at %d deferred: %s' % (container, queued, out))


def configure_receiver(rcv_ip):
    run_in(RECEIVER, 'useradd', '-m', 'lab')
    run_in(RECEIVER, 'postconf', '-e', 'mydestination=$myhostname, localhost, verify.test, may.test, relayed.test, strict.test',
           'smtpd_tls_security_level=may',
           'smtpd_tls_chain_files=/etc/ssl/private/ssl-cert-snakeoil.key, /etc/ssl/certs/ssl-cert-snakeoil.pem',
           'mynetworks=0.0.0.0/0', 'smtpd_tls_loglevel=1')
    run_in(RECEIVER, 'postconf', '-M', 'smtps/inet=smtps inet n - y - - smtpd -o smtpd_tls_wrappermode=yes '
           '-o syslog_name=postfix/smtps')
    run_in(RECEIVER, 'postfix', 'reload')
    return run_in(RECEIVER, 'cat', '/etc/ssl/certs/ssl-cert-snakeoil.pem')


def configure_sender(name, rcv_ip, rcv_cert):
    run_in(name, 'tee', '/etc/postfix/rcv-ca.pem', stdin=rcv_cert)
    run_in(name, 'useradd', '-m', 'lab')
    run_in(name, 'tee', '/etc/postfix/transport', stdin=(
        'verify.test smtp:[{n}]:25\nmay.test smtp:[{n}]\nrelayed.test relay-smtps:[{n}]:465\n'
        'strict.test smtp:[{n}]:smtp\ndead.test smtp:[{ip}]:2525\n').format(n=RCV_NAME, ip=rcv_ip))
    # the policy is keyed by the next hop as written: [HOST]:25, [HOST] and [HOST]:smtp are three keys, the
    # same server: verify.test at verify, may.test (no entry) at smtp_tls_security_level, strict.test at secure
    run_in(name, 'tee', '/etc/postfix/tls_policy', stdin=(
        '[{n}]:25 verify match=hostname\n[{n}]:465 encrypt\n[{n}]:smtp secure match=elsewhere.test\n').format(n=RCV_NAME))
    run_in(name, 'tee', '/etc/hosts', stdin='127.0.0.1 localhost\n%s %s\n' % (rcv_ip, RCV_NAME))
    run_in(name, 'postmap', '/etc/postfix/transport')
    run_in(name, 'postmap', '/etc/postfix/tls_policy')
    run_in(name, 'postconf', '-e', 'transport_maps=hash:/etc/postfix/transport',
           'smtp_tls_policy_maps=hash:/etc/postfix/tls_policy', 'smtp_tls_security_level=may',
           'smtp_tls_CAfile=/etc/postfix/rcv-ca.pem', 'smtp_tls_loglevel=1', 'smtp_host_lookup=native',
           'smtp_dns_support_level=disabled')
    run_in(name, 'postconf', '-M', 'relay-smtps/unix=relay-smtps unix - - y - - smtp -o smtp_tls_wrappermode=yes '
           '-o syslog_name=postfix/relay-smtps')
    # smtp_tls_connection_reuse needs the tlsproxy service, which Debian's master.cf leaves commented out
    if not run_in(name, 'postconf', '-M', 'tlsproxy/unix').strip():
        run_in(name, 'postconf', '-M', 'tlsproxy/unix=tlsproxy unix - - y - 0 tlsproxy')
    # the chroot gets /etc/hosts and the CA file as Debian's service start does (Debian 13 no longer runs this
    # script by hand, nor chroots by default: as mailtls-lab-init, its failure there is ignored)
    if podman('exec', name, '/usr/lib/postfix/configure-instance.sh', '-', check=False).returncode != 0:
        run_in(name, 'cp', '/etc/hosts', '/var/spool/postfix/etc/hosts')
    run_in(name, 'postfix', 'reload')


def capture(name, rcv_ip):
    send(name, 'lab@verify.test', 'verify-1')
    send(name, 'lab@may.test', 'may-1')
    send(name, 'lab@relayed.test', 'relayed-1')
    send(name, 'no-such-user@verify.test', 'bounce-1')
    send(name, 'lab@dead.test', 'dead-1')
    send(name, 'lab@strict.test', 'strict-1')
    wait_idle(name, queued=2)
    # phase 2: loglevel 2 and connection reuse through tlsproxy; the burst waits in the maildrop while Postfix
    # is stopped, so that the queue manager finds six messages per next hop; one delivery at a time per next
    # hop and a cached connection for both, so that the next message reuses it (and its TLS session)
    run_in(name, 'postconf', '-e', 'smtp_tls_loglevel=2', 'smtp_tls_connection_reuse=yes',
           'smtp_destination_concurrency_limit=1',
           'smtp_connection_cache_destinations=[{n}]:25 [{n}]'.format(n=RCV_NAME))
    run_in(name, 'postfix', 'stop')
    for i in range(1, 7):
        send(name, 'lab@verify.test', 'verify-burst-%d' % i)
        send(name, 'lab@may.test', 'may-burst-%d' % i)
    run_in(name, 'postfix', 'start')
    wait_idle(name, queued=2)
    # phase 3: what is still deferred expires
    run_in(name, 'postconf', '-e', 'maximal_queue_lifetime=0', 'bounce_queue_lifetime=0')
    run_in(name, 'postfix', 'reload')
    run_in(name, 'postqueue', '-f')
    wait_idle(name, queued=0)
    time.sleep(2)
    return run_in(name, 'cat', '/var/log/mail.log')


def trim(text, addresses):
    """The lab's addresses as 192.0.2.N, in the order given."""
    for n, address in enumerate(addresses, 1):
        text = re.sub(r'(?<![\d.])%s(?![\d])' % re.escape(address), '192.0.2.%d' % n, text)
    for found in set(re.findall(r'\b(?:\d{1,3}\.){3}\d{1,3}\b', text)):
        address = ipaddress.ip_address(found)
        if address.is_private and not address.is_loopback and address not in ipaddress.ip_network('192.0.2.0/24'):
            raise SystemExit('capture-maillogs: an address of the lab is left: %s' % found)
    return text


def use_syslog(name, debs):
    """Install rsyslog from the host's downloaded packages, start it, and make Postfix log to syslog."""
    run_in(name, 'mkdir', '-p', '/tmp/debs')
    for deb in debs:
        podman('cp', deb, '%s:/tmp/debs/' % name)
    run_in(name, 'dpkg', '-i', *['/tmp/debs/' + os.path.basename(deb) for deb in debs])
    # no kernel log in a container (imklog would only complain)
    run_in(name, 'sed', '-i', 's/^module(load="imklog"/#&/', '/etc/rsyslog.conf')
    run_in(name, 'rsyslogd')
    run_in(name, 'postconf', '-e', 'maillog_file=')
    run_in(name, 'postfix', 'stop')
    run_in(name, 'postfix', 'start')
    run_in(name, 'truncate', '-s', '0', '/var/log/mail.log')


def download_rsyslog(directory):
    with open('/etc/os-release') as f:
        if 'VERSION_CODENAME=bookworm' not in f.read():
            raise SystemExit('capture-maillogs: the syslog sender takes rsyslog from this host: it must be Debian 12')
    subprocess.run(['apt-get', 'download'] + list(RSYSLOG_DEBS), cwd=directory, check=True, capture_output=True)
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith('.deb'))


def main(out):
    os.makedirs(out, exist_ok=True)
    if podman('network', 'exists', NETWORK, check=False).returncode != 0:
        podman('network', 'create', NETWORK)
    names = []
    try:
        start(RECEIVER, 'localhost/mailtls-lab:bookworm', RCV_NAME)
        names.append(RECEIVER)
        wait_for_postfix(RECEIVER)
        rcv_ip = ip_of(RECEIVER)
        rcv_cert = configure_receiver(rcv_ip)
        debs = download_rsyslog(tempfile.mkdtemp(prefix='mailtls-rsyslog.'))
        for suite, logging in SENDERS:
            name = 'logs-snd-%s%s' % (suite, '-syslog' if logging == 'syslog' else '')
            start(name, 'localhost/mailtls-lab:' + suite, 'snd-%s.logs.test' % suite)
            names.append(name)
            wait_for_postfix(name)
            if logging == 'syslog':
                use_syslog(name, debs)
            configure_sender(name, rcv_ip, rcv_cert)
            version = run_in(name, 'postconf', '-dh', 'mail_version').strip()
            text = trim(capture(name, rcv_ip), [rcv_ip, ip_of(name)])
            suffix = '-syslog' if logging == 'syslog' else ''
            path = os.path.join(out, 'postfix-%s%s.log' % ('.'.join(version.split('.')[:2]), suffix))
            with open(path, 'w') as f:
                f.write(text)
            print('capture-maillogs: %s (Postfix %s): %d lines' % (path, version, text.count('\n')))
    finally:
        # MAILTLS_CAPTURE_KEEP=1 leaves the containers for a look (podman exec NAME cat /var/log/mail.log)
        for name in [] if os.environ.get('MAILTLS_CAPTURE_KEEP') else names:
            podman('rm', '-f', '-t', '2', name, check=False)
        if not os.environ.get('MAILTLS_CAPTURE_KEEP'):
            podman('network', 'rm', NETWORK, check=False)


if __name__ == '__main__':
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
