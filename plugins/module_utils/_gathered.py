# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: what mx_tls_info saw, saved on the controller as the gather playbook's record, and the
compact result that goes back to the play in its place. Private to mailtls.postfix.

At thousands of destinations the probe's full result is megabytes; registered as a variable, Ansible copies,
marks and templates it again for every task that reads it, which costs more than the probe. The action of
mx_tls_info writes it once, here, and returns only the summary, the paths and the first lines of what was
recommended (``save``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.module_utils.six import string_types

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import ensure_directory, write_atomic

SAVE_KEYS = ('dir', 'files', 'record', 'mta_sts_cache', 'show')
# the lines of the recommendation the compact result keeps (the rest are in the file)
SHOW = 25


def check_save(save):
    """``save`` as given to the action: {'dir', 'files', 'record', 'mta_sts_cache', 'show'}. MailTLSError names
    what is wrong."""
    if not isinstance(save, dict):
        raise MailTLSError('save: must be a dict (dir, files, record, mta_sts_cache, show), not %s' % type(save).__name__)
    unknown = sorted(set(save) - set(SAVE_KEYS))
    if unknown:
        raise MailTLSError('save: unknown key(s) %s (%s)' % (', '.join(unknown), ', '.join(SAVE_KEYS)))
    if not isinstance(save.get('dir'), string_types) or not save['dir']:
        raise MailTLSError('save.dir: the directory on the controller is required')
    files = save.get('files')
    if not isinstance(files, list) or not files:
        raise MailTLSError('save.files: one file name at least (gather-TIME-HOST.json, gather-latest.json)')
    for name in files + ([save['mta_sts_cache']] if save.get('mta_sts_cache') else []):
        if not isinstance(name, string_types) or not name or '/' in name or name in ('.', '..'):
            raise MailTLSError('save: %r is not a file name within save.dir' % (name,))
    if not isinstance(save.get('record', {}), dict):
        raise MailTLSError('save.record: must be a dict (the keys written beside the results)')
    show = save.get('show', SHOW)
    if not isinstance(show, int) or isinstance(show, bool) or show < 0:
        raise MailTLSError('save.show: a number of lines, 0 or more, not %r' % (show,))
    return dict(save, record=save.get('record') or {}, show=show)


def encode(obj):
    """The JSON text of a record file (sorted keys, indented, a final newline), as bytes."""
    return (json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + '\n').encode('utf-8')


def save_results(result, save, check_mode=False):
    """Write ``result`` (mx_tls_info's) as the record ``save`` names and return the compact result.

    Every file of ``save['files']`` gets the same record: ``save['record']`` with the digest, the summary and
    the results; ``save['mta_sts_cache']`` gets the module's MTA-STS cache when it returned one. Each file is
    written whole (write_atomic). In check mode nothing is written and ``saved`` is empty.
    """
    save = check_save(save)
    results = result.get('results') or []
    record = dict(save['record'], digest=result.get('digest'), summary=result.get('summary') or {}, results=results)
    # one encoding of the record (megabytes at thousands of destinations) for every file that gets it
    data = encode(record)
    writes = [(os.path.join(save['dir'], name), data) for name in save['files']]
    if save.get('mta_sts_cache') and result.get('mta_sts_cache') is not None:
        writes.append((os.path.join(save['dir'], save['mta_sts_cache']), encode(result['mta_sts_cache'])))
    if not check_mode:
        ensure_directory(save['dir'], 0o755)
        for path, data in writes:
            write_atomic(path, data, 0o644)
    compact = dict((k, v) for k, v in result.items() if k not in ('results', 'mta_sts_cache'))
    compact.update({
        'saved': [] if check_mode else [path for path, dummy in writes],
        'destinations': len(results),
        'shown': [{'destination': r.get('destination'), 'policy_line': r.get('policy_line'),
                   'reason': (r.get('policy') or {}).get('reason')} for r in results[:save['show']]],
    })
    return compact
