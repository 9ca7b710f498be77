# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: judge a served chain from the handshake that read it, so one session is enough. Private to mailtls.postfix.

The probe reads an endpoint's chain without verification, then asks ``ChainJudge``:

- ``(True, None)`` for a self-signed certificate that is itself one of the trust anchors, within
  its dates (OpenSSL trusts an anchor as it is).
- ``(False, reason)`` when OpenSSL could not verify it, which is certain when no trust
  anchor's subject is the issuer of any certificate served (no path can be built): a
  self-signed leaf, a private CA, a missing intermediate whose issuer is unknown. The
  reason is OpenSSL's own wording for these cases.
- ``(True, None)`` when cryptography's X.509 path validation (cryptography 42 and later)
  verifies the chain against the same anchors.
- ``None`` when neither is certain (an anchor's name matches but cryptography is too old,
  or rejects what OpenSSL may accept): the probe then asks OpenSSL, with a second session
  that verifies, exactly as Postfix's TLS library would.

The served chain comes from ``SSLSocket.get_unverified_chain()`` (Python 3.13), or the same
method of the socket's ``_sslobj`` (Python 3.10 to 3.12). Without it (Python 3.9) the probe
verifies in the first session and reads an untrusted chain in a second one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import glob
import os
import ssl
import sys

try:
    from cryptography import x509
    HAS_X509 = True
except ImportError:
    HAS_X509 = False
try:
    from cryptography.x509 import verification
    HAS_VERIFIER = True
except ImportError:
    HAS_VERIFIER = False


def unverified_chain(tls):
    """The DER certificates an SSL socket's peer sent (leaf first), or None where Python cannot tell."""
    method = getattr(tls, 'get_unverified_chain', None) or getattr(getattr(tls, '_sslobj', None), 'get_unverified_chain', None)
    if method is None:
        return None
    chain = method() or []
    return [c if isinstance(c, bytes) else c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]


def _pem_certificates(path):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except (IOError, OSError):
        return []
    if b'-----BEGIN CERTIFICATE-----' not in data:
        return []
    # every certificate of a bundle (load_pem_x509_certificates is cryptography 39 and later)
    end = b'-----END CERTIFICATE-----'
    certs = []
    for block in data.split(end)[:-1]:
        start = block.find(b'-----BEGIN CERTIFICATE-----')
        if start >= 0:
            try:
                certs.append(x509.load_pem_x509_certificate(block[start:] + end + b'\n'))
            except ValueError:
                continue
    return certs


def _canonical(name):
    """A name as OpenSSL compares issuers and subjects (X509_NAME_cmp on the canonical encoding):
    attribute values case-folded, with runs of whitespace as one space."""
    return tuple(tuple((a.oid.dotted_string, ' '.join(str(a.value).lower().split())) for a in rdn) for rdn in name.rdns)


def _within_dates(cert):
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    before = getattr(cert, 'not_valid_before_utc', None)
    after = getattr(cert, 'not_valid_after_utc', None)
    before = before.replace(tzinfo=None) if before is not None else cert.not_valid_before
    after = after.replace(tzinfo=None) if after is not None else cert.not_valid_after
    return before <= now <= after


CHAIN_FROM_HANDSHAKE = hasattr(ssl.SSLSocket, 'get_unverified_chain') or sys.version_info >= (3, 10)


class ChainJudge:
    """Judges served chains against the CA certificates the probe's verifying context uses."""

    def __init__(self, ca_file=None, ca_path=None):
        if not ca_file and not ca_path:
            paths = ssl.get_default_verify_paths()
            ca_file, ca_path = paths.cafile, paths.capath
        paths = ([ca_file] if ca_file else []) + (sorted(glob.glob(os.path.join(ca_path, '*'))) if ca_path else [])
        unique = {}  # a bundle and a hashed directory hold the same certificates
        for path in paths:
            if os.path.isfile(path):
                for cert in _pem_certificates(path):
                    unique.setdefault(cert.tbs_certificate_bytes, cert)
        self.anchors = list(unique.values())
        self.subjects = set(_canonical(c.subject) for c in self.anchors)
        self.anchor_ders = set(c.tbs_certificate_bytes for c in self.anchors)
        self.store = verification.Store(self.anchors) if HAS_VERIFIER and self.anchors else None

    def __call__(self, ders):
        """(True, None), (False, OpenSSL's reason) or None (not certain: let OpenSSL verify) for a served chain."""
        if not HAS_X509 or not ders:
            return None
        try:
            chain = [x509.load_der_x509_certificate(d) for d in ders]
        except ValueError:
            return None
        leaf = chain[0]
        if leaf.tbs_certificate_bytes in self.anchor_ders and _canonical(leaf.issuer) == _canonical(leaf.subject):
            # a self-signed certificate that is itself a trust anchor (a host that trusts its own snakeoil
            # certificate, a pinned private server): OpenSSL verifies it when it is within its dates
            return (True, None) if _within_dates(leaf) else None
        if any(c.tbs_certificate_bytes in self.anchor_ders for c in chain):
            return self._verify(chain)
        issuers = set(_canonical(c.issuer) for c in chain)
        if not issuers & self.subjects:
            leaf, top = chain[0], chain[-1]
            if _canonical(leaf.issuer) == _canonical(leaf.subject):
                return False, 'self-signed certificate'
            if _canonical(top.issuer) == _canonical(top.subject):
                return False, 'self-signed certificate in certificate chain'
            return False, 'unable to get local issuer certificate'
        return self._verify(chain)

    def _verify(self, chain):
        if self.store is None:
            return None
        try:
            names = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            names = []
        # the verifier checks a name too: give it one the leaf holds (names are judged elsewhere)
        names = [n.replace('*', 'x', 1) if n.startswith('*.') else n for n in names]
        if not names:
            return None  # the verifier needs a name; OpenSSL verifies without one
        try:
            verifier = verification.PolicyBuilder().store(self.store).build_server_verifier(x509.DNSName(names[0]))
            verifier.verify(chain[0], chain[1:])
        except (verification.VerificationError, ValueError):
            return None  # stricter than OpenSSL in places: OpenSSL decides
        return True, None


__all__ = ['CHAIN_FROM_HANDSHAKE', 'ChainJudge', 'HAS_VERIFIER', 'unverified_chain']
