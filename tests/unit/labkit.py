"""Test peers for unit tests: certificates, an SMTP server with STARTTLS, a DNS server.

Everything listens on 127.0.0.1 only, on ports the kernel picks.
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import ssl
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


class Issued:
    """A key and certificate, with PEM files written for servers."""

    def __init__(self, directory, name, key, cert, chain=()):
        self.key = key
        self.cert = cert
        self.chain = list(chain)
        self.der = cert.public_bytes(serialization.Encoding.DER)
        self.spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        self.cert_path = str(directory / (name + '.crt'))
        self.key_path = str(directory / (name + '.key'))
        with open(self.cert_path, 'wb') as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
            for extra in self.chain:
                f.write(extra.public_bytes(serialization.Encoding.PEM))
        with open(self.key_path, 'wb') as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))

    @property
    def pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)


class CertFactory:
    def __init__(self, directory):
        self.dir = directory
        self.count = 0

    def _key(self, key_type):
        if key_type == 'ec':
            return ec.generate_private_key(ec.SECP256R1())
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def issue(self, cn, names=(), issuer=None, key_type='rsa', ca=False, days=(-1, 90)):
        """Issue a certificate; issuer None means self-signed."""
        self.count += 1
        key = self._key(key_type)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(issuer.cert.subject if issuer else subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW + datetime.timedelta(days=days[0]))
                   .not_valid_after(NOW + datetime.timedelta(days=days[1]))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False), critical=True)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                                            critical=False)
        # key identifiers, as every public CA writes them (RFC 5280 4.2.1.1, 4.2.1.2)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        if issuer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
        chain = []
        if issuer is not None and issuer.cert.issuer != issuer.cert.subject:
            chain = [issuer.cert] + issuer.chain
        return Issued(self.dir, 'c%d' % self.count, key, cert, chain)


class SMTPServer:
    """A scripted SMTP server on 127.0.0.1.

    modes: starttls, plain (no STARTTLS), banner554, tarpit (never speaks),
    trickle (sends a byte every 0.2 s, never a line), http (not SMTP),
    garbage (answers STARTTLS with 220 and then sends no TLS), injected
    (plaintext right behind the 220 to STARTTLS), postscreen (a multi-line
    greeting with a pause after its first line), implicit (TLS from the first
    byte, as on port 465, then SMTP without STARTTLS), refused (nothing listens
    on the port).
    """

    def __init__(self, mode='starttls', issued=None, host='127.0.0.1', port=0, also=()):
        self.mode = mode
        self.host = host
        self.issued = issued
        self.connections = 0
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        if mode == 'refused':
            self.sock.close()
            self.sock = None
        self.ctx = None
        if issued is not None:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(issued.cert_path, issued.key_path)
            # more keys of other kinds (an RSA and an ECDSA key, as smtpd_tls_chain_files with two chains)
            for more in also:
                self.ctx.load_cert_chain(more.cert_path, more.key_path)

    def start(self):
        if self.sock is None:
            return
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self):
        self._stop.set()
        if self.sock is not None:
            self.sock.close()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, dummy = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _wait(self, seconds):
        return self._stop.wait(seconds)

    def _serve(self, conn):
        conn.settimeout(30)
        try:
            if self.mode == 'tarpit':
                self._wait(60)
                return
            if self.mode == 'trickle':
                while not self._wait(0.2):
                    conn.sendall(b'2')
                return
            if self.mode == 'http':
                conn.sendall(b'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n')
                return
            if self.mode == 'banner554':
                conn.sendall(b'554 5.7.1 no SMTP service here\r\n')
                return
            if self.mode == 'implicit':
                conn = self.ctx.wrap_socket(conn, server_side=True)
            if self.mode == 'postscreen':
                # postscreen's multi-line greeting: the first line, a pause, then the rest
                conn.sendall(b'220-test.invalid ESMTP labkit\r\n')
                if self._wait(1.0):
                    return
            conn.sendall(b'220 test.invalid ESMTP labkit\r\n')
            reader = conn.makefile('rb')
            while True:
                line = reader.readline()
                if not line:
                    return
                verb = line.strip().split(b' ')[0].upper()
                if verb == b'EHLO':
                    extensions = [b'250-test.invalid', b'250-PIPELINING', b'250-SIZE 10240000']
                    if self.mode not in ('plain', 'implicit'):
                        extensions.append(b'250-STARTTLS')
                    extensions.append(b'250 8BITMIME')
                    conn.sendall(b'\r\n'.join(extensions) + b'\r\n')
                elif verb == b'STARTTLS' and self.mode not in ('plain', 'implicit'):
                    if self.mode == 'injected':
                        conn.sendall(b'220 2.0.0 Ready to start TLS\r\n250 injected reply\r\n')
                        return
                    conn.sendall(b'220 2.0.0 Ready to start TLS\r\n')
                    if self.mode == 'garbage':
                        time.sleep(0.2)
                        conn.sendall(b'this is not a TLS record at all\r\n' * 4)
                        return
                    tls = self.ctx.wrap_socket(conn, server_side=True)
                    tls.settimeout(5)
                    try:
                        data = tls.recv(1024)
                        if data.strip().upper() == b'QUIT':
                            tls.sendall(b'221 2.0.0 Bye\r\n')
                    except (OSError, ssl.SSLError):
                        pass
                    return
                elif verb == b'QUIT':
                    conn.sendall(b'221 2.0.0 Bye\r\n')
                    return
                else:
                    conn.sendall(b'502 5.5.2 Error: command not recognized\r\n')
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


class DNSServer:
    """Answers UDP DNS queries on 127.0.0.1 from a dict {(name, type): [rdata text, ...]}.

    Names that appear nowhere get NXDOMAIN; known names without the asked type get NOERROR/no data.
    """

    def __init__(self, zone, delay=0.0):
        # delay: seconds before each answer (a benchmark's network round trip); answers are sent
        # from timers, so a delay does not serialise the queries
        self.delay = delay
        self.zone = dict(((n.lower().rstrip('.'), t.upper()), v) for (n, t), v in zone.items())
        self.names = set(n for n, t in self.zone)
        self.queries = []
        # names under these domains are answered with the AD bit, as a validating resolver does for signed zones
        self.validated = set()
        # (name, type) -> original TTL: the answer also carries an RRSIG with that original TTL (the signature
        # itself is not valid: the AD bit says the resolver validated it), and the records' TTL counts down from it
        self.signed = {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()

    def add(self, name, rdtype, values):
        self.zone[(name.lower().rstrip('.'), rdtype.upper())] = values
        self.names.add(name.lower().rstrip('.'))

    def start(self):
        threading.Thread(target=self._serve, daemon=True).start()

    def stop(self):
        self._stop.set()
        time.sleep(0.25)
        self.sock.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            if any(name == v or name.endswith('.' + v) for v in self.validated):
                response.flags |= dns.flags.AD
            if name not in self.names:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rdtype) in self.zone:
                original = self.signed.get((name, rdtype))
                response.answer.append(dns.rrset.from_text_list(
                    question.name, 300 if original is None else max(original // 3, 1), dns.rdataclass.IN,
                    question.rdtype, self.zone[(name, rdtype)]))
                if original is not None:
                    response.answer.append(dns.rrset.from_text_list(
                        question.name, max(original // 3, 1), dns.rdataclass.IN, dns.rdatatype.RRSIG,
                        ['%s 13 %d %d 20370101000000 20200101000000 4711 %s AAAA' % (
                            rdtype, len(question.name) - 1, original, '.'.join(name.split('.')[-2:]) + '.')]))
            if self.delay:
                threading.Timer(self.delay, self.sock.sendto, (response.to_wire(), peer)).start()
            else:
                self.sock.sendto(response.to_wire(), peer)


def probe_and_recommend(prober, destinations, digest='sha256', pin='pubkey'):
    """What mx_tls_info does: the probe stage's facts, then the decide stage's recommendation per destination."""
    from ansible_collections.mailtls.postfix.plugins.module_utils._decide import recommend_results
    from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import parse_destinations

    results, summary = prober.run(parse_destinations(destinations))
    summary['levels'] = recommend_results(results, digest, pin)
    return results, summary


EXAMPLE_PINS = (':'.join(['B6'] * 32), ':'.join(['51'] * 32))
# postconf(5), smtp_tls_policy_maps, with valid sha256 pins; plus an MX lookup on port 587 and a symbolic service
POSTCONF5_EXAMPLE = """\
    # the example of postconf(5)
example.edu                 none
example.mil                 may
example.gov                 encrypt protocols=TLSv1
example.com                 verify ciphers=high
example.net                 secure
.example.net                secure match=.example.net:example.net
[mail.example.org]:587      secure match=nexthop
# Postfix 2.5 and later
[thumb.example.org]          fingerprint
    match=%s
    match=%s
smtp.example.com:587 encrypt
[smarthost.example]:submission encrypt,protocols=>=TLSv1.2
""" % (EXAMPLE_PINS[0].lower(), EXAMPLE_PINS[1])


LAB_IMAGE = 'localhost/mailtls-lab:bookworm'
_TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def inner_work(tmp_path_factory, name, script):
    """A directory for lab_image_runner with ``script`` as its inner.py."""
    path = tmp_path_factory.mktemp(name)
    (path / 'inner.py').write_text(script)
    return path


def lab_image_runner(work, image=LAB_IMAGE):
    """A function that runs ``python3 /work/inner.py ARGS...`` in a fresh lab container (no network), with this
    collection at /src/ansible_collections/mailtls/postfix and Ansible's package at /src/ansible (read-only), the
    directory ``work`` at /work (read-only), and returns the JSON the script prints. Fails the test, saying why,
    without podman or the lab image (make lab)."""
    import ansible
    import pytest
    podman = shutil.which('podman')
    env = dict(os.environ, CONTAINERS_CONF=os.path.join(_TOP, 'tests', 'lab', 'containers.conf'))
    if not podman or subprocess.run([podman, 'image', 'exists', image], env=env, check=False).returncode != 0:
        pytest.fail('this test needs podman and the lab image %s: run make lab' % image)

    def run(*args):
        proc = subprocess.run(
            [podman, 'run', '--rm', '--network', 'none',
             '-v', '%s:/src/ansible_collections/mailtls/postfix:ro' % _TOP,
             '-v', '%s:/src/ansible:ro' % os.path.dirname(ansible.__file__),
             '-v', '%s:/work:ro' % work, image, 'python3', '/work/inner.py'] + list(args),
            env=env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)
    return run
