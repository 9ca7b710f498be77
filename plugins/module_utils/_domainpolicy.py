# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The publish stage: what the fleet's own mail domains tell senders. Private to mailtls.postfix.

- The MTA-STS policy (RFC 8461 3.2): its text, with CRLF line endings, built from the inventory; refused when it
  leaves out an MX that DNS lists for the domain (senders under enforce would not deliver to that MX), when it is
  over 64 KiB, or when it is not a policy the probe's own parser (_mtasts.parse_policy) reads back unchanged.
- Its TXT record ``_mta-sts.DOMAIN`` (RFC 8461 3.1): ``v=STSv1; id=ID;`` where ID is derived from the policy's
  text, so that it changes exactly when the policy does.
- The TLSRPT record ``_smtp._tls.DOMAIN`` (RFC 8460 3): ``v=TLSRPTv1; rua=URI[,URI]``, mailto: or https: only.
The records come out as record sets for dns_publish.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import cert_names, match_names
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import MAX_POLICY_BYTES, parse_policy, sts_mx_allowed
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import to_ascii_domain

MODES = ('testing', 'enforce', 'none')
MAX_AGE = 31557600  # RFC 8461 3.2: at most about a year
# RFC 8460 3: a mailto: URI with one address, or an https: URI; the URIs are separated by commas, so none holds one
_MAILTO = re.compile(r'^mailto:[^@\s,;!]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$')
_HTTPS = re.compile(r'^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s,;]*)?$')


def policy_text(domain, mode, mx, max_age):
    """The policy file (CRLF line endings), checked by reading it back with the probe's parser."""
    where = 'MTA-STS policy of %s' % domain
    if mode not in MODES:
        raise MailTLSError('%s: mode %r is not one of %s' % (where, mode, ', '.join(MODES)))
    if isinstance(max_age, bool) or not isinstance(max_age, int) or not 0 < max_age <= MAX_AGE:
        raise MailTLSError('%s: max_age must be a number of seconds from 1 to %d (RFC 8461 3.2), not %r'
                           % (where, MAX_AGE, max_age))
    if isinstance(mx, str) or not isinstance(mx, (list, tuple)) or (mode != 'none' and not mx):
        raise MailTLSError('%s: mx must list the MX host names or *.domain patterns' % where)
    lines = ['version: STSv1', 'mode: %s' % mode]
    for pattern in mx:
        text = str(pattern).strip().lower().rstrip('.')
        if not text or any(c.isspace() for c in text):
            raise MailTLSError('%s: mx %r is not a host name or *.domain pattern' % (where, pattern))
        lines.append('mx: %s' % text)
    lines.append('max_age: %d' % max_age)
    text = ''.join(line + '\r\n' for line in lines)
    try:
        parsed = parse_policy(text)
    except MailTLSError as e:
        raise MailTLSError('%s: %s' % (where, e))
    size = len(text.encode('utf-8'))
    if size > MAX_POLICY_BYTES:
        raise MailTLSError('%s: the policy is %d bytes, over the %d bytes (64 KiB) senders read (RFC 8461 3.3)'
                           % (where, size, MAX_POLICY_BYTES))
    if parsed['mode'] != mode or parsed['max_age'] != max_age:
        raise MailTLSError('%s: the policy does not read back as written' % where)
    return text


def policy_id(text):
    """The TXT record's id: 32 hex digits of the policy's SHA-256 (1-32 letters or digits, RFC 8461 3.1)."""
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


def missing_mx(patterns, mx_hosts):
    """The MX host names DNS lists that no pattern of the policy matches (as Postfix and senders match them)."""
    return [host for host in mx_hosts if not sts_mx_allowed([p.lower().rstrip('.') for p in patterns], host)]


def tlsrpt_record(domain, rua):
    """``v=TLSRPTv1; rua=...`` for the domain; each URI mailto: (one address) or https:."""
    if isinstance(rua, str):
        rua = [rua]
    if not rua:
        raise MailTLSError('TLSRPT record of %s: rua must give at least one mailto: or https: URI' % domain)
    for uri in rua:
        if not (_MAILTO.match(str(uri)) or _HTTPS.match(str(uri))):
            raise MailTLSError('TLSRPT record of %s: rua %r is not a mailto: URI with one address or an https: URI '
                               '(RFC 8460 3)' % (domain, uri))
    return 'v=TLSRPTv1; rua=%s' % ','.join(rua)


def publication(domain, mx_hosts, mode='testing', mx=None, max_age=604800, tlsrpt_rua=None, ttl=3600):
    """What one domain publishes: the policy (text, id, the host that serves it), and the TXT record sets.

    ``mx_hosts``: the MX host names DNS lists for the domain now. ``mx``: the policy's patterns (default: those
    names). A policy that leaves one out is refused, naming it."""
    try:
        domain = to_ascii_domain(domain)
    except MailTLSError as e:
        raise MailTLSError('MTA-STS domain %r: %s' % (domain, e))
    hosts = [h.lower().rstrip('.') for h in mx_hosts]
    patterns = list(mx) if mx else hosts
    if mode != 'none':
        left_out = missing_mx(patterns, hosts)
        if left_out:
            raise MailTLSError('MTA-STS policy of %s: its mx lines (%s) leave out %s, which DNS lists as MX of %s: '
                               'senders under enforce would not deliver there; nothing was published'
                               % (domain, ', '.join(patterns), ', '.join(left_out), domain))
    text = policy_text(domain, mode, patterns, max_age)
    ident = policy_id(text)
    records = [{'name': '_mta-sts.%s.' % domain, 'type': 'TXT', 'ttl': ttl, 'values': ['v=STSv1; id=%s;' % ident]}]
    if tlsrpt_rua:
        records.append({'name': '_smtp._tls.%s.' % domain, 'type': 'TXT', 'ttl': ttl,
                        'values': [tlsrpt_record(domain, tlsrpt_rua)]})
    return {'domain': domain, 'host': 'mta-sts.%s' % domain, 'mode': mode, 'mx': patterns, 'mx_hosts': hosts,
            'text': text, 'id': ident, 'records': records}


def enforce_refusals(domain, endpoints):
    """Why ``enforce`` may not be published yet: per MX endpoint the probe could not reach, or whose certificate does
    not verify against the trust store senders use, or is not valid for the MX host name (RFC 8461 4.2). Every key an
    endpoint serves counts: a sender may be offered any of them. ``endpoints``: mx_tls_info's, for the domain."""
    out = []
    if not endpoints:
        return ['%s: the probe found no MX endpoint to check' % domain]
    for ep in endpoints:
        where = 'MX %s (%s)' % (ep.get('hostname'), ep.get('address'))
        if ep.get('error'):
            out.append('%s: %s' % (where, ep['error']))
            continue
        for key in ep.get('keys') or [ep]:
            certificate = key.get('certificate') or {}
            kind = certificate.get('key_type') or 'its'
            names = cert_names(certificate)
            if not key.get('chain_verified'):
                out.append('%s: its %s certificate does not verify (%s)' % (where, kind, key.get('verify_error') or 'untrusted'))
            elif not match_names(names, [ep.get('hostname') or '']):
                out.append('%s: its %s certificate is not valid for the name %s (it names %s)'
                           % (where, kind, ep.get('hostname'), ', '.join(names) or 'nothing'))
    return out


def publications(domains, probe_results, enforce_force=False, ttl=3600):
    """Each domain's publication (``publication``) from the inventory's entries and mx_tls_info's results for the
    same domains (their MX hosts as DNS lists them now, and what each serves). ``enforce`` is refused, naming each
    MX, unless every MX serves a certificate senders accept (``enforce_force`` publishes it anyway).
    -> (publications, warnings)."""
    by_domain = dict((str(r.get('destination', '')).lower().rstrip('.'), r) for r in probe_results or [])
    out, warnings = [], []
    for i, spec in enumerate(domains or []):
        if not isinstance(spec, dict) or not spec.get('domain'):
            raise MailTLSError('MTA-STS domains[%d] must be a dict with a domain' % i)
        domain = str(spec['domain']).lower().rstrip('.')
        probed = by_domain.get(domain)
        if probed is None:
            raise MailTLSError('MTA-STS domain %s: no probe result for it' % domain)
        if probed.get('error'):
            raise MailTLSError('MTA-STS domain %s: its MX hosts cannot be read (%s); nothing was published'
                               % (domain, probed['error']))
        hosts = [m['hostname'] for m in probed.get('mx') or []]
        mode = spec.get('mode', 'testing')
        pub = publication(domain, hosts, mode, spec.get('mx'), spec.get('max_age', 604800), spec.get('tlsrpt_rua'), ttl)
        if mode == 'enforce':
            refusals = enforce_refusals(domain, probed.get('endpoints'))
            if refusals and not enforce_force:
                raise MailTLSError('MTA-STS policy of %s: mode enforce is refused, senders would not deliver: %s; '
                                   'publish mode testing until every MX serves a certificate senders accept (nothing '
                                   'was published)' % (domain, '; '.join(refusals)))
            warnings += ['MTA-STS policy of %s is enforce although %s (enforce_force)' % (domain, r) for r in refusals]
        out.append(pub)
    return out, warnings


__all__ = ['MAX_AGE', 'MODES', 'enforce_refusals', 'missing_mx', 'policy_id', 'policy_text', 'publication', 'publications',
           'tlsrpt_record']
