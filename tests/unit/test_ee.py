"""Execution-environment metadata: ansible-builder reads it, bindep parses it, requirements.txt covers the imports."""
import ast
import glob
import os
import subprocess
import sys

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# import name -> distribution name
DISTRIBUTIONS = {'cryptography': 'cryptography', 'dns': 'dnspython'}


def run(*argv):
    proc = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False, cwd=TOP)
    return proc.returncode, proc.stdout, proc.stderr


def requirement_names():
    names = []
    with open(os.path.join(TOP, 'requirements.txt')) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                names.append(line.split('>')[0].split('=')[0].split('<')[0].strip())
    return names


def test_meta_points_at_the_files():
    with open(os.path.join(TOP, 'meta', 'execution-environment.yml')) as f:
        meta = yaml.safe_load(f)
    assert meta == {'version': 1, 'dependencies': {'python': 'requirements.txt', 'system': 'bindep.txt'}}


def test_ansible_builder_introspects_the_collection():
    rc, out, err = run(os.path.join(os.path.dirname(sys.executable), 'ansible-builder'), 'introspect', '--sanitize',
                       os.environ['MAILTLS_UNITS_COLLECTIONS'])
    assert rc == 0, err
    data = yaml.safe_load(out)
    python = [line.split('#')[0].strip() for line in data['python']]
    assert python == ['cryptography>=3.4', 'dnspython>=2.0.0']
    assert all(line.endswith('# from collection mailtls.postfix') for line in data['python'] + data['system'])
    assert any(line.startswith('libffi-dev [compile platform:dpkg]') for line in data['system'])


def test_bindep_parses_and_names_build_packages_for_this_platform():
    rc, out, err = run(os.path.join(os.path.dirname(sys.executable), 'bindep'), '-f', 'bindep.txt', '-l', 'newline',
                       'compile')
    assert rc == 0, err
    # Debian: the dpkg names, not the rpm ones
    assert sorted(out.split()) == ['gcc', 'libffi-dev', 'libssl-dev', 'python3-dev']


def test_requirements_cover_every_third_party_import():
    stdlib = set(sys.stdlib_module_names) | {'__future__'}
    imported = set()
    for path in glob.glob(os.path.join(TOP, 'plugins', '**', '*.py'), recursive=True):
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split('.')[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split('.')[0])
    third_party = imported - stdlib - {'ansible', 'ansible_collections'}
    assert third_party == set(DISTRIBUTIONS)
    assert sorted(requirement_names()) == sorted(DISTRIBUTIONS.values())
