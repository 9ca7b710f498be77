# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: TLSRPT for what our senders meet, sys4's tlsrpt-reporter beside Postfix 3.10 or later.

Private to the mailtls.postfix collection; not a public API.

Postfix's smtp(8), built with libtlsrpt, sends one datagram per TLS handshake to a domain that publishes a
TLSRPT policy (TLSRPT_README). tlsrpt-collectd receives them on a UNIX-domain socket and keeps the day's counts
in SQLite; tlsrpt-reportd, after midnight UTC, fetches them (tlsrpt-fetcher), writes one RFC 8460 report per
policy domain and mails it with the sendmail command. This module writes their three configuration files (the
programs' own default paths, /etc/tlsrpt/*.cfg, read by configparser), their systemd units and the two main.cf
parameters; the role installs the package into a virtual environment and makes the user and directories.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import io
import posixpath
import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import version_tuple

MIN_VERSION = (3, 10)
CONFIG_DIR = '/etc/tlsrpt'
STATE_DIR = '/var/lib/tlsrpt'
USER = '_tlsrpt'
# relative to queue_directory, as TLSRPT_README recommends: the same path with and without Postfix's chroot
SOCKET = 'run/tlsrpt/tlsrpt.sock'
UNITS = ('tlsrpt-collectd', 'tlsrpt-reportd')
# tlsrpt-reportd settings (tlsrpt-reporter 0.6) an operator may give beside the ones the role writes
REPORTD_OPTIONS = ('log_level', 'keep_days', 'compression_level', 'http_timeout', 'sendmail_timeout',
                   'spread_out_delivery', 'interval_main_loop', 'max_collectd_timeout', 'max_collectd_timediff',
                   'max_retries_delivery', 'min_wait_delivery', 'max_wait_delivery', 'max_retries_domainlist',
                   'min_wait_domainlist', 'max_wait_domainlist', 'max_retries_domaindetails',
                   'min_wait_domaindetails', 'max_wait_domaindetails')
ADDRESS = re.compile(r'^[^@\s<>]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$')


def _ini(section, values):
    """One section of an INI file as configparser writes it; '%' kept literal (configparser interpolates)."""
    parser = configparser.ConfigParser()
    parser[section] = dict((k, str(v).replace('%', '%%')) for k, v in values.items())
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def _text(name, value):
    value = '' if value is None else str(value).strip()
    if not value:
        raise MailTLSError('postfix_tls_tlsrpt_%s is required with postfix_tls_tlsrpt (RFC 8460 4.4 puts it in '
                           'every report)' % name)
    if '\n' in value or '\r' in value:
        raise MailTLSError('postfix_tls_tlsrpt_%s must be one line' % name)
    return value


def supported(version, compiled):
    """Why this Postfix cannot report TLSRPT, or None when it can."""
    if version_tuple(version)[:2] < MIN_VERSION:
        return 'Postfix %s has no TLSRPT client (smtp_tlsrpt_enable is new in 3.10)' % version
    if not compiled:
        return ('Postfix %s was built without TLSRPT (its smtp(8) has no libtlsrpt support: build with -DUSE_TLSRPT '
                'and -ltlsrpt, or use a package linked with libtlsrpt, such as Debian 13\'s)' % version)
    return None


def settings(options, queue_directory, venv):
    """The reporter's files, main.cf parameters and unit names from the role's ``options``: organization, contact,
    sender (required), reportd_options (a dict of REPORTD_OPTIONS). MailTLSError names the option at fault."""
    organization = _text('organization', options.get('organization'))
    contact = _text('contact', options.get('contact'))
    sender = _text('sender', options.get('sender'))
    if not ADDRESS.match(sender):
        raise MailTLSError('postfix_tls_tlsrpt_sender %r is not a mail address (local@domain.tld): the reports are '
                           'sent From it' % sender)
    extra = options.get('reportd_options') or {}
    if not isinstance(extra, dict):
        raise MailTLSError('postfix_tls_tlsrpt_reportd_options must be a dict, not %s' % type(extra).__name__)
    unknown = sorted(set(extra) - set(REPORTD_OPTIONS))
    if unknown:
        raise MailTLSError('postfix_tls_tlsrpt_reportd_options: %s not a setting the role passes on (one of %s; the '
                           'role writes the others itself)' % (', '.join(unknown), ', '.join(REPORTD_OPTIONS)))
    for key, value in extra.items():
        if key != 'log_level' and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise MailTLSError('postfix_tls_tlsrpt_reportd_options.%s must be a whole number 0 or more, not %r'
                               % (key, value))
    if not queue_directory or not posixpath.isabs(queue_directory):
        raise MailTLSError('plan: queue_directory %r is not an absolute path' % (queue_directory,))
    socket = posixpath.join(queue_directory, SOCKET)
    storage = 'sqlite://%s' % posixpath.join(STATE_DIR, 'collectd.sqlite')
    bin_dir = posixpath.join(venv, 'bin')
    reportd = {
        'organization_name': organization, 'contact_info': contact, 'sender_address': sender,
        'dbname': posixpath.join(STATE_DIR, 'reportd.sqlite'),
        'fetchers': '%s --config_file %s' % (posixpath.join(bin_dir, 'tlsrpt-fetcher'),
                                             posixpath.join(CONFIG_DIR, 'fetcher.cfg')),
        'sendmail_script': '/usr/sbin/sendmail -i -t', 'log_level': 'info',
    }
    reportd.update(extra)
    files = [
        {'path': posixpath.join(CONFIG_DIR, 'collectd.cfg'), 'mode': '0644', 'content': _ini('tlsrpt_collectd', {
            # writable by all, in a directory that only its owner and the postfix group may enter (the role makes
            # it _tlsrpt:postfix 0750): the collector needs no membership of the postfix group to hand it over
            'storage': storage, 'socketname': socket, 'socketmode': '0222',
            'log_level': 'info'})},
        {'path': posixpath.join(CONFIG_DIR, 'fetcher.cfg'), 'mode': '0644', 'content': _ini('tlsrpt_fetcher', {
            'storage': storage, 'log_level': 'info'})},
        {'path': posixpath.join(CONFIG_DIR, 'reportd.cfg'), 'mode': '0644', 'content': _ini('tlsrpt_reportd', reportd)},
    ]
    for unit, what, after in (
            ('tlsrpt-collectd', 'collects the TLSRPT datagrams of Postfix smtp(8)', 'Before=postfix.service'),
            ('tlsrpt-reportd', 'sends the daily RFC 8460 reports by mail',
             'After=network-online.target postfix.service tlsrpt-collectd.service\nWants=network-online.target')):
        files.append({'path': '/etc/systemd/system/%s.service' % unit, 'mode': '0644', 'content': '\n'.join([
            '[Unit]', 'Description=tlsrpt-reporter: %s (mailtls.postfix)' % what, after, '',
            '[Service]', 'Type=simple', 'User=%s' % USER, 'Group=%s' % USER,
            'ExecStart=%s --config_file %s' % (posixpath.join(bin_dir, unit),
                                               posixpath.join(CONFIG_DIR, unit.split('-')[1] + '.cfg')),
            'Restart=on-failure', 'RestartSec=5', '', '[Install]', 'WantedBy=multi-user.target', ''])})
    return {'files': files, 'main_cf': {'smtp_tlsrpt_enable': 'yes', 'smtp_tlsrpt_socket_name': SOCKET},
            'socket': socket, 'units': ['%s.service' % u for u in UNITS]}


__all__ = ['CONFIG_DIR', 'MIN_VERSION', 'REPORTD_OPTIONS', 'SOCKET', 'STATE_DIR', 'UNITS', 'USER', 'settings',
           'supported']
