# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by every stage: the error type of mailtls.postfix's module_utils. Private to mailtls.postfix.

Every error type of module_utils derives from MailTLSError (_smtp.ProbeError, _posture.PostureError), so a
module's one ``except MailTLSError`` turns any of them into a failure that names the entry and the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class MailTLSError(Exception):
    """Bad input or an unusable environment; modules turn it into fail_json(msg=str(e))."""


__all__ = ['MailTLSError']
