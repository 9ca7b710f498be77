# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: TLS profiles (intermediate, modern, compat) as main.cf and master.cf parameters. Private to mailtls.postfix.

A profile is data (the role's vars/profiles.yml): the lowest TLS version per
protocols parameter, and other parameters as they are written. This module
writes the protocols in the syntax of the Postfix that reads them: ``>=TLSv1.2``
from Postfix 3.6, and before 3.6 the list of protocols to exclude
(``!SSLv2, !SSLv3, !TLSv1, !TLSv1.1``), because Postfix 3.5 reads ``>=TLSv1.2``
as an unknown protocol name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PROTOCOLS, RANGE_MIN_VERSION, version_tuple

PROTOCOL_PARAMETERS = ('smtpd_tls_protocols', 'smtpd_tls_mandatory_protocols',
                       'smtp_tls_protocols', 'smtp_tls_mandatory_protocols')


def protocols_value(lowest, postfix_version):
    """The lowest TLS version allowed ('TLSv1.2') as a protocols value for this Postfix version."""
    if lowest not in PROTOCOLS[2:]:
        raise MailTLSError('%r is not a TLS version to start from (%s)' % (lowest, ', '.join(PROTOCOLS[2:])))
    if version_tuple(postfix_version) >= RANGE_MIN_VERSION:
        return '>=' + lowest
    return ', '.join('!' + p for p in PROTOCOLS[:PROTOCOLS.index(lowest)])


def translate_protocols(value, postfix_version):
    """An operator's protocols value: '>=TLSvX' becomes the exclusion list before Postfix 3.6; others stay."""
    text = str(value).strip()
    if text.startswith('>=') and version_tuple(postfix_version) < RANGE_MIN_VERSION:
        return protocols_value(text[2:], postfix_version)
    return text


def profile_parameters(profiles, name, postfix_version, overrides=None):
    """The main.cf parameters of profile ``name`` for this Postfix version.

    ``overrides``: protocols parameters the operator set (empty values mean "from the profile").
    """
    if not isinstance(profiles, dict) or name not in profiles:
        raise MailTLSError('profile %r is not one of %s' % (name, ', '.join(sorted(profiles or {}))))
    profile = profiles[name]
    result = dict(profile.get('parameters') or {})
    # parameters_before: {VERSION: {name: value}}, for Postfix older than VERSION only (for example the DH file
    # before 3.8, where tls_ffdhe_auto_groups takes over and 3.10 warns that the file is deprecated)
    for version, params in sorted((profile.get('parameters_before') or {}).items()):
        if version_tuple(postfix_version) < version_tuple(version):
            result.update(params or {})
    for parameter, lowest in sorted((profile.get('protocols') or {}).items()):
        if parameter not in PROTOCOL_PARAMETERS:
            raise MailTLSError('profile %s: %r is not a protocols parameter (%s)'
                               % (name, parameter, ', '.join(PROTOCOL_PARAMETERS)))
        try:
            result[parameter] = protocols_value(lowest, postfix_version)
        except MailTLSError as e:
            raise MailTLSError('profile %s: %s: %s' % (name, parameter, e))
    for parameter, value in sorted((overrides or {}).items()):
        if value not in (None, ''):
            result[parameter] = translate_protocols(value, postfix_version)
    return result


def service_overrides(main, service, names):
    """The ``names`` whose value in ``service`` differs from ``main``: the master.cf -o parameters of a service
    that runs another profile. Values must be one word there (master.cf splits -o at whitespace)."""
    result = {}
    for parameter in names:
        value = service.get(parameter)
        if value is None or main.get(parameter) == value:
            continue
        value = ','.join(part.strip() for part in str(value).split(',')) if ', ' in str(value) else str(value)
        if any(c.isspace() for c in value):
            raise MailTLSError('%s = %r cannot be a master.cf -o value (it has whitespace)' % (parameter, value))
        result[parameter] = value
    return result


__all__ = ['PROTOCOL_PARAMETERS', 'profile_parameters', 'protocols_value', 'service_overrides', 'translate_protocols']
