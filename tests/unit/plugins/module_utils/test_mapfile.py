"""Atomic map installation. The postmap here is a stand-in that writes an index file;
real postmap runs in the Molecule scenarios."""
import os
import stat
import sys
import time

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._mapfile import SpeculativeIndex, index_is_stale, index_path, install


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


def fake_postmap_command(tmp_path, rc=0):
    """A stand-in postmap executable: writes '<file>.db' holding 'index of ' + the source."""
    script = tmp_path / 'postmap'
    script.write_text('#!%s\nimport sys\nmap_type, path = sys.argv[-1].split(":", 1)\n'
                      'if %d:\n    sys.stderr.write("postmap: fatal: broken"); sys.exit(%d)\n'
                      'open(path + ".db", "w").write("index of " + open(path).read())\n' % (sys.executable, rc, rc))
    script.chmod(0o755)
    return [str(script)]


def test_speculative_index_is_used_and_not_older_than_the_source(tmp_path):
    path = str(tmp_path / 'maps' / 'tls_policy')
    os.mkdir(str(tmp_path / 'maps'))
    text = '# provider list\na.example may\n'
    spec = SpeculativeIndex(path, 'hash', text, fake_postmap_command(tmp_path))
    postmap = FakePostmap()
    try:
        assert install(path, text, 'hash', postmap, speculative=spec) is True
    finally:
        spec.discard()
    assert postmap.calls == []  # the background index was taken, postmap did not run again
    assert open(path).read() == text
    assert open(path + '.db').read() == 'index of ' + text
    assert index_is_stale(path, 'hash') is False
    assert sorted(os.listdir(str(tmp_path / 'maps'))) == ['tls_policy', 'tls_policy.db']


def test_failed_speculative_postmap_changes_nothing(tmp_path):
    path = str(tmp_path / 'tls_policy')
    install(path, 'old.example may\n', 'hash', FakePostmap())
    spec = SpeculativeIndex(path, 'hash', 'new.example may\n', fake_postmap_command(tmp_path, rc=1))
    try:
        with pytest.raises(MailTLSError, match='postmap hash:%s failed' % path):
            install(path, 'new.example may\n', 'hash', FakePostmap(), speculative=spec)
    finally:
        spec.discard()
    assert open(path).read() == 'old.example may\n'
    assert sorted(f for f in os.listdir(str(tmp_path)) if f.startswith(('tls', '.tls'))) == ['tls_policy', 'tls_policy.db']
