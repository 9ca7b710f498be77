# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: whole files written atomically, and the plan's plain files applied in one call. Private to
mailtls.postfix.

``write_atomic`` is the one way module_utils replaces a file: a temporary file in the same directory, created
with the final mode and owner before any byte is written, synced, then renamed over the target, so a reader
sees the old file or the new one and never a part. ``apply`` writes the files of the plan whose content, mode
or owner differ (the OpenSSL baseline, the DH group file) and reports what changed, with a diff on request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat
import tempfile

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


def write_atomic(path, data, mode, uid=None, gid=None):
    """Replace ``path`` with the bytes ``data``, mode ``mode`` and owner uid:gid (when given), atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)  # mkstemp creates 0600
    except OSError as e:
        raise MailTLSError('cannot write %s: %s' % (path, e.strerror))
    try:
        os.fchmod(fd, mode)
        if uid is not None:
            os.fchown(fd, uid, gid if gid is not None else -1)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except OSError as e:
        raise MailTLSError('cannot write %s: %s' % (path, e.strerror))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ensure_directory(path, mode):
    """Make ``path`` (and its parents) with ``mode``, owned by the caller, where it is missing."""
    if os.path.isdir(path):
        return False
    try:
        os.makedirs(path, mode)
    except OSError as e:
        raise MailTLSError('cannot make the directory %s: %s' % (path, e.strerror))
    return True


def _current(path):
    """(bytes, mode, uid, gid) of the file at ``path``, or None where there is none."""
    try:
        st = os.stat(path)
        with open(path, 'rb') as f:
            return f.read(), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
    except (IOError, OSError) as e:
        if e.errno == errno.ENOENT:
            return None
        raise MailTLSError('cannot read %s: %s' % (path, e.strerror))


def file_specs(specs):
    """The files as module options give them ({'path', 'content', 'mode' (octal text, default 0644)}) -> apply()'s
    form (mode an int); MailTLSError names the entry with an unknown key or a mode that is no file mode."""
    out = []
    for i, spec in enumerate(specs):
        unknown = sorted(set(spec) - set(('path', 'content', 'mode')))
        mode = str(spec.get('mode') or '0644')
        if unknown or not mode or any(c not in '01234567' for c in mode) or int(mode, 8) > 0o777:
            reason = 'unknown keys %s' % ', '.join(unknown) if unknown else 'mode %r is not an octal file mode' % mode
            raise MailTLSError('files[%d] (%s): %s' % (i, spec.get('path'), reason))
        out.append({'path': spec.get('path'), 'content': spec.get('content'), 'mode': int(mode, 8)})
    return out


def apply(files, check_mode=False):
    """Write each of ``files`` ({'path', 'content' (text), 'mode' (int)}, owned by root) whose content, mode or
    owner differ, making a missing directory (0755). -> {'written': [paths], 'diff': [{'before', 'after', 'before_header', 'after_header'}]}."""
    written, diffs = [], []
    for i, spec in enumerate(files):
        path, content, mode = spec.get('path'), spec.get('content'), spec.get('mode', 0o644)
        if not path or not os.path.isabs(path) or not isinstance(content, str):
            raise MailTLSError('files[%d]: needs an absolute path and a text content' % i)
        data = content.encode('utf-8')
        now = _current(path)
        if now == (data, mode, 0, 0):
            continue
        written.append(path)
        diffs.append({'before_header': path, 'after_header': path,
                      'before': now[0].decode('utf-8', 'replace') if now else '', 'after': content})
        if not check_mode:
            # a missing directory is made 0755 (the ACME renewal's code under /usr/local/lib); a rollback
            # removes the files, not such a directory
            ensure_directory(os.path.dirname(path), 0o755)
            write_atomic(path, data, mode, 0, 0)
    return {'written': written, 'diff': diffs}


__all__ = ['apply', 'ensure_directory', 'file_specs', 'write_atomic']
