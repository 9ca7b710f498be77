# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: MTA-STS (RFC 8461): the _mta-sts TXT record, the HTTPS policy, and the match names of an enforce policy.

Private to the mailtls.postfix collection; not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import re
import socket
import ssl

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import STS_MX_PATTERN

MAX_POLICY_BYTES = 64 * 1024  # RFC 8461 3.3: senders may limit the policy's size; 64 KiB is what it suggests
_TXT_ID = re.compile(r'^[A-Za-z0-9]{1,32}$')


def parse_txt(records):
    """The STS TXT record among ``records`` (strings): {'id': ...}, or None when there is none.

    RFC 8461 3.1: exactly one record starting with v=STSv1; more than one means no policy.
    """
    sts = [r for r in records if r.startswith('v=STSv1')]
    if not sts:
        return None
    if len(sts) > 1:
        raise MailTLSError('more than one v=STSv1 TXT record (RFC 8461 3.1: treated as no policy)')
    fields = {}
    for part in sts[0].split(';'):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition('=')
        if not sep:
            raise MailTLSError('TXT record %r: field %r is not key=value' % (sts[0], part))
        fields[key.strip()] = value.strip()
    if fields.get('v') != 'STSv1':
        raise MailTLSError('TXT record %r does not start with v=STSv1;' % sts[0])
    if not _TXT_ID.match(fields.get('id', '')):
        raise MailTLSError('TXT record %r: id must be 1 to 32 letters or digits' % sts[0])
    return {'id': fields['id']}


def parse_policy(text):
    """The policy file (RFC 8461 3.2): {'version', 'mode', 'max_age', 'mx': [...], 'lines': [...]}; errors name the line.

    ``lines``: the policy's non-empty lines, whitespace-normalised (RFC 8460 policy-string; Postfix 3.10's
    policy_string attributes).
    """
    policy = {'mx': [], 'lines': []}
    for number, line in enumerate(text.replace('\r\n', '\n').split('\n'), 1):
        if not line.strip():
            continue
        policy['lines'].append(' '.join(line.split()))
        key, sep, value = line.partition(':')
        if not sep:
            raise MailTLSError('policy line %d %r is not "key: value"' % (number, line))
        key, value = key.strip(), value.strip()
        if key == 'mx':
            pattern = value.lower().rstrip('.')
            if not STS_MX_PATTERN.match(pattern):
                raise MailTLSError('policy line %d: mx %r is not a host name or *.domain pattern' % (number, value))
            policy['mx'].append(pattern)
        elif key in ('version', 'mode', 'max_age'):
            if key in policy:
                raise MailTLSError('policy line %d: %s given twice' % (number, key))
            policy[key] = value
    if policy.get('version') != 'STSv1':
        raise MailTLSError('policy version must be STSv1, got %r' % policy.get('version'))
    if policy.get('mode') not in ('enforce', 'testing', 'none'):
        raise MailTLSError('policy mode must be enforce, testing or none, got %r' % policy.get('mode'))
    try:
        policy['max_age'] = int(policy.get('max_age'))
    except (TypeError, ValueError):
        raise MailTLSError('policy max_age must be a number of seconds, got %r' % policy.get('max_age'))
    if not 0 <= policy['max_age'] <= 31557600:
        raise MailTLSError('policy max_age must be 0 to 31557600 seconds, got %d' % policy['max_age'])
    if policy['mode'] != 'none' and not policy['mx']:
        raise MailTLSError('policy in mode %s names no mx' % policy['mode'])
    return policy


def sts_mx_allowed(patterns, hostname):
    """Postfix's match_sts_mx_host_pattern: the name itself, or *. and everything after the first label."""
    name = hostname.lower().rstrip('.')
    first, dot, rest = name.partition('.')
    return any(name == p or (p.startswith('*.') and len(p) > 2 and first and dot and rest == p[2:]) for p in patterns)


def match_from_mx(patterns):
    """Postfix secure match names for the policy's mx patterns: host names as they are, *.d as .d.

    Postfix's .d matches any depth of subdomain, the policy's *.d exactly one label: the entry
    accepts a little more than the policy, never less.
    """
    out = []
    for pattern in patterns:
        name = '.' + pattern[2:] if pattern.startswith('*.') else pattern
        if name not in out:
            out.append(name)
    return out


class _PolicyConnection(http.client.HTTPSConnection):
    """HTTPS to mta-sts.DOMAIN at an address of the probe's own resolver; SNI and the name checked stay the host's."""

    def __init__(self, host, address, port, timeout, context):
        http.client.HTTPSConnection.__init__(self, host, port, timeout=timeout, context=context)
        self._sts_address = address
        self._sts_context = context

    def connect(self):
        raw = socket.create_connection((self._sts_address, self.port), self.timeout)
        try:
            self.sock = self._sts_context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def fetch_policy(domain, timeout=10.0, ca_file=None, port=443, connect_address=None):
    """GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt with certificate and name verification.

    The standard library's http.client speaks HTTP/1.1: Content-Length and chunked bodies alike.
    No redirects (RFC 8461 3.3; http.client follows none), text/plain only, at most MAX_POLICY_BYTES
    of body (http.client caps each header line at 64 KiB too). Each network step has ``timeout``.
    ``connect_address``: where to connect (the probe resolves the host with its own resolver, and a
    test reaches a lab server); the name checked and sent (SNI, Host) is always mta-sts.DOMAIN.
    """
    host = 'mta-sts.' + domain
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    conn = _PolicyConnection(host, connect_address or host, port, timeout, context)
    try:
        try:
            conn.connect()
        except ssl.SSLError:
            raise  # the TLS handshake: below
        except OSError as e:
            raise MailTLSError('%s:%d: cannot connect (%s)' % (host, port, e.strerror or e))
        conn.request('GET', '/.well-known/mta-sts.txt',
                     headers={'Host': host, 'User-Agent': 'mailtls.postfix', 'Accept': 'text/plain'})
        response = conn.getresponse()
        if response.status != 200:
            raise MailTLSError('%s: HTTP status %d %s (RFC 8461: only 200, no redirects)' % (host, response.status, response.reason))
        ctype = response.getheader('Content-Type') or ''
        if not ctype.lower().startswith('text/plain'):
            raise MailTLSError('%s: Content-Type %r, not text/plain' % (host, ctype or None))
        declared = response.length  # Content-Length; None for a chunked body
        body = response.read(MAX_POLICY_BYTES + 1)
        if declared is not None and len(body) < min(declared, MAX_POLICY_BYTES + 1):
            raise MailTLSError('%s: the policy ends after %d of the %d bytes its Content-Length says' % (host, len(body), declared))
    except ssl.SSLCertVerificationError as e:
        raise MailTLSError('%s: the HTTPS certificate does not verify (%s)' % (host, e.verify_message or e))
    except http.client.HTTPException as e:
        raise MailTLSError('%s: not a valid HTTP response (%s: %s)' % (host, type(e).__name__, e))
    except socket.timeout:
        raise MailTLSError('%s: HTTPS timed out (%s s per step)' % (host, timeout))
    except (ssl.SSLError, OSError) as e:
        raise MailTLSError('%s: HTTPS failed (%s)' % (host, e))
    finally:
        conn.close()
    if len(body) > MAX_POLICY_BYTES:
        raise MailTLSError('%s: policy larger than %d bytes' % (host, MAX_POLICY_BYTES))
    try:
        return body.decode('utf-8')
    except UnicodeDecodeError:
        raise MailTLSError('%s: policy is not UTF-8' % host)


CACHED = ('id', 'mode', 'mx', 'max_age', 'policy_strings')


def check_cache_entry(domain, entry):
    """A cache entry as written by apply_cache, checked (the cache is a file a person may edit)."""
    where = 'mta_sts_cache[%s]' % domain
    if not isinstance(entry, dict):
        raise MailTLSError('%s is not a mapping' % where)
    missing = [k for k in CACHED + ('fetched',) if k not in entry]
    if missing:
        raise MailTLSError('%s lacks %s' % (where, ', '.join(missing)))
    if entry['mode'] not in ('enforce', 'testing', 'none'):
        raise MailTLSError('%s: mode %r is not enforce, testing or none' % (where, entry['mode']))
    for key in ('max_age', 'fetched'):
        if not isinstance(entry[key], int) or isinstance(entry[key], bool) or entry[key] < 0:
            raise MailTLSError('%s: %s %r is not a whole number of seconds' % (where, key, entry[key]))
    if not isinstance(entry['mx'], list) or not all(isinstance(p, str) and STS_MX_PATTERN.match(p) for p in entry['mx']):
        raise MailTLSError('%s: mx %r is not a list of host names or *.domain patterns' % (where, entry['mx']))
    if not isinstance(entry['policy_strings'], list) or not all(isinstance(p, str) for p in entry['policy_strings']):
        raise MailTLSError('%s: policy_strings is not a list of strings' % where)
    return entry


def apply_cache(live, cached, now):
    """RFC 8461 3.3 and 5.1: which policy applies, and what to cache.

    A live policy (read now) applies and replaces the cache entry. Without one - no TXT record, or
    the HTTPS policy could not be read - a cached policy that has not outlived its max_age applies
    ("the sender MUST apply that cached policy"), so stripping the TXT record or blocking the policy
    host does not switch enforcement off. ``live``: discover()'s result; ``cached``: a checked cache
    entry or None; ``now``: seconds since the epoch. Returns (state, cache entry or None); the state
    is discover()'s with ``source`` (fetched, cache or None) and ``fetched`` (when it was read).
    """
    now = int(now)
    if live.get('mode') is not None:
        entry = dict((k, live[k]) for k in CACHED)
        entry['fetched'] = now
        return dict(live, source='fetched', fetched=now), entry
    if cached is not None and now < cached['fetched'] + cached['max_age']:
        state = dict((k, cached[k]) for k in CACHED)
        state.update(source='cache', fetched=cached['fetched'],
                     error=live.get('error') or 'no v=STSv1 TXT record at _mta-sts now')
        return state, cached
    return dict(live, source=None, fetched=None), None


def discover(domain, resolver, timeout=10.0, ca_file=None, port=443):
    """The MTA-STS state of a domain: {'id', 'mode', 'mx', 'max_age', 'policy_strings', 'error'}.

    No TXT record: mode None (no policy). A TXT record but no valid policy: the error says why
    (RFC 8461 5: treat as no policy). ``resolver`` is a _dns.Resolver; the HTTPS host is resolved
    through it, so a lab's own DNS serves the test.
    """
    out = {'id': None, 'mode': None, 'mx': [], 'max_age': None, 'policy_strings': [], 'error': None}
    try:
        txt = parse_txt(resolver.txt('_mta-sts.' + domain))
        if txt is None:
            return out
        out['id'] = txt['id']
        addresses = resolver.addresses('mta-sts.' + domain)
        policy = parse_policy(fetch_policy(domain, timeout, ca_file, port, connect_address=addresses[0]))
    except MailTLSError as e:
        out['error'] = str(e)
        return out
    out.update(mode=policy['mode'], mx=policy['mx'], max_age=policy['max_age'], policy_strings=policy['lines'])
    return out


__all__ = ['CACHED', 'MAX_POLICY_BYTES', 'apply_cache', 'check_cache_entry', 'discover', 'fetch_policy', 'match_from_mx', 'sts_mx_allowed',
           'parse_policy', 'parse_txt']
