"""What mx_tls_info's action saves on the controller and returns in place of the full result."""
import json
import os

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._gathered import check_save, save_results


def probe_result(n, sts=False):
    results = [{'destination': 'd%d.example' % i, 'policy_line': 'd%d.example secure' % i,
                'policy': {'level': 'secure', 'reason': 'every endpoint verifies by name'},
                'endpoints': [{'address': '192.0.2.%d' % (i % 250), 'tls': True}]} for i in range(n)]
    out = {'changed': False, 'digest': 'sha256', 'summary': {'destinations': n, 'levels': {'secure': n}},
           'results': results}
    if sts:
        out['mta_sts_cache'] = {'d0.example': {'id': '1', 'mode': 'enforce', 'max_age': 86400}}
    return out


def test_the_record_is_written_whole_to_each_file_and_the_result_is_compact(tmp_path):
    result = probe_result(100, sts=True)
    save = {'dir': str(tmp_path / 'results'), 'files': ['gather-X.json', 'gather-latest.json'],
            'record': {'generated': 'X', 'probed_from': 'mx1'}, 'mta_sts_cache': 'mta-sts-cache.json', 'show': 3}
    compact = save_results(result, save)
    for name in ('gather-X.json', 'gather-latest.json'):
        with open(str(tmp_path / 'results' / name)) as f:
            record = json.load(f)
        # what harden reads: the same keys the playbook wrote before, the results whole and in order
        assert record['generated'] == 'X' and record['probed_from'] == 'mx1' and record['digest'] == 'sha256'
        assert record['summary'] == result['summary'] and record['results'] == result['results']
    with open(str(tmp_path / 'results' / 'mta-sts-cache.json')) as f:
        assert json.load(f) == result['mta_sts_cache']
    assert 'results' not in compact and 'mta_sts_cache' not in compact
    assert compact['destinations'] == 100 and compact['summary'] == result['summary']
    names = ('gather-X.json', 'gather-latest.json', 'mta-sts-cache.json')
    assert compact['saved'] == [str(tmp_path / 'results' / n) for n in names]
    assert compact['shown'] == [{'destination': 'd%d.example' % i, 'policy_line': 'd%d.example secure' % i,
                                 'reason': 'every endpoint verifies by name'} for i in range(3)]
    # the compact result stays small whatever the number of destinations
    assert len(json.dumps(save_results(probe_result(5000), dict(save, show=25)))) < 8000


def test_check_mode_writes_nothing(tmp_path):
    compact = save_results(probe_result(3), {'dir': str(tmp_path / 'r'), 'files': ['gather-latest.json']}, check_mode=True)
    assert compact['saved'] == [] and compact['destinations'] == 3
    assert not os.path.exists(str(tmp_path / 'r'))


def test_a_second_save_replaces_the_files(tmp_path):
    save = {'dir': str(tmp_path), 'files': ['gather-latest.json']}
    save_results(probe_result(5), save)
    save_results(probe_result(2), save)
    with open(str(tmp_path / 'gather-latest.json')) as f:
        assert len(json.load(f)['results']) == 2
    assert sorted(os.listdir(str(tmp_path))) == ['gather-latest.json']


@pytest.mark.parametrize('save, message', [
    ('results', 'save: must be a dict'),
    ({'dir': '/tmp', 'files': ['a.json'], 'colour': 1}, 'save: unknown key(s) colour'),
    ({'files': ['a.json']}, 'save.dir: the directory on the controller is required'),
    ({'dir': '/tmp', 'files': []}, 'save.files: one file name at least'),
    ({'dir': '/tmp', 'files': ['../a.json']}, "save: '../a.json' is not a file name within save.dir"),
    ({'dir': '/tmp', 'files': ['a.json'], 'mta_sts_cache': '/etc/x'}, "save: '/etc/x' is not a file name within save.dir"),
    ({'dir': '/tmp', 'files': ['a.json'], 'show': -1}, 'save.show: a number of lines, 0 or more'),
])
def test_bad_save(save, message):
    with pytest.raises(MailTLSError) as err:
        check_save(save)
    assert message in str(err.value)


def test_a_directory_that_cannot_be_made_is_named(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text(u'x')
    with pytest.raises(MailTLSError) as err:
        save_results(probe_result(1), {'dir': str(blocker / 'results'), 'files': ['a.json']})
    assert str(blocker / 'results') in str(err.value)
