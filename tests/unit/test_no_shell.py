"""No user input reaches a shell: no shell in the code or the content, commands are argument vectors."""
import os
import re

import pytest
import yaml

from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import plan

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def files(*dirs, ext=('.py',)):
    for d in dirs:
        for root, dummy, names in os.walk(os.path.join(TOP, d)):
            for name in names:
                if name.endswith(ext):
                    yield os.path.join(root, name)


@pytest.mark.parametrize('pattern', [
    r'shell\s*=\s*True', r'use_unsafe_shell', r'os\.system\(', r'os\.popen\(', r'commands\.getoutput',
    r'run_command\(\s*["\'%]',   # a command line as one string is split by a shell-like parser
])
def test_python_never_uses_a_shell(pattern):
    offenders = [path for path in files('plugins') if re.search(pattern, open(path).read())]
    assert offenders == []


def test_content_never_uses_shell_or_raw():
    """No task of a role or playbook runs shell, raw or script (the task's module, read from the YAML: a module
    parameter named shell, such as ansible.builtin.user's login shell, is not a shell)."""
    modules = set('%s%s' % (prefix, name) for prefix in ('', 'ansible.builtin.', 'ansible.legacy.')
                  for name in ('shell', 'raw', 'script'))
    offenders = ['%s: %s' % (path, task.get('name')) for path in files('roles', 'playbooks', ext=('.yml', '.yaml'))
                 for task in _tasks(yaml.safe_load(open(path))) if modules & set(task)]
    assert offenders == []


def _tasks(node):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ('block', 'rescue', 'always', 'tasks'):
            yield from _tasks(node.get(key))


def test_commands_with_variables_are_argv_lists():
    """A command written as one string is split on whitespace: a templated value could add arguments."""
    checked = 0
    for path in files('roles', 'playbooks', ext=('.yml',)):
        for task in _tasks(yaml.safe_load(open(path))):
            args = task.get('ansible.builtin.command')
            if args is None:
                continue
            checked += 1
            if isinstance(args, str):
                assert '{{' not in args, '%s: %s: a templated command string' % (path, task.get('name'))
            else:
                assert 'argv' in args, '%s: %s: command without argv' % (path, task.get('name'))
    # the walk reaches the command tasks (most of the role's commands are modules now: tls_check, tls_apply)
    assert checked >= 8


def test_postconf_values_go_as_one_argument():
    """A value with shell syntax reaches postconf as one argv element, literally."""
    payload = '$(touch /tmp/pwned); `id` && rm -rf /'
    p = plan({'smtpd_banner': '$myhostname ESMTP'}, {}, {'smtpd_banner': ''}, parameters={'smtpd_banner': payload})
    assert p.commands() == [['-e', 'smtpd_banner=' + payload]]
