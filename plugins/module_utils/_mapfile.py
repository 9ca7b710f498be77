# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: write a Postfix lookup table and its index so that Postfix never reads half of either.

Private to mailtls.postfix. The source is written to a temporary file in the
same directory, postmap builds the index of that temporary file, and both
are renamed into place (rename is atomic within a file system). postmap
runs when the source changed, or when the index is missing or older than
the source (a failed earlier run must not leave a stale map).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import tempfile

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

INDEX_SUFFIX = {'hash': '.db', 'btree': '.db', 'lmdb': '.lmdb', 'cdb': '.cdb', 'texthash': None}


def index_path(path, map_type):
    if map_type not in INDEX_SUFFIX:
        raise MailTLSError('map_type %r is not one of %s' % (map_type, ', '.join(sorted(INDEX_SUFFIX))))
    suffix = INDEX_SUFFIX[map_type]
    return path + suffix if suffix else None


def read_text(path):
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8')
    except (IOError, OSError):
        return None


def index_is_stale(path, map_type):
    """True when the index is missing or older than the source."""
    index = index_path(path, map_type)
    if index is None:
        return False
    try:
        return os.stat(index).st_mtime < os.stat(path).st_mtime
    except OSError:
        return True


def _temp(directory, prefix, mode):
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    os.fchmod(fd, mode)
    return fd, tmp


class SpeculativeIndex:
    """Index a copy of a source file in the background while Python validates it.

    When the validated map turns out to be exactly what the copy holds, ``install`` uses this
    index instead of running postmap again, so validation and postmap overlap in time. Nothing
    in place changes until ``install`` renames; ``discard`` removes the temporary files.
    """

    def __init__(self, path, map_type, text, postmap_argv):
        directory, name = os.path.split(os.path.abspath(path))
        fd, self.source = _temp(directory, '.%s.' % name, 0o644)
        with os.fdopen(fd, 'wb') as f:
            f.write(text.encode('utf-8'))
        self.index = self.source + INDEX_SUFFIX[map_type]
        self.proc = subprocess.Popen(postmap_argv + ['%s:%s' % (map_type, self.source)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def result(self):
        """(rc, stderr) of the background postmap."""
        dummy, err = self.proc.communicate()
        return self.proc.returncode, err.decode('utf-8', 'replace')

    def discard(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for leftover in (self.source, self.index):
            if os.path.exists(leftover):
                os.unlink(leftover)


def install(path, content, map_type, run_postmap, mode=0o644, owner=None, speculative=None):
    """Write ``content`` to ``path`` and build its index, atomically.

    ``run_postmap(argv_tail)``: runs postmap with ``['type:/file']`` and returns (rc, stderr).
    ``owner``: optional (uid, gid) for the new files.
    Returns True when postmap ran. On failure nothing in place changes and MailTLSError says why.
    """
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise MailTLSError('%s: directory %s does not exist' % (path, directory))
    index = index_path(path, map_type)
    fd, tmp = _temp(directory, '.%s.' % name, mode)
    tmp_index = tmp + INDEX_SUFFIX[map_type] if index else None
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(content.encode('utf-8'))
            f.flush()
            os.fsync(f.fileno())
        if owner:
            os.chown(tmp, *owner)
        ran = False
        if index and speculative is not None:
            # the background postmap indexed a copy of the same entries: take its index
            rc, err = speculative.result()
            if rc != 0:
                raise MailTLSError('postmap %s:%s failed (rc=%d): %s'
                                   % (map_type, path, rc, err.strip().replace(speculative.source, path)))
            os.rename(speculative.index, tmp_index)
            # the index must not look older than the source it stands for
            stamp = os.stat(tmp_index).st_mtime
            os.utime(tmp, (stamp, min(stamp, os.stat(tmp).st_mtime)))
            ran = True
        elif index:
            rc, err = run_postmap(['%s:%s' % (map_type, tmp)])
            if rc != 0:
                raise MailTLSError('postmap %s:%s failed (rc=%d): %s' % (map_type, path, rc, err.strip().replace(tmp, path)))
            ran = True
        if index and owner:
            os.chown(tmp_index, *owner)
        os.rename(tmp, path)
        if index:
            os.rename(tmp_index, index)
        return ran
    finally:
        for leftover in (tmp, tmp_index):
            if leftover and os.path.exists(leftover):
                os.unlink(leftover)


__all__ = ['INDEX_SUFFIX', 'SpeculativeIndex', 'index_is_stale', 'index_path', 'install', 'read_text']
