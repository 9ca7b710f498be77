# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: each part of the tls role's plan compared with the host, then applied. Private to mailtls.postfix.

A part (a certificate's chain file, the policy map, the relay's SASL map, the plain files, main.cf and master.cf)
is first compared with what the host has - a ``Change`` with ``changed``, its public ``result`` and ``apply`` -
and written only afterwards. The single-purpose modules (tls_chain_file, tls_policy_map, sasl_password_map,
tls_files, postconf) apply one part; tls_apply compares every part, takes the snapshot of the rollback set only
when one of them will change, and then applies them in the role's order, in one module call.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import check_chain, read_secret, write_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError, parse_json
from ansible_collections.mailtls.postfix.plugins.module_utils._files import apply as apply_files
from ansible_collections.mailtls.postfix.plugins.module_utils._files import ensure_directory
from ansible_collections.mailtls.postfix.plugins.module_utils._mapfile import (
    INDEX_SUFFIX, SpeculativeIndex, index_is_stale, index_path, install, read_text)
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import build, entries_lines, map_text_lines, render
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import parse_master, parse_parameters, plan, warnings_of
from ansible_collections.mailtls.postfix.plugins.module_utils._relay import sasl_line

DIFF_LINES = 2000
MASK = '********'
# the map types that postmap indexes (texthash is read as text)
INDEXED = tuple(t for t, suffix in sorted(INDEX_SUFFIX.items()) if suffix)


class Change:
    """One part compared with the host: ``changed``, its public ``result`` (with ``diff`` when asked), ``apply``
    (writes it) and ``discard`` (drops what the comparison started, such as a speculative index)."""

    def __init__(self, part, changed, result, apply=None, discard=None):
        self.part = part
        self.changed = changed
        self.result = result
        self._apply = apply
        self._discard = discard

    def apply(self):
        if self.changed and self._apply is not None:
            self._apply()

    def discard(self):
        if self._discard is not None:
            self._discard()


# certificates ------------------------------------------------------------------------------------------------

def summary(cert):
    if cert is None:
        return ''
    return 'subject: %s\nissuer: %s\nnot_after: %s\npubkey sha256: %s\ncert sha256: %s\n' % (
        cert['subject'], cert['issuer'], cert['not_after'], cert['fingerprints']['pubkey']['sha256'],
        cert['fingerprints']['cert']['sha256'])


def chain_change(path, key_content, chain_content, hostnames=(), diff=False):
    """A key and chain, checked, as the chain file ``path`` (key first, 0600, root's). No key is ever in the
    result or the diff."""
    content, cert, warnings = check_chain(path, key_content, chain_content, hostnames)
    current = read_secret(path)
    changed = current != content
    result = {'path': path, 'certificate': cert, 'warnings': warnings}
    if diff and changed:
        before = None
        if current:
            try:
                dummy, before, dummy2 = check_chain(path, current, current)
            except MailTLSError:
                before = None
        result['diff'] = {'before': summary(before), 'after': summary(cert), 'before_header': path, 'after_header': path}

    def write():
        # the certificate directory, root's, made here when missing (no task of its own)
        ensure_directory(os.path.dirname(path), 0o755)
        write_secret(path, content, 0, 0)
    return Change('certificate', changed, result, write)


# the policy map ----------------------------------------------------------------------------------------------

def src_lines(path, text, fmt, digest, version=None):
    """Validated lines of a policy source file (Postfix map text or a JSON list of entries)."""
    if fmt == 'postfix':
        return map_text_lines(text, digest, 'src %s' % path, version)
    return entries_lines(parse_json(text, 'src: %s' % path, list, 'a JSON list of entries'), digest, 'src', version)


def make_diff(before, after, path):
    old, new = (before or '').splitlines(True), after.splitlines(True)
    if len(old) + len(new) > 2 * DIFF_LINES:
        added = len(set(new) - set(old))
        removed = len(set(old) - set(new))
        return {'before': '%s: %d entries\n' % (path, len(old)),
                'after': '%s: %d entries (%d lines added, %d removed)\n' % (path, len(new), added, removed)}
    return {'before': before or '', 'after': after, 'before_header': path, 'after_header': path}


def policy_map_change(instance, path, entries, digest, map_type, version, src=None, src_text=None, src_format='postfix',
                      check_mode=False, diff=False):
    """The policy map ``path`` from ``entries`` and a source (``src`` names it; ``src_text`` is its text), rendered
    and indexed. A large Postfix-format source with nothing to merge is indexed in the background while it is
    validated (``discard`` drops that index when it is not used)."""
    before = read_text(path)
    sources, speculative = [], None
    if src_text is not None and src_format == 'postfix' and not entries and before != src_text and not check_mode \
            and map_type in INDEXED:
        # A large Postfix-format file with nothing to merge is indexed in the background while it is
        # validated; its index is used only if every line validates exactly as written.
        speculative = SpeculativeIndex(path, map_type, src_text, instance.argv('postmap', []))
    try:
        if src_text is not None:
            sources.append(src_lines(src, src_text, src_format, digest, version))
        sources.append(entries_lines(entries, digest, 'entries', version))
        lines, overridden = build(sources)
    except MailTLSError:
        if speculative is not None:
            speculative.discard()
        raise
    verbatim = src_text is not None and sources[0].verbatim and not entries
    # a source already in rendered form is kept as written (its comments too)
    content = src_text if verbatim else render(lines)
    reason = None
    if before != content:
        reason = 'source changed'
    elif map_type in INDEXED and index_is_stale(path, map_type):
        reason = 'index missing or older than the source'
    result = dict(entries=len(lines), overridden=overridden, postmap=reason is not None and map_type != 'texthash',
                  reason=reason, map='%s:%s' % (map_type, path), first_key=next(iter(lines), None))
    if diff and before != content:
        result['diff'] = make_diff(before, content, path)

    def write():
        install(path, content, map_type, instance.postmap, mode=0o644,
                speculative=speculative if verbatim and content == src_text else None)
    return Change('policy', reason is not None, result, write, speculative.discard if speculative is not None else None)


# the relay's SASL password map -------------------------------------------------------------------------------

def _loose(path):
    """True when path exists and is not a root-owned 0600 regular file."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != 0o600 or st.st_uid != 0


def _masked(line):
    """A map line with its password replaced by MASK (key, then username:password)."""
    words = line.split(None, 1)
    if len(words) < 2 or line[:1].isspace() or line.lstrip().startswith('#'):
        return line if not words or line.lstrip().startswith('#') else MASK
    return '%s %s:%s' % (words[0], words[1].split(':', 1)[0], MASK)


def sasl_map_change(instance, path, relayhost, username, password, map_type, diff=False):
    """The relay's one-line SASL password map, root's, 0600, indexed; the password never in the result or diff."""
    content = sasl_line(relayhost, username, password)
    before = read_text(path)
    index = index_path(path, map_type)
    reason = None
    if before != content:
        reason = 'credentials changed' if before else 'new map'
    elif index_is_stale(path, map_type):
        reason = 'index missing or older than the source'
    elif _loose(path) or _loose(index):
        reason = 'not a root-owned 0600 file'
    result = dict(map='%s:%s' % (map_type, path), key=relayhost, reason=reason)
    if diff and before != content:
        # what the file says, with every password masked
        result['diff'] = {'before': ''.join(_masked(line) + '\n' for line in (before or '').splitlines()),
                          'after': '%s %s:%s\n' % (relayhost, username, MASK),
                          'before_header': path, 'after_header': path + ' (passwords masked)'}

    def write():
        install(path, content, map_type, instance.postmap, mode=0o600, owner=(0, 0))
    return Change('sasl', reason is not None, result, write)


# the plain files ---------------------------------------------------------------------------------------------

def files_change(files):
    """Plain files written whole ({'path', 'content', 'mode' (int)}), each only when it differs."""
    would = apply_files(files, check_mode=True)
    result = {'written': would['written'], 'diff': would['diff']}
    return Change('files', bool(would['written']), result, lambda: apply_files(files))


# main.cf and master.cf ---------------------------------------------------------------------------------------

def postconf_change(instance, run_command, parameters=None, absent=(), services=(), allow_unknown=(), if_known=(),
                    diff=False):
    """main.cf parameters and master.cf services, compared through postconf -d, -n and -M; written through
    postconf -e, -X, -M, -P, -MX and -PX (``run_command``: argv -> rc, out, err; never a shell)."""
    run = instance.postconf
    known = parse_parameters(run(['-d'])[0])
    main_cf = parse_parameters(run(['-n'])[0])
    master_cf = parse_master(run(['-M'])[0]) if services else {}
    changes = plan(main_cf, master_cf, known, parameters=parameters, absent=absent, services=services,
                   allow_unknown=allow_unknown, if_known=if_known)
    # not 'skipped': Ansible reads a true 'skipped' in a result as a skipped task and hides its diff
    result = dict(changes=changes.changes, skipped_parameters=changes.skipped)
    if diff:
        result['diff'] = changes.diff()

    def write():
        for command in changes.commands():
            rc, out, err = run_command(instance.argv('postconf', command))
            if rc != 0:
                raise MailTLSError('postconf %s failed: %s' % (command[0], (err or out).strip()))
        result['warnings_after'] = warnings_of(run(['-n'])[1])
    return Change('postconf', changes.changed, result, write)


__all__ = ['Change', 'DIFF_LINES', 'MASK', 'chain_change', 'files_change', 'make_diff', 'policy_map_change',
           'postconf_change', 'sasl_map_change', 'src_lines', 'summary']
