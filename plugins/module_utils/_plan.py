# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: the tls role's plan for one host, computed once from its inputs. Private to mailtls.postfix.

``managed_files`` is the complete list of files a run of the role may write, which is the rollback set: the
snapshot takes each of them before anything changes, and a failed run puts back the ones that existed and
removes the ones that did not. Every path the role's task files write is here, built from the same inputs,
so that a new file cannot be written without being rolled back. Pure functions: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError

# the index file postmap writes beside a map source, by map type (texthash has none)
INDEX_SUFFIX = {'hash': '.db', 'btree': '.db', 'lmdb': '.lmdb', 'cdb': '.cdb', 'texthash': ''}
# what the ACME renewal installs outside the certificate and state directories
ACME_SCRIPT = '/usr/local/sbin/mailtls-acme'
SYSTEMD_DIR = '/etc/systemd/system'
# the DH group file the profiles name (roles/tls/files/ffdhe3072.pem)
DH_FILE = 'ffdhe3072.pem'


def _with_index(path, map_type):
    if map_type not in INDEX_SUFFIX:
        raise MailTLSError('plan: map type %r is not one of %s' % (map_type, ', '.join(sorted(INDEX_SUFFIX))))
    suffix = INDEX_SUFFIX[map_type]
    return [path, path + suffix] if suffix else [path]


def acme_units(name, systemd_dir=SYSTEMD_DIR):
    """The systemd files of one ACME certificate's renewal: service, timer and the timer's enablement link."""
    unit = 'mailtls-acme-%s' % name
    return [posixpath.join(systemd_dir, unit + '.service'), posixpath.join(systemd_dir, unit + '.timer'),
            posixpath.join(systemd_dir, 'timers.target.wants', unit + '.timer')]


def managed_files(config_dir, cert_dir, state_dir, certificates, next_key=False, policy_map=None, sasl_map=None,
                  map_type='hash', openssl_config_file=None, dh_files=(), systemd_dir=SYSTEMD_DIR):
    """Every file a run may write, in the order the role writes them, each once.

    ``certificates``: postfix_tls_certificates (each with ``name``; ``generate`` or ``acme`` for keys made on
    the host). ``policy_map``/``sasl_map``: the map sources when the run writes them, else None.
    ``openssl_config_file``: the OpenSSL baseline file when the run writes one. ``dh_files``: the DH parameter
    files the profile names (the role installs its ffdhe3072.pem when one of them is that file).
    """
    for i, cert in enumerate(certificates):
        if not isinstance(cert, dict) or not cert.get('name'):
            raise MailTLSError('plan: certificates[%d] has no name' % i)
        if '/' in str(cert['name']):
            raise MailTLSError('plan: certificates[%d] (%s): a name must not contain "/"' % (i, cert['name']))
    files = [posixpath.join(config_dir, 'main.cf'), posixpath.join(config_dir, 'master.cf')]
    if policy_map:
        files += _with_index(policy_map, map_type)
    if sasl_map:
        files += _with_index(sasl_map, map_type)
    files += [posixpath.join(cert_dir, c['name'] + '.pem') for c in certificates]
    if openssl_config_file:
        files.append(openssl_config_file)
    if any(f and posixpath.basename(f) == DH_FILE for f in dh_files):
        files.append(posixpath.join(config_dir, DH_FILE))
    made_here = [c for c in certificates if c.get('generate') or c.get('acme')]
    if next_key:
        files += [posixpath.join(cert_dir, c['name'] + '.next.key') for c in made_here]
    # the records of replaced keys still published (retire.yml). Not the rollover gate's rollover.json: it
    # records when the next key's TLSA record was first seen validated, a fact about the DNS that a failed run
    # does not undo (putting it back would only make the gate wait another TTL)
    files.append(posixpath.join(state_dir, 'tlsa-retired.json'))
    acme = [c for c in certificates if c.get('acme')]
    if acme:
        files.append(ACME_SCRIPT)
    for c in acme:
        files.append(posixpath.join(cert_dir, c['name'] + '.key'))
        files.append(posixpath.join(state_dir, 'acme-%s.json' % c['name']))
        files += acme_units(c['name'], systemd_dir)
    seen, out = set(), []
    for f in files:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


__all__ = ['ACME_SCRIPT', 'DH_FILE', 'INDEX_SUFFIX', 'SYSTEMD_DIR', 'acme_units', 'managed_files']
