"""The one atomic file writer, and the plan's plain files applied in one call (tls_files)."""
import os
import stat

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import apply, ensure_directory, write_atomic


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_apply_writes_what_differs_and_nothing_the_second_time(tmp_path):
    cnf, dh = tmp_path / 'mailtls-openssl.cnf', tmp_path / 'ffdhe3072.pem'
    files = [{'path': str(cnf), 'content': '[mailtls]\n', 'mode': 0o644}, {'path': str(dh), 'content': 'DH\n', 'mode': 0o644}]
    dh.write_text('DH\n')
    os.chmod(str(dh), 0o644)
    done = apply(files)
    assert done['written'] == [str(cnf)] and cnf.read_text() == '[mailtls]\n' and mode(cnf) == 0o644
    assert done['diff'] == [{'before_header': str(cnf), 'after_header': str(cnf), 'before': '', 'after': '[mailtls]\n'}]
    assert apply(files) == {'written': [], 'diff': []}
    # a mode that drifted is put right, and so is the content
    os.chmod(str(dh), 0o600)
    cnf.write_text('[other]\n')
    assert apply(files)['written'] == [str(cnf), str(dh)] and mode(dh) == 0o644 and cnf.read_text() == '[mailtls]\n'
    assert sorted(os.listdir(str(tmp_path))) == ['ffdhe3072.pem', 'mailtls-openssl.cnf']  # no temporary file left


def test_check_mode_reports_and_writes_nothing(tmp_path):
    path = tmp_path / 'x.cnf'
    deep = tmp_path / 'lib' / 'module_utils' / '_acme.py'
    files = [{'path': str(path), 'content': 'x\n', 'mode': 0o644}, {'path': str(deep), 'content': 'y\n', 'mode': 0o644}]
    assert apply(files, check_mode=True)['written'] == [str(path), str(deep)]
    assert not path.exists() and not (tmp_path / 'lib').exists()


def test_a_missing_directory_is_made(tmp_path):
    # the ACME renewal's code goes under /usr/local/lib/mailtls-postfix/ansible_collections/..., made on first use
    deep = tmp_path / 'lib' / 'module_utils' / '_acme.py'
    assert apply([{'path': str(deep), 'content': 'y\n', 'mode': 0o644}])['written'] == [str(deep)]
    assert deep.read_text() == 'y\n' and mode(deep.parent) == 0o755


@pytest.mark.parametrize('spec', [{'path': 'relative.cnf', 'content': 'x'}, {'path': '/tmp/x.cnf'},
                                  {'path': '/tmp/x.cnf', 'content': 42}])
def test_bad_files(spec):
    with pytest.raises(MailTLSError, match=r'files\[0\]: needs an absolute path and a text content'):
        apply([spec])


def test_write_atomic_gives_the_final_mode_from_creation(tmp_path):
    path = tmp_path / 'secret.pem'
    write_atomic(str(path), b'KEY\n', 0o600, os.getuid(), os.getgid())
    assert path.read_bytes() == b'KEY\n' and mode(path) == 0o600
    with pytest.raises(MailTLSError, match='cannot write .*/missing/secret.pem'):
        write_atomic(str(tmp_path / 'missing' / 'secret.pem'), b'x', 0o600)


def test_ensure_directory(tmp_path):
    path = tmp_path / 'tls'
    assert ensure_directory(str(path), 0o755) is True and mode(path) & 0o777 == 0o755 & ~os.umask(0o022) & 0o777
    assert ensure_directory(str(path), 0o755) is False
