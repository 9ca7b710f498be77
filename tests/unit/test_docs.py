"""ansible-doc renders complete documentation for every module, filter and the role, with examples that parse."""
import ast
import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(TOP, 'plugins', 'modules', '*.py'))
                 if not p.endswith('__init__.py'))
FILTERS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(TOP, 'plugins', 'filter', '*.py'))
                 if not p.endswith('__init__.py'))


def ansible_doc(*args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ['MAILTLS_UNITS_COLLECTIONS'], ANSIBLE_NOCOLOR='1')
    binary = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    proc = subprocess.run([binary] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert 'WARNING' not in proc.stderr and 'ERROR' not in proc.stderr, proc.stderr
    return proc.stdout


def options_described(options, where):
    for name, spec in (options or {}).items():
        assert spec.get('description'), '%s: option %s has no description' % (where, name)
        options_described(spec.get('suboptions') or spec.get('options'), '%s.%s' % (where, name))


def returns_complete(returns, where, top=True):
    for name, spec in (returns or {}).items():
        assert spec.get('description'), '%s: return %s has no description' % (where, name)
        assert spec.get('type'), '%s: return %s has no type' % (where, name)
        if top:
            assert spec.get('returned'), '%s: return %s does not say when it is returned' % (where, name)
            assert 'sample' in spec or spec.get('type') == 'complex' or spec.get('contains'), \
                '%s: return %s has no sample' % (where, name)


def test_every_plugin_is_listed():
    listed = ansible_doc('-t', 'module', '-l', 'mailtls.postfix')
    for name in MODULES:
        assert 'mailtls.postfix.%s ' % name in listed
    assert MODULES and FILTERS


@pytest.mark.parametrize('name', MODULES)
def test_module_doc(name):
    fqcn = 'mailtls.postfix.' + name
    doc = json.loads(ansible_doc('-j', fqcn))[fqcn]
    assert doc['doc']['short_description'] and doc['doc']['description']
    options_described(doc['doc'].get('options'), fqcn)
    for attr in ('check_mode', 'diff_mode'):
        assert doc['doc']['attributes'][attr]['support'] in ('full', 'partial', 'none')
    examples = yaml.safe_load(doc['examples'])
    assert isinstance(examples, list) and examples
    # every example task that calls the module calls it by its FQCN
    assert any(fqcn in task for task in examples)
    assert 'mailtls.postfix.' + name + ':' in doc['examples'] and '\n  ' + name + ':' not in doc['examples']
    returns_complete(doc['return'], fqcn)
    assert doc['return']
    # the text form renders too (what a user reads)
    text = ansible_doc(fqcn)
    assert 'EXAMPLES:' in text and 'RETURN VALUES:' in text


@pytest.mark.parametrize('name', FILTERS)
def test_filter_doc(name):
    fqcn = 'mailtls.postfix.' + name
    doc = json.loads(ansible_doc('-t', 'filter', '-j', fqcn))[fqcn]
    assert doc['doc']['short_description'] and doc['doc']['description']
    options_described(doc['doc'].get('options'), fqcn)
    examples = yaml.safe_load(doc['examples'])
    assert isinstance(examples, list) and examples and fqcn in doc['examples']
    returns_complete(doc['return'], fqcn, top=False)


def test_role_doc():
    doc = json.loads(ansible_doc('-t', 'role', '-j', 'mailtls.postfix.tls'))['mailtls.postfix.tls']
    main = doc['entry_points']['main']
    assert main['short_description'] and main['description'] and main['options']
    options_described(main['options'], 'role tls')
    examples = yaml.safe_load(main['examples'])
    assert isinstance(examples, list) and len(examples) >= 2
    assert all(play['roles'][0]['role'] == 'mailtls.postfix.tls' for play in examples)
    # every public variable of defaults/main.yml is declared in the argument spec, and the other way round
    with open(os.path.join(TOP, 'roles', 'tls', 'defaults', 'main.yml')) as f:
        defaults = yaml.safe_load(f)
    public = set(k for k in defaults if not k.startswith('__'))
    assert public == set(main['options'])
    text = ansible_doc('-t', 'role', 'mailtls.postfix.tls')
    assert 'EXAMPLES:' in text and 'postfix_tls_policies' in text


def test_playbooks_use_the_role_through_declared_entry_points():
    doc = json.loads(ansible_doc('-t', 'role', '-j', 'mailtls.postfix.tls'))['mailtls.postfix.tls']
    used = set()
    for name in os.listdir(os.path.join(TOP, 'playbooks')):
        path = os.path.join(TOP, 'playbooks', name)
        if not name.endswith('.yml'):
            continue
        with open(path) as f:
            text = f.read()
        assert '__postfix_tls_' not in text, '%s sets or reads an internal variable of the role' % name
        used.update(re.findall(r'tasks_from:\s*(\w+)', text))
    assert used, 'no playbook includes an entry point (the test would prove nothing)'
    for entry in used:
        assert entry in doc['entry_points'], 'tasks_from %s is not declared in meta/argument_specs.yml' % entry
        options_described(doc['entry_points'][entry]['options'], 'role tls, entry point %s' % entry)


def test_design_page_names_every_module_util_and_plugin():
    """docs/design.md maps the data path onto the files: every module_utils file, module and filter is on it."""
    with open(os.path.join(TOP, 'docs', 'design.md')) as f:
        page = f.read()
    names = [os.path.basename(p)[:-3] for p in glob.glob(os.path.join(TOP, 'plugins', 'module_utils', '_*.py'))]
    names += [os.path.basename(p)[:-3] for kind in ('modules', 'filter')
              for p in glob.glob(os.path.join(TOP, 'plugins', kind, '*.py'))]
    missing = sorted(n for n in names if not re.search(r'`%s(`|[ .(])' % re.escape(n), page))
    assert not missing, 'docs/design.md does not place: %s' % ', '.join(missing)


def _design_stages():
    """{module_utils name: stage} from docs/design.md: the table's module_utils column, and the shared pieces."""
    with open(os.path.join(TOP, 'docs', 'design.md')) as f:
        page = f.read()
    stages = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 4 and cells[0] not in ('stage', '---'):
            for name in re.findall(r'`(_[a-z]+)`', cells[2]):
                stages.setdefault(name, cells[0])
    shared = page[page.index('Shared pieces:'):].split('\n\n', 1)[0]
    for name in ('_errors', '_options'):
        assert '`%s`' % name in shared
        stages[name] = 'shared'
    return stages


def test_each_module_util_opens_with_its_stage_as_the_design_page_places_it():
    """Each module_utils docstring's first line names its stage ("The probe stage: ..."), the one design.md gives."""
    stages = _design_stages()
    wrong = []
    for path in sorted(glob.glob(os.path.join(TOP, 'plugins', 'module_utils', '_*.py'))):
        name = os.path.basename(path)[:-3]
        with open(path) as f:
            first = ast.get_docstring(ast.parse(f.read())).splitlines()[0]
        want = 'Shared by every stage: ' if stages.get(name) == 'shared' else 'The %s stage: ' % stages.get(name)
        if name not in stages or not first.startswith(want):
            wrong.append('%s (design.md: %s): %r' % (name, stages.get(name, 'not in the table'), first[:60]))
    assert not wrong, '\n'.join(wrong)


def test_the_role_docs_say_when_it_restarts():
    """reload.yml restarts Postfix for inet_interfaces and inet_protocols; the README and the argument specs say
    so, and neither claims that the role never restarts."""
    with open(os.path.join(TOP, 'roles', 'tls', 'tasks', 'reload.yml')) as f:
        reload_tasks = f.read()
    restarts_for = sorted(set(re.findall(r"'(inet_\w+)'", reload_tasks)))
    assert 'restart.yml' in reload_tasks and restarts_for == ['inet_interfaces', 'inet_protocols']
    for doc in (('roles', 'tls', 'README.md'), ('roles', 'tls', 'meta', 'argument_specs.yml')):
        with open(os.path.join(TOP, *doc)) as f:
            text = ' '.join(f.read().split())
        assert not re.search(r'never (a )?restart', text), '%s claims the role never restarts' % '/'.join(doc)
        for name in restarts_for:
            assert re.search(r'restarts? (Postfix )?.{0,80}%s' % name, text), '%s does not say it restarts for %s' % ('/'.join(doc), name)
