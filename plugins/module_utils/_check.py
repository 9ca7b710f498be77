# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: the checks of a new configuration before Postfix reloads it. Private to mailtls.postfix.

In order, stopping at the first that fails: ``postfix check``; the warnings ``postconf -n`` prints; that every
certificate file main.cf names exists (postfix check does not look); ``postmap -q`` of the policy map's first
key (the index Postfix will read answers); and a trial start of one smtpd in stand-alone mode with the new
main.cf (``smtpd -S``): smtpd reads its parameters when it starts, so a value it rejects passes postfix check
and the reload and then makes every smtpd exit at once. Postfix's commands and daemons log their reasons to
the mail log, not to stderr, when no terminal is attached; the reason is then the last complaint of the program
there. Commands run as argument vectors, never through a shell.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

COMPLAINT = re.compile(r'warning|fatal|error')
DEFAULT_MAILLOG = '/var/log/mail.log'
# how much of the mail log's end is read for a reason
TAIL_BYTES = 1 << 20


def last_complaint(path, program):
    """The last ``fatal:``, ``error:`` or ``warning:`` line of ``program`` (a regular expression, such as
    ``postfix/smtpd``) in the end of the mail log at ``path``, without its syslog head; or a pointer to the log."""
    pattern = re.compile(r'%s\[[0-9]+\]: (fatal|error|warning):' % program)
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - TAIL_BYTES))
            lines = f.read().decode('utf-8', 'replace').splitlines()
    except (IOError, OSError):
        return 'see the mail log'
    found = [line for line in lines if pattern.search(line)]
    return re.sub(r'^.*?\]: ', '', found[-1], count=1) if found else 'see the mail log'


def check(run, config_dir, daemon_directory, policy_map=None, first_key=None):
    """The checks, in order. ``run``: (argv, env_update, stdin text or None; a line end is added) -> (rc, out,
    err). Raises MailTLSError with the reason of the first that fails; returns what was checked."""
    config = ['-c', config_dir] if config_dir else []
    maillog = (run(['postconf'] + config + ['-xh', 'maillog_file'], None, None)[1].strip() or DEFAULT_MAILLOG)

    rc, out, err = run(['postfix'] + config + ['check'], None, None)
    if rc != 0 or COMPLAINT.search(err):
        raise MailTLSError('postfix check fails (status %d): %s' % (
            rc, err.strip() or last_complaint(maillog, 'postfix(/postfix-script)?')))

    rc, out, err = run(['postconf'] + config + ['-n'], None, None)
    if rc != 0 or COMPLAINT.search(err):
        raise MailTLSError('postconf -n fails or warns about the new configuration (status %d): %s' % (rc, err.strip()))

    rc, out, err = run(['postconf'] + config + ['-xh', 'smtpd_tls_chain_files', 'smtpd_tls_cert_file',
                                                'smtpd_tls_key_file'], None, None)
    named = re.findall(r'[^,\s]+', out)
    missing = [path for path in named if not os.path.exists(path)]
    if missing:
        raise MailTLSError('main.cf names certificate files that do not exist: %s' % ', '.join(missing))

    if policy_map and first_key is not None:
        rc, out, err = run(['postmap'] + config + ['-q', first_key, policy_map], None, None)
        if rc != 0:
            raise MailTLSError('postmap -q %s %s finds no entry (status %d): %s' % (
                first_key, policy_map, rc, err.strip() or 'the index does not answer for the first key'))

    rc, out, err = run([os.path.join(daemon_directory, 'smtpd'), '-S'], {'MAIL_CONFIG': config_dir} if config_dir else None, 'QUIT')
    if rc != 0:
        raise MailTLSError('smtpd exits at startup with the new configuration (status %d), so Postfix would stop '
                           'accepting mail: %s' % (rc, last_complaint(maillog, 'postfix/smtpd')))
    return {'certificate_files': named, 'policy_map': policy_map, 'first_key': first_key}


__all__ = ['check', 'last_complaint']
