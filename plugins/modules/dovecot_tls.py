#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dovecot_tls
short_description: Dovecot's TLS for IMAP and POP3 (2.3 and 2.4) in one drop-in file, checked by doveconf, reloaded, rolled back
version_added: 0.2.0
description:
  - Reads the running Dovecot's version (C(dovecot --version)) and the settings it accepts (C(doveconf -d)), and writes
    O(config_file) with the names of that version - 2.3's C(ssl_cert), C(disable_plaintext_auth) and
    C(ssl_prefer_server_ciphers), 2.4's C(ssl_server_cert_file), C(auth_allow_cleartext) and
    C(ssl_server_prefer_ciphers) - so that nothing is written that this Dovecot rejects.
  - The file requires TLS before any authentication (C(ssl = required), no cleartext authentication), serves
    O(certificates) (both keys where there are two), takes the lowest protocol, suites and groups of O(profile) (its
    mandatory side; the post-quantum hybrid group first where the linked OpenSSL is 3.5 or later) and turns each of 143,
    993, 110 and 995 on or off.
  - Dovecot has no setting for the signature algorithms - the profile's list goes into O(openssl_config_file) as the
    system default of every TLS context, and Dovecot's processes get C(OPENSSL_CONF) through C(import_environment).
  - Each certificate file must hold a private key that matches its first certificate (the tls role's chain files do).
  - C(doveconf -n) must accept the configuration as it is before anything is written (a fault already there is
    named as such); after writing, C(doveconf -n) must accept the whole configuration and the values in effect must be the file's
    (else it is not included, or a later file overrides it); then a running Dovecot is reloaded (C(doveadm reload)),
    or restarted once where its master does not have C(OPENSSL_CONF) yet, and must still run. Any failure puts the
    previous file back (and reloads again) - Dovecot keeps serving, no mailbox is touched.
  - A running Dovecot is also reloaded when a certificate file changed since the last reload this module made (a key
    rotation or a renewal by the tls role), read from O(state_file).
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
attributes:
  check_mode:
    support: full
    description: Reports whether the file would change (or a reload for new certificates would happen); writes nothing.
  diff_mode:
    support: full
    description: The drop-in file before and after.
options:
  profile:
    description: One entry of the tls role's profile table (C(roles/tls/vars/profiles.yml)) - C(protocols), C(parameters), C(openssl).
    type: dict
    required: true
  certificates:
    description: Chain files (the key, then the certificate chain), at most two (one RSA, one ECDSA).
    type: list
    elements: path
    required: true
  ports:
    description: Which listeners run - C(imap) (143, STARTTLS), C(imaps) (993), C(pop3) (110, STARTTLS), C(pop3s) (995).
    type: dict
    default: {imap: true, imaps: true, pop3: false, pop3s: false}
  postfix_sasl:
    description: Serve Dovecot's authentication to Postfix on this socket (Postfix's C(smtpd_sasl_path), for example
      C(/var/spool/postfix/private/auth)), mode 0660 owned by postfix. Empty - none.
    type: path
  config_file:
    description: The drop-in file (Debian's C(dovecot.conf) includes C(conf.d/*.conf)).
    type: path
    default: /etc/dovecot/conf.d/99-mailtls-tls.conf
  openssl_config_file:
    description:
      - The OpenSSL configuration with the profile's signature algorithms (Dovecot has no setting for them), named
        to Dovecot's processes as C(OPENSSL_CONF) through C(import_environment).
    type: path
    default: /etc/dovecot/mailtls-openssl.cnf
  state_file:
    description: Where the digests of the certificate files at the last reload are kept.
    type: path
    default: /var/lib/mailtls-postfix/dovecot-tls.json
  reload:
    description: Reload a running Dovecot after a change.
    type: bool
    default: true
seealso:
  - name: Dovecot 2.4 SSL configuration
    description: The ssl_server_* settings and auth_allow_cleartext.
    link: https://doc.dovecot.org/latest/core/config/ssl.html
"""

EXAMPLES = r"""
- name: IMAPS and IMAP with STARTTLS only, the tls role's two certificates
  mailtls.postfix.dovecot_tls:
    profile: "{{ __postfix_tls_profiles['intermediate'] }}"
    certificates: [/etc/postfix/tls/rsa.pem, /etc/postfix/tls/ecdsa.pem]
    ports: {imap: true, imaps: true, pop3: false, pop3s: false}
"""

RETURN = r"""
version:
  description: The Dovecot version read from the host.
  returned: success
  type: str
  sample: 2.4.1
settings:
  description: The settings written (no key material; the certificate settings name files).
  returned: success
  type: dict
  sample: {ssl: required, auth_allow_cleartext: "no", ssl_min_protocol: TLSv1.2}
listening:
  description: The ports the listeners use.
  returned: success
  type: list
  elements: int
  sample: [143, 993]
restarted:
  description:
    - Whether Dovecot was restarted rather than reloaded - its master did not have OPENSSL_CONF yet, which only a start
      gives to its processes (the first run; connections in progress are closed).
  returned: when restarted
  type: bool
  sample: true
reloaded:
  description: Whether a running Dovecot was reloaded (after a change of the file or of a certificate file).
  returned: success
  type: bool
  sample: true
"""

import hashlib
import json
import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import check_chain
from ansible_collections.mailtls.postfix.plugins.module_utils._dovecot import known_settings, parse_version, plan
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import apply, ensure_directory, write_atomic
from ansible_collections.mailtls.postfix.plugins.module_utils._library import linked_openssl
from ansible_collections.mailtls.postfix.plugins.module_utils._snapshot import restore as snapshot_restore, take

# where Dovecot's TLS code is, per version: 2.3's iostream module, 2.4's library
SSL_CODE = ('/usr/lib/dovecot/modules/libssl_iostream_openssl.so', '/usr/lib/dovecot/libdovecot.so.0',
            '/usr/lib/dovecot/libdovecot-sieve.so.0')


def _master_pid(module, doveconf):
    rc, out, dummy = module.run_command([doveconf, '-h', 'base_dir'])
    base = out.strip() if rc == 0 and out.strip() else '/run/dovecot'
    try:
        with open(os.path.join(base, 'master.pid')) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (IOError, OSError, ValueError):
        return None


def _has_env(pid, name, value):
    """Whether process ``pid`` runs with ``name=value`` in its environment."""
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            return ('%s=%s' % (name, value)).encode('utf-8') in f.read().split(b'\0')
    except (IOError, OSError):
        return False


def _restart(module, dovecot, doveadm):
    """Restart Dovecot: through systemd where it runs, else doveadm stop and dovecot again."""
    systemctl = module.get_bin_path('systemctl')
    if systemctl and os.path.isdir('/run/systemd/system'):
        module.run_command([systemctl, 'restart', 'dovecot'])
    else:
        module.run_command([doveadm, 'stop'])
        for dummy in range(50):
            rc, dummy2, dummy3 = module.run_command([dovecot])
            if rc == 0:
                break
            time.sleep(0.2)
    time.sleep(1)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type='dict', required=True),
            certificates=dict(type='list', elements='path', required=True),
            ports=dict(type='dict', default={'imap': True, 'imaps': True, 'pop3': False, 'pop3s': False}),
            postfix_sasl=dict(type='path'),
            config_file=dict(type='path', default='/etc/dovecot/conf.d/99-mailtls-tls.conf'),
            openssl_config_file=dict(type='path', default='/etc/dovecot/mailtls-openssl.cnf'),
            state_file=dict(type='path', default='/var/lib/mailtls-postfix/dovecot-tls.json'),
            reload=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    unknown = sorted(set(p['ports']) - set(('imap', 'imaps', 'pop3', 'pop3s')))
    if unknown:
        module.fail_json(msg='ports: unknown listener(s) %s (imap, imaps, pop3, pop3s)' % ', '.join(unknown))
    dovecot, doveconf, doveadm = (module.get_bin_path(n) for n in ('dovecot', 'doveconf', 'doveadm'))
    if not (dovecot and doveconf and doveadm):
        module.fail_json(msg='Dovecot is not installed here (no %s on PATH); nothing was written'
                         % ', '.join(n for n, b in (('dovecot', dovecot), ('doveconf', doveconf), ('doveadm', doveadm)) if not b))
    try:
        rc, out, err = module.run_command([dovecot, '--version'])
        version = parse_version(out)
        # the configuration as it is must parse: a fault that is already there is named as such, not blamed on
        # this change (and nothing is written over it)
        rc, out, err = module.run_command([doveconf, '-n'])
        if rc != 0:
            raise MailTLSError("Dovecot's configuration is already refused before this change (doveconf -n: %s); "
                               'nothing was written' % (err or out).strip()[-500:])
        rc, defaults, err = module.run_command([doveconf, '-d'])
        if rc != 0:
            raise MailTLSError('doveconf -d failed: %s' % (err or defaults).strip()[-500:])
        digests = {}
        for path in p['certificates']:
            try:
                with open(path, 'rb') as f:
                    data = f.read()
            except (IOError, OSError):
                raise MailTLSError('%s cannot be read (a chain file: the key, then the chain); nothing was written' % path)
            # the key must match the first certificate; the error names the file, never the key
            text = data.decode('ascii', 'replace')
            check_chain(path, text, text)
            digests[path] = hashlib.sha256(data).hexdigest()
        number = 0
        for lib in SSL_CODE:
            if os.path.exists(lib):
                try:
                    number = linked_openssl(module, None, lib)['openssl_version_number']
                    break
                except MailTLSError:
                    continue
        planned = plan(version, known_settings(defaults), p['profile'], p['certificates'], p['ports'], number,
                       p['postfix_sasl'], p['openssl_config_file'])
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    # the files, in the order they are written (the OpenSSL file first: the drop-in names it); compared (and
    # their diff) by the collection's one file writer, which writes them below
    files = ([{'path': p['openssl_config_file'], 'content': planned['openssl_config'], 'mode': 0o644}]
             if planned['openssl_config'] else []) + [{'path': p['config_file'], 'content': planned['content'], 'mode': 0o644}]
    try:
        preview = apply(files, check_mode=True)
    except MailTLSError as e:
        module.fail_json(msg=str(e))
    try:
        with open(p['state_file']) as f:
            state = json.load(f)
    except (IOError, OSError, ValueError):
        state = {}
    result = {'changed': False, 'version': version, 'settings': planned['settings'], 'listening': planned['listening'],
              'reloaded': False}
    file_changed = bool(preview['written'])
    certs_changed = state.get('certificates') != digests
    if module._diff and file_changed:
        result['diff'] = preview['diff']
    running = _master_pid(module, doveconf)
    if not file_changed and not (certs_changed and running):
        module.exit_json(**result)
    result['changed'] = True
    if module.check_mode:
        module.exit_json(**result)
    # the rollback set: the files that will change, as they are now (the tls role's snapshot mechanism)
    snapshot_dir = os.path.join(os.path.dirname(p['state_file']), 'dovecot-snapshot')
    try:
        record = take(preview['written'], snapshot_dir)
    except MailTLSError as e:
        module.fail_json(msg='%s; nothing was written' % e)

    def restore(reason):
        """Put the previous files back, reload a Dovecot that runs or ran, and fail with ``reason``."""
        undone = snapshot_restore(record, snapshot_dir)
        if running:
            if _master_pid(module, doveconf):
                module.run_command([doveadm, 'reload'])
            else:
                module.run_command([dovecot])
        module.fail_json(msg='%s; %s%s' % (
            reason, ', '.join(['the previous %s was put back' % path for path in undone['restored']]
                              + ['%s was removed again' % path for path in undone['removed']]),
            ' and Dovecot keeps serving' if running else ''))

    try:
        if file_changed:
            apply(files)
            rc, out, err = module.run_command([doveconf, '-n'])
            if rc != 0:
                restore('doveconf -n refused the configuration: %s' % (err or out).strip()[-1000:])
            # the settings in effect are ours: the file is read, and no later file sets them otherwise (doveconf
            # prints the certificate files of 2.4 only within ssl_server { }: the top-level settings tell)
            names = [n for n in planned['settings'] if n in ('ssl', 'disable_plaintext_auth', 'auth_allow_cleartext',
                                                             'ssl_min_protocol', 'ssl_cipher_list', 'ssl_curve_list')]
            rc, out, err = module.run_command([doveconf] + names)
            effective = dict(line.split(' = ', 1) for line in out.splitlines() if ' = ' in line)
            wrong = ['%s is %r, not %r' % (n, effective.get(n), planned['settings'][n]) for n in names
                     if effective.get(n) != planned['settings'][n]]
            if wrong:
                restore('the settings of %s are not in effect (%s): is it included by dovecot.conf, and does no later '
                        'file set them?' % (p['config_file'], '; '.join(wrong)))
        if running and p['reload']:
            if planned['openssl_config'] and not _has_env(running, 'OPENSSL_CONF', p['openssl_config_file']):
                # the master passes import_environment to its processes as it read it at start: a reload does not
                # give them OPENSSL_CONF, a restart does (connections in progress are closed; clients reconnect)
                _restart(module, dovecot, doveadm)
                result['restarted'] = True
            else:
                rc, out, err = module.run_command([doveadm, 'reload'])
                time.sleep(1)
                if rc != 0:
                    restore('Dovecot did not take the reload (doveadm reload: %s)' % (err or out).strip()[-500:])
            if not _master_pid(module, doveconf):
                restore('Dovecot stopped after the %s' % ('restart' if result.get('restarted') else 'reload'))
            result['reloaded'] = True
        if result['reloaded'] or not running:
            # what a running Dovecot now serves (or one started later will read)
            ensure_directory(os.path.dirname(p['state_file']), 0o700)
            write_atomic(p['state_file'], json.dumps({'certificates': digests, 'version': version}).encode('utf-8'), 0o600)
    except MailTLSError as e:
        restore(str(e))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
