"""The tls role's data as the role renders it: its defaults and its profile table, Jinja expressions resolved."""
import os

import yaml
from jinja2.nativetypes import NativeEnvironment

# native types, as Ansible renders "{{ postfix_tls_certificates }}" to the list itself
_JINJA = NativeEnvironment()
ROLE = os.path.join(os.path.dirname(__file__), '..', '..', 'roles', 'tls')


def _load(*path):
    with open(os.path.join(ROLE, *path)) as f:
        return yaml.safe_load(f)


def _render(value, context):
    if isinstance(value, dict):
        return dict((k, _render(v, context)) for k, v in value.items())
    if isinstance(value, list):
        return [_render(v, context) for v in value]
    if isinstance(value, str) and '{{' in value:
        return _render(_JINJA.from_string(value).render(context), context)
    return value


DEFAULTS = _load('defaults', 'main.yml')
PROFILE_VARS = _load('vars', 'profiles.yml')
INPUT_VARS = _load('vars', 'main.yml')['__postfix_tls_inputs']


def profiles(**variables):
    """The profile table, rendered with the role's defaults and ``variables`` (postfix_tls_config_dir, ...)."""
    context = dict(DEFAULTS, **PROFILE_VARS)
    context.update(variables)
    return _render(PROFILE_VARS['__postfix_tls_profiles'], context)


def inputs(**variables):
    """__postfix_tls_inputs as the role builds it from its defaults and ``variables`` (postfix_tls_NAME)."""
    # the facts the defaults read (postfix_tls_hostnames: the host's fqdn, else its inventory name)
    context = dict(DEFAULTS, ansible_facts={}, inventory_hostname='mx.example.org')
    context.update(variables)
    return _render(INPUT_VARS, context)
