# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: the OpenSSL that Postfix links, and the OpenSSL baseline the tls role gives it. Private to mailtls.postfix.

Postfix (3.9, and 3.8.1, 3.7.6, 3.6.10, 3.5.20 and later) reads a baseline OpenSSL configuration through
``tls_config_file`` and ``tls_config_name``. With an absolute path the file must hold non-empty settings for
that name, and any error disables TLS (postconf(5); measured: an empty section does). The ``system_default``
settings of the name reach every TLS context of the process, so the role gives the server processes (smtpd,
tlsproxy) their own name through master.cf -o:

- ``SignatureAlgorithms`` without SHA-1 and SHA-224: internet.nl (1.11, NCSC-NL 2025-05) rates them
  insufficient for key exchange.
- ``Groups`` with X25519MLKEM768 first, where the linked OpenSSL is 3.5 or later: the syntax of Postfix's own
  postconf(5) example. The hybrid is a tuple of its own, without a key share (``?X25519MLKEM768 / ?*X25519...``):
  as a server Postfix asks a client that offers it for it; as a client it sends only the X25519 share, so its
  ClientHello does not grow by 1.2 KB for servers that cannot take it (Postfix 3.11's advice). OpenSSL takes
  the groups from the file only when ``tls_eecdh_auto_curves`` and ``tls_ffdhe_auto_groups`` are both empty
  (Postfix 3.6.17, 3.7.13, 3.8.8, 3.9.2, 3.10 and later).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import os
import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import version_tuple
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import parse_master, parse_parameters

# OPENSSL_VERSION_NUMBER of 3.5.0 (0xMNN00PP0)
OPENSSL_3_5 = 0x30500000

# the application name the role gives OpenSSL (tls_config_name) and the file's sections
APP_NAME = 'mailtls'
SERVER_NAME = 'mailtls_server'

# Postfix versions that leave the groups to OpenSSL when both group parameters are empty
OPENSSL_GROUPS_SINCE = {(3, 6): (3, 6, 17), (3, 7): (3, 7, 13), (3, 8): (3, 8, 8), (3, 9): (3, 9, 2)}
OPENSSL_GROUPS_FROM = (3, 10)

_LDD_LIBSSL = re.compile(r'^\s*(libssl\.so[.0-9]*)\s+=>\s+(/\S+)', re.MULTILINE)


def libssl_path(ldd_output):
    """The path of the libssl that ``ldd`` shows for a Postfix daemon, or None."""
    match = _LDD_LIBSSL.search(ldd_output or '')
    return match.group(2) if match else None


def openssl_version_text(number):
    """``3.5.9`` from OPENSSL_VERSION_NUMBER (3.x: 0xMNN00PP0; 1.x: 0xMNNFFPPS, the patch as a letter)."""
    major = number >> 28
    minor = (number >> 20) & 0xff
    if major >= 3:
        return '%d.%d.%d' % (major, minor, (number >> 4) & 0xff)
    fix = (number >> 12) & 0xff
    letter = (number >> 4) & 0xff
    return '%d.%d.%d%s' % (major, minor, fix, chr(ord('a') + letter - 1) if letter else '')


def linked_openssl(module, daemon_directory, program=None):
    """The OpenSSL that ``daemon_directory``/smtpd (or the file ``program``) links: ldd names its libssl, which is
    loaded and asked for its version (OpenSSL_version_num). ``module``: the AnsibleModule that runs ldd (an argv
    list, no shell). -> {'openssl_version', 'openssl_version_number', 'openssl_library'}; MailTLSError when there
    is none."""
    path_of = program or os.path.join(daemon_directory, 'smtpd')
    ldd = module.get_bin_path('ldd', required=True)
    rc, out, err = module.run_command([ldd, path_of])
    path = libssl_path(out) if rc == 0 else None
    if not path:
        raise MailTLSError('%s: ldd shows no libssl (is it built with TLS?): %s' % (path_of, (err or out).strip()))
    try:
        library = ctypes.CDLL(path)
        library.OpenSSL_version_num.restype = ctypes.c_ulong
        number = int(library.OpenSSL_version_num())
    except (OSError, AttributeError) as e:
        raise MailTLSError('%s: cannot read the OpenSSL version: %s' % (path, e))
    return {'openssl_version': openssl_version_text(number), 'openssl_version_number': number, 'openssl_library': path}


def tlsrpt_compiled(daemon_directory):
    """Whether ``daemon_directory``/smtp was built with TLSRPT (-DUSE_TLSRPT): only then does it carry the text of
    its TLSRPT sanity checks ("TLSRPT support"); one built without carries "TLSRPT is not compiled in" instead
    (Postfix 3.10 src/smtp/smtp.c and smtp_tlsrpt.c). Read from the program, not assumed from the version."""
    path = os.path.join(daemon_directory, 'smtp')
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except (IOError, OSError) as e:
        raise MailTLSError('%s: cannot read it to see whether it has TLSRPT: %s' % (path, e))
    return b'TLSRPT is not compiled in' not in data and b'TLSRPT support' in data


def config_file_known(postconf_d_text):
    """Whether ``postconf -d`` (its output) knows tls_config_file, read as the postconf module reads if_known."""
    return 'tls_config_file' in parse_parameters(postconf_d_text)


def postfix_leaves_groups_to_openssl(postfix_version):
    """Whether empty tls_eecdh_auto_curves and tls_ffdhe_auto_groups let OpenSSL's configured groups apply."""
    v = version_tuple(postfix_version)
    if v[:2] >= OPENSSL_GROUPS_FROM:
        return True
    first = OPENSSL_GROUPS_SINCE.get(v[:2])
    return first is not None and v[:3] >= first


def _section(name, commands):
    return ['%s = %s_settings' % (name, name)], [
        '',
        '[%s_settings]' % name,
        'ssl_conf = %s_ssl_settings' % name,
        '',
        '[%s_ssl_settings]' % name,
        'system_default = %s_baseline' % name,
        '',
        '[%s_baseline]' % name,
    ] + ['%s = %s' % (k, v) for k, v in commands]


def baseline(profile_name, openssl, postfix_version, config_file, config_file_known, openssl_number):
    """What the role writes for a profile's ``openssl`` settings on one host.

    ``openssl``: the profile's ``openssl`` dict (``signature_algorithms``, ``groups``; either may be empty).
    ``config_file_known``: ``postconf -d`` knows tls_config_file. ``openssl_number``: the linked OpenSSL's
    OPENSSL_VERSION_NUMBER (0 when unknown).

    The signature algorithms reach the server processes only (smtpd and tlsproxy, through master.cf -o
    ``tls_config_name = mailtls_server``): Postfix's client runs opportunistic TLS at security level 0 and,
    without this file, delivers over TLS 1.2 to a peer that can sign only with SHA-1; with it, that mail would
    wait one backoff and then go in plain text (measured in the lab). The groups reach every process (main.cf
    ``tls_config_name = mailtls``): a client sends only the X25519 key share and names the hybrid. An empty
    section is never written: OpenSSL refuses it, and Postfix then disables TLS.

    Returns a dict: ``parameters`` (main.cf; None = Postfix's default), ``service_parameters`` (master.cf -o of
    the server services; None = removed), ``config`` (the file's text, '' for no file), ``signature_algorithms``
    and ``groups`` (what the file sets, '' for nothing) and ``warnings``.
    """
    openssl = openssl or {}
    unknown = sorted(set(openssl) - {'signature_algorithms', 'groups'})
    if unknown:
        raise MailTLSError('profile %s: openssl: unknown setting(s) %s (signature_algorithms, groups)'
                           % (profile_name, ', '.join(unknown)))
    for name, value in sorted(openssl.items()):
        text = str(value or '')
        if '\n' in text or '\r' in text or '#' in text:
            raise MailTLSError('profile %s: openssl: %s must be one line without "#" (got %r)' % (profile_name, name, text))
    if not str(config_file or '').startswith('/') or any(c.isspace() for c in str(config_file)):
        raise MailTLSError('postfix_tls_openssl_config_file: %r must be an absolute path without whitespace '
                           '(Postfix reads only an absolute tls_config_file, and master.cf -o splits at spaces)'
                           % (config_file,))
    sigalgs = str(openssl.get('signature_algorithms') or '').strip()
    groups = str(openssl.get('groups') or '').strip()
    warnings = []
    if groups and not (openssl_number >= OPENSSL_3_5 and postfix_leaves_groups_to_openssl(postfix_version)):
        # the profile's tls_eecdh_auto_curves stay; no post-quantum group
        groups = ''
    if (sigalgs or groups) and not config_file_known:
        warnings.append('Postfix %s has no tls_config_file (3.9, and 3.8.1, 3.7.6, 3.6.10, 3.5.20 and later): '
                        'its server keeps accepting SHA-1 and SHA-224 signatures, which internet.nl rates '
                        'insufficient; upgrade Postfix' % postfix_version)
        sigalgs = groups = ''
    parameters = {'tls_config_file': None, 'tls_config_name': None}
    service_parameters = {'tls_config_file': None, 'tls_config_name': None}
    if not (sigalgs or groups):
        return {'parameters': parameters, 'service_parameters': service_parameters, 'config': '',
                'signature_algorithms': '', 'groups': '', 'warnings': warnings}
    server = SERVER_NAME
    names, body = _section(server, ([('SignatureAlgorithms', sigalgs)] if sigalgs else [])
                           + ([('Groups', groups)] if groups else []))
    service_parameters = {'tls_config_file': config_file, 'tls_config_name': server}
    if groups:
        more_names, more_body = _section(APP_NAME, [('Groups', groups)])
        names, body = names + more_names, body + more_body
        # OpenSSL's configured groups apply only when Postfix sets none of its own
        parameters = {'tls_config_file': config_file, 'tls_config_name': APP_NAME,
                      'tls_eecdh_auto_curves': '', 'tls_ffdhe_auto_groups': ''}
    head = [
        '# Written by mailtls.postfix (role tls, profile %s). Postfix reads it through tls_config_file:' % profile_name,
        '# %s for smtpd and tlsproxy (master.cf -o tls_config_name)%s.' % (
            server, ', %s for every other process (main.cf)' % APP_NAME if groups else ''),
        '# An error in this file disables TLS in Postfix: change the profile, not this file.',
    ]
    return {'parameters': parameters, 'service_parameters': service_parameters,
            'config': '\n'.join(head + names + body) + '\n',
            'signature_algorithms': sigalgs, 'groups': groups, 'warnings': warnings}


# the master.cf commands of the processes that serve TLS to others (postscreen's STARTTLS runs in tlsproxy)
SERVER_COMMANDS = ('smtpd', 'tlsproxy')


def server_services(master_text, parameters, written=()):
    """The master.cf services that run a TLS server (smtpd, tlsproxy), each with ``parameters`` as -o edits.

    ``master_text``: ``postconf -M`` output. ``written``: NAME/TYPE keys the role writes itself (left out).
    Entries carry no command and no fields, so the postconf module edits only their -o parameters.
    """
    result = []
    for (name, stype), entry in sorted(parse_master(master_text).items()):
        if '%s/%s' % (name, stype) in written:
            continue
        if entry['command'].split()[0] in SERVER_COMMANDS:
            result.append({'name': name, 'type': stype, 'parameters': dict(parameters)})
    return result


__all__ = ['APP_NAME', 'OPENSSL_3_5', 'SERVER_COMMANDS', 'SERVER_NAME', 'baseline', 'config_file_known', 'linked_openssl', 'tlsrpt_compiled',
           'server_services', 'libssl_path', 'openssl_version_text',
           'postfix_leaves_groups_to_openssl']
