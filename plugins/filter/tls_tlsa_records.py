# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_tlsa_records
short_description: DANE TLSA records (3 1 1) for a mail host's own keys, as zone-file lines
version_added: 0.1.0
description:
  - Turns sha256 public-key pins (from P(mailtls.postfix.tls_pins#filter) or the role's C(postfix_tls_host_pins))
    into C(_25._tcp.MX-NAME. IN TLSA 3 1 1 DATA) lines, one per MX host name and distinct key.
  - 3 1 1 is DANE-EE with the SHA2-256 digest of the SubjectPublicKeyInfo, the usage RFC 7672 recommends for SMTP;
    it survives certificate renewal with the same key. Publish the current and the next key before a rotation.
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description: sha256 public-key fingerprints (32 hex pairs joined by colons, or 64 hex digits).
    type: list
    elements: str
    required: true
  hostnames:
    description: The MX host names the records are for (the names in the domain's MX records).
    type: list
    elements: str
    required: true
  port:
    description: The TCP port (25 for MX hosts).
    type: int
    default: 25
  ttl:
    description: A TTL to write on each record; without it the zone's default applies (3600 s for V(rrsets)).
    type: int
  form:
    description:
      - V(lines), zone-file lines; V(rrsets), one record set per host name with every key's C(3 1 1 DATA), as
        M(mailtls.postfix.dns_publish) takes them in O(mailtls.postfix.dns_publish#module:records).
    type: str
    default: lines
    choices: [lines, rrsets]
"""

EXAMPLES = r"""
- name: TLSA records for this host's certificates
  ansible.builtin.debug:
    msg: >-
      {{ postfix_tls_certificates | mailtls.postfix.tls_pins('sha256') | map(attribute='pubkey') | list
         | mailtls.postfix.tls_tlsa_records(['mx1.example.org']) }}

- name: The same, published
  mailtls.postfix.dns_publish:
    server: 192.0.2.53
    zone: example.org
    key_name: mailtls-publisher
    key_secret: "{{ vault_tsig_secret }}"
    records: >-
      {{ postfix_tls_host_pins | mailtls.postfix.tls_tlsa_records(['mx1.example.org'], ttl=300, form='rrsets') }}
"""

RETURN = r"""
_value:
  description:
    - Zone-file lines, for example C(_25._tcp.mx1.example.org. IN TLSA 3 1 1 0c72ac70...); with O(form=rrsets),
      dicts C({name, type, ttl, values}).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsa import tlsa_records, tlsa_rrsets


def tls_tlsa_records(pins, hostnames, port=25, ttl=None, form='lines'):
    if form not in ('lines', 'rrsets'):
        raise AnsibleFilterError('tls_tlsa_records: form must be lines or rrsets, got %r' % (form,))
    try:
        return (tlsa_rrsets if form == 'rrsets' else tlsa_records)(hostnames, pins, port, ttl)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_tlsa_records: %s' % e)


class FilterModule(object):
    def filters(self):
        return {'tls_tlsa_records': tls_tlsa_records}
