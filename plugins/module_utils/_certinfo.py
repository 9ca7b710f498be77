# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: certificate facts as Postfix sees them. Private to mailtls.postfix.

Fingerprints follow Postfix: the certificate fingerprint is the digest of
the DER certificate, the public-key fingerprint the digest of the DER
SubjectPublicKeyInfo, written as upper-case hex pairs joined by ':'.
Name matching follows the rules of Postfix's secure and verify levels.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import ipaddress
import traceback

from ansible_collections.mailtls.postfix.plugins.module_utils._options import DIGESTS

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()


def colon_hex(data):
    """Upper-case hex pairs joined by ':' (how Postfix prints fingerprints)."""
    return ':'.join('%02X' % b for b in bytearray(data))


def fingerprint(data, digest):
    """Return the Postfix-style fingerprint of DER bytes with the named digest."""
    if digest not in DIGESTS:
        raise ValueError('unknown digest %r' % (digest,))
    return colon_hex(hashlib.new(digest, data).digest())


def utc_date(cert, name):
    """``cert``'s not_valid_before or not_valid_after (``name``) as an aware UTC datetime."""
    value = getattr(cert, name + '_utc', None)
    if value is None:  # cryptography < 42
        value = getattr(cert, name).replace(tzinfo=datetime.timezone.utc)
    return value


def _key_facts(public_key):
    if isinstance(public_key, rsa.RSAPublicKey):
        return 'RSA', public_key.key_size
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return 'ECDSA', public_key.curve.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return 'Ed25519', 256
    if isinstance(public_key, ed448.Ed448PublicKey):
        return 'Ed448', 456
    if isinstance(public_key, dsa.DSAPublicKey):
        return 'DSA', public_key.key_size
    return type(public_key).__name__, None


def signature_verifies(cert, public_key):
    """True when ``public_key`` verifies the certificate's signature."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public_key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except Exception:  # pylint: disable=broad-except
        return False
    return True


def dns_names(cert):
    """(dNSName SANs, IP SANs as strings, subject CNs) of a certificate."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names, ips = [], []
    cns = [a.value.lower() for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME) if isinstance(a.value, str)]
    return names, ips, cns


def cert_names(certificate):
    """The names of certificate facts (certificate_facts) that the verify/secure levels, and MTA-STS senders,
    compare: the DNS SANs, else the subject CN."""
    names = []
    for name in certificate.get('san') or []:
        try:
            ipaddress.ip_address(name.strip('[]'))
        except ValueError:
            names.append(name)
    if names:
        return names
    return [part[3:].lower() for part in (certificate.get('subject') or '').split(',') if part.upper().startswith('CN=')]


def match_names(cert_names, patterns):
    """Postfix's match of certificate names against secure/verify match patterns.

    ``patterns``: concrete names (``example.com``) or parent-domain patterns
    (``.example.com``: any name below example.com). A certificate wildcard
    ``*.example.com`` stands for exactly one label below example.com.
    """
    for pattern in patterns:
        pattern = pattern.lower().rstrip('.')
        for name in cert_names:
            name = name.lower().rstrip('.')
            if pattern.startswith('.'):
                if name.startswith('*.'):
                    if name[1:].endswith(pattern):
                        return True
                elif len(name) > len(pattern) and name.endswith(pattern):
                    return True
            elif name == pattern:
                return True
            elif name.startswith('*.') and '.' in pattern and pattern[pattern.index('.'):] == name[1:]:
                return True
    return False


def certificate_facts(der, now=None):
    """Facts about a DER certificate: names, dates, key, fingerprints, TLSA data."""
    cert = x509.load_der_x509_certificate(der)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    not_before, not_after = utc_date(cert, 'not_valid_before'), utc_date(cert, 'not_valid_after')
    names, ips, cns = dns_names(cert)
    key_type, key_bits = _key_facts(cert.public_key())
    self_signed = cert.issuer == cert.subject and signature_verifies(cert, cert.public_key())
    return {
        # what mx_tls_info returns per endpoint (kept to the documented fields: it is repeated for every endpoint)
        'certificate': {
            'subject': cert.subject.rfc4514_string(),
            'issuer': cert.issuer.rfc4514_string(),
            'san': names + ips,
            'not_before': not_before.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'not_after': not_after.strftime('%Y-%m-%dT%H:%M:%SZ'),
            'days_remaining': int((not_after - now).total_seconds() // 86400),
            'self_signed': self_signed,
            'key_type': key_type,
            'key_bits': key_bits,
        },
        'fingerprints': {
            'cert': dict((d, fingerprint(der, d)) for d in DIGESTS),
            'pubkey': dict((d, fingerprint(spki, d)) for d in DIGESTS),
        },
        'tlsa': {
            '3 1 1': hashlib.sha256(spki).hexdigest(),
            '3 0 1': hashlib.sha256(der).hexdigest(),
        },
        'expired': now > not_after,
        # names the secure/verify levels compare: dNSName SANs, or the CN when there are none
        'match_names': names or cns,
    }


__all__ = ['DIGESTS', 'HAS_CRYPTOGRAPHY', 'CRYPTOGRAPHY_IMPORT_ERROR', 'colon_hex', 'fingerprint',
           'cert_names', 'certificate_facts', 'dns_names', 'match_names', 'signature_verifies', 'utc_date']
