"""The rollback snapshot on real files: taken in one call, put back in one call, nothing left half-written."""
import os
import stat

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._snapshot import restore, take


@pytest.fixture
def tree(tmp_path):
    etc = tmp_path / 'etc'
    etc.mkdir()
    (etc / 'main.cf').write_text('smtpd_tls_security_level = may\n')
    (etc / 'key.pem').write_text('KEY\n')
    os.chmod(str(etc / 'key.pem'), 0o600)
    os.symlink('../main.cf', str(etc / 'wants.timer'))
    return tmp_path


def paths(tree, *names):
    return [str(tree / 'etc' / n) for n in names]


def test_a_failed_run_is_undone(tree):
    snap = str(tree / 'snap')
    record = take(paths(tree, 'main.cf', 'key.pem', 'wants.timer', 'ffdhe3072.pem', 'unit.timer'), snap)
    assert [e['kind'] for e in record] == ['file', 'file', 'link', 'absent', 'absent']
    assert stat.S_IMODE(os.stat(snap).st_mode) == 0o700
    assert sorted(stat.S_IMODE(os.stat(os.path.join(snap, n)).st_mode) for n in os.listdir(snap)) == [0o600, 0o600]
    # the run writes, replaces a key with another mode, re-points a link and adds two files
    etc = tree / 'etc'
    (etc / 'main.cf').write_text('smtpd_tls_security_level = sometimes\n')
    os.chmod(str(etc / 'key.pem'), 0o644)
    os.unlink(str(etc / 'wants.timer'))
    os.symlink('elsewhere', str(etc / 'wants.timer'))
    (etc / 'ffdhe3072.pem').write_text('DH\n')
    (etc / 'unit.timer').write_text('[Timer]\n')
    done = restore(record, snap)
    assert done == {'restored': paths(tree, 'main.cf', 'key.pem', 'wants.timer'),
                    'removed': paths(tree, 'ffdhe3072.pem', 'unit.timer')}
    assert (etc / 'main.cf').read_text() == 'smtpd_tls_security_level = may\n'
    assert stat.S_IMODE(os.stat(str(etc / 'key.pem')).st_mode) == 0o600
    assert os.readlink(str(etc / 'wants.timer')) == '../main.cf'
    assert sorted(os.listdir(str(etc))) == ['key.pem', 'main.cf', 'wants.timer']  # no temporary file left
    # a second restore finds everything as recorded
    assert restore(record, snap) == {'restored': [], 'removed': []}


def test_check_mode_writes_nothing(tree):
    snap = str(tree / 'snap')
    record = take(paths(tree, 'main.cf'), snap, check_mode=True)
    assert record[0]['kind'] == 'file' and not os.path.exists(snap)
    record = take(paths(tree, 'main.cf', 'new.cf'), snap)
    (tree / 'etc' / 'new.cf').write_text('x\n')
    assert restore(record, snap, check_mode=True) == {'restored': [], 'removed': paths(tree, 'new.cf')}
    assert (tree / 'etc' / 'new.cf').exists()


def test_copies_of_files_no_longer_in_the_set_are_removed(tree):
    # an old snapshot may hold a key the new set does not name: it does not stay behind
    snap = str(tree / 'snap')
    take(paths(tree, 'main.cf', 'key.pem'), snap)
    take(paths(tree, 'main.cf'), snap)
    assert os.listdir(snap) == [paths(tree, 'main.cf')[0].replace('/', '%')]


@pytest.mark.parametrize('bad,message', [
    (['relative/main.cf'], 'is not an absolute path'),
    (['/etc/postfix/main.cf', '/etc/postfix/main.cf'], 'or is listed twice'),
])
def test_bad_paths(tmp_path, bad, message):
    with pytest.raises(MailTLSError, match=message):
        take(bad, str(tmp_path / 'snap'))


def test_a_directory_in_the_set_is_refused(tree):
    with pytest.raises(MailTLSError, match='is neither a file nor a symbolic link'):
        take([str(tree / 'etc')], str(tree / 'snap'))


def test_a_lost_copy_is_an_error_not_a_removal(tree):
    snap = str(tree / 'snap')
    record = take(paths(tree, 'main.cf'), snap)
    os.unlink(os.path.join(snap, os.listdir(snap)[0]))
    (tree / 'etc' / 'main.cf').write_text('changed\n')
    with pytest.raises(MailTLSError, match='the copy of .*main.cf is missing'):
        restore(record, snap)
