# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: ACME certificates for keys this host holds, through certbot. Private to mailtls.postfix.

One implementation for the tls role (module tls_acme_certificate) and for the scheduled renewal: the role
installs this file, with the module_utils files it imports (PROGRAM_FILES), under PROGRAM_LIB, and
``/usr/local/sbin/mailtls-acme`` (``entry_point``) runs ``main`` from there, without Ansible.

The key is made here once and kept: every renewal sends certbot a CSR for the same key (``certbot certonly
--csr``, http-01 on its standalone server), so pins and TLSA 3 1 1 records survive renewals. A next key can be
held beside it; a rotation makes it current (the role runs its DANE rollover gate first) and names the replaced
key's pin in ``retired``. A new certificate is installed only after _chainfile.check_chain has checked it
against the key and the chain order, and after its names and dates are checked; the chain file (key, then the
chain, as smtpd_tls_chain_files reads it) is replaced atomically, mode 0600. With ``reload`` (the timer),
Postfix is checked and reloaded, never restarted; a failed check puts the previous file back. A failure leaves
the current certificate and keys in place and says why. No key material is ever returned or printed; commands
run as argument vectors, never through a shell.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import posixpath
import shutil
import subprocess
import sys
import tempfile

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import match_names, utc_date
from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import (
    cert_files, check_chain, first_certificate, read_secret, write_secret)
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import ensure_directory, write_atomic
from ansible_collections.mailtls.postfix.plugins.module_utils._hostkey import key_pins, new_key_pem

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - reported by the module through _certinfo.HAS_CRYPTOGRAPHY
    pass

# what the scheduled renewal runs: this file and the module_utils files it imports, under PROGRAM_LIB as the
# collection lays them out, and the entry point that puts PROGRAM_LIB first on sys.path
PROGRAM_FILES = ('_acme.py', '_certinfo.py', '_chainfile.py', '_errors.py', '_files.py', '_hostkey.py', '_options.py')
PROGRAM_LIB = '/usr/local/lib/mailtls-postfix'
MODULE_UTILS = 'ansible_collections/mailtls/postfix/plugins/module_utils'
_ENTRY_POINT = '''#!/usr/bin/python3
# Written by mailtls.postfix (role tls). The scheduled renewal of the ACME certificates of Postfix:
#   /usr/bin/python3 /usr/local/sbin/mailtls-acme --config STATE_DIR/acme-NAME.json
#       [--check] [--force] [--rotate] [--reload] [--keys-only]
# It runs the same code as the role's module tls_acme_certificate (module_utils/_acme.py, installed under
# %(lib)s) and prints one JSON object; no key material is printed.
import sys

sys.path.insert(0, %(lib)r)
from ansible_collections.mailtls.postfix.plugins.module_utils._acme import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
'''

KEY_TYPES = ('ecdsa', 'rsa')
STAYS = '(the current certificate stays in place)'


class AcmeError(MailTLSError):
    """Why no certificate was installed; the current certificate and keys stay."""


def entry_point(lib=PROGRAM_LIB):
    """The text of /usr/local/sbin/mailtls-acme, which runs ``main`` from the copy under ``lib``."""
    return _ENTRY_POINT % {'lib': lib}


def program_files(sources, lib=PROGRAM_LIB):
    """The files the scheduled renewal runs, for the role to write under ``lib``: ``sources`` maps each of
    PROGRAM_FILES to its text. -> [{'path', 'content', 'mode'}]."""
    missing = [n for n in PROGRAM_FILES if n not in (sources or {})]
    if missing:
        raise MailTLSError('the ACME renewal needs module_utils %s' % ', '.join(missing))
    return [{'path': posixpath.join(lib, MODULE_UTILS, n), 'content': sources[n], 'mode': '0644'}
            for n in PROGRAM_FILES]


CHALLENGES = ('http-01', 'dns-01')


def settings_for(name, hostnames, cert_dir, state_dir, config_dir, directory, next_key=False, key_type='ecdsa',
                 email='', ca_bundle='', renew_days=30, http_port=80, challenge='http-01', dns_propagation_seconds=60):
    """The settings of one ACME certificate (what the timer reads from STATE_DIR/acme-NAME.json), checked.
    dns-01 goes through certbot's RFC 2136 plugin, whose credentials (the TSIG key) are in ``dns_credentials``
    (written 0600 by the module that has the key; never in these settings)."""
    where = 'certificate %r' % (name,)
    if not name or '/' in str(name):
        raise MailTLSError('%s: a name must be given and must not contain "/"' % where)
    if not directory or not str(directory).startswith(('https://', 'http://')):
        raise MailTLSError('%s: the ACME directory must be an https:// URL (postfix_tls_acme_directory), not %r'
                           % (where, directory))
    if not isinstance(hostnames, list) or not hostnames or not all(isinstance(h, str) and h for h in hostnames):
        raise MailTLSError('%s: the certificate needs at least one host name (hostnames)' % where)
    if key_type not in KEY_TYPES:
        raise MailTLSError('%s: key_type %r is not one of %s' % (where, key_type, ', '.join(KEY_TYPES)))
    if challenge not in CHALLENGES:
        raise MailTLSError('%s: challenge %r is not one of %s' % (where, challenge, ', '.join(CHALLENGES)))
    for label, value, low, high in (('renew_days', renew_days, 1, 365), ('http_port', http_port, 1, 65535),
                                    ('dns_propagation_seconds', dns_propagation_seconds, 0, 3600)):
        if isinstance(value, bool) or not str(value).isdigit() or not low <= int(value) <= high:
            raise MailTLSError('%s: %s must be a whole number from %d to %d, not %r' % (where, label, low, high, value))
    files = cert_files(cert_dir, name)
    return {
        'names': list(hostnames),
        'chain': files['chain'],
        'key': files['key'],
        'next_key': files['next_key'] if next_key else None,
        'key_type': key_type,
        'directory': directory,
        'email': email or '',
        'ca_bundle': ca_bundle or '',
        'renew_days': int(renew_days),
        'http_port': int(http_port),
        'state_dir': posixpath.join(state_dir, 'acme-%s' % name),
        'config_dir': config_dir,
        'challenge': challenge,
        'dns_credentials': credentials_path(state_dir, name),
        'dns_propagation_seconds': int(dns_propagation_seconds),
    }


def credentials_path(state_dir, name):
    """certbot's RFC 2136 credentials for dns-01 (the TSIG key), root-only."""
    return posixpath.join(state_dir, 'acme-%s' % name, 'rfc2136.ini')


def settings_path(state_dir, name):
    return posixpath.join(state_dir, 'acme-%s.json' % name)


def run_argv(argv, env_update=None):
    """Run an argument vector (never a shell), with ``env_update`` added to the environment. -> (rc, out, err)."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, **(env_update or {})),
                          stdin=subprocess.DEVNULL, check=False)
    return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')


def _pin(key_pem, where):
    """The key's public-key fingerprints by digest: the pins' one shape, as tls_host_key returns them."""
    return key_pins(where, key_pem)['pubkey']


def _read_key(path):
    """The key at ``path`` as PEM text, or None where there is none; AcmeError when it is not a key."""
    if not path:
        return None
    text = read_secret(path)
    if text is None:
        return None
    try:
        key_pins(path, text)
    except MailTLSError:
        raise AcmeError('%s is not an unencrypted PEM private key' % path)
    return text


def due(installed, key_pem, names, renew_days, now):
    """Why the installed chain file needs a new certificate for ``key_pem``, or None (with its public facts)."""
    if not installed or '-----BEGIN CERTIFICATE-----' not in installed:
        return 'no certificate yet', None
    try:
        dummy, facts, dummy2 = check_chain('installed', key_pem, installed, now=now)
    except MailTLSError as e:
        return 'the installed certificate fails its check (%s)' % str(e).split(': ', 1)[-1], None
    missing = [n for n in names if not match_names(facts['names'], [n])]
    if missing:
        return 'the certificate does not name %s' % ', '.join(missing), facts
    if facts['days_remaining'] < renew_days:
        return 'the certificate expires on %s, within %d days' % (facts['not_after'], renew_days), facts
    return None, facts


def check_new(key_pem, fullchain, names, now):
    """A new chain may be installed only if it is for this key, in order, names every name and is valid now.
    -> (chain file content, public facts)."""
    if '-----BEGIN CERTIFICATE-----' not in (fullchain or ''):
        raise AcmeError('certbot returned no certificate')
    try:
        content, facts, dummy = check_chain('new', key_pem, fullchain, now=now)
    except MailTLSError as e:
        raise AcmeError('the new certificate fails its check, not installed: %s' % str(e).split(': ', 1)[-1])
    missing = [n for n in names if not match_names(facts['names'], [n])]
    if missing:
        raise AcmeError('the new certificate does not name %s: not installed' % ', '.join(missing))
    leaf = first_certificate(fullchain)
    before, after = utc_date(leaf, 'not_valid_before'), utc_date(leaf, 'not_valid_after')
    if not before <= now <= after:
        raise AcmeError('the new certificate is not valid now (%s to %s): not installed'
                        % (before.isoformat(), after.isoformat()))
    return content, facts


def csr_pem(key_pem, names):
    key = serialization.load_pem_private_key(key_pem.encode('ascii'), None)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _lock_down(directory):
    """certbot's account key (accounts/.../private_key.json) and everything beside it: root only."""
    for root, dirs, files in os.walk(directory):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o700)
        for f in files:
            os.chmod(os.path.join(root, f), 0o600)
    os.chmod(directory, 0o700)


def issue(settings, key_pem, run=run_argv):
    """Ask the ACME CA (certbot certonly --csr; http-01 on the standalone server, or dns-01 by RFC 2136) for a
    certificate for the key.
    -> the full chain (PEM text)."""
    state = settings['state_dir']
    ensure_directory(state, 0o700)
    out = tempfile.mkdtemp(prefix='issue.', dir=state)
    try:
        csr = os.path.join(out, 'request.pem')
        with open(csr, 'wb') as f:
            f.write(csr_pem(key_pem, settings['names']))
        if settings.get('challenge') == 'dns-01':
            # the TXT record _acme-challenge.NAME goes into the zone by RFC 2136 (certbot's plugin, the TSIG key
            # of the credentials file) and out again after the validation
            challenge = ['--authenticator', 'dns-rfc2136', '--preferred-challenges', 'dns',
                         '--dns-rfc2136-credentials', settings['dns_credentials'],
                         '--dns-rfc2136-propagation-seconds', str(settings['dns_propagation_seconds'])]
        else:
            challenge = ['--standalone', '--preferred-challenges', 'http', '--http-01-port', str(settings['http_port'])]
        files = ['--csr', csr, '--cert-path', os.path.join(out, 'cert.pem'),
                 '--fullchain-path', os.path.join(out, 'fullchain.pem'), '--chain-path', os.path.join(out, 'chain.pem'),
                 '--config-dir', os.path.join(state, 'certbot'), '--work-dir', os.path.join(state, 'work'),
                 '--logs-dir', os.path.join(state, 'logs')]
        argv = [settings.get('certbot') or 'certbot', 'certonly', '--non-interactive', '--agree-tos', '--quiet',
                '--server', settings['directory']] + challenge + files
        argv += ['--email', settings['email']] if settings.get('email') else ['--register-unsafely-without-email']
        env = {'REQUESTS_CA_BUNDLE': settings['ca_bundle']} if settings.get('ca_bundle') else {}
        rc, stdout, stderr = run(argv, env)
        if os.path.isdir(os.path.join(state, 'certbot')):
            _lock_down(os.path.join(state, 'certbot'))
        if rc != 0:
            lines = [line for line in (stderr or stdout).strip().splitlines() if line.strip()]
            raise AcmeError('certbot failed (exit %d) at %s: %s' % (rc, settings['directory'], ' '.join(lines[-3:])))
        with open(os.path.join(out, 'fullchain.pem'), 'rb') as f:
            return f.read().decode('ascii')
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _reload_postfix(settings, previous, run):
    config = ['-c', settings.get('config_dir') or '/etc/postfix']
    rc, stdout, stderr = run(['postfix'] + config + ['check'], {})
    if rc != 0 or stderr.strip():
        if previous is None:
            os.unlink(settings['chain'])
        else:
            write_secret(settings['chain'], previous)
        raise AcmeError('postfix check failed after the new certificate (%s): the previous file was put back'
                        % (stderr or stdout).strip())
    rc, stdout, stderr = run(['postfix'] + config + ['reload'], {})
    if rc != 0:
        raise AcmeError('postfix reload failed: %s' % (stderr or stdout).strip())


def _reload_dovecot(settings, run):
    """Reload Dovecot where the dovecot role serves this chain file (its state file lists it) and Dovecot runs;
    record the new file's digest there, as the role would. -> True when Dovecot was reloaded."""
    path = os.path.join(os.path.dirname(settings['state_dir']), 'dovecot-tls.json')
    try:
        with open(path) as f:
            state = json.load(f)
    except (IOError, OSError, ValueError):
        return False
    if settings['chain'] not in (state.get('certificates') or {}):
        return False
    rc, dummy, dummy2 = run(['doveadm', 'reload'], {})
    if rc != 0:
        return False  # Dovecot is not running: it reads the new file when it starts
    with open(settings['chain'], 'rb') as f:
        state['certificates'][settings['chain']] = hashlib.sha256(f.read()).hexdigest()
    write_atomic(path, json.dumps(state).encode('utf-8'), 0o600)
    return True


def current(settings):
    """What is installed now, for a diff: the pins of the keys that exist and the certificate's expiry."""
    pins = [_pin(k, p) for p, k in ((p, _read_key(p)) for p in (settings['key'], settings.get('next_key'))) if k]
    installed = read_secret(settings['chain']) or ''
    result = {'pins': pins}
    leaf = first_certificate(installed)
    if leaf is not None:
        result['not_after'] = utc_date(leaf, 'not_valid_after').strftime('%Y-%m-%dT%H:%M:%SZ')
    return result


def keys(settings, check_mode=False):
    """Make the keys that are missing (current, and next where configured). -> changed, status, pins (fingerprints by digest), actions.
    In check mode a key that does not exist yet has no pin."""
    result = {'changed': False, 'status': 'keys', 'actions': [], 'pins': []}
    for path in (settings['key'], settings.get('next_key')):
        if not path:
            continue
        key = _read_key(path)
        if key is None:
            result['changed'] = True
            result['actions'].append('created the key %s' % path)
            if check_mode:
                continue
            key = new_key_pem(settings['key_type'])
            ensure_directory(posixpath.dirname(path), 0o755)
            write_secret(path, key)
        result['pins'].append(_pin(key, path))
    return result


def certificate(settings, check_mode=False, force=False, rotate=False, reload=False, run=run_argv, now=None):
    """Keys and a certificate for them: issued when none is installed, when it is for another key, lacks a name
    or expires within renew_days, with ``force``, or for the next key with ``rotate``.
    -> changed, status, pins (current, then next), actions, not_after, issuer, and on a rotation retired."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    names, key_path, next_path = settings['names'], settings['key'], settings.get('next_key')
    result = {'changed': False, 'actions': []}
    key, nxt = _read_key(key_path), _read_key(next_path)
    retired = []
    if rotate:
        if nxt is None:
            raise AcmeError('rotate: there is no next key at %s' % next_path)
        if key is not None:
            # its TLSA record stays published for a TTL after the switch (RFC 7671 8.1)
            retired = [_pin(key, key_path)]
        key, nxt = nxt, None
        result['actions'].append('rotated: the next key is now the current key')
    made = []
    if key is None:
        key = new_key_pem(settings['key_type'])
        made.append((key_path, key))
        result['actions'].append('created the key %s' % key_path)
    if next_path and nxt is None:
        nxt = new_key_pem(settings['key_type'])
        made.append((next_path, nxt))
        result['actions'].append('created the next key %s' % next_path)
    installed = read_secret(settings['chain'])
    reason, facts = due(installed, key, names, settings['renew_days'], now)
    if force:
        reason = 'forced'
    if rotate:
        reason = 'rotated to the next key'
    result['pins'] = [_pin(key, key_path)] + ([_pin(nxt, next_path)] if nxt is not None else [])
    if reason is None and not result['actions']:
        result.update(status='fresh', not_after=facts['not_after'], issuer=facts['issuer'])
        return result
    result['changed'] = True
    if check_mode:
        result['status'] = 'would renew: %s' % (reason or 'new keys')
        return result
    # new keys are kept before the CA is asked (their pins are already out); a rotation changes the key files
    # only after the certificate for the next key has been issued and checked
    if not rotate:
        for path, text in made:
            ensure_directory(posixpath.dirname(path), 0o755)
            write_secret(path, text)
    if reason is not None:
        content, facts = check_new(key, issue(settings, key, run), names, datetime.datetime.now(datetime.timezone.utc))
        if rotate:
            write_secret(key_path, key)
            write_secret(next_path, nxt)
            result['retired'] = retired
        write_secret(settings['chain'], content)
        result['actions'].append('installed a certificate from %s (%s)' % (settings['directory'], reason))
        if reload:
            _reload_postfix(settings, installed, run)
            result['actions'].append('reloaded Postfix')
            if _reload_dovecot(settings, run):
                result['actions'].append('reloaded Dovecot')
        result.update(not_after=facts['not_after'], issuer=facts['issuer'])
    result['status'] = 'renewed: %s' % reason if reason else 'keys made'
    return result


def main(argv):
    """The scheduled renewal's command line (``entry_point``). Prints one JSON object; exit 1 on a failure."""
    import argparse
    parser = argparse.ArgumentParser(prog='mailtls-acme', description='ACME certificates for Postfix (mailtls.postfix)')
    parser.add_argument('--config', required=True, help='the settings the tls role wrote (STATE_DIR/acme-NAME.json)')
    parser.add_argument('--check', action='store_true', help='say what would be done; change nothing')
    parser.add_argument('--force', action='store_true', help='a new certificate even if the current one is fine')
    parser.add_argument('--rotate', action='store_true', help='make the next key current, then a certificate for it')
    parser.add_argument('--reload', action='store_true', help='after a new certificate: postfix check, postfix reload')
    parser.add_argument('--keys-only', action='store_true', help='make the keys that are missing and print the pins')
    args = parser.parse_args(argv)
    try:
        with open(args.config) as f:
            settings = json.load(f)
        if args.keys_only:
            result = keys(settings, args.check)
        else:
            result = certificate(settings, args.check, args.force, args.rotate, args.reload)
    except (MailTLSError, IOError, OSError, KeyError, ValueError) as e:
        reason = str(e) if isinstance(e, MailTLSError) else '%s: %s' % (type(e).__name__, e)
        result = {'changed': False, 'failed': True, 'msg': 'mailtls-acme: %s %s' % (reason, STAYS)}
    sys.stdout.write(json.dumps(result, sort_keys=True) + '\n')
    return 1 if result.get('failed') else 0


__all__ = ['AcmeError', 'CHALLENGES', 'credentials_path', 'entry_point', 'PROGRAM_FILES', 'PROGRAM_LIB', 'certificate', 'check_new', 'current', 'due', 'issue',
           'keys', 'main', 'program_files', 'settings_for', 'settings_path']
