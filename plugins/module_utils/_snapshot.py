# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: the snapshot of the files a run may write, and putting it back. Private to mailtls.postfix.

``take`` records, for each path of the plan's rollback set, whether it was a file, a symbolic link or absent,
and copies each file (with its mode and owner) into a root-only directory; ``restore`` puts back every file
and link that existed, each atomically (a temporary file in the same directory, then a rename), and removes
every one that did not. One call each, whatever the number of files. Nothing here returns file contents.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import filecmp
import os
import stat

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import write_atomic


def _name(path):
    return path.replace('/', '%')


def _kind(path):
    try:
        st = os.lstat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return 'absent', None
        raise MailTLSError('snapshot: cannot read %s: %s' % (path, e.strerror))
    if stat.S_ISLNK(st.st_mode):
        return 'link', st
    if stat.S_ISREG(st.st_mode):
        return 'file', st
    raise MailTLSError('snapshot: %s is neither a file nor a symbolic link' % path)


def _copy(src, dest, mode, uid=None, gid=None):
    """Copy src to dest atomically, with ``mode`` and owner uid:gid (when given) from creation."""
    try:
        with open(src, 'rb') as f:
            data = f.read()
    except (IOError, OSError) as e:
        raise MailTLSError('snapshot: cannot read %s: %s' % (src, e.strerror))
    try:
        write_atomic(dest, data, mode, uid, gid)
    except MailTLSError as e:
        raise MailTLSError('snapshot: %s' % e)


def take(paths, directory, check_mode=False):
    """Snapshot ``paths`` into ``directory`` (made 0700); -> the record restore() needs, one dict per path.

    Copies left from an earlier run for paths no longer in the set are removed (they may hold keys)."""
    record, seen = [], set()
    for path in paths:
        if not os.path.isabs(path) or path in seen:
            raise MailTLSError('snapshot: %r is not an absolute path, or is listed twice' % (path,))
        seen.add(path)
        kind, st = _kind(path)
        entry = {'path': path, 'kind': kind}
        if kind == 'link':
            entry['target'] = os.readlink(path)
        elif kind == 'file':
            entry.update(mode='%04o' % stat.S_IMODE(st.st_mode), uid=st.st_uid, gid=st.st_gid)
        record.append(entry)
    if check_mode:
        return record
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        os.chmod(directory, 0o700)
        keep = set(_name(e['path']) for e in record if e['kind'] == 'file')
        for name in os.listdir(directory):
            if name not in keep:
                os.unlink(os.path.join(directory, name))
    except OSError as e:
        raise MailTLSError('snapshot: cannot prepare %s: %s' % (directory, e.strerror))
    for entry in record:
        if entry['kind'] == 'file':
            copy = os.path.join(directory, _name(entry['path']))
            if os.path.isfile(copy) and filecmp.cmp(entry['path'], copy, shallow=False):
                os.chmod(copy, 0o600)  # kept from an earlier run, perhaps written with its file's mode
            else:
                _copy(entry['path'], copy, 0o600)
    return record


def restore(record, directory, check_mode=False):
    """Put back what ``record`` (take()'s result) says was there -> {'restored': [...], 'removed': [...]}."""
    restored, removed = [], []
    for entry in record:
        path, was = entry['path'], entry['kind']
        kind, st = _kind(path)
        if was == 'absent':
            if kind != 'absent':
                removed.append(path)
                if not check_mode:
                    _remove(path)
        elif was == 'link':
            if kind != 'link' or os.readlink(path) != entry['target']:
                restored.append(path)
                if not check_mode:
                    if kind != 'absent':
                        _remove(path)
                    os.symlink(entry['target'], path)
        else:
            copy = os.path.join(directory, _name(path))
            if not os.path.isfile(copy):
                raise MailTLSError('snapshot: the copy of %s is missing from %s' % (path, directory))
            mode, uid, gid = int(entry['mode'], 8), entry['uid'], entry['gid']
            same = (kind == 'file' and filecmp.cmp(path, copy, shallow=False)
                    and (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (mode, uid, gid))
            if not same:
                restored.append(path)
                if not check_mode:
                    if kind == 'link':
                        _remove(path)
                    _copy(copy, path, mode, uid, gid)
    return {'restored': restored, 'removed': removed}


def _remove(path):
    try:
        os.unlink(path)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise MailTLSError('snapshot: cannot remove %s: %s' % (path, e.strerror))


__all__ = ['restore', 'take']
