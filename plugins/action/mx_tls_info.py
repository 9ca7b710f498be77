# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of mailtls.postfix.mx_tls_info: run the module where the task runs; with ``save``, write what it
saw on the controller (module_utils/_gathered.py) and return a compact result in place of the full one.
Without ``save`` the module's result is returned as it is."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._gathered import check_save, save_results


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        save = args.pop('save', None)
        try:
            if save is not None:
                check_save(save)
        except MailTLSError as e:
            result.update(failed=True, msg=to_text(e))
            return result
        probed = self._execute_module(module_name='mailtls.postfix.mx_tls_info', module_args=args, task_vars=task_vars)
        if save is None or probed.get('failed'):
            result.update(probed)
            return result
        try:
            result.update(save_results(probed, save, check_mode=self._task.check_mode))
        except MailTLSError as e:
            result.update(failed=True, msg=to_text(e))
        return result
