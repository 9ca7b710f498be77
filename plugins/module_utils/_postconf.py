# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: idempotent main.cf and master.cf edits through the postconf command. Private to mailtls.postfix.

Reads what ``postconf -n``, ``-M`` and ``-P`` report, plans only the
differences, and writes them with ``postconf -e``, ``-X``, ``-M``, ``-MX``,
``-P`` and ``-PX``. Commands are argument vectors, never shell strings.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._options import DIGESTS

MASTER_FIELDS = ('private', 'unpriv', 'chroot', 'wakeup', 'maxproc')
SERVICE_TYPES = ('inet', 'unix', 'unix-dgram', 'fifo', 'pass')
_NAME = re.compile(r'^[A-Za-z0-9_]+$')
_SERVICE = re.compile(r'^[A-Za-z0-9_.:\[\]-]+$')


def parse_parameters(text):
    """``name = value`` lines (postconf -n, -d, -P) -> dict."""
    result = {}
    for line in text.splitlines():
        if ' = ' in line:
            name, value = line.split(' = ', 1)
        elif line.endswith(' ='):
            name, value = line[:-2], ''
        else:
            continue
        result[name.strip()] = value.strip()
    return result


def split_command(command):
    """Split a master.cf command field into (command and arguments, -o parameters dict)."""
    words = command.split()
    plain, options = [], {}
    i = 0
    while i < len(words):
        if words[i] == '-o' and i + 1 < len(words) and '=' in words[i + 1]:
            name, value = words[i + 1].split('=', 1)
            options[name] = value
            i += 2
        else:
            plain.append(words[i])
            i += 1
    return ' '.join(plain), options


def parse_master(text):
    """postconf -M output -> {(service, type): {private, unpriv, chroot, wakeup, maxproc, command, options}}."""
    entries = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 8 or line.startswith('#'):
            continue
        command, options = split_command(' '.join(words[7:]))
        entries[(words[0], words[1])] = dict(zip(MASTER_FIELDS, words[2:7]), command=command, options=options)
    return entries


def normalize(value):
    """How a desired value compares with what postconf prints."""
    if value is True:
        return 'yes'
    if value is False:
        return 'no'
    if isinstance(value, (list, tuple)):
        return ', '.join(normalize(v) for v in value)
    return ' '.join(str(value).split())


def check_value(where, value):
    """Refuse line breaks: postconf would write them into main.cf or master.cf as new lines."""
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, str) and ('\n' in item or '\r' in item):
            raise MailTLSError('%s: the value contains a line break' % where)


class Plan:
    """The differences between what is configured and what is wanted."""

    def __init__(self):
        self.changes = []        # {kind, name, before, after} for the result and the diff
        self.main_set = []       # name=value for postconf -e
        self.main_remove = []    # names for postconf -X
        self.master_set = []     # "service/type=entry" for postconf -M
        self.master_remove = []  # "service/type" for postconf -MX
        self.param_set = []      # "service/type/name=value" for postconf -P
        self.param_remove = []   # "service/type/name" for postconf -PX
        self.skipped = []        # names in if_known that this Postfix does not know: not written

    @property
    def changed(self):
        return bool(self.changes)

    def commands(self):
        """The postconf arguments that carry out the plan, one list per command (give them to Instance.postconf)."""
        steps = (('-e', self.main_set), ('-X', self.main_remove), ('-M', self.master_set),
                 ('-MX', self.master_remove), ('-P', self.param_set), ('-PX', self.param_remove))
        return [[flag] + args for flag, args in steps if args]

    def diff(self):
        before = ''.join('%s: %s = %s\n' % (c['kind'], c['name'], c['before']) for c in self.changes if c['before'] is not None)
        after = ''.join('%s: %s = %s\n' % (c['kind'], c['name'], c['after']) for c in self.changes if c['after'] is not None)
        return {'before': before, 'after': after, 'before_header': 'postconf (before)', 'after_header': 'postconf (after)'}


def plan(current_main, current_master, known, parameters=None, absent=None, services=None, allow_unknown=(),
         if_known=()):
    """Plan the edits. ``known``: the names postconf -d knows. Raises MailTLSError on bad input.

    ``if_known``: names of ``parameters`` to set only where this Postfix knows them (for example
    tls_ffdhe_auto_groups, Postfix 3.8 and later); elsewhere they are skipped and listed in ``skipped``.
    """
    allowed = set(known) | set(allow_unknown or ())
    optional = set(if_known or ())
    result = Plan()

    def check_name(where, name):
        if not isinstance(name, str) or not _NAME.match(name):
            raise MailTLSError('%s: %r is not a Postfix parameter name' % (where, name))
        if name not in allowed:
            raise MailTLSError('%s: %r is not a parameter this Postfix knows (postconf -d); Postfix would ignore it. '
                               'List it in allow_unknown if master.cf or a map refers to it' % (where, name))

    for name, value in sorted((parameters or {}).items()):
        if name in optional and name not in allowed and isinstance(name, str) and _NAME.match(name):
            result.skipped.append(name)
            continue
        check_name('parameters', name)
        if value is None:
            if name in current_main:
                result.main_remove.append(name)
                result.changes.append({'kind': 'main.cf', 'name': name, 'before': current_main[name], 'after': None})
            continue
        check_value('parameters.%s' % name, value)
        wanted = normalize(value)
        if current_main.get(name) != wanted:
            result.main_set.append('%s=%s' % (name, wanted))
            result.changes.append({'kind': 'main.cf', 'name': name, 'before': current_main.get(name), 'after': wanted})
    for name in sorted(set(absent or ())):
        if (parameters or {}).get(name) is not None:
            raise MailTLSError('absent: %r is also given a value in parameters' % name)
        if name in current_main and name not in result.main_remove:
            result.main_remove.append(name)
            result.changes.append({'kind': 'main.cf', 'name': name, 'before': current_main[name], 'after': None})

    seen = set()
    for index, svc in enumerate(services or ()):
        where = 'services[%d]' % index
        name, stype = svc.get('name'), svc.get('type')
        if not isinstance(name, str) or not _SERVICE.match(name):
            raise MailTLSError('%s: name %r is not a master.cf service name' % (where, name))
        if stype not in SERVICE_TYPES:
            raise MailTLSError('%s: type %r is not one of %s' % (where, stype, ', '.join(SERVICE_TYPES)))
        key = '%s/%s' % (name, stype)
        if key in seen:
            raise MailTLSError('%s: %s appears twice' % (where, key))
        seen.add(key)
        current = current_master.get((name, stype))
        if svc.get('state', 'present') == 'absent':
            if current is not None:
                result.master_remove.append(key)
                result.changes.append({'kind': 'master.cf', 'name': key, 'before': _entry_text(name, stype, current), 'after': None})
            continue
        for field in MASTER_FIELDS + ('command',):
            check_value('%s.%s' % (where, field), svc.get(field))
        command = svc.get('command') or (current or {}).get('command')
        if not command:
            raise MailTLSError('%s: %s is not in master.cf, so command is required' % (where, key))
        # an entry given without its command edits only the -o parameters of the existing service: the fields
        # not given keep their values; otherwise a field not given is "-" (Postfix's default)
        keep = current if not svc.get('command') else {}
        wanted = dict((f, str(svc.get(f) if svc.get(f) is not None else keep.get(f, '-'))) for f in MASTER_FIELDS)
        wanted['command'] = ' '.join(str(command).split())
        for field in MASTER_FIELDS:
            if not wanted[field] or ' ' in wanted[field]:
                raise MailTLSError('%s: %s %r must be one word' % (where, field, wanted[field]))
        options = dict((current or {}).get('options', {}))
        if current is None or any(current[f] != wanted[f] for f in MASTER_FIELDS + ('command',)):
            # postconf -M replaces the whole entry: carry the -o parameters over, then edit them with -P
            entry = dict(wanted, options=options)
            result.master_set.append('%s=%s' % (key, _entry_text(name, stype, entry)))
            result.changes.append({'kind': 'master.cf', 'name': key,
                                   'before': _entry_text(name, stype, current) if current else None,
                                   'after': _entry_text(name, stype, dict(wanted, options={}))})
        for pname, pvalue in sorted((svc.get('parameters') or {}).items()):
            check_name('%s.parameters' % where, pname)
            pkey = '%s/%s' % (key, pname)
            if pvalue is None:
                if pname in options:
                    result.param_remove.append(pkey)
                    result.changes.append({'kind': 'master.cf -o', 'name': pkey, 'before': options[pname], 'after': None})
                continue
            check_value('%s.parameters.%s' % (where, pname), pvalue)
            wanted_value = normalize(pvalue)
            if ' ' in wanted_value:
                raise MailTLSError('%s.parameters.%s: %r contains whitespace; write it without spaces '
                                   '(a,b) or define a main.cf parameter and refer to it as $name' % (where, pname, wanted_value))
            if options.get(pname) != wanted_value:
                result.param_set.append('%s=%s' % (pkey, wanted_value))
                result.changes.append({'kind': 'master.cf -o', 'name': pkey, 'before': options.get(pname), 'after': wanted_value})
    return result


def _entry_text(name, stype, entry):
    words = [name, stype] + [entry[f] for f in MASTER_FIELDS] + [entry['command']]
    for oname, ovalue in sorted(entry.get('options', {}).items()):
        words += ['-o', '%s=%s' % (oname, ovalue)]
    return ' '.join(words)


def warnings_of(stderr):
    """postconf's warning lines."""
    return [line.strip() for line in stderr.splitlines() if 'warning:' in line]


class Instance:
    """One Postfix instance: the postconf and postmap commands, with -c config_dir, built here only.

    ``module``: the AnsibleModule that runs them (argv lists, never a shell). ``required``: fail when
    Postfix is not installed; otherwise ``installed`` is False and ``effective`` returns None.
    """

    def __init__(self, module, config_dir=None, required=True):
        self.module = module
        self.config_dir = config_dir
        self._bins = {}
        self.installed = self.binary('postconf', required) is not None

    def binary(self, tool, required=True):
        if tool not in self._bins:
            self._bins[tool] = self.module.get_bin_path(tool, required=required)
        return self._bins[tool]

    def argv(self, tool, args):
        """[tool, -c config_dir] + args."""
        return [self.binary(tool)] + (['-c', self.config_dir] if self.config_dir else []) + list(args)

    def postconf(self, args):
        """Run postconf; fail the module, naming the command, when it fails. Returns (stdout, stderr)."""
        rc, out, err = self.module.run_command(self.argv('postconf', args))
        if rc != 0:
            self.module.fail_json(msg='postconf %s failed: %s' % (' '.join(args), (err or out).strip()))
        return out, err

    def effective(self, name):
        """A parameter's effective value (postconf -xh), or None where Postfix is not installed."""
        if not self.installed:
            return None
        return self.postconf(['-xh', name])[0].strip()

    def effective_digest(self):
        """The effective smtp_tls_fingerprint_digest where Postfix is installed and answers, else None (a default)."""
        if not self.installed:
            return None
        rc, out, dummy = self.module.run_command(self.argv('postconf', ['-xh', 'smtp_tls_fingerprint_digest']))
        value = out.strip().lower()
        return value if rc == 0 and value in DIGESTS else None

    def postmap(self, args):
        """Run postmap; returns (rc, stderr) for the caller to judge."""
        rc, dummy, err = self.module.run_command(self.argv('postmap', args))
        return rc, err

    def query(self, spec, keys):
        """Look ``keys`` up in the map ``spec`` (type:name) with one ``postmap -q - spec`` (keys on standard input,
        never on a command line). Returns (rc, stdout, stderr): rc 0 some found, 1 none found, else an error."""
        return self.module.run_command(self.argv('postmap', ['-q', '-', spec]), data='\n'.join(keys))


__all__ = ['MASTER_FIELDS', 'SERVICE_TYPES', 'Instance', 'Plan', 'normalize', 'parse_master', 'parse_parameters', 'plan',
           'split_command', 'warnings_of']
