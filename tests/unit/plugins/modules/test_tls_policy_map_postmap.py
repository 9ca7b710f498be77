"""tls_policy_map with real postmap: the postconf(5) example map and Postfix's next-hop forms, in a lab container.

The map module runs as Ansible runs it (a process with JSON arguments) inside the bookworm lab image
(Postfix 3.7), on a source written as postconf(5) writes its smtp_tls_policy_maps example: one match=
per continuation line. The judge is Postfix: postmap indexes the same source on its own, and
``postmap -q`` of every key must give, from both indexes, an entry with the same meaning, under the
key as written. Needs the lab image (make lab); without it the test fails and says so.
"""
import json

import pytest

from labkit import EXAMPLE_PINS, LAB_IMAGE, POSTCONF5_EXAMPLE, lab_image_runner

from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry, logical_lines

IMAGE = LAB_IMAGE
PIN1, PIN2 = EXAMPLE_PINS
# the postconf(5) example and the forms of issue 15 (labkit), and keys and commas as operators write them
SOURCE = POSTCONF5_EXAMPLE + "Mixed.Case.Example          encrypt, protocols=>=TLSv1.2, ciphers=high\n"

# runs inside the container: the module, then postmap on the original source, then postmap -q of each key
INNER = r'''
import json, os, shutil, subprocess, sys
args, keys = sys.argv[1], json.loads(sys.argv[2])
out = {}
p = subprocess.run([sys.executable, '/src/ansible_collections/mailtls/postfix/plugins/modules/tls_policy_map.py', args],
                   capture_output=True, text=True, env=dict(os.environ, PYTHONPATH='/src'))
out['module'] = json.loads(p.stdout)
shutil.copyfile('/work/policy.txt', '/etc/postfix/as_written')
out['postmap_rc'] = subprocess.run(['postmap', 'hash:/etc/postfix/as_written'], capture_output=True, text=True).returncode
out['written'] = open('/etc/postfix/tls_policy').read()
for name in ('tls_policy', 'as_written'):
    out[name] = {}
    for key in keys:
        q = subprocess.run(['postmap', '-q', key, 'hash:/etc/postfix/' + name], capture_output=True, text=True)
        out[name][key] = q.stdout.strip() if q.returncode == 0 else None
print(json.dumps(out))
'''


@pytest.fixture(scope='module')
def container_run(tmp_path_factory):
    work = tmp_path_factory.mktemp('postmap')
    (work / 'policy.txt').write_text(SOURCE)
    (work / 'inner.py').write_text(INNER)
    (work / 'args.json').write_text(json.dumps({'ANSIBLE_MODULE_ARGS': {
        'path': '/etc/postfix/tls_policy', 'src': '/work/policy.txt', 'map_type': 'hash'}}))
    run = lab_image_runner(work, IMAGE)
    return lambda keys: run('/work/args.json', json.dumps(keys))


def source_entries():
    """The entries of SOURCE, each with its key as written (postmap folds keys to lower case)."""
    return [PolicyEntry.from_line(line, where='line %s' % number) for number, line in logical_lines(SOURCE, 'source')]


def test_postmap_gives_back_every_entry_with_the_same_meaning(container_run):
    entries = source_entries()
    written_keys = [line.split()[0] for dummy, line in logical_lines(SOURCE, 'source')]
    out = container_run(written_keys + ['[smarthost.example]:587', 'smtp.example.com'])
    assert out['module'].get('failed') is not True, out['module']
    assert out['module']['changed'] is True and out['module']['entries'] == len(entries) == 11
    assert out['postmap_rc'] == 0
    for written, entry in zip(written_keys, entries):
        for index in ('tls_policy', 'as_written'):
            value = out[index][written]
            assert value is not None, '%s: postmap -q %s found nothing' % (index, written)
            # the same meaning: Postfix's value under the key, read back as an entry, is the source's entry
            assert PolicyEntry.from_line('%s %s' % (written, value)) == entry, (index, written, value)
    # the two pins of the continuation lines are one match= of the written map
    assert out['tls_policy']['[thumb.example.org]'] == 'fingerprint match=%s|%s' % (PIN1, PIN2)
    # keys as written: the symbolic service and the numeric port are different keys, and a port makes its own key
    assert out['tls_policy']['[smarthost.example]:587'] is None and out['as_written']['[smarthost.example]:587'] is None
    assert out['tls_policy']['smtp.example.com'] is None and out['as_written']['smtp.example.com'] is None
    # folded to lower case as postmap folds keys: the key as written finds the entry
    assert 'mixed.case.example encrypt protocols=>=TLSv1.2 ciphers=high' in out['written'].splitlines()
