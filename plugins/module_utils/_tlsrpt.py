# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report stage: what senders reported about our servers, read from SMTP TLS reports (RFC 8460).

Private to the mailtls.postfix collection; not a public API.

Reports come as ``application/tlsrpt+gzip`` or ``application/tlsrpt+json`` parts of mail (RFC 8460 5.3) in a
Maildir or an mbox, or as ``.json``/``.json.gz`` files in a directory. They are read one at a time (a source is
never loaded whole), decompressed to at most ``cap`` bytes (a larger one is refused, as a gzip bomb would be),
decoded as UTF-8 JSON and checked against RFC 8460 4.4's fields. A report that fails is counted and named with
its reason; the rest are read. The standard library does the work: email, gzip, json, mailbox.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email
import email.policy
import gzip
import io
import json
import mailbox
import os
import zlib

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

MAX_REPORT_BYTES = 16 * 1024 * 1024
POLICY_TYPES = ('sts', 'tlsa', 'no-policy-found')
CONTENT_TYPES = {'application/tlsrpt+gzip': 'gzip', 'application/tlsrpt+json': 'json'}
# a report's end may lie a little ahead of this host's clock; more is a report from the future
CLOCK_SLACK = datetime.timedelta(hours=1)


class ReportError(MailTLSError):
    """One report cannot be read; the message says why."""


def _count(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReportError('%s must be a whole number 0 or more, not %r' % (where, value))
    return value


def _text(obj, key, where):
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ReportError('%s: %s is missing or not text' % (where, key))
    return value.strip()


def _when(text, where):
    try:
        when = datetime.datetime.fromisoformat(str(text).strip().replace('Z', '+00:00').replace('z', '+00:00'))
    except ValueError:
        raise ReportError('%s %r is not an RFC 3339 date-time' % (where, text))
    if when.tzinfo is None:
        raise ReportError('%s %r has no time zone (RFC 3339 needs one)' % (where, text))
    return when.astimezone(datetime.timezone.utc)


def decode(data, kind=None, cap=MAX_REPORT_BYTES):
    """The report's JSON object from its bytes: ``kind`` gzip or json (None: by its first bytes)."""
    if data[:4] == b'PK\x03\x04':
        raise ReportError('a zip archive, not gzip (RFC 8460 5.3 sends application/tlsrpt+gzip)')
    if kind is None:
        kind = 'gzip' if data[:2] == b'\x1f\x8b' else 'json'
    if kind == 'gzip':
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(cap + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise ReportError('gzip data that cannot be read (%s)' % (e or type(e).__name__))
    if len(data) > cap:
        raise ReportError('larger than %d bytes once decompressed; not read' % cap)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise ReportError('not UTF-8 (byte %d)' % e.start)
    try:
        report = json.loads(text)
    except ValueError as e:
        raise ReportError('not JSON (%s)' % e)
    if not isinstance(report, dict):
        raise ReportError('the JSON is not an object')
    return report


def check(report, now=None):
    """The report as facts, checked against RFC 8460 4.4; ReportError names the field."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    org = _text(report, 'organization-name', 'report')
    report_id = _text(report, 'report-id', 'report of %s' % org)
    where = 'report %s of %s' % (report_id, org)
    dates = report.get('date-range')
    if not isinstance(dates, dict):
        raise ReportError('%s: date-range is missing' % where)
    start = _when(dates.get('start-datetime'), '%s: start-datetime' % where)
    end = _when(dates.get('end-datetime'), '%s: end-datetime' % where)
    if end < start:
        raise ReportError('%s: its date range ends before it starts' % where)
    if end > now + CLOCK_SLACK:
        raise ReportError('%s: its date range ends in the future (%s)' % (where, end.strftime('%Y-%m-%dT%H:%M:%SZ')))
    policies = report.get('policies')
    if not isinstance(policies, list) or not policies:
        raise ReportError('%s: policies is missing or empty' % where)
    out = []
    for i, item in enumerate(policies):
        pwhere = '%s: policies[%d]' % (where, i)
        if not isinstance(item, dict) or not isinstance(item.get('policy'), dict) or not isinstance(item.get('summary'), dict):
            raise ReportError('%s needs policy and summary' % pwhere)
        policy, summary = item['policy'], item['summary']
        ptype = policy.get('policy-type')
        if ptype not in POLICY_TYPES:
            raise ReportError('%s: policy-type %r is not one of %s' % (pwhere, ptype, ', '.join(POLICY_TYPES)))
        failures = []
        for j, detail in enumerate(item.get('failure-details') or []):
            dwhere = '%s.failure-details[%d]' % (pwhere, j)
            if not isinstance(detail, dict):
                raise ReportError('%s is not an object' % dwhere)
            failures.append({
                'result_type': _text(detail, 'result-type', dwhere),
                'sending_mta_ip': str(detail.get('sending-mta-ip') or ''),
                'receiving_mx': str(detail.get('receiving-mx-hostname') or '').lower().rstrip('.'),
                'receiving_ip': str(detail.get('receiving-ip') or ''),
                'count': _count(detail.get('failed-session-count'), '%s: failed-session-count' % dwhere),
                'reason_code': str(detail.get('failure-reason-code') or ''),
            })
        out.append({
            'type': ptype,
            'domain': _text(policy, 'policy-domain', pwhere).lower().rstrip('.'),
            'success': _count(summary.get('total-successful-session-count'),
                              '%s: total-successful-session-count' % pwhere),
            'failure': _count(summary.get('total-failure-session-count'), '%s: total-failure-session-count' % pwhere),
            'failures': failures,
        })
    return {'organization': org, 'report_id': report_id, 'start': start, 'end': end,
            'contact': str(report.get('contact-info') or ''), 'policies': out}


def parts_of_message(raw):
    """(label, kind, bytes) of each TLS report in a mail message; ReportError when it carries none."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    found, other = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype in CONTENT_TYPES:
            found.append((part.get_filename() or ctype, CONTENT_TYPES[ctype], part.get_payload(decode=True) or b''))
        elif part.get_filename():
            other.append('%s (%s)' % (part.get_filename(), ctype))
    if not found:
        raise ReportError('no application/tlsrpt+gzip or +json part%s' % (
            (': it has ' + ', '.join(other)) if other else ''))
    return found


def sources(path, cap=MAX_REPORT_BYTES):
    """(label, kind, bytes or ReportError) for every report under ``path``, one at a time: a Maildir (cur and
    new), an mbox file, or a directory of .json and .json.gz files (each read to twice ``cap``: more is refused
    by decode all the same)."""
    if os.path.isdir(os.path.join(path, 'cur')) and os.path.isdir(os.path.join(path, 'new')):
        box = mailbox.Maildir(path, factory=None, create=False)
        keys = box.iterkeys()
        get = box.get_bytes
    elif os.path.isfile(path):
        box = mailbox.mbox(path, factory=None, create=False)
        keys = box.iterkeys()
        get = box.get_bytes
    elif os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if name.endswith(('.json', '.json.gz')) and os.path.isfile(full):
                with open(full, 'rb') as f:
                    yield name, 'gzip' if name.endswith('.gz') else 'json', f.read(cap * 2)
        return
    else:
        raise MailTLSError('%s is neither a Maildir, an mbox file nor a directory' % path)
    for key in keys:
        label = 'message %s' % key
        try:
            for name, kind, data in parts_of_message(get(key)):
                yield '%s: %s' % (label, name), kind, data
        except ReportError as e:
            yield label, None, e


def read(path, now=None, cap=MAX_REPORT_BYTES):
    """Every report under ``path`` summed: per reporting organisation, policy domain and type and day, the
    successful and failed sessions, and per receiving MX the failures by result type and sending MTA.
    -> {'reports', 'malformed': [{'source', 'reason'}], 'summary': [...], 'failures': [...]}."""
    totals, failures, malformed, count, seen = {}, {}, [], 0, set()
    for label, kind, data in sources(path, cap):
        try:
            if isinstance(data, ReportError):
                raise data
            facts = check(decode(data, kind, cap), now)
        except ReportError as e:
            malformed.append({'source': label, 'reason': str(e)})
            continue
        ident = (facts['organization'], facts['report_id'])
        if ident in seen:
            # the same report delivered twice counts once
            continue
        seen.add(ident)
        count += 1
        day = facts['start'].strftime('%Y-%m-%d')
        for policy in facts['policies']:
            key = (facts['organization'], policy['domain'], policy['type'], day)
            row = totals.setdefault(key, {'success': 0, 'failure': 0})
            row['success'] += policy['success']
            row['failure'] += policy['failure']
            for f in policy['failures']:
                fkey = key + (f['receiving_mx'], f['result_type'], f['sending_mta_ip'])
                failures[fkey] = failures.get(fkey, 0) + f['count']
    names = ('organization', 'policy_domain', 'policy_type', 'day')
    return {
        'reports': count,
        'malformed': malformed,
        'summary': [dict(zip(names, k), **v) for k, v in sorted(totals.items())],
        'failures': [dict(zip(names + ('receiving_mx', 'result_type', 'sending_mta_ip'), k), sessions=v)
                     for k, v in sorted(failures.items())],
    }


__all__ = ['CONTENT_TYPES', 'MAX_REPORT_BYTES', 'POLICY_TYPES', 'ReportError', 'check', 'decode', 'parts_of_message',
           'read', 'sources']
