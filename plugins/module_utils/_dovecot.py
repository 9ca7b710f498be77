# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: Dovecot's TLS (IMAP and POP3 for end users), on Dovecot 2.3 and 2.4.

Private to the mailtls.postfix collection; not a public API.

One drop-in file (conf.d/99-mailtls-tls.conf; Debian's dovecot.conf includes conf.d/*.conf, and the last value of
a setting wins) with: TLS required before any authentication, the certificates the tls role installs (both keys
where the host has RSA and ECDSA), the lowest protocol, suites and groups of the same profile table as Postfix's
users' ports (its mandatory side), and each of 143, 993, 110 and 995 on or off. The names differ between the two
versions (2.4 renamed ssl_cert to ssl_server_cert_file and disable_plaintext_auth to auth_allow_cleartext, among
others); they are taken from the running Dovecot's version and checked against what its ``doveconf -d`` knows, so
nothing is written that this Dovecot would reject.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._library import OPENSSL_3_5
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import version_tuple

CONFIG_FILE = '/etc/dovecot/conf.d/99-mailtls-tls.conf'
# the setting names per major version: 2.3 (Debian 11, 12) and 2.4 (Debian 13)
NAMES = {
    (2, 3): {'cleartext': ('disable_plaintext_auth', 'yes'), 'cert': 'ssl_cert', 'key': 'ssl_key',
             'alt_cert': 'ssl_alt_cert', 'alt_key': 'ssl_alt_key', 'prefer': ('ssl_prefer_server_ciphers', 'yes'),
             'file': '<%s'},
    (2, 4): {'cleartext': ('auth_allow_cleartext', 'no'), 'cert': 'ssl_server_cert_file', 'key': 'ssl_server_key_file',
             'alt_cert': 'ssl_server_alt_cert_file', 'alt_key': 'ssl_server_alt_key_file',
             'prefer': ('ssl_server_prefer_ciphers', 'server'), 'file': '%s'},
}
PORTS = (('imap', 'imap-login', 'imap', 143, False), ('imaps', 'imap-login', 'imaps', 993, True),
         ('pop3', 'pop3-login', 'pop3', 110, False), ('pop3s', 'pop3-login', 'pop3s', 995, True))
# a setting (name = value) or, in 2.4, a list or map setting (name {) at the top level of doveconf -d
_SETTING = re.compile(r'^([a-z0-9_]+)(?: = | \{$)', re.M)


def parse_version(text):
    """'2.4.1-4 (7d8c0e5759)' (dovecot --version) -> '2.4.1'."""
    match = re.match(r'\s*(\d+\.\d+(?:\.\d+)*)', text or '')
    if not match:
        raise MailTLSError('dovecot --version said %r, not a version' % (text or '').strip())
    return match.group(1)


def known_settings(doveconf_d):
    """The top-level setting names of ``doveconf -d`` (the ones this Dovecot accepts)."""
    return set(_SETTING.findall(doveconf_d or ''))


def _names(version):
    major = tuple(version_tuple(version)[:2])
    if major < (2, 3):
        raise MailTLSError('Dovecot %s is too old for this role: it needs 2.3 or 2.4 (ssl_min_protocol is new in 2.3)'
                           % version)
    return NAMES[(2, 4) if major >= (2, 4) else (2, 3)]


def _protocol(profile):
    """The lowest protocol for users' ports: the profile's mandatory one (users' clients always use TLS)."""
    value = str((profile.get('protocols') or {}).get('smtpd_tls_mandatory_protocols') or '')
    if value not in ('TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'):
        raise MailTLSError('the profile names no lowest protocol Dovecot knows (smtpd_tls_mandatory_protocols %r)' % value)
    return value


def _groups(profile, openssl_number):
    """Dovecot's ssl_curve_list (OpenSSL's group list): the profile's post-quantum hybrid first where the linked
    OpenSSL is 3.5 or later, then its curves."""
    curves = [c for c in str((profile.get('parameters') or {}).get('tls_eecdh_auto_curves') or '').split() if c]
    openssl_groups = str((profile.get('openssl') or {}).get('groups') or '')
    hybrid = re.findall(r'[A-Za-z0-9]*MLKEM[A-Za-z0-9]*', openssl_groups)
    if int(openssl_number or 0) >= OPENSSL_3_5:
        curves = [g for g in hybrid if g not in curves] + curves
    return ':'.join(curves)


OPENSSL_CONFIG = '/etc/dovecot/mailtls-openssl.cnf'


def openssl_config(signature_algorithms):
    """The OpenSSL configuration Dovecot's processes read through OPENSSL_CONF: the profile's signature algorithms
    as the system default of every TLS context (Dovecot has no setting of its own for them)."""
    return '\n'.join([
        '# mailtls.postfix dovecot role: read by Dovecot\'s TLS code through OPENSSL_CONF (import_environment).',
        '# Written by Ansible; edits are replaced.', 'openssl_conf = mailtls_dovecot_init', '',
        '[mailtls_dovecot_init]', 'ssl_conf = mailtls_dovecot_ssl', '', '[mailtls_dovecot_ssl]',
        'system_default = mailtls_dovecot_system', '', '[mailtls_dovecot_system]',
        'SignatureAlgorithms = %s' % signature_algorithms, ''])


def plan(version, known, profile, certificates, ports, openssl_number=0, postfix_sasl=None,
         openssl_config_file=OPENSSL_CONFIG):
    """The drop-in file's text and its settings for this Dovecot. MailTLSError names what cannot be done.

    ``profile``: one entry of the tls role's profile table (protocols, parameters, openssl). ``certificates``:
    chain files (the key, then the chain, as the tls role writes them), one per key type, at most two.
    ``ports``: {'imap', 'imaps', 'pop3', 'pop3s'} true or false. ``postfix_sasl``: the path of Postfix's SASL
    socket to serve (private/auth under its queue directory), or None.
    """
    names = _names(version)
    if not certificates:
        raise MailTLSError('no certificate: Dovecot needs at least one chain file (the tls role\'s, or dovecot_tls_certificates)')
    if len(certificates) > 2:
        raise MailTLSError('%d certificates: Dovecot serves at most two (one RSA, one ECDSA: ssl_cert and its alt)'
                           % len(certificates))
    settings = [('ssl', 'required'), names['cleartext'],
                (names['cert'], names['file'] % certificates[0]), (names['key'], names['file'] % certificates[0])]
    if len(certificates) == 2:
        settings += [(names['alt_cert'], names['file'] % certificates[1]),
                     (names['alt_key'], names['file'] % certificates[1])]
    ciphers = str((profile.get('parameters') or {}).get('tls_high_cipherlist') or '')
    settings += [('ssl_min_protocol', _protocol(profile))]
    if ciphers:
        settings += [('ssl_cipher_list', ciphers)]
    groups = _groups(profile, openssl_number)
    if groups:
        settings += [('ssl_curve_list', groups)]
    settings += [names['prefer']]
    sigalgs = str((profile.get('openssl') or {}).get('signature_algorithms') or '')
    unknown = [name for name, dummy in settings if name not in known] + (
        ['import_environment'] if sigalgs and 'import_environment' not in known else [])
    if unknown:
        raise MailTLSError('Dovecot %s does not know %s: this profile cannot be applied here; nothing was written'
                           % (version, ', '.join(unknown)))
    lines = ['# mailtls.postfix dovecot role: TLS for IMAP and POP3 (Dovecot %s). Written by Ansible; edits are '
             'replaced.' % version]
    lines += ['%s = %s' % item for item in settings]
    if sigalgs:
        # Dovecot has no setting for the signature algorithms: its processes read them from an OpenSSL
        # configuration of their own (the system default of every TLS context), named in their environment
        if names is NAMES[(2, 4)]:
            lines += ['import_environment {', '  OPENSSL_CONF = %s' % openssl_config_file, '}']
        else:
            lines += ['import_environment = $import_environment OPENSSL_CONF=%s' % openssl_config_file]
    services = {}
    for option, service, listener, port, ssl in PORTS:
        services.setdefault(service, []).append((listener, port if ports.get(option) else 0, ssl))
    for service in ('imap-login', 'pop3-login'):
        lines.append('service %s {' % service)
        for listener, port, ssl in services[service]:
            lines += ['  inet_listener %s {' % listener, '    port = %d' % port] + (['    ssl = yes'] if ssl else []) + ['  }']
        lines.append('}')
    if postfix_sasl:
        lines += ['service auth {', '  unix_listener %s {' % postfix_sasl, '    mode = 0660', '    user = postfix',
                  '    group = postfix', '  }', '}']
    return {'content': '\n'.join(lines) + '\n', 'settings': dict(settings),
            'openssl_config': openssl_config(sigalgs) if sigalgs else None,
            'listening': [port for option, dummy, dummy2, port, dummy3 in PORTS if ports.get(option)]}


__all__ = ['CONFIG_FILE', 'NAMES', 'OPENSSL_CONFIG', 'PORTS', 'known_settings', 'openssl_config', 'parse_version', 'plan']
