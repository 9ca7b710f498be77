# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_pins
short_description: Fingerprints of a server certificate, for fleet self-pins
version_added: 0.1.0
description:
  - Reads the first certificate of a PEM text (a certificate chain, leaf first) and returns its public-key
    and certificate fingerprints in the digest Postfix uses, as C(fingerprint) policy entries want them.
  - Given a list of certificate entries as the role's C(postfix_tls_certificates) takes them, reads each
    entry's C(chain_content), or the file C(chain_src) on the controller (a relative path is taken from the
    current directory), and returns one item per entry. Key fields are never read.
  - Entries with C(generate) or C(acme) true are skipped. Their key is made on the mail host, and their pins come
    from there (the role's C(postfix_tls_host_pins)).
author:
  - mailtls.postfix developers (@mailtls)
requirements:
  - cryptography (Python library on the controller)
options:
  _input:
    description: PEM text whose first certificate is the server's own, or a list of certificate entries.
    type: raw
    required: true
  digest:
    description: The fingerprint digest (C(smtp_tls_fingerprint_digest) of the peers that pin it).
    type: str
    choices: [sha256, sha1, md5]
    default: sha256
"""

EXAMPLES = r"""
- name: The public-key pin of the certificate a host serves
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'pki/mx1.chain.pem') | mailtls.postfix.tls_pins('sha256') }}"
# -> {"pubkey": "3D:95:...", "cert": "A1:07:...", "subject": "CN=mx1.example.com", "not_after": "2027-02-01T00:00:00Z"}

- name: The public-key pins of every certificate the tls role deploys on a host
  ansible.builtin.debug:
    msg: "{{ hostvars['mx1'].postfix_tls_certificates | mailtls.postfix.tls_pins('sha256') | map(attribute='pubkey') }}"
"""

RETURN = r"""
_value:
  description: Fingerprints and identity of the certificate (a list of these, with C(name), for a list input).
  type: raw
  contains:
    pubkey: {description: Digest of the DER SubjectPublicKeyInfo (upper-case hex pairs joined by colons)., type: str}
    cert: {description: Digest of the DER certificate., type: str}
    subject: {description: The certificate subject., type: str}
    not_after:
      description: Expiry (UTC, ISO 8601).
      type: str
"""

import os

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common._collections_compat import Mapping, Sequence
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import (
    HAS_CRYPTOGRAPHY,
    certificate_facts,
)
from ansible_collections.mailtls.postfix.plugins.module_utils._options import DIGESTS

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    pass


def _entry_chain(i, entry):
    if not isinstance(entry, Mapping):
        raise AnsibleFilterError('tls_pins: certificates[%d] is not a mapping with chain_content or chain_src' % i)
    label = 'certificates[%d] (%s)' % (i, entry.get('name', '?'))
    if entry.get('chain_content'):
        return label, entry['chain_content']
    if entry.get('chain_src'):
        path = os.path.abspath(os.path.expanduser(str(entry['chain_src'])))
        try:
            with open(path, 'rb') as f:
                return label, f.read()
        except (IOError, OSError) as e:
            raise AnsibleFilterError('tls_pins: %s: chain_src %s cannot be read: %s' % (label, path, e.strerror))
    raise AnsibleFilterError('tls_pins: %s has neither chain_content nor chain_src' % label)


def tls_pins(value, digest='sha256'):
    if not HAS_CRYPTOGRAPHY:
        raise AnsibleFilterError('tls_pins needs the Python library cryptography on the controller')
    if digest not in DIGESTS:
        raise AnsibleFilterError('tls_pins: digest %r is not %s or %s' % (digest, ', '.join(DIGESTS[:-1]), DIGESTS[-1]))
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        out = []
        for i, entry in enumerate(value):
            if isinstance(entry, Mapping) and (entry.get('generate') or entry.get('acme')):
                continue  # made on the host: no chain on the controller
            label, pem = _entry_chain(i, entry)
            try:
                pins = _pins(pem, digest)
            except AnsibleFilterError as e:
                raise AnsibleFilterError('%s: %s' % (label, e))
            pins['name'] = entry.get('name')
            out.append(pins)
        return out
    return _pins(value, digest)


def _pins(pem, digest):
    if not isinstance(pem, (str, bytes)) or b'-----BEGIN CERTIFICATE-----' not in to_bytes(pem):
        raise AnsibleFilterError('tls_pins: the input has no PEM certificate (BEGIN CERTIFICATE)')
    data = to_bytes(pem)
    start = data.index(b'-----BEGIN CERTIFICATE-----')
    try:
        cert = x509.load_pem_x509_certificate(data[start:])
    except ValueError as e:
        raise AnsibleFilterError('tls_pins: the first certificate cannot be read: %s' % e)
    facts = certificate_facts(cert.public_bytes(serialization.Encoding.DER))
    return {
        'pubkey': facts['fingerprints']['pubkey'][digest],
        'cert': facts['fingerprints']['cert'][digest],
        'subject': facts['certificate']['subject'],
        'not_after': facts['certificate']['not_after'],
    }


class FilterModule(object):
    def filters(self):
        return {'tls_pins': tls_pins}
