# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: check a private key and certificate chain and build an smtpd_tls_chain_files file. Private to mailtls.postfix.

The file holds the key first, then the leaf certificate, then the
intermediates, as Postfix's smtpd_tls_chain_files wants it. Nothing here
ever returns or logs key material.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import posixpath
import re

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import certificate_facts, match_names, signature_verifies
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import write_atomic

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    pass  # callers check _certinfo.HAS_CRYPTOGRAPHY first

_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----\s.*?-----END CERTIFICATE-----', re.S)


def _issued_by(cert, issuer):
    return cert.issuer == issuer.subject and signature_verifies(cert, issuer.public_key())


def cert_files(cert_dir, name):
    """The files of certificate ``name`` in ``cert_dir``: ``chain`` (NAME.pem, the key then the chain, as
    smtpd_tls_chain_files reads it), ``key`` (NAME.key, a key made here for ACME) and ``next_key``
    (NAME.next.key, the next key held for a rollover)."""
    return {'chain': posixpath.join(cert_dir, name + '.pem'), 'key': posixpath.join(cert_dir, name + '.key'),
            'next_key': posixpath.join(cert_dir, name + '.next.key')}


def first_certificate(pem):
    """The first certificate of a PEM text (a chain file or a chain), or None."""
    match = _PEM_CERT.search(pem or '')
    return x509.load_pem_x509_certificate(match.group(0).encode('ascii')) if match else None


def check_chain(name, key_pem, chain_pem, hostnames=(), now=None):
    """Validate key and chain. Returns (file content, facts, warnings); MailTLSError names the problem.

    ``facts`` are public: subject, names, not_after, days_remaining, key_type, fingerprints, tlsa.
    """
    where = 'certificate %r' % name
    if not key_pem or 'PRIVATE KEY-----' not in key_pem:
        raise MailTLSError('%s: the key is not a PEM private key' % where)
    try:
        key = serialization.load_pem_private_key(key_pem.encode('ascii'), password=None)
    except (ValueError, TypeError, UnicodeError):
        # the exception text is not passed on: it must never quote key material
        raise MailTLSError('%s: the private key cannot be read (not PEM, encrypted, or damaged)' % where)
    blocks = _PEM_CERT.findall(chain_pem or '')
    if not blocks:
        raise MailTLSError('%s: the chain holds no PEM certificate' % where)
    certs = []
    for i, block in enumerate(blocks):
        try:
            certs.append(x509.load_pem_x509_certificate(block.encode('ascii')))
        except ValueError as e:
            raise MailTLSError('%s: certificate %d of the chain cannot be read (%s)' % (where, i + 1, e))
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            certs[0].public_key().public_bytes(serialization.Encoding.DER, spki):
        raise MailTLSError('%s: the private key does not match the first certificate (%s)'
                           % (where, certs[0].subject.rfc4514_string()))
    for i in range(len(certs) - 1):
        if not _issued_by(certs[i], certs[i + 1]):
            raise MailTLSError('%s: the chain is out of order: certificate %d (%s) is not issued by certificate %d (%s); '
                               'put the leaf first, then each issuer' % (where, i + 1, certs[i].subject.rfc4514_string(),
                                                                         i + 2, certs[i + 1].subject.rfc4514_string()))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    leaf_der = certs[0].public_bytes(serialization.Encoding.DER)
    facts = certificate_facts(leaf_der, now)
    for i, cert in enumerate(certs):
        info = facts if i == 0 else certificate_facts(cert.public_bytes(serialization.Encoding.DER), now)
        if info['expired']:
            raise MailTLSError('%s: certificate %d (%s) expired on %s'
                               % (where, i + 1, info['certificate']['subject'], info['certificate']['not_after']))
    warnings = []
    missing = [h for h in hostnames if not match_names(facts['match_names'], [h])]
    if missing:
        warnings.append('%s does not cover %s (it names %s)' % (where, ', '.join(missing), ', '.join(facts['match_names']) or 'nothing'))
    key_text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode('ascii')
    content = key_text + ''.join(b.strip() + '\n' for b in blocks)
    public = {
        'subject': facts['certificate']['subject'], 'issuer': facts['certificate']['issuer'],
        'names': facts['match_names'], 'not_after': facts['certificate']['not_after'],
        'days_remaining': facts['certificate']['days_remaining'], 'key_type': facts['certificate']['key_type'],
        'key_bits': facts['certificate']['key_bits'], 'chain_length': len(certs),
        'fingerprints': facts['fingerprints'], 'tlsa': facts['tlsa'],
    }
    return content, public, warnings


def write_secret(path, content, uid=None, gid=None):
    """Write ``content`` to ``path`` with mode 0600 from creation (owned by uid:gid when given) and rename into place."""
    write_atomic(path, content.encode('ascii'), 0o600, uid, gid)


def read_secret(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('ascii', 'replace')
    except (IOError, OSError):
        return None


__all__ = ['cert_files', 'check_chain', 'first_certificate', 'read_secret', 'write_secret']
