# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of mailtls.postfix.tls_apply: read the given certificates' key_src and chain_src and the policy
file on the controller (where the file lookup finds them: the role's files, the playbook's), then run the module
once with their contents. A certificate with ``index`` takes its key and chain from ``certificate_sources[index]``
(the role's postfix_tls_certificates), so that no key is in the role's plan. The key contents go only to the
module's no_log options."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def _read(self, where, src):
        try:
            path = self._find_needle('files', src)
            with open(self._loader.get_real_file(path, decrypt=True), 'rb') as f:
                return to_text(f.read(), errors='surrogate_or_strict')
        except (AnsibleError, IOError, OSError) as e:
            raise AnsibleError('%s: %s cannot be read: %s' % (where, src, getattr(e, 'strerror', None) or e))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            sources = args.pop('certificate_sources', None) or []
            certificates = []
            for i, cert in enumerate(args.get('certificates') or []):
                cert = dict(cert)
                index = cert.pop('index', None)
                if index is not None:
                    # the role's postfix_tls_certificates entry: its key and chain, given inline or as files
                    source = sources[int(index)]
                    cert.update((k, source[k]) for k in ('key_src', 'key_content', 'chain_src', 'chain_content')
                                if source.get(k) is not None)
                where = 'certificates[%d] (%s)' % (i, cert.get('path'))
                for kind in ('key', 'chain'):
                    src = cert.pop('%s_src' % kind, None)
                    if src and cert.get('%s_content' % kind) is None:
                        cert['%s_content' % kind] = self._read('%s %s_src' % (where, kind), src)
                certificates.append(cert)
            args['certificates'] = certificates
            if args.get('policy') and args['policy'].get('src') and args['policy'].get('src_content') is None:
                args['policy'] = dict(args['policy'], src_content=self._read('policy.src', args['policy']['src']))
        except AnsibleError as e:
            result.update(failed=True, msg=to_text(e))
            return result
        result.update(self._execute_module(module_name='mailtls.postfix.tls_apply', module_args=args, task_vars=task_vars))
        return result
