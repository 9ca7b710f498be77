# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish stage: DANE TLSA records (RFC 7671, 7672) for a host's own keys: DANE-EE(3) SPKI(1) SHA2-256(1).

Private to the mailtls.postfix collection; not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import to_ascii_domain

_PIN = re.compile(r'^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$')
_HEX = re.compile(r'^[0-9A-Fa-f]{64}$')


def tlsa_data(pin, what='pin'):
    """The 3 1 1 association data (64 lower-case hex digits) of a sha256 public-key pin."""
    text = str(pin).strip()
    if _PIN.match(text):
        return text.replace(':', '').lower()
    if _HEX.match(text):
        return text.lower()
    raise MailTLSError('%s %r is not a sha256 public-key fingerprint (32 hex pairs joined by colons)' % (what, pin))


def _owners_and_datas(hostnames, pins, port, ttl):
    """The TLSA owner names (one per host name) and the distinct 3 1 1 data, validated."""
    if isinstance(hostnames, str) or not isinstance(hostnames, (list, tuple)):
        raise MailTLSError('hostnames must be a list of MX host names, got %r' % (hostnames,))
    if isinstance(pins, str) or not isinstance(pins, (list, tuple)):
        raise MailTLSError('pins must be a list of sha256 public-key fingerprints, got %r' % (pins,))
    try:
        port = int(port)
    except (TypeError, ValueError):
        port = -1
    if not 0 < port < 65536:
        raise MailTLSError('port must be 1-65535')
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0):
        raise MailTLSError('ttl must be a number of seconds (0 or more)')
    datas = []
    for i, pin in enumerate(pins):
        data = tlsa_data(pin, 'pins[%d]' % i)
        if data not in datas:
            datas.append(data)
    owners = []
    for i, name in enumerate(hostnames):
        try:
            owners.append('_%d._tcp.%s.' % (port, to_ascii_domain(name)))
        except MailTLSError as e:
            raise MailTLSError('hostnames[%d] is not an MX host name (TLSA records are published per MX host): %s' % (i, e))
    return owners, datas


def tlsa_records(hostnames, pins, port=25, ttl=None):
    """Zone-file lines ``_PORT._tcp.NAME. [TTL] IN TLSA 3 1 1 DATA``, one per name and distinct key, in order."""
    owners, datas = _owners_and_datas(hostnames, pins, port, ttl)
    return ['%s%s IN TLSA 3 1 1 %s' % (owner, '' if ttl is None else ' %d' % ttl, data)
            for owner in owners for data in datas]


def tlsa_rrsets(hostnames, pins, port=25, ttl=None):
    """The same records as record sets, one per name with every key's ``3 1 1 DATA``: what dns_publish takes.
    Without ttl they get 3600 s."""
    owners, datas = _owners_and_datas(hostnames, pins, port, ttl)
    return [{'name': owner, 'type': 'TLSA', 'ttl': 3600 if ttl is None else ttl,
             'values': ['3 1 1 %s' % data for data in datas]} for owner in owners]


__all__ = ['tlsa_data', 'tlsa_records', 'tlsa_rrsets']
