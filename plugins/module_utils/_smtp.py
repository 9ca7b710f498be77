# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: the one SMTP client, for probing one endpoint over STARTTLS or implicit TLS, and the line
client of every conversation (the posture module's SMTP, IMAP and POP3 too). Private to mailtls.postfix.

Every network step (connect, banner, EHLO, STARTTLS, TLS handshake) has its
own deadline of ``timeout`` seconds, so a tarpit that trickles bytes cannot
hold a probe longer than the number of steps times the timeout. Implicit TLS
(RFC 8314, port 465: submissions, and relays that take mail there) starts the
handshake right after the connection and speaks SMTP inside TLS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time

from ansible_collections.mailtls.postfix.plugins.module_utils._chain import unverified_chain
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


NO_STARTTLS = 'STARTTLS not offered'
TLS_MODES = ('starttls', 'implicit')


class ProbeError(MailTLSError):
    """One line naming why a probe of an endpoint stopped.

    ``starttls``: whether the server had offered STARTTLS before the failure.
    """

    def __init__(self, message, starttls=False):
        super(ProbeError, self).__init__(message)
        self.starttls = starttls


# OpenSSL cipher strings that make a TLS 1.2 server present its key of one kind: a server that holds an
# RSA and an ECDSA key (smtpd_tls_chain_files with both) shows the one the client's suites ask for
KEY_FAMILIES = {'RSA': 'aRSA', 'ECDSA': 'aECDSA'}


def make_context(ca_file=None, ca_path=None, verify=True, key_family=None):
    """A client TLS context. With verify, the chain must verify against the CA files; names are checked elsewhere.

    ``key_family``: RSA or ECDSA - TLS 1.2 only, with the suites of that authentication only, to ask a
    server for its key of that kind (TLS 1.3 suites do not choose the key, and Python's ssl cannot
    set signature algorithms).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if key_family is not None:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(KEY_FAMILIES[key_family])
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if ca_file or ca_path:
            ctx.load_verify_locations(cafile=ca_file, capath=ca_path)
        else:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Conversation:
    """The one line client of the collection (the probe's SMTP and the posture module's SMTP, IMAP and POP3):
    a deadline per step, so a server that trickles cannot hold the probe, and bounds on a line (64 KiB) and on
    an SMTP reply (200 lines). Every failure is a ProbeError that names the step."""

    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buf = b''

    def line(self, step, deadline=None):
        """One line without its CRLF, within ``deadline`` (default: the timeout from now)."""
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        while b'\n' not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProbeError('timeout waiting for %s' % step)
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                raise ProbeError('timeout waiting for %s' % step)
            except OSError as e:  # ssl.SSLError included
                raise ProbeError('connection lost waiting for %s: %s' % (step, getattr(e, 'strerror', None) or e))
            if not data:
                raise ProbeError('connection closed by server waiting for %s' % step)
            self.buf += data
            if len(self.buf) > 65536:
                raise ProbeError('not an SMTP server: over 64 KiB without a line end in %s' % step)
        line, self.buf = self.buf.split(b'\n', 1)
        return line.rstrip(b'\r').decode('utf-8', 'replace')

    def reply(self, step):
        """Read a whole (possibly multi-line) SMTP reply: (code, [lines])."""
        deadline = time.monotonic() + self.timeout
        lines = []
        while True:
            line = self.line(step, deadline)
            if len(line) < 3 or not line[:3].isdigit() or (len(line) > 3 and line[3] not in ' -'):
                raise ProbeError('not an SMTP server: %s: %r' % (step, line[:80]))
            if lines and line[:3] != lines[0][:3]:
                raise ProbeError('not an SMTP server: %s: inconsistent reply codes' % step)
            lines.append(line)
            if len(line) == 3 or line[3] == ' ':
                return int(line[:3]), [entry[4:] for entry in lines]
            if len(lines) > 200:
                raise ProbeError('not an SMTP server: %s: reply of over 200 lines' % step)

    def send(self, text, step):
        deadline_timeout = self.timeout
        self.sock.settimeout(deadline_timeout)
        try:
            self.sock.sendall(text.encode('ascii') + b'\r\n')
        except socket.timeout:
            raise ProbeError('timeout sending %s' % step)
        except OSError as e:  # ssl.SSLError included
            raise ProbeError('connection lost sending %s: %s' % (step, getattr(e, 'strerror', None) or e))


def _connect(address, port, timeout, family):
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as e:
        raise ProbeError('cannot open a socket: %s' % (e.strerror or e))
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
    except socket.timeout:
        sock.close()
        raise ProbeError('timeout connecting')
    except ConnectionRefusedError:
        sock.close()
        raise ProbeError('connection refused')
    except OSError as e:
        sock.close()
        raise ProbeError('cannot connect: %s' % (e.strerror or e))
    return sock


def _greet(conv, ehlo_name):
    """Banner and EHLO; returns the EHLO extensions (upper-case keywords)."""
    code, lines = conv.reply('banner')
    if code != 220:
        raise ProbeError('server refused the session: %d %s' % (code, ' '.join(lines)[:120]))
    conv.send('EHLO ' + ehlo_name, 'EHLO')
    code, lines = conv.reply('EHLO reply')
    if code != 250:
        raise ProbeError('EHLO rejected: %d %s' % (code, ' '.join(lines)[:120]))
    return [entry.split(' ', 1)[0].upper() for entry in lines[1:]]


def _handshake(sock, timeout, context, sni):
    """The TLS handshake on a connected socket; ProbeError for what is not a verification failure."""
    sock.settimeout(timeout)
    try:
        tls = context.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False)
    except (ssl.SSLError, OSError) as e:
        raise ProbeError('TLS handshake failed: %s' % (getattr(e, 'reason', None) or e), starttls=True)
    try:
        tls.do_handshake()
    except ssl.SSLCertVerificationError:
        tls.close()
        raise
    except socket.timeout:
        tls.close()
        raise ProbeError('timeout in the TLS handshake', starttls=True)
    except (ssl.SSLError, OSError) as e:
        tls.close()
        raise ProbeError('TLS handshake failed: %s' % (getattr(e, 'reason', None) or e), starttls=True)
    return tls


def _session(address, port, timeout, ehlo_name, context, sni, mode='starttls'):
    """Connect and reach TLS: EHLO, STARTTLS and the handshake, or (implicit) the handshake first.

    Returns (tls socket, extensions).
    """
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    sock = _connect(address, port, timeout, family)
    try:
        if mode == 'implicit':
            tls = _handshake(sock, timeout, context, sni)
            try:
                return tls, _greet(Conversation(tls, timeout), ehlo_name)
            except BaseException:
                tls.close()
                raise
        conv = Conversation(sock, timeout)
        extensions = _greet(conv, ehlo_name)
        if 'STARTTLS' not in extensions:
            raise ProbeError(NO_STARTTLS)
        try:
            conv.send('STARTTLS', 'STARTTLS')
            code, lines = conv.reply('STARTTLS reply')
            if code != 220:
                raise ProbeError('STARTTLS refused: %d %s' % (code, ' '.join(lines)[:120]))
            if conv.buf:
                raise ProbeError('not an SMTP server: data after the STARTTLS reply (pipelining attack or broken server)')
        except ProbeError as e:
            e.starttls = True
            raise
        return _handshake(sock, timeout, context, sni), extensions
    except BaseException:
        sock.close()
        raise


def _quit(tls):
    try:
        tls.settimeout(0.5)
        tls.sendall(b'QUIT\r\n')
    except (OSError, ValueError):
        pass
    finally:
        try:
            tls.close()
        except OSError:
            pass


def probe(address, port, timeout, ehlo_name, verify_context, plain_context, sni=None, mode='starttls', judge_chain=None):
    """Probe one endpoint; never raises for network trouble.

    ``mode``: starttls, or implicit (TLS from the first byte, port 465).
    ``judge_chain``: None, or a callable taking the served chain (DER, leaf first) and returning
    (verified, reason) or None (_chain.ChainJudge). With it, the first session reads the chain without
    verification and the judge decides; only where it cannot, a second session verifies (OpenSSL).
    Without it, the first session verifies, and a chain that fails costs a second session to read it.
    Returns a dict with ``starttls`` (None in implicit mode), ``error``, ``tls`` (version, cipher),
    ``der`` (leaf certificate bytes or None), ``chain_verified``, ``verify_error`` and ``sessions``.
    """
    result = {'starttls': None if mode == 'implicit' else False, 'error': None, 'tls': None, 'der': None,
              'chain_verified': False, 'verify_error': None, 'tls_mode': mode, 'sessions': 1}
    tls = None
    verdict = None
    try:
        if judge_chain is not None:
            tls, extensions = _session(address, port, timeout, ehlo_name, plain_context, sni, mode)
            verdict = judge_chain(unverified_chain(tls) or [])
        else:
            try:
                tls, extensions = _session(address, port, timeout, ehlo_name, verify_context, sni, mode)
                verdict = (True, None)
            except ssl.SSLCertVerificationError as e:
                verdict = (False, e.verify_message or str(e))
                result['sessions'] += 1
                tls, extensions = _session(address, port, timeout, ehlo_name, plain_context, sni, mode)
        if mode == 'starttls':
            result['starttls'] = 'STARTTLS' in extensions
        result['tls'] = {'version': tls.version(), 'cipher': (tls.cipher() or (None,))[0]}
        result['der'] = tls.getpeercert(binary_form=True)
    except ProbeError as e:
        result['error'] = str(e)
        if mode == 'starttls':
            result['starttls'] = e.starttls
    finally:
        if tls is not None:
            _quit(tls)
    if result['der'] is not None and verdict is None:
        # not certain from the chain alone: OpenSSL verifies, in a second session
        result['sessions'] += 1
        try:
            tls, dummy = _session(address, port, timeout, ehlo_name, verify_context, sni, mode)
            _quit(tls)
            verdict = (True, None)
        except ssl.SSLCertVerificationError as e:
            verdict = (False, e.verify_message or str(e))
        except ProbeError as e:
            verdict = (False, 'not verified: the verifying session failed (%s)' % e)
    if verdict is not None and result['der'] is not None:
        result['chain_verified'], result['verify_error'] = verdict
    return result


__all__ = ['KEY_FAMILIES', 'NO_STARTTLS', 'TLS_MODES', 'Conversation', 'ProbeError', 'make_context', 'probe']
