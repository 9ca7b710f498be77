# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: keys made on the host and never moved: the current key with a self-signed certificate (for peers that
pin public keys), a next key whose pin peers can add ahead of time, and rotation from one to the other.
Private to mailtls.postfix. Nothing here returns key material: only public facts and pins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import fingerprint
from ansible_collections.mailtls.postfix.plugins.module_utils._options import DIGESTS
from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import check_chain, read_secret, write_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:
    pass  # callers check _certinfo.HAS_CRYPTOGRAPHY first


def new_key_pem(key_type='ecdsa', bits=2048):
    if key_type == 'rsa':
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    elif key_type == 'ecdsa':
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise MailTLSError('key_type %r is not rsa or ecdsa' % (key_type,))
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode('ascii')


def _load_key(where, pem):
    try:
        return serialization.load_pem_private_key(pem.encode('ascii'), None)
    except (ValueError, TypeError) as e:
        raise MailTLSError('%s cannot be read as an unencrypted PEM private key (%s)' % (where, e))


def key_pins(where, key_pem):
    """Public-key pins (by digest) and the DANE-EE 3 1 1 data of a private key, read from its public half."""
    spki = _load_key(where, key_pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {'pubkey': dict((d, fingerprint(spki, d)) for d in DIGESTS), 'tlsa_311': fingerprint(spki, 'sha256').replace(':', '').lower()}


def self_signed_pem(key_pem, hostnames, days=825, now=None):
    """A self-signed server certificate for the key, naming the hosts (peers pin its public key)."""
    if not hostnames:
        raise MailTLSError('a self-signed certificate needs at least one host name (hostnames)')
    key = _load_key('the key', key_pem)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode('ascii')


CERTIFICATE = '-----BEGIN CERTIFICATE-----'


def _split(content):
    """(key PEM, certificate PEM) of a chain file written by write_secret (key first)."""
    if CERTIFICATE not in content:
        raise MailTLSError('holds no certificate')
    i = content.index(CERTIFICATE)
    return content[:i], content[i:]


def held_pins(paths, read):
    """The sha256 pins of the keys in those of ``paths`` that exist (a key file, or a chain file with its key
    first), in order, each once. ``read(path)`` returns the file's text or None."""
    pins = []
    for path in paths:
        text = read(path)
        if text is None:
            continue
        pin = key_pins(path, _split(text)[0] if CERTIFICATE in text else text)['pubkey']['sha256']
        if pin not in pins:
            pins.append(pin)
    return pins


def plan_host_key(path, next_path, key_type, bits, hostnames, days, rotate, renew_days, now=None):
    """Decide and build what to write. Returns (writes {path: content}, result) without writing.

    - the current chain file ``path`` is made (new key, self-signed certificate) when missing,
      and its certificate re-issued for the same key when it expires within ``renew_days``;
    - ``next_path`` (optional) holds the next key, made when missing;
    - ``rotate``: the next key becomes the current one (new self-signed certificate) and a new next key is made.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    writes, actions, retired = {}, [], []
    current = read_secret(path)
    nxt = read_secret(next_path) if next_path else None
    if current is None:
        key = new_key_pem(key_type, bits)
        current = key + self_signed_pem(key, hostnames, days, now)
        writes[path] = current
        actions.append('created %s (new %s key, self-signed certificate)' % (path, key_type))
    if rotate:
        if not next_path or nxt is None:
            raise MailTLSError('rotate: there is no next key at %s to rotate to (set next_path and run once without rotate first)'
                               % (next_path or '(next_path not set)'))
        # the key it replaces: its TLSA record stays published for a TTL after the switch (RFC 7671 8.1)
        retired.append(key_pins(path, _split(current)[0])['pubkey'])
        current = nxt + self_signed_pem(nxt, hostnames, days, now)
        writes[path] = current
        nxt = None
        actions.append('rotated: the next key is now the current key of %s' % path)
    key, chain = _split(current)
    try:
        dummy, facts, dummy2 = check_chain(path, key, chain, hostnames, now=now)
    except MailTLSError as e:
        if 'expired' not in str(e):
            raise
        facts = None
    if facts is None or facts['days_remaining'] < renew_days:
        current = key + self_signed_pem(key, hostnames, days, now)
        writes[path] = current
        actions.append('renewed the self-signed certificate of %s (same key, same pin)' % path)
    if path in writes:
        # the same layout tls_chain_file writes (key, then certificate)
        writes[path], facts, dummy2 = check_chain(path, *_split(writes[path]), hostnames=hostnames, now=now)
    if next_path and nxt is None:
        nxt = new_key_pem(key_type, bits)
        writes[next_path] = nxt
        actions.append('created the next key %s' % next_path)
    result = {
        'certificate': facts,
        'pins': [facts['fingerprints']['pubkey']],
        'next': key_pins(next_path, nxt) if nxt is not None else None,
        'actions': actions,
        'retired': retired,
    }
    if result['next'] is not None:
        result['pins'].append(result['next']['pubkey'])
    return writes, result


def apply_writes(writes, uid=0, gid=0):
    for path, content in sorted(writes.items()):
        write_secret(path, content, uid, gid)


__all__ = ['apply_writes', 'held_pins', 'key_pins', 'new_key_pem', 'plan_host_key', 'self_signed_pem']
