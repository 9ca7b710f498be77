"""Atomic map installation. The postmap here is a stand-in that writes an index file;
real postmap runs in the Molecule scenarios."""
import os
import stat
import time

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mapfile import index_is_stale, index_path, install


class FakePostmap:
    def __init__(self, rc=0):
        self.rc = rc
        self.calls = []

    def __call__(self, args):
        self.calls.append(args)
        map_type, path = args[0].split(':', 1)
        if self.rc == 0:
            with open(index_path(path, map_type), 'w') as f:
                f.write('index of ' + open(path).read())
        return self.rc, 'postmap: fatal: %s: broken' % path if self.rc else ''


def test_install_writes_source_and_index(tmp_path):
    path = str(tmp_path / 'tls_policy')
    postmap = FakePostmap()
    assert install(path, 'example.com encrypt\n', 'hash', postmap) is True
    assert open(path).read() == 'example.com encrypt\n'
    assert open(path + '.db').read() == 'index of example.com encrypt\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert sorted(os.listdir(str(tmp_path))) == ['tls_policy', 'tls_policy.db']
    assert index_is_stale(path, 'hash') is False


def test_failed_postmap_leaves_the_old_map_alone(tmp_path):
    path = str(tmp_path / 'tls_policy')
    install(path, 'old.example may\n', 'hash', FakePostmap())
    with pytest.raises(MailTLSError) as e:
        install(path, 'new.example may\n', 'hash', FakePostmap(rc=1))
    assert 'postmap hash:%s failed (rc=1): postmap: fatal: %s: broken' % (path, path) in str(e.value)
    assert open(path).read() == 'old.example may\n'
    assert open(path + '.db').read() == 'index of old.example may\n'
    assert sorted(os.listdir(str(tmp_path))) == ['tls_policy', 'tls_policy.db']


def test_stale_and_missing_index(tmp_path):
    path = str(tmp_path / 'tls_policy')
    install(path, 'a.example may\n', 'lmdb', FakePostmap())
    assert index_is_stale(path, 'lmdb') is False
    later = time.time() + 5
    os.utime(path, (later, later))
    assert index_is_stale(path, 'lmdb') is True
    os.unlink(path + '.lmdb')
    assert index_is_stale(path, 'lmdb') is True
    assert index_is_stale(path, 'texthash') is False


def test_texthash_needs_no_postmap(tmp_path):
    path = str(tmp_path / 'tls_policy')
    postmap = FakePostmap()
    assert install(path, 'a.example may\n', 'texthash', postmap) is False
    assert postmap.calls == []


def test_unknown_map_type(tmp_path):
    with pytest.raises(MailTLSError, match="map_type 'regexp' is not one of"):
        install(str(tmp_path / 'x'), '', 'regexp', FakePostmap())
