# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by every stage: options that several modules share: their argument specs and their checks. Private to mailtls.postfix.

Documented once in plugins/doc_fragments (probe, postfix); each check names the option and the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# how every module that talks to a mail server connects (mx_tls_info, tls_policy_check, tls_server_posture):
# doc fragment mailtls.postfix.probe.connection
PROBE_CONNECTION_OPTIONS = dict(
    timeout=dict(type='float', default=10),
    nameservers=dict(type='list', elements='str'),
    ca_file=dict(type='path'),
)
# the options of a module that probes many servers (mx_tls_info, tls_policy_check): doc fragments
# mailtls.postfix.probe and mailtls.postfix.probe.connection
PROBE_OPTIONS = dict(
    PROBE_CONNECTION_OPTIONS,
    concurrency=dict(type='int', default=32),
    tls_mode=dict(type='str', default='auto', choices=['auto', 'starttls', 'implicit']),
)
# the Postfix instance whose configuration applies: doc fragment mailtls.postfix.postfix
POSTFIX_OPTIONS = dict(
    config_dir=dict(type='path'),
)
# the fingerprint digests Postfix takes (smtp_tls_fingerprint_digest), the recommended one first
DIGESTS = ('sha256', 'sha1', 'md5')
DIGEST_OPTION = dict(digest=dict(type='str', choices=list(DIGESTS)))
# a certificate that expires within this many days is a warning, everywhere (option expiry_warn_days,
# role variable postfix_tls_expiry_warn_days)
EXPIRY_WARN_DAYS = 21
EXPIRY_OPTION = dict(expiry_warn_days=dict(type='int', default=EXPIRY_WARN_DAYS))


def argument_spec(*parts, **own):
    """One argument spec from shared parts and a module's own options (which may not redefine shared ones)."""
    spec = {}
    for part in parts:
        spec.update(part)
    clash = sorted(set(spec) & set(own))
    if clash:
        raise ValueError('options %s are shared; do not define them again' % ', '.join(clash))
    spec.update(own)
    return spec


def _no_space(name, value):
    if value is not None and (not value or any(c.isspace() for c in value)):
        return '%s: %r is empty or contains whitespace' % (name, value)
    return None


def expiry_option_error(params):
    """The problem with O(expiry_warn_days), or None."""
    if params.get('expiry_warn_days') is not None and params['expiry_warn_days'] < 0:
        return 'expiry_warn_days: %r is negative' % params['expiry_warn_days']
    return None


def probe_option_errors(params):
    """The problems with the shared probe options, one message each (empty: none)."""
    errors = []
    if not 0 < params['timeout'] <= 3600:
        errors.append('timeout: %r is not a number of seconds above 0 and at most 3600' % params['timeout'])
    if 'concurrency' in params and not 1 <= params['concurrency'] <= 1024:
        errors.append('concurrency: %r is not a number from 1 to 1024' % params['concurrency'])
    if expiry_option_error(params):
        errors.append(expiry_option_error(params))
    if 'port' in params and not 1 <= params['port'] <= 65535:
        errors.append('port: %r is not a number from 1 to 65535' % params['port'])
    for name in ('ehlo_name', 'sni'):
        if name in params:
            message = _no_space(name, params[name])
            if message:
                errors.append(message)
    return errors


def check_probe_options(module):
    """Fail the module with the first problem of its probe options."""
    errors = probe_option_errors(module.params)
    if errors:
        module.fail_json(msg=errors[0])


__all__ = ['DIGESTS', 'DIGEST_OPTION', 'EXPIRY_OPTION', 'EXPIRY_WARN_DAYS', 'POSTFIX_OPTIONS', 'PROBE_CONNECTION_OPTIONS',
           'PROBE_OPTIONS', 'argument_spec', 'check_probe_options', 'expiry_option_error', 'probe_option_errors']
