# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: tls_mta_sts_publication
short_description: What the fleet's own domains publish for MTA-STS and TLSRPT, checked against DNS and their MX hosts
version_added: 0.2.0
description:
  - For each domain, the MTA-STS policy file (RFC 8461 3.2; CRLF line endings), its C(_mta-sts) TXT record with an
    id that changes exactly when the policy does, and the C(_smtp._tls) TLSRPT record (RFC 8460) when C(tlsrpt_rua)
    is given, as record sets for M(mailtls.postfix.dns_publish).
  - The policy's mx lines default to the MX hosts DNS lists; a policy that leaves one out is refused, naming it.
  - Mode C(enforce) is refused, naming each MX, unless every MX serves a certificate that verifies and is valid
    for its name, as M(mailtls.postfix.mx_tls_info) saw it (with the trust store senders use).
author:
  - mailtls.postfix developers (@mailtls)
options:
  _input:
    description:
      - The domains, each C(domain), C(mode) (V(testing), V(enforce) or V(none); default V(testing)), C(max_age)
        (seconds, default 604800), C(mx) (patterns; default the MX hosts DNS lists) and C(tlsrpt_rua) (C(mailto:) or
        C(https:) URIs).
    type: list
    elements: dict
    required: true
  probe:
    description: The C(results) of M(mailtls.postfix.mx_tls_info) for the same domains.
    type: list
    elements: dict
    required: true
  enforce_force:
    description: Publish V(enforce) even where an MX fails the check (each is returned as a warning).
    type: bool
    default: false
  ttl:
    description: The TXT records' TTL.
    type: int
    default: 3600
  webroot:
    description:
      - With it, each publication has C(file), the policy file to write (C(path) WEBROOT/DOMAIN/.well-known/mta-sts.txt,
        C(content), C(mode)) in the shape M(mailtls.postfix.tls_files) takes.
    type: path
"""

EXAMPLES = r"""
- name: The MX hosts of our domains and what they serve
  mailtls.postfix.mx_tls_info:
    destinations: "{{ mta_sts_domains | map(attribute='domain') | list }}"
  register: probe

- name: What to publish
  ansible.builtin.set_fact:
    sts: "{{ mta_sts_domains | mailtls.postfix.tls_mta_sts_publication(probe.results) }}"
"""

RETURN = r"""
_value:
  description:
    - C(publications), per domain C(domain), C(host) (C(mta-sts.DOMAIN)), C(mode), C(mx), C(mx_hosts), C(text) (the
      policy), C(id) and C(records) (record sets); and C(warnings).
  type: dict
"""

import posixpath

from ansible.errors import AnsibleFilterError

from ansible_collections.mailtls.postfix.plugins.module_utils._domainpolicy import publications
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


def tls_mta_sts_publication(domains, probe, enforce_force=False, ttl=3600, webroot=None):
    try:
        pubs, warnings = publications(domains, probe, enforce_force, ttl)
    except MailTLSError as e:
        raise AnsibleFilterError('tls_mta_sts_publication: %s' % e)
    if webroot:
        for pub in pubs:
            pub['file'] = {'path': posixpath.join(webroot, pub['domain'], '.well-known', 'mta-sts.txt'),
                           'content': pub['text'], 'mode': '0644'}
    return {'publications': pubs, 'warnings': warnings}


class FilterModule(object):
    def filters(self):
        return {'tls_mta_sts_publication': tls_mta_sts_publication}
