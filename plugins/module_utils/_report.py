# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report stage: what was seen per endpoint, and the posture report built from tls_policy_check results,
rendered as Markdown or one self-contained HTML page.

Private to the mailtls.postfix collection; not a public API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._judge import SEVERITIES, endpoint_label, worst
from ansible_collections.mailtls.postfix.plugins.module_utils._options import EXPIRY_WARN_DAYS
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import served_keys
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import FAIL_SHARE, findings as tlsrpt_findings

from html import escape as _html_escape

STATUS_WORDS = {'delivers': 'yes', 'degraded': 'yes, degraded', 'fails': 'no', 'unknown': 'unknown'}
TRUST_ORDER = ('verified', 'trusted', 'untrusted', 'none')
SEVERITY_ORDER = SEVERITIES[::-1]  # worst first


def pki_trust(endpoint):
    """What the certificate proves without pins, in Postfix's words for a session.

    ``verified``: the chain verifies and the names match the destination; ``trusted``: the chain
    verifies, the names do not match; ``untrusted``: TLS, but the chain does not verify (self-signed,
    unknown CA, expired); ``none``: no TLS session (no STARTTLS, or the probe failed before it).
    An endpoint with several keys gets the word of its weakest key.
    """
    keys = served_keys(endpoint)
    if endpoint.get('certificate') is None or not keys:
        return 'none'
    if not all(k.get('chain_verified') for k in keys):
        return 'untrusted'
    return 'verified' if all(k.get('name_verified') for k in keys) else 'trusted'


def endpoint_facts(endpoint):
    """The facts a posture report shows for one probed endpoint."""
    cert = endpoint.get('certificate') or {}
    tls = endpoint.get('tls') or {}
    keys = served_keys(endpoint)
    # the soonest expiry over every key the endpoint holds
    expiring = min(keys, key=lambda k: k['certificate'].get('days_remaining', 0))['certificate'] if keys else cert
    return {'starttls': endpoint.get('starttls'), 'trust': pki_trust(endpoint),
            'tls_version': tls.get('version'), 'key_type': cert.get('key_type'), 'key_bits': cert.get('key_bits'),
            'keys': [' '.join(str(p) for p in (k['certificate'].get('key_type'), k['certificate'].get('key_bits')) if p)
                     for k in keys],
            'not_after': expiring.get('not_after'), 'days_remaining': expiring.get('days_remaining'),
            'error': endpoint.get('error')}


def with_facts(verdicts, probe_results):
    """Add to each endpoint of each verdict (judge's output) the facts a report shows (endpoint_facts)."""
    by_key = dict((r['key'], r) for r in probe_results or [])
    for verdict in verdicts:
        result = by_key.get(verdict['destination'])
        if result is not None and not verdict['destination'].startswith('.'):
            for seen, endpoint in zip(verdict['endpoints'], result['endpoints']):
                seen.update(endpoint_facts(endpoint))
    return verdicts


def _row_severity(check, endpoint, warn_days):
    """'bad', 'warn' or 'ok', and why, for one endpoint of one deployed entry."""
    if endpoint is None:
        return ('bad', check.get('reason') or 'no endpoint') if check.get('status') == 'fails' else \
            ('warn', check.get('reason') or 'not judged')
    if endpoint.get('ok') is False:
        return 'bad', endpoint.get('reason') or 'fails'
    days = endpoint.get('days_remaining')
    if days is not None and days < 0:
        return 'bad', 'certificate expired %d days ago' % -days
    if days is not None and days < warn_days:
        return 'warn', 'certificate expires in %d days' % days
    if endpoint.get('ok') is None:
        return 'warn', endpoint.get('reason') or 'not judged'
    if endpoint.get('trust') == 'none':
        return 'warn', 'mail goes in clear (%s)' % (endpoint.get('error') or 'no TLS')
    return 'ok', endpoint.get('reason') or ''


def build(hosts, warn_days=EXPIRY_WARN_DAYS, generated=None, probe=None, fail_share=FAIL_SHARE):
    """The report as data: summary counts, problems and one row per host x destination x endpoint.

    ``hosts``: mapping of mail host name to the return value of tls_policy_check (``checks``), with an
    optional ``defaulted`` list: destinations checked at the host's smtp_tls_security_level because the
    map has no entry for them, an optional ``maillog``: the host's tls_maillog result (the mail it sent), and an
    optional ``explicit``: the levels of the host's explicit entries by destination (they win in harden).
    ``probe``: a gather record (its ``results``), for what harden would do for a next hop. An optional ``tlsrpt``
    per host, a list of tlsrpt_read results (the reports senders sent to mailboxes that host reads), adds what
    senders saw; a failure type over ``fail_share`` percent of a policy domain's sessions is a bad problem.

    The problems are the destination rows, the own-port rows and the senders' failure types that are not ok,
    worst first; the summary counts them all.
    """
    if not isinstance(hosts, dict):
        raise MailTLSError('report: expected a mapping of host name to tls_policy_check results, got %s'
                           % type(hosts).__name__)
    rows = []
    for host in sorted(hosts):
        data = hosts[host]
        if not isinstance(data, dict) or not isinstance(data.get('checks'), list):
            raise MailTLSError('report: %s has no tls_policy_check results (a dict with a checks list)' % host)
        defaulted = data.get('defaulted') or []
        for check in data['checks']:
            base = {'host': host, 'destination': check.get('destination'), 'level': check.get('level'),
                    'level_source': 'default' if check.get('destination') in defaulted else 'map',
                    'status': check.get('status', 'unknown'),
                    'delivery': STATUS_WORDS.get(check.get('status'), 'unknown')}
            endpoints = check.get('endpoints') or []
            if not endpoints:
                severity, note = _row_severity(check, None, warn_days)
                row = dict(base, endpoint='-', trust='none', tls_version=None, key=None, days_remaining=None,
                           not_after=None, ok=None, severity=severity, note=note)
                rows.append(row)
                continue
            for ep in endpoints:
                severity, note = _row_severity(check, ep, warn_days)
                where = endpoint_label(ep)
                if note.startswith(where + ': '):
                    note = note[len(where) + 2:]  # the row names the endpoint already
                key = None
                if ep.get('keys'):
                    key = ' + '.join(ep['keys'])
                elif ep.get('key_type'):
                    key = '%s %s' % (ep['key_type'], ep['key_bits']) if ep.get('key_bits') else ep['key_type']
                rows.append(dict(base, endpoint=where,
                                 trust=ep.get('trust') or 'none', tls_version=ep.get('tls_version'), key=key,
                                 days_remaining=ep.get('days_remaining'), not_after=ep.get('not_after'),
                                 ok=ep.get('ok'), severity=severity, note=note))
    # one (status, level) per host x destination, the first row's, in one pass
    pairs = {}
    for row in rows:
        pairs.setdefault((row['host'], row['destination']), (row['status'], row['level']))
    delivery = dict((s, 0) for s in ('delivers', 'degraded', 'fails', 'unknown'))
    levels = {}
    for status, level in pairs.values():
        if status in delivery:
            delivery[status] += 1
        levels[level] = levels.get(level, 0) + 1
    summary = {
        'hosts': len(hosts),
        'destinations': len(pairs),
        'endpoints': len([r for r in rows if r['endpoint'] != '-']),
        'delivery': delivery,
        'trust': dict((t, len([r for r in rows if r['endpoint'] != '-' and r['trust'] == t])) for t in TRUST_ORDER),
        'levels': levels,
        'expiring': len([r for r in rows if r['days_remaining'] is not None and r['days_remaining'] < warn_days]),
    }
    own = own_rows(hosts)
    summary['own'] = dict((sev, len([r for r in own if r['severity'] == sev])) for sev in SEVERITY_ORDER)
    senders = senders_section(hosts, fail_share)
    problems = [dict(r, kind='destination') for r in rows if r['severity'] != 'ok']
    problems += [{'kind': 'own', 'severity': r['severity'], 'host': r['host'], 'port': r['port'],
                  'protocol': r['protocol'], 'note': r['note']} for r in own if r['severity'] != 'ok']
    if senders:
        summary['senders'] = dict(senders['fleet'], reports=senders['reports'], malformed=len(senders['malformed']))
        problems += [dict(f, kind='senders', host='-', note=f['text']) for f in senders['findings']]
    problems.sort(key=lambda r: (SEVERITY_ORDER.index(r['severity']), PROBLEM_KINDS.index(r['kind']), r['host'],
                                 str(r.get('destination') or r.get('port') or r.get('policy_domain'))))
    summary['problems'] = len(problems)
    tlsa = {}
    for host in sorted(hosts):
        records = hosts[host].get('tlsa') or []
        if not isinstance(records, list) or not all(isinstance(r, str) for r in records):
            raise MailTLSError('report: tlsa of %s must be a list of zone-file lines' % host)
        if records:
            tlsa[host] = records
    volume = volume_section(hosts, probe)
    if volume:
        summary['volume'] = volume['fleet']
    return {'generated': generated, 'warn_days': warn_days, 'summary': summary, 'problems': problems, 'rows': rows,
            'tlsa': tlsa, 'own': own, 'volume': volume, 'senders': senders}


PROBLEM_KINDS = ('destination', 'own', 'senders')


def senders_section(hosts, fail_share=FAIL_SHARE):
    """What senders reported about the fleet's MX hosts (SMTP TLS reports, RFC 8460), from each host's ``tlsrpt``:
    a list of tlsrpt_read results. None when no host read any."""
    results = []
    for host in sorted(hosts):
        found = hosts[host].get('tlsrpt')
        if found is None:
            continue
        if isinstance(found, dict):
            found = [found]
        if not isinstance(found, list):
            raise MailTLSError('report: tlsrpt of %s must be a list of tlsrpt_read results' % host)
        for i, result in enumerate(found):
            if not isinstance(result, dict) or not isinstance(result.get('summary'), list):
                raise MailTLSError('report: tlsrpt[%d] of %s is not a tlsrpt_read result (no summary list)' % (i, host))
            results.append(dict(result, malformed=[dict(m, host=host) for m in result.get('malformed') or []]))
    if not results:
        return None
    return tlsrpt_findings(results, fail_share)


AUTHENTICATING = ('fingerprint', 'secure', 'verify', 'dane', 'dane-only')
VOLUME_CLASSES = (('verified', 'authenticated TLS (Verified)'), ('unauthenticated', 'TLS, not authenticated'),
                  ('clear', 'in clear'))


def _shares(counts):
    total = sum(counts.get(c, 0) for c, dummy in VOLUME_CLASSES)
    out = dict((c, counts.get(c, 0)) for c, dummy in VOLUME_CLASSES)
    out['delivered'] = total
    out['shares'] = dict((c, round(100.0 * out[c] / total, 1) if total else None) for c, dummy in VOLUME_CLASSES)
    return out


def _harden_says(nexthop, level, probe, explicit=None):
    """What harden does for a next hop: explicit entries win over probe recommendations (tls_policy_decide)."""
    if level in AUTHENTICATING:
        return 'deployed: %s (what is sent from now on is authenticated)' % level
    recommended = None
    for result in (probe or {}).get('results') or []:
        if result.get('destination') == nexthop or result.get('key') == nexthop:
            policy = result.get('policy') or {}
            recommended = '%s (%s)' % (result.get('policy_line') or policy.get('level'), policy.get('reason') or 'probe')
            break
    if nexthop in (explicit or {}):
        return 'keeps the explicit entry: %s (postfix_tls_policies wins over the probe%s)' % (
            explicit[nexthop], ', which recommends ' + recommended if recommended else '')
    if recommended:
        return 'harden: ' + recommended
    return 'not probed: name it in mailtls_destinations, or let gather read the log (mailtls_log_destinations)'


def volume_section(hosts, probe=None, top=10):
    """The share of delivered mail by TLS outcome, per host, for the fleet and per day, and the busiest next hops
    whose mail was not authenticated, from each host's tls_maillog result (``maillog``). None without any."""
    logs = dict((h, hosts[h].get('maillog')) for h in sorted(hosts) if hosts[h].get('maillog'))
    if not logs:
        return None
    per_host, days, worst = [], {}, []
    for host, log in logs.items():
        if not isinstance(log, dict) or not isinstance(log.get('nexthops'), list) or not isinstance(log.get('totals'), dict):
            raise MailTLSError('report: maillog of %s must be a tls_maillog result (nexthops and totals)' % host)
        per_host.append(dict(_shares(log['totals']), host=host, deferred=log['totals'].get('deferred', 0),
                             bounced=log['totals'].get('bounced', 0), first=log.get('first'), last=log.get('last'),
                             window=log.get('window') or {}))
        for day in log.get('days') or []:
            into = days.setdefault(day['day'], dict((c, 0) for c, dummy in VOLUME_CLASSES))
            for c, dummy in VOLUME_CLASSES:
                into[c] += day.get(c, 0)
        for hop in log['nexthops']:
            classes = hop.get('classes') or {}
            weak = classes.get('unauthenticated', 0) + classes.get('clear', 0)
            if weak:
                worst.append(dict(_shares(classes), host=host, nexthop=hop['nexthop'], level=hop.get('level'),
                                  not_authenticated=weak,
                                  harden=_harden_says(hop['nexthop'], hop.get('level'), probe, hosts[host].get('explicit'))))
    worst.sort(key=lambda r: (-r['not_authenticated'], r['host'], r['nexthop']))
    fleet = _shares(dict((c, sum(h[c] for h in per_host)) for c, dummy in VOLUME_CLASSES))
    return {'hosts': per_host, 'fleet': fleet, 'top': worst[:top],
            'days': [dict(_shares(days[d]), day=d) for d in sorted(days)]}


def _pct(value):
    return '-' if value is None else '%.1f%%' % value


def _share_cells(r):
    return ['%d (%s)' % (r[c], _pct(r['shares'][c])) for c, dummy in VOLUME_CLASSES]


VOLUME_TITLE = 'Mail sent, weighed by volume'
VOLUME_COLUMNS = ['Delivered'] + [title for dummy, title in VOLUME_CLASSES]


def chart_svg(days, width_per_day=36, height=120):
    """A stacked bar per day of the shares (verified, not authenticated, in clear), inline SVG, no external assets."""
    colours = {'verified': '#0a6b1f', 'unauthenticated': '#d9a400', 'clear': '#b00020'}
    width = max(1, len(days)) * width_per_day + 40
    out = ['<svg id="volume-chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" '
           'aria-label="share of delivered mail by TLS outcome per day">' % (width, height + 30, width, height + 30)]
    out.append('<text x="0" y="10" font-size="10">100%%</text><text x="0" y="%d" font-size="10">0%%</text>' % (height + 4))
    for i, day in enumerate(days):
        x, y = 40 + i * width_per_day, 4.0
        for c, title in VOLUME_CLASSES:
            share = day['shares'][c] or 0.0
            h = height * share / 100.0
            if h > 0:
                out.append('<rect class="%s" x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s %s: %d (%s)</title></rect>'
                           % (c, x, y, width_per_day - 6, h, colours[c], _h(day['day']), _h(title), day[c], _pct(day['shares'][c])))
            y += h
        out.append('<text x="%d" y="%d" font-size="9">%s</text>' % (x, height + 20, _h(day['day'][5:])))
    out.append('</svg>')
    return ''.join(out)


def _kex_hash(kex):
    """The key-exchange hash cell: the weak hashes a server signs with, 'SHA-2 only', or None (not read)."""
    if not kex or (kex.get('sha1') is None and kex.get('sha224') is None):
        return None
    weak = [digest for name, digest in (('sha1', 'SHA-1'), ('sha224', 'SHA-224')) if kex.get(name)]
    return ', '.join(weak) + ' accepted' if weak else 'SHA-2 only'


def own_rows(hosts):
    """One row per host x own port, from each host's tls_server_posture result (``posture``; None: not read)."""
    rows = []
    for host in sorted(hosts):
        posture = hosts[host].get('posture')
        if not posture:
            continue
        if not isinstance(posture, dict) or not isinstance(posture.get('ports'), list):
            raise MailTLSError('report: posture of %s must be a tls_server_posture result (a dict with a ports list)' % host)
        for port in posture['ports']:
            found = [f for f in posture.get('findings') or [] if f.get('port') == port.get('port')]
            severity = worst([(f.get('severity', 'ok'), None) for f in found])
            session, cert, weakest = port.get('session') or {}, port.get('certificate') or {}, port.get('weakest') or {}
            kex = port.get('key_exchange') or {}
            rows.append({
                'host': host, 'port': port.get('port'), 'protocol': '%s (%s)' % (port.get('protocol'), port.get('tls_mode')),
                'versions': ' '.join(port.get('versions') or []) or None, 'weakest': weakest.get('kind') or 'none weak',
                'forward_secrecy': {True: 'yes', False: 'no'}.get(session.get('forward_secrecy')),
                'kex_hash': _kex_hash(kex), 'post_quantum': {True: 'X25519MLKEM768', False: 'no'}.get(kex.get('post_quantum')),
                'chain': {True: 'verifies', False: 'does not verify'}.get(cert.get('chain_verified')),
                'days_remaining': cert.get('days_remaining'), 'severity': severity,
                'note': '; '.join(f.get('text', '') for f in found if f.get('severity') != 'ok') or 'nothing to report'})
        for finding in [f for f in posture.get('findings') or [] if f.get('port') is None]:
            # a finding of a domain the host receives mail for (MTA-STS), not of a port
            rows.append({'host': host, 'port': '-', 'protocol': 'MTA-STS', 'versions': None, 'weakest': None,
                         'forward_secrecy': None, 'kex_hash': None, 'post_quantum': None, 'chain': None, 'days_remaining': None,
                         'severity': finding.get('severity', 'ok'), 'note': finding.get('text', '')})
    return rows


COLUMNS = (('host', 'Mail host'), ('destination', 'Destination'), ('level', 'Level'), ('delivery', 'Delivers'),
           ('endpoint', 'MX endpoint'), ('tls_version', 'TLS'), ('key', 'Key'), ('days_remaining', 'Days left'),
           ('trust', 'Trust'), ('note', 'Note'))


OWN_COLUMNS = (('host', 'Mail host'), ('port', 'Port'), ('protocol', 'Protocol'), ('versions', 'TLS versions'),
               ('weakest', 'Weakest suites'), ('forward_secrecy', 'Forward secrecy'), ('kex_hash', 'Key-exchange hash'),
               ('post_quantum', 'Post-quantum'), ('chain', 'Chain'),
               ('days_remaining', 'Days left'), ('note', 'Finding'))
OWN_TITLE = "The fleet's own servers, as senders and mail clients meet them"


def _cell(row, name):
    value = row.get(name)
    if name == 'level' and row.get('level_source') == 'default':
        return '%s (default)' % value
    if value is None or value == '':
        return '-'
    return str(value)


def _md(text):
    return str(text).replace('\\', '\\\\').replace('|', '\\|').replace('\n', ' ')


def _summary_lines(report):
    s = report['summary']
    return [
        ('Mail hosts', s['hosts']),
        ('Destinations (host x destination)', s['destinations']),
        ('Deliver', s['delivery']['delivers']),
        ('Deliver, some MX fail (degraded)', s['delivery']['degraded']),
        ('Would not deliver', s['delivery']['fails']),
        ('Not judged', s['delivery']['unknown']),
        ('MX endpoints', s['endpoints']),
        ('Trust: verified / trusted / untrusted / none', ' / '.join(str(s['trust'][t]) for t in TRUST_ORDER)),
        ('Levels', ', '.join('%s %d' % (k, v) for k, v in sorted(s['levels'].items())) or '-'),
        ('Certificates expiring within %d days' % report['warn_days'], s['expiring']),
        ('Problems', s['problems']),
    ] + ([('Own ports: bad / warn / ok', ' / '.join(str(s['own'][v]) for v in SEVERITY_ORDER))]
         if sum(s.get('own', {}).values()) else []) + (
        [('Mail sent: authenticated / not authenticated / in clear',
          ' / '.join(_pct(s['volume']['shares'][c]) for c, dummy in VOLUME_CLASSES))] if s.get('volume') else []) + (
        [(SENDERS_SUMMARY, '%s of %d sessions' % (_pct(s['senders']['success_share']), s['senders']['sessions']))]
        if s.get('senders') else [])


SENDERS_TITLE = 'What senders saw (their SMTP TLS reports)'
SENDERS_SUMMARY = 'Senders report successful (TLSRPT)'
SENDERS_DOMAIN_COLUMNS = ('Policy domain', 'Policy types', 'Organisations', 'Days', 'Sessions', 'Successful', 'Failed',
                          'Success share')
SENDERS_FAILURE_COLUMNS = ('Policy domain', 'Receiving MX', 'Result type', 'Failed sessions',
                           "Share of the domain's sessions", 'Sending MTAs', 'Reported by')


def _domain_cells(d):
    return [d['policy_domain'], ', '.join(d['policy_types']), str(d['organizations']), str(d['days']),
            str(d['sessions']), str(d['success']), str(d['failure']), _pct(d['success_share'])]


def _failure_cells(f):
    return [f['policy_domain'], f['receiving_mx'], f['result_type'], str(f['sessions']), _pct(f['share']),
            ', '.join(f['sending_mtas']) or '-', ', '.join(f['organizations'])]


def _problem_text(r):
    """One problem as a line of text, without its severity."""
    if r['kind'] == 'own':
        return '%s port %s (%s): %s' % (r['host'], r['port'], r['protocol'], r['note'])
    if r['kind'] == 'senders':
        return 'senders report %s' % r['note']
    return '%s -> %s (%s) %s: %s' % (r['host'], r['destination'], _cell(r, 'level'), r['endpoint'], r['note'])


def render_markdown(report):
    out = ['# Mail TLS posture', '']
    if report.get('generated'):
        out += ['Generated %s.' % report['generated'], '']
    out += ['| Summary | |', '|---|---:|']
    out += ['| %s | %s |' % (_md(k), _md(v)) for k, v in _summary_lines(report)]
    out += ['', '## Problems', '']
    if report['problems']:
        for r in report['problems']:
            out.append('- **%s** %s' % (r['severity'].upper(), _md(_problem_text(r))))
    else:
        out.append('None.')
    out += ['', '## Destinations', '',
            '| %s |' % ' | '.join(title for dummy, title in COLUMNS),
            '|%s|' % '|'.join('---' for dummy in COLUMNS)]
    for r in report['rows']:
        cells = [_md(_cell(r, name)) for name, dummy in COLUMNS]
        if r['severity'] != 'ok':
            cells[3] = '**%s** (%s)' % (cells[3], r['severity'])
        out.append('| %s |' % ' | '.join(cells))
    out += ['', 'Trust is what the certificate proves without pins: verified (chain verifies, names match), '
            'trusted (chain verifies, names do not match), untrusted (TLS, chain does not verify), none (no TLS). '
            'Delivers is whether Postfix would deliver under the deployed level now.', '']
    if report.get('own'):
        out += ['## %s' % OWN_TITLE, '', '| %s |' % ' | '.join(title for dummy, title in OWN_COLUMNS),
                '|%s|' % '|'.join('---' for dummy in OWN_COLUMNS)]
        for r in report['own']:
            cells = [_md(_cell(r, name)) for name, dummy in OWN_COLUMNS]
            if r['severity'] != 'ok':
                cells[-1] = '**%s** %s' % (r['severity'].upper(), cells[-1])
            out.append('| %s |' % ' | '.join(cells))
        out.append('')
    volume = report.get('volume')
    if volume:
        out += ['## %s' % VOLUME_TITLE, '', '| Mail host | %s | Deferred | Bounced |' % ' | '.join(VOLUME_COLUMNS),
                '|---|---:|---:|---:|---:|---:|---:|']
        for r in volume['hosts']:
            out.append('| %s | %d | %s | %d | %d |' % (_md(r['host']), r['delivered'], ' | '.join(_share_cells(r)),
                                                       r['deferred'], r['bounced']))
        f = volume['fleet']
        out += ['| **fleet** | %d | %s | | |' % (f['delivered'], ' | '.join(_share_cells(f))), '',
                '### Busiest next hops whose mail was not authenticated', '']
        if volume['top']:
            out += ['| Mail host | Next hop | Level | Not authenticated | %s | What harden does |' % ' | '.join(VOLUME_COLUMNS),
                    '|---|---|---|---:|---:|---:|---:|---:|---|']
            for r in volume['top']:
                out.append('| %s | %s | %s | %d | %d | %s | %s |' % (
                    _md(r['host']), _md(r['nexthop']), _md(r['level'] or '-'), r['not_authenticated'], r['delivered'],
                    ' | '.join(_share_cells(r)), _md(r['harden'])))
        else:
            out.append('None: every message delivered in the window went over authenticated TLS.')
        out += ['', '### Per day', '', '| Day | %s |' % ' | '.join(VOLUME_COLUMNS), '|---|---:|---:|---:|---:|']
        for r in volume['days']:
            out.append('| %s | %d | %s |' % (r['day'], r['delivered'], ' | '.join(_share_cells(r))))
        out += ['', 'Counted from each host\'s mail log (tls_maillog): messages delivered, by the trust Postfix '
                'logged for the session that delivered them.', '']
    senders = report.get('senders')
    if senders:
        out += ['## %s' % SENDERS_TITLE, '', '%d report(s) read%s; a failure type over %g%% of a domain\'s sessions is '
                'bad.' % (senders['reports'], ', %d could not be read' % len(senders['malformed']) if senders['malformed']
                          else '', senders['fail_share']), '',
                '| %s |' % ' | '.join(SENDERS_DOMAIN_COLUMNS), '|---|---|---:|---:|---:|---:|---:|---:|']
        for d in senders['domains']:
            out.append('| %s |' % ' | '.join(_md(c) for c in _domain_cells(d)))
        f = senders['fleet']
        out += ['| **all** | | | | %d | %d | %d | %s |' % (f['sessions'], f['success'], f['failure'],
                                                           _pct(f['success_share'])),
                '', '### Failures by type and MX', '']
        if senders['failures']:
            out += ['| %s |' % ' | '.join(SENDERS_FAILURE_COLUMNS), '|---|---|---|---:|---:|---|---|']
            for r in senders['failures']:
                cells = [_md(c) for c in _failure_cells(r)]
                cells[2] = '**%s** (%s)' % (cells[2], r['severity'])
                out.append('| %s |' % ' | '.join(cells))
        else:
            out.append('None: every session reported succeeded.')
        if senders['malformed']:
            out += ['', '### Reports that could not be read', '']
            out += ['- %s: %s: %s' % (_md(m['host']), _md(m['source']), _md(m['reason'])) for m in senders['malformed']]
        out += ['', 'Read from the reports that senders mailed to the rua of the fleet\'s _smtp._tls records '
                '(tlsrpt_read): the sessions they made to our MX hosts, by the result RFC 8460 names.', '']
    if report.get('tlsa'):
        out += ['## DANE TLSA records of the fleet\'s own MX hosts', '',
                'To publish in the DNSSEC-signed zones of the MX names (current and next keys):', '', '```']
        for host, records in sorted(report['tlsa'].items()):
            out += ['; %s' % host] + records
        out += ['```', '']
    return '\n'.join(out)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#1b1b1b}
h1{margin:0 0 .3rem 0}
table{border-collapse:collapse;margin:.8rem 0}
th,td{border:1px solid #c8c8c8;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f3}
table.summary th{font-size:.85em;font-weight:600}
table.summary td.n{text-align:center;font-variant-numeric:tabular-nums;font-size:1.2em}
table.summary td.bad{background:#fbd0ce;color:#b00020;font-weight:700}
table.summary td.warn{background:#ffecb0;font-weight:700}
tr.bad td{background:#fde2e1}
tr.warn td{background:#fff4cc}
tr.ok td.delivers{background:#dff5e1}
td.trust-verified{color:#0a6b1f;font-weight:600}
td.trust-trusted{color:#3d5a99}
td.trust-untrusted{color:#9a5b00}
td.trust-none{color:#b00020;font-weight:600}
span.badge{display:inline-block;padding:0 .4rem;border-radius:.6rem;font-size:.85em;color:#fff}
span.bad{background:#b00020}
span.warn{background:#9a6b00}
span.ok{background:#0a6b1f}
p.legend{color:#555;font-size:.9em;max-width:60rem}
table{max-width:100%}
td,th{overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
svg{max-width:100%;height:auto}
"""


def _h(text):
    return _html_escape(str(text), quote=True)


def render_html(report):
    s = report['summary']
    out = ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">',
           '<title>Mail TLS posture</title>', '<style>%s</style>' % _CSS, '</head>', '<body>',
           '<h1>Mail TLS posture</h1>']
    if report.get('generated'):
        out.append('<p>Generated %s.</p>' % _h(report['generated']))
    own = s.get('own') or {}
    senders_bad = [p for p in report['problems'] if p['kind'] == 'senders' and p['severity'] == 'bad']
    verdict = 'bad' if s['delivery']['fails'] or own.get('bad') or senders_bad else (
        'warn' if s['problems'] or own.get('warn') else 'ok')
    if s['delivery']['fails']:
        bad_words = 'some destinations would not deliver'
    elif own.get('bad'):
        bad_words = 'an own port lets mail or a password travel in clear'
    else:
        bad_words = 'senders report failed TLS sessions to our MX hosts'
    out.append('<p id="verdict"><span class="badge %s">%s</span></p>' % (
        verdict, {'bad': bad_words, 'warn': 'problems to look at', 'ok': 'no problems'}[verdict]))
    lines = _summary_lines(report)
    alarm = {'Would not deliver': 'bad', 'Problems': 'bad' if [p for p in report['problems'] if p['severity'] == 'bad']
             else 'warn', 'Deliver, some MX fail (degraded)': 'warn',
             'Own ports: bad / warn / ok': 'bad' if s.get('own', {}).get('bad') else 'warn'}
    out.append('<table class="summary" id="summary"><thead><tr>%s</tr></thead><tbody><tr>%s</tr></tbody></table>' % (
        ''.join('<th>%s</th>' % _h(k) for k, v in lines),
        ''.join('<td class="n%s">%s</td>' % (' ' + alarm.get(k, 'warn' if k.startswith('Certificates') else '')
                                             if v not in (0, '0') and (k in alarm or k.startswith('Certificates'))
                                             and not (k.startswith('Own ports') and not s['own']['bad'] + s['own']['warn'])
                                             else '', _h(v)) for k, v in lines)))
    out.append('<h2>Problems</h2>')
    if report['problems']:
        out.append('<ul id="problems">')
        for r in report['problems']:
            out.append('<li class="%s" data-kind="%s"><span class="badge %s">%s</span> %s</li>' % (
                r['severity'], r['kind'], r['severity'], r['severity'], _h(_problem_text(r)).replace(' -&gt; ', ' &rarr; ')))
        out.append('</ul>')
    else:
        out.append('<p id="problems">None.</p>')
    out.append('<h2>Destinations</h2>')
    out.append('<table id="posture"><thead><tr>%s</tr></thead><tbody>' % ''.join(
        '<th>%s</th>' % _h(title) for dummy, title in COLUMNS))
    for r in report['rows']:
        cells = []
        for name, dummy in COLUMNS:
            cls = name
            if name == 'trust':
                cls = 'trust trust-%s' % r['trust']
            elif name == 'delivery':
                cls = 'delivers'
            cells.append('<td class="%s">%s</td>' % (cls, _h(_cell(r, name))))
        out.append('<tr class="%s" data-status="%s">%s</tr>' % (r['severity'], _h(r['status']), ''.join(cells)))
    out.append('</tbody></table>')
    out.append('<p class="legend">Trust is what the certificate proves without pins: verified (chain verifies, '
               'names match), trusted (chain verifies, names do not match), untrusted (TLS, chain does not verify), '
               'none (no TLS). Delivers is whether Postfix would deliver under the deployed level now. Rows in red '
               'would not take mail; amber needs a look (degraded, expiring within %d days, mail in clear, not '
               'judged).</p>' % report['warn_days'])
    if report.get('own'):
        out.append('<h2>%s</h2>' % _h(OWN_TITLE))
        out.append('<table id="own"><thead><tr>%s</tr></thead><tbody>' % ''.join(
            '<th>%s</th>' % _h(title) for dummy, title in OWN_COLUMNS))
        for r in report['own']:
            out.append('<tr class="%s">%s</tr>' % (r['severity'], ''.join(
                '<td class="%s">%s</td>' % (name, _h(_cell(r, name))) for name, dummy in OWN_COLUMNS)))
        out.append('</tbody></table>')
        out.append('<p class="legend">Red: a password or mail can travel in clear, or where users log in TLS below 1.2, '
                   'anonymous suites or a chain that does not verify. Amber: what public mail-TLS tests mark on port 25 '
                   '(TLS 1.0/1.1, CBC, suites without forward secrecy, finite-field DHE), a certificate that expires soon, '
                   'a port that could not be reached.</p>')
    volume = report.get('volume')
    if volume:
        out.append('<h2>%s</h2>' % _h(VOLUME_TITLE))
        out.append('<table id="volume"><thead><tr><th>Mail host</th>%s<th>Deferred</th><th>Bounced</th></tr></thead><tbody>'
                   % ''.join('<th>%s</th>' % _h(c) for c in VOLUME_COLUMNS))
        for r in volume['hosts'] + [dict(volume['fleet'], host='fleet', deferred='', bounced='')]:
            out.append('<tr class="%s"><td>%s</td><td class="n">%s</td>%s<td class="n">%s</td><td class="n">%s</td></tr>' % (
                'bad' if r['clear'] else ('warn' if r['unauthenticated'] else 'ok'), _h(r['host']), r['delivered'],
                ''.join('<td class="n %s">%s</td>' % (c, _h(cell)) for (c, dummy), cell in zip(VOLUME_CLASSES, _share_cells(r))),
                _h(r['deferred']), _h(r['bounced'])))
        out.append('</tbody></table>')
        out.append(chart_svg(volume['days']))
        out.append('<h3>Busiest next hops whose mail was not authenticated</h3>')
        if volume['top']:
            out.append('<table id="unauthenticated"><thead><tr><th>Mail host</th><th>Next hop</th><th>Level</th>'
                       '<th>Not authenticated</th>%s<th>What harden does</th></tr></thead><tbody>'
                       % ''.join('<th>%s</th>' % _h(c) for c in VOLUME_COLUMNS))
            for r in volume['top']:
                out.append('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td class="n">%d</td><td class="n">%d</td>%s<td>%s</td></tr>'
                           % ('bad' if r['clear'] else 'warn', _h(r['host']), _h(r['nexthop']), _h(r['level'] or '-'),
                              r['not_authenticated'], r['delivered'], ''.join('<td class="n">%s</td>' % _h(c) for c in _share_cells(r)),
                              _h(r['harden'])))
            out.append('</tbody></table>')
        else:
            out.append('<p id="unauthenticated">None: every message delivered in the window went over authenticated TLS.</p>')
        out.append('<p class="legend">Counted from each host\'s mail log (tls_maillog): messages delivered, by the trust '
                   'Postfix logged for the session that delivered them (Verified; Trusted, Untrusted or Anonymous; no TLS). '
                   'The chart shows the shares per day (green authenticated, amber not authenticated, red in clear).</p>')
    senders = report.get('senders')
    if senders:
        out.append('<h2>%s</h2>' % _h(SENDERS_TITLE))
        out.append('<p>%d report(s) read%s; a failure type over %g%% of a domain\'s sessions is bad (red).</p>' % (
            senders['reports'], ', %d could not be read' % len(senders['malformed']) if senders['malformed'] else '',
            senders['fail_share']))
        out.append('<table id="senders-domains"><thead><tr>%s</tr></thead><tbody>' % ''.join(
            '<th>%s</th>' % _h(c) for c in SENDERS_DOMAIN_COLUMNS))
        for d in senders['domains']:
            worst_here = [f['severity'] for f in senders['failures'] if f['policy_domain'] == d['policy_domain']]
            cls = 'bad' if 'bad' in worst_here else ('warn' if worst_here else 'ok')
            out.append('<tr class="%s">%s</tr>' % (cls, ''.join('<td>%s</td>' % _h(c) for c in _domain_cells(d))))
        f = senders['fleet']
        out.append('<tr class="total"><td>all</td><td></td><td></td><td></td><td>%d</td><td>%d</td><td>%d</td><td>%s</td></tr>'
                   % (f['sessions'], f['success'], f['failure'], _h(_pct(f['success_share']))))
        out.append('</tbody></table>')
        out.append('<h3>Failures by type and MX</h3>')
        if senders['failures']:
            out.append('<table id="senders"><thead><tr>%s</tr></thead><tbody>' % ''.join(
                '<th>%s</th>' % _h(c) for c in SENDERS_FAILURE_COLUMNS))
            for r in senders['failures']:
                out.append('<tr class="%s">%s</tr>' % (r['severity'], ''.join('<td>%s</td>' % _h(c) for c in _failure_cells(r))))
            out.append('</tbody></table>')
        else:
            out.append('<p id="senders">None: every session reported succeeded.</p>')
        if senders['malformed']:
            out.append('<h3>Reports that could not be read</h3><ul id="senders-malformed">%s</ul>' % ''.join(
                '<li>%s: %s: %s</li>' % (_h(m['host']), _h(m['source']), _h(m['reason'])) for m in senders['malformed']))
        out.append('<p class="legend">Read from the reports that senders mailed to the rua of the fleet\'s _smtp._tls '
                   'records (tlsrpt_read): the sessions they made to our MX hosts, by the result RFC 8460 names. Red: a '
                   'failure type over the threshold of its domain\'s sessions; amber: below it.</p>')
    if report.get('tlsa'):
        out.append("<h2>DANE TLSA records of the fleet's own MX hosts</h2>")
        out.append('<p>To publish in the DNSSEC-signed zones of the MX names (current and next keys):</p>')
        out.append('<pre id="tlsa">%s</pre>' % _h('\n'.join(
            line for host, records in sorted(report['tlsa'].items()) for line in ['; %s' % host] + records)))
    out += ['</body>', '</html>', '']
    return '\n'.join(out)


def render(report, fmt):
    if fmt in ('markdown', 'md'):
        return render_markdown(report)
    if fmt == 'html':
        return render_html(report)
    if fmt == 'data':
        return report
    raise MailTLSError("report: format must be markdown, html or data, got %r" % (fmt,))


__all__ = ['OWN_COLUMNS', 'PROBLEM_KINDS', 'build', 'chart_svg', 'endpoint_facts', 'own_rows', 'pki_trust', 'render', 'render_html', 'render_markdown',
           'senders_section', 'volume_section', 'with_facts']
