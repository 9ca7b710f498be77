# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report stage: what senders reported about our servers, read from SMTP TLS reports (RFC 8460).

Private to the mailtls.postfix collection; not a public API.

Reports come as ``application/tlsrpt+gzip`` or ``application/tlsrpt+json`` parts of mail (RFC 8460 5.3) in a
Maildir or an mbox, or as ``.json``/``.json.gz`` files in a directory. They are read one at a time (a source is
never loaded whole), decompressed to at most ``cap`` bytes (a larger one is refused, as a gzip bomb would be),
decoded as UTF-8 JSON and checked against RFC 8460 4.4's fields. A report that fails is counted and named with
its reason; the rest are read. The standard library does the work: email, gzip, json, mailbox (mbox), os.scandir
(Maildir).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email
import gzip
import hashlib
import io
import json
import mailbox
import os
import zlib
from sys import intern

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
    # the compat32 policy (the email package's default): five times faster here than email.policy.default, whose
    # header objects a report's attachment does not need
    message = email.message_from_bytes(raw)
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


def _message_reports(label, raw):
    """(label, kind, bytes) of each report in one message, whose bytes ``raw()`` returns; or one (label, None,
    ReportError) when the message cannot be read or carries none."""
    try:
        for name, kind, data in parts_of_message(raw()):
            yield '%s: %s' % (label, name), kind, data
    except ReportError as e:
        yield label, None, e


def _maildir_file(entry, cap):
    """The reader of one Maildir file (an os.scandir entry): its bytes, or ReportError over twice ``cap``."""
    def raw():
        size = entry.stat().st_size
        if size > cap * 2:
            raise ReportError('a message of %d bytes, more than twice the %d-byte cap; not read' % (size, cap))
        with open(entry.path, 'rb') as f:
            return f.read()
    return raw


def sources(path, cap=MAX_REPORT_BYTES):
    """(label, kind, bytes or ReportError) for every report under ``path``, one at a time: a Maildir (cur and
    new), an mbox file, or a directory of .json and .json.gz files (each read to twice ``cap``: more is refused
    by decode all the same)."""
    if os.path.isdir(os.path.join(path, 'cur')) and os.path.isdir(os.path.join(path, 'new')):
        # a Maildir is one file per message (new and cur): read them as the directory lists them, one at a time
        # (mailbox.Maildir would first build a table of every message)
        for sub in ('new', 'cur'):
            with os.scandir(os.path.join(path, sub)) as entries:
                for entry in entries:
                    if entry.name.startswith('.') or not entry.is_file():
                        continue
                    yield from _message_reports('message %s/%s' % (sub, entry.name), _maildir_file(entry, cap))
        return
    if os.path.isfile(path):
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
        yield from _message_reports('message %s' % key, lambda key=key: get(key))


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
        # 8 bytes per report seen (a report delivered twice counts once), not the identifiers' text
        ident = hashlib.blake2b(('%s\0%s' % (facts['organization'], facts['report_id'])).encode('utf-8'),
                                digest_size=8).digest()
        if ident in seen:
            # the same report delivered twice counts once
            continue
        seen.add(ident)
        count += 1
        # the sums' keys repeat across reports: one copy of each string (sys.intern), not one per report
        day = intern(facts['start'].strftime('%Y-%m-%d'))
        org = intern(facts['organization'])
        for policy in facts['policies']:
            key = (org, intern(policy['domain']), intern(policy['type']), day)
            row = totals.setdefault(key, {'success': 0, 'failure': 0})
            row['success'] += policy['success']
            row['failure'] += policy['failure']
            for f in policy['failures']:
                fkey = key + (intern(f['receiving_mx']), intern(f['result_type']), intern(f['sending_mta_ip']))
                failures[fkey] = failures.get(fkey, 0) + f['count']
    names = ('organization', 'policy_domain', 'policy_type', 'day')
    return {
        'reports': count,
        'malformed': malformed,
        'summary': [dict(zip(names, k), **v) for k, v in sorted(totals.items())],
        'failures': [dict(zip(names + ('receiving_mx', 'result_type', 'sending_mta_ip'), k), sessions=v)
                     for k, v in sorted(failures.items())],
    }


# a failure type whose failed sessions exceed this share (percent) of a policy domain's sessions is a problem (bad)
FAIL_SHARE = 1.0


def _share(part, whole):
    return round(100.0 * part / whole, 2) if whole else None


def findings(results, fail_share=FAIL_SHARE):
    """What senders saw, from one or more ``read`` results (several mailboxes: read each mailbox once).

    Per policy domain the sessions reported and the success share weighted by session count; per policy domain,
    receiving MX and result type the failed sessions, the sending MTAs and the organisations that reported them;
    and per policy domain and result type a finding: ``bad`` when its failed sessions exceed ``fail_share``
    percent of the domain's sessions, else ``warn``. -> {'reports', 'malformed', 'domains', 'failures',
    'findings', 'fleet'}."""
    if isinstance(results, dict):
        results = [results]
    if not isinstance(results, list):
        raise MailTLSError('tlsrpt: expected tlsrpt_read results (a dict or a list of them), got %s'
                           % type(results).__name__)
    try:
        fail_share = float(fail_share)
    except (TypeError, ValueError):
        raise MailTLSError('tlsrpt: the failure share threshold must be a number (percent), not %r' % (fail_share,))
    if not 0 <= fail_share <= 100:
        raise MailTLSError('tlsrpt: the failure share threshold must be 0 to 100 (percent), not %s' % fail_share)
    reports, malformed, domains, failures = 0, [], {}, {}
    for i, result in enumerate(results):
        if not isinstance(result, dict) or not isinstance(result.get('summary'), list) \
                or not isinstance(result.get('failures'), list):
            raise MailTLSError('tlsrpt: result %d is not a tlsrpt_read result (summary and failures lists)' % i)
        reports += int(result.get('reports') or 0)
        malformed += list(result.get('malformed') or [])
        for row in result['summary']:
            d = domains.setdefault(row['policy_domain'], {'success': 0, 'failure': 0, 'types': set(), 'orgs': set(),
                                                          'days': set()})
            d['success'] += row['success']
            d['failure'] += row['failure']
            d['types'].add(row['policy_type'])
            d['orgs'].add(row['organization'])
            d['days'].add(row['day'])
        for row in result['failures']:
            f = failures.setdefault((row['policy_domain'], row['receiving_mx'] or '-', row['result_type']),
                                    {'sessions': 0, 'mtas': set(), 'orgs': set()})
            f['sessions'] += row['sessions']
            if row.get('sending_mta_ip'):
                f['mtas'].add(row['sending_mta_ip'])
            f['orgs'].add(row['organization'])
    sessions = dict((name, d['success'] + d['failure']) for name, d in domains.items())
    by_type = {}
    failure_rows = []
    for (domain, mx, rtype), f in sorted(failures.items(), key=lambda kv: (-kv[1]['sessions'], kv[0])):
        failure_rows.append({'policy_domain': domain, 'receiving_mx': mx, 'result_type': rtype,
                             'sessions': f['sessions'], 'share': _share(f['sessions'], sessions.get(domain, 0)),
                             'sending_mtas': sorted(f['mtas']), 'organizations': sorted(f['orgs'])})
        t = by_type.setdefault((domain, rtype), {'sessions': 0, 'mx': []})
        t['sessions'] += f['sessions']
        t['mx'].append(mx)
    out, severities = [], {}
    for (domain, rtype), t in sorted(by_type.items()):
        share = _share(t['sessions'], sessions.get(domain, 0))
        severity = severities[(domain, rtype)] = 'bad' if share is None or share > fail_share else 'warn'
        out.append({'severity': severity, 'policy_domain': domain, 'result_type': rtype, 'sessions': t['sessions'],
                    'share': share, 'mx': sorted(t['mx']),
                    'text': '%s: senders reported %d session(s) failing with %s at %s (%s of %d sessions; over %s%% is bad)'
                            % (domain, t['sessions'], rtype, ', '.join(sorted(t['mx'])),
                               '-' if share is None else '%g%%' % share, sessions.get(domain, 0), '%g' % fail_share)})
    for f in failure_rows:
        f['severity'] = severities[(f['policy_domain'], f['result_type'])]
    out.sort(key=lambda x: (x['severity'] != 'bad', -x['sessions'], x['policy_domain'], x['result_type']))
    domain_rows = [{'policy_domain': name, 'policy_types': sorted(d['types']), 'organizations': len(d['orgs']),
                    'days': len(d['days']), 'success': d['success'], 'failure': d['failure'],
                    'sessions': sessions[name], 'success_share': _share(d['success'], sessions[name])}
                   for name, d in sorted(domains.items())]
    success = sum(d['success'] for d in domain_rows)
    total = sum(d['sessions'] for d in domain_rows)
    return {'reports': reports, 'malformed': malformed, 'domains': domain_rows, 'failures': failure_rows,
            'findings': out, 'fail_share': fail_share,
            'fleet': {'success': success, 'failure': total - success, 'sessions': total,
                      'success_share': _share(success, total)}}


__all__ = ['CONTENT_TYPES', 'FAIL_SHARE', 'MAX_REPORT_BYTES', 'POLICY_TYPES', 'ReportError', 'check', 'decode',
           'findings', 'parts_of_message', 'read', 'sources']
