# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal SMTP STARTTLS client for probing one endpoint. Private to mailtls.postfix.

Every network step (connect, banner, EHLO, STARTTLS, TLS handshake) has its
own deadline of ``timeout`` seconds, so a tarpit that trickles bytes cannot
hold a probe longer than the number of steps times the timeout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time


NO_STARTTLS = 'STARTTLS not offered'


class ProbeError(Exception):
    """One line naming why a probe of an endpoint stopped.

    ``starttls``: whether the server had offered STARTTLS before the failure.
    """

    def __init__(self, message, starttls=False):
        super(ProbeError, self).__init__(message)
        self.starttls = starttls


def make_context(ca_file=None, ca_path=None, verify=True):
    """A client TLS context. With verify, the chain must verify against the CA files; names are checked elsewhere."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if ca_file or ca_path:
            ctx.load_verify_locations(cafile=ca_file, capath=ca_path)
        else:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class _Conversation:
    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buf = b''

    def _recv_line(self, deadline, step):
        while b'\n' not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProbeError('timeout waiting for %s' % step)
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                raise ProbeError('timeout waiting for %s' % step)
            except OSError as e:
                raise ProbeError('connection lost waiting for %s: %s' % (step, e.strerror or e))
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
            line = self._recv_line(deadline, step)
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
        except OSError as e:
            raise ProbeError('connection lost sending %s: %s' % (step, e.strerror or e))


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


def _starttls_session(address, port, timeout, ehlo_name, context, sni):
    """Connect, EHLO, STARTTLS, handshake. Returns (tls socket, extensions)."""
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    sock = _connect(address, port, timeout, family)
    tls = None
    try:
        conv = _Conversation(sock, timeout)
        code, lines = conv.reply('banner')
        if code != 220:
            raise ProbeError('server refused the session: %d %s' % (code, ' '.join(lines)[:120]))
        conv.send('EHLO ' + ehlo_name, 'EHLO')
        code, lines = conv.reply('EHLO reply')
        if code != 250:
            raise ProbeError('EHLO rejected: %d %s' % (code, ' '.join(lines)[:120]))
        extensions = [entry.split(' ', 1)[0].upper() for entry in lines[1:]]
        if 'STARTTLS' not in extensions:
            raise ProbeError(NO_STARTTLS)
        try:
            conv.send('STARTTLS', 'STARTTLS')
            code, lines = conv.reply('STARTTLS reply')
            if code != 220:
                raise ProbeError('STARTTLS refused: %d %s' % (code, ' '.join(lines)[:120]))
            if conv.buf:
                raise ProbeError('not an SMTP server: data after the STARTTLS reply (pipelining attack or broken server)')
            sock.settimeout(timeout)
            tls = context.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False)
            tls.do_handshake()
        except ProbeError as e:
            e.starttls = True
            raise
        except ssl.SSLCertVerificationError:
            raise
        except socket.timeout:
            raise ProbeError('timeout in the TLS handshake', starttls=True)
        except (ssl.SSLError, OSError) as e:
            raise ProbeError('TLS handshake failed: %s' % (getattr(e, 'reason', None) or e), starttls=True)
        return tls, extensions
    except BaseException:
        if tls is not None:
            tls.close()
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


def probe(address, port, timeout, ehlo_name, verify_context, plain_context, sni=None):
    """Probe one endpoint; never raises for network trouble.

    Returns a dict with ``starttls``, ``error``, ``tls`` (version, cipher),
    ``der`` (leaf certificate bytes or None), ``chain_verified`` and
    ``verify_error``. A certificate that fails verification costs a second
    connection without verification, to read it.
    """
    result = {'starttls': False, 'error': None, 'tls': None, 'der': None,
              'chain_verified': False, 'verify_error': None}
    tls = None
    try:
        try:
            tls, extensions = _starttls_session(address, port, timeout, ehlo_name, verify_context, sni)
            result['chain_verified'] = True
        except ssl.SSLCertVerificationError as e:
            result['verify_error'] = e.verify_message or str(e)
            tls, extensions = _starttls_session(address, port, timeout, ehlo_name, plain_context, sni)
        result['starttls'] = 'STARTTLS' in extensions
        result['tls'] = {'version': tls.version(), 'cipher': (tls.cipher() or (None,))[0]}
        result['der'] = tls.getpeercert(binary_form=True)
    except ProbeError as e:
        result['error'] = str(e)
        result['starttls'] = e.starttls
    finally:
        if tls is not None:
            _quit(tls)
    return result


__all__ = ['NO_STARTTLS', 'ProbeError', 'make_context', 'probe']
