# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by every stage: the error type of mailtls.postfix's module_utils. Private to mailtls.postfix.

Every error type of module_utils derives from MailTLSError (_smtp.ProbeError, _posture.PostureError), so a
module's one ``except MailTLSError`` turns any of them into a failure that names the entry and the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


class MailTLSError(Exception):
    """Bad input or an unusable environment; modules turn it into fail_json(msg=str(e))."""


def parse_json(text, where, kind, shape):
    """``text`` read as JSON that must be a ``kind`` (dict, list); MailTLSError names ``where`` and, when the
    type is wrong, the ``shape`` it must hold."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise MailTLSError('%s is not valid JSON (%s)' % (where, e))
    if not isinstance(data, kind):
        raise MailTLSError('%s must hold %s' % (where, shape))
    return data


__all__ = ['MailTLSError', 'parse_json']
