# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: the DANE rollover gate: may a host switch to its next key now? Private to mailtls.postfix.

RFC 7671 section 8.1 ("current + next"): the record of the next key is published
first, and the switch waits until every resolver that may still hold the old
RRset has dropped it. A resolver that fetched the RRset just before the new
record appeared keeps the old one for up to its TTL, so the switch is safe once
the new record has been seen, validated (AD bit), for at least that TTL.

We cannot know when the record was published, only when we first saw it: the
gate keeps, per TLSA name, the record's data, the time it was first seen with
the AD bit and the largest TTL seen (the RRSIG's original TTL where the
resolver returns it). A record that disappears, or a different next key,
starts the clock again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.mailtls.postfix.plugins.module_utils._dns import key_matches
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError, parse_json


def _iso(when):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))


def _record(name, data):
    return '%s. IN TLSA 3 1 1 %s' % (name, data)


def gate(lookups, next_data, state, now, min_ttl=0):
    """Judge the next key's records. ``lookups``: Resolver.tlsa() answers, one per TLSA name; ``next_data``: the
    next key's 3 1 1 association data (hex); ``state``: what earlier runs saw ({name: {data, first_seen, ttl}});
    ``min_ttl``: wait at least this long whatever the TTL.

    Returns {'ready', 'names': [per name: name, record, status (missing, unvalidated, failed, waiting, ready),
    reason, first_seen, ttl, ready_at], 'state'}: the new state, for the caller to keep.
    """
    if not lookups:
        raise MailTLSError('no TLSA name to check: postfix_tls_hostnames is empty')
    data = next_data.lower()
    new_state, names = {}, []
    for lookup in lookups:
        name = lookup['name']
        row = {'name': name, 'record': _record(name, data), 'first_seen': None, 'ttl': None, 'ready_at': None}
        names.append(row)
        seen = state.get(name) if isinstance(state.get(name), dict) else {}
        if lookup.get('error'):
            # a failed lookup proves nothing either way: keep what was seen before, do not switch now
            if seen.get('data') == data:
                new_state[name] = seen
            row.update(status='failed', reason='%s: the lookup failed (%s)' % (name, lookup['error']))
            continue
        published = key_matches(lookup['records'], {'3 1 1': data}) is True
        if not published:
            row.update(status='missing', reason='%s is not published (%s)' % (
                row['record'], 'no TLSA record at that name' if not lookup['records']
                else 'the name has %d other record(s)' % len(lookup['records'])))
            continue
        if not lookup['validated']:
            reason = '%s is published but not DNSSEC-validated (no AD bit): DANE senders ignore it' % row['record']
            row.update(status='unvalidated', reason=reason)
            continue
        first = seen['first_seen'] if seen.get('data') == data and isinstance(seen.get('first_seen'), (int, float)) \
            else now
        ttl = max([int(lookup.get('ttl') or 0), int(min_ttl)]
                  + ([int(seen['ttl'])] if seen.get('data') == data and isinstance(seen.get('ttl'), int) else []))
        new_state[name] = {'data': data, 'first_seen': first, 'ttl': ttl}
        row.update(first_seen=_iso(first), ttl=ttl, ready_at=_iso(first + ttl))
        if now - first < ttl:
            reason = '%s is validated, seen since %s (%d s); its TTL is %d s: the switch is safe from %s' % (
                row['record'], _iso(first), now - first, ttl, _iso(first + ttl))
            row.update(status='waiting', reason=reason)
        else:
            row.update(status='ready', reason='%s validated for %d s (TTL %d s)' % (row['record'], now - first, ttl))
    return {'ready': all(r['status'] == 'ready' for r in names), 'names': names, 'state': new_state}


def retired_alive(text, now, where='tlsa-retired.json'):
    """The TLSA records kept for keys a rotation replaced ({pin: until}, the file the role keeps), less those
    whose time has come. ``text``: the file's content (None or '' for none)."""
    if not text:
        return {}
    data = parse_json(text, where, dict, 'a JSON object of pin: time')
    return dict((pin, int(until)) for pin, until in data.items()
                if isinstance(until, (int, float)) and not isinstance(until, bool) and until > now)


def refusal(result):
    """The message of a refused switch: every record that is not ready, and how to proceed."""
    return ('the switch to the next key is refused: %s. Publish the record(s), wait, and run again; '
            'postfix_tls_rollover_force: true switches anyway (DANE senders will defer mail until the record is seen)'
            % '; '.join(r['reason'] for r in result['names'] if r['status'] != 'ready'))


__all__ = ['gate', 'refusal', 'retired_alive']
