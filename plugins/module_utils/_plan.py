# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: the tls role's plan for one host, computed once from its inputs. Private to mailtls.postfix.

``plan`` takes the role's variables, the host's facts (M(tls_host_facts)) and the profile table, and returns the
whole intended state: the main.cf parameters and master.cf services with what this Postfix leaves out, the policy
entries with the relay's merged in, the SASL map, the certificate files, the files written whole (the OpenSSL
baseline, the DH group) and the rollback set. The role's task files only apply it.

``managed_files`` is the complete list of files a run of the role may write, which is the rollback set: the
snapshot takes each of them before anything changes, and a failed run puts back the ones that existed and
removes the ones that did not. Every path the role's task files write is here, built from the same inputs,
so that a new file cannot be written without being rolled back. Pure functions: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.six import string_types

from ansible_collections.mailtls.postfix.plugins.module_utils._reporter import (
    MIN_VERSION as REPORTER_MIN_VERSION, settings as reporter_settings, supported as reporter_supported)
from ansible_collections.mailtls.postfix.plugins.module_utils._acme import (
    MODULE_UTILS, PROGRAM_FILES, PROGRAM_LIB, credentials_path, entry_point, program_files, settings_for, settings_path)
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import cert_files
from ansible_collections.mailtls.postfix.plugins.module_utils._library import baseline, server_services
from ansible_collections.mailtls.postfix.plugins.module_utils._mapfile import INDEX_SUFFIX, index_path
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import version_tuple
from ansible_collections.mailtls.postfix.plugins.module_utils._profile import profile_parameters, service_overrides
from ansible_collections.mailtls.postfix.plugins.module_utils._relay import plan as relay_plan

# what the ACME renewal installs outside the certificate and state directories
ACME_SCRIPT = '/usr/local/sbin/mailtls-acme'
SYSTEMD_DIR = '/etc/systemd/system'
# the DH group file the profiles name (roles/tls/files/ffdhe3072.pem)
DH_FILE = 'ffdhe3072.pem'


def _with_index(path, map_type):
    if map_type not in INDEX_SUFFIX:
        raise MailTLSError('plan: map type %r is not one of %s' % (map_type, ', '.join(sorted(INDEX_SUFFIX))))
    index = index_path(path, map_type)
    return [path, index] if index else [path]


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
    files += [cert_files(cert_dir, c['name'])['chain'] for c in certificates]
    if openssl_config_file:
        files.append(openssl_config_file)
    if any(f and posixpath.basename(f) == DH_FILE for f in dh_files):
        files.append(posixpath.join(config_dir, DH_FILE))
    made_here = [c for c in certificates if c.get('generate') or c.get('acme')]
    if next_key:
        files += [cert_files(cert_dir, c['name'])['next_key'] for c in made_here]
    # the records of replaced keys still published (retire.yml). Not the rollover gate's rollover.json: it
    # records when the next key's TLSA record was first seen validated, a fact about the DNS that a failed run
    # does not undo (putting it back would only make the gate wait another TTL)
    files.append(posixpath.join(state_dir, 'tlsa-retired.json'))
    acme = [c for c in certificates if c.get('acme')]
    if acme:
        files.append(ACME_SCRIPT)
        files += [posixpath.join(PROGRAM_LIB, MODULE_UTILS, n) for n in PROGRAM_FILES]
    for c in acme:
        files.append(cert_files(cert_dir, c['name'])['key'])
        files.append(settings_path(state_dir, c['name']))
        files.append(credentials_path(state_dir, c['name']))
        files += acme_units(c['name'], systemd_dir)
    seen, out = set(), []
    for f in files:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


# smtpd_tls_chain_files (Postfix 3.4)
MIN_VERSION = (3, 4)
# parameters of later Postfix versions: written only where postconf -d knows them
VERSION_DEPENDENT = ('tls_ffdhe_auto_groups', 'tls_config_file', 'tls_config_name')
# the parameters of a submission service (587, 465) that a per-service profile sets with master.cf -o: the
# smtpd_* ones (the tls_* ones are global, from the main profile)
SERVICE_PROFILE_PARAMETERS = ('smtpd_tls_protocols', 'smtpd_tls_mandatory_protocols', 'smtpd_tls_ciphers',
                              'smtpd_tls_mandatory_ciphers', 'smtpd_tls_exclude_ciphers',
                              'smtpd_tls_mandatory_exclude_ciphers', 'smtpd_tls_dh1024_param_file')
# the submission services of master.cf; the plan adds SASL and another profile's -o parameters
SUBMISSION_SERVICES = {
    'submission': {'name': 'submission', 'type': 'inet', 'private': 'n', 'chroot': 'y', 'command': 'smtpd',
                   'parameters': {'syslog_name': 'postfix/submission', 'smtpd_tls_security_level': 'encrypt',
                                  'smtpd_tls_auth_only': 'yes'}},
    'submissions': {'name': 'submissions', 'type': 'inet', 'private': 'n', 'chroot': 'y', 'command': 'smtpd',
                    'parameters': {'syslog_name': 'postfix/submissions', 'smtpd_tls_wrappermode': 'yes',
                                   'smtpd_tls_security_level': 'encrypt', 'smtpd_tls_auth_only': 'yes'}},
}
# the server certificate parameters that smtpd_tls_chain_files replaces
LEGACY_CERT_PARAMETERS = ('smtpd_tls_cert_file', 'smtpd_tls_key_file', 'smtpd_tls_eccert_file', 'smtpd_tls_eckey_file')
DANE_LEVELS = ('dane', 'dane-only')
WEAK_DIGESTS = ('sha1', 'md5')

# the role's variables the plan reads (postfix_tls_NAME), with the value when one is not given
INPUTS = {
    'config_dir': None, 'cert_dir': None, 'state_dir': None, 'certificates': [], 'next_key': False,
    'policies': [], 'policy_file': '', 'policy_map': None, 'policy_map_type': '', 'sasl_password_map': None,
    'relayhost': {}, 'fingerprint_digest': 'sha256', 'profile': None, 'submission_profile': '',
    'server_protocols': '', 'server_mandatory_protocols': '', 'client_protocols': '',
    'client_mandatory_protocols': '', 'openssl_config_file': None, 'submission_587': False,
    'submissions_465': False, 'submission_sasl': True, 'submission_sasl_type': '', 'submission_sasl_path': '',
    'server_security_level': None, 'server_loglevel': None,
    'received_header': False, 'server_session_cache': None, 'ask_ccert': False, 'client_security_level': None,
    'client_cafile': None, 'client_chain_files': [], 'client_loglevel': None, 'client_session_cache': None,
    'dns_support_level': '', 'main_cf_extra': {}, 'hostnames': [], 'acme_directory': '', 'acme_email': '',
    'acme_ca_bundle': '', 'acme_renew_days': 30, 'acme_http_port': 80, 'acme_timer': True,
    'acme_challenge': 'http-01', 'acme_dns_propagation_seconds': 60,
    'tlsrpt': False, 'tlsrpt_organization': '', 'tlsrpt_contact': '', 'tlsrpt_sender': '', 'tlsrpt_reportd_options': {},
    'tlsrpt_venv': '/opt/mailtls/tlsrpt-reporter',
}
REQUIRED_INPUTS = ('config_dir', 'cert_dir', 'state_dir', 'policy_map', 'sasl_password_map', 'profile',
                   'openssl_config_file')
BOOLEAN_INPUTS = ('next_key', 'submission_587', 'submissions_465', 'submission_sasl', 'received_header', 'ask_ccert',
                  'acme_timer', 'tlsrpt')


def _inputs(role):
    """The role's variables with their defaults; MailTLSError names an unknown, missing or mistyped one."""
    if not isinstance(role, dict):
        raise MailTLSError('plan: the role inputs must be a dict, not %s' % type(role).__name__)
    unknown = sorted(set(role) - set(INPUTS))
    missing = sorted(k for k in REQUIRED_INPUTS if role.get(k) in (None, ''))
    if unknown or missing:
        raise MailTLSError('plan: %s' % '; '.join(
            (['unknown inputs: %s' % ', '.join(unknown)] if unknown else [])
            + (['missing inputs: %s' % ', '.join('postfix_tls_' + k for k in missing)] if missing else [])))
    values = dict(INPUTS, **dict((k, v) for k, v in role.items() if v is not None))
    # no relay: the role's default {} or an empty value
    values['relayhost'] = values['relayhost'] or {}
    for name in BOOLEAN_INPUTS:
        try:
            values[name] = boolean(values[name], strict=True)
        except TypeError as e:
            raise MailTLSError('postfix_tls_%s: %s' % (name, e))
    for name, kind in (('certificates', list), ('policies', list), ('client_chain_files', list), ('hostnames', list),
                       ('relayhost', dict), ('main_cf_extra', dict)):
        if not isinstance(values[name], kind):
            raise MailTLSError('postfix_tls_%s must be a %s, not %s' % (name, kind.__name__, type(values[name]).__name__))
    return values


def _policy_entries(policies, relay):
    """The operator's entries with the relay's entry last; it replaces one for the same next hop (harden's
    decision may hold one from gather)."""
    if not relay:
        return list(policies)
    return [p for p in policies
            if not (isinstance(p, dict) and p.get('destination') == relay['relayhost'])] + [relay['policy']]


# what smtpd_sasl_path on a master.cf "-o name=value" may not hold: white space (an -o value is one field), and
# braces, commas and "=", which no socket path or inet:host:port needs (Postfix would take them literally)
_O_VALUE_BAD = re.compile(r'[\s{},=]')


def sasl_server(v, types):
    """The submission services' SASL server parameters: {} or smtpd_sasl_type and smtpd_sasl_path. ``types``:
    what `postconf -a` lists (None when unknown). MailTLSError names the input and the reason."""
    kind, path = v['submission_sasl_type'], v['submission_sasl_path']
    if not v['submission_sasl'] or (not kind and not path):
        return {}
    if kind not in ('', 'cyrus', 'dovecot'):
        raise MailTLSError('postfix_tls_submission_sasl_type: %r is not a SASL server type Postfix has (cyrus, '
                           'dovecot)' % (kind,))
    if kind and types is not None and kind not in types:
        raise MailTLSError('postfix_tls_submission_sasl_type: this Postfix was built without %s SASL (postconf -a '
                           'lists %s)' % (kind, ', '.join(types) or 'none'))
    if kind == 'dovecot' and not path:
        raise MailTLSError('postfix_tls_submission_sasl_path: dovecot SASL needs the path of Dovecot\'s auth socket '
                           '(private/auth, relative to queue_directory and inside the chroot, or inet:host:port)')
    if path and (not isinstance(path, string_types) or _O_VALUE_BAD.search(path)):
        raise MailTLSError('postfix_tls_submission_sasl_path: %r cannot be a master.cf -o value (no white space, '
                           'braces, commas or "=")' % (path,))
    return dict(([('smtpd_sasl_type', kind)] if kind else []) + ([('smtpd_sasl_path', path)] if path else []))


def _services(v, submission_overrides, openssl, relay, sasl=None):
    """master.cf: the submission services with SASL (its server type and path where given) and another
    profile's -o values, the relay's wrapper service, and every other TLS server service with the OpenSSL
    baseline's -o parameters."""
    extra = dict({'smtpd_sasl_auth_enable': 'yes'} if v['submission_sasl'] else {})
    extra.update(sasl or {})
    extra.update(submission_overrides)
    extra.update(openssl['service_parameters'])
    services = []
    for wanted, name in ((v['submission_587'], 'submission'), (v['submissions_465'], 'submissions')):
        if wanted:
            service = dict(SUBMISSION_SERVICES[name])
            service['parameters'] = dict(service['parameters'], **extra)
            services.append(service)
    if relay:
        services.append(relay['service'])
    return services + openssl['services']


def renewal_units(name, state_dir):
    """The systemd service and timer of one ACME certificate's scheduled renewal: {'service': text, 'timer': text}."""
    return {
        'service': '\n'.join([
            '[Unit]', 'Description=Renew the ACME certificate %s of Postfix (mailtls.postfix)' % name,
            'After=network-online.target', 'Wants=network-online.target', '', '[Service]', 'Type=oneshot',
            'ExecStart=/usr/bin/python3 %s --config %s --reload' % (ACME_SCRIPT, settings_path(state_dir, name)), '']),
        'timer': '\n'.join([
            '[Unit]', 'Description=Renew the ACME certificate %s of Postfix twice a day when due (mailtls.postfix)' % name,
            '', '[Timer]', 'OnCalendar=*-*-* 03,15:17', 'RandomizedDelaySec=3600', 'Persistent=true', '',
            '[Install]', 'WantedBy=timers.target', '']),
    }


def _acme_files(v, program):
    """What the scheduled renewal of the ACME certificates needs on the host: the settings per certificate (the
    module's own, through _acme.settings_for), the renewal's code and entry point, and the systemd units."""
    acme = [c for c in v['certificates'] if c.get('acme')]
    if not acme:
        return []
    out = []
    for c in acme:
        settings = settings_for(c['name'], c.get('hostnames') or v['hostnames'], v['cert_dir'], v['state_dir'],
                                v['config_dir'], v['acme_directory'], v['next_key'], c.get('key_type', 'ecdsa'),
                                v['acme_email'], v['acme_ca_bundle'], v['acme_renew_days'], v['acme_http_port'],
                                v['acme_challenge'], v['acme_dns_propagation_seconds'])
        out.append({'path': settings_path(v['state_dir'], c['name']), 'mode': '0600',
                    'content': json.dumps(settings, indent=2, sort_keys=True) + '\n'})
    out += program_files(program) + [{'path': ACME_SCRIPT, 'content': entry_point(), 'mode': '0755'}]
    if v['acme_timer']:
        for c in acme:
            for kind, text in sorted(renewal_units(c['name'], v['state_dir']).items()):
                out.append({'path': posixpath.join(SYSTEMD_DIR, 'mailtls-acme-%s.%s' % (c['name'], kind)),
                            'content': text, 'mode': '0644'})
    return out


def held_key_files(cert_dir, certificates, next_key=False):
    """The files that hold the keys made on this host, current then next: a generated key's chain file (key
    first), an ACME key's own file, and with ``next_key`` each next key. What the role publishes TLSA records of
    before a rotation may change one."""
    out = []
    for c in certificates:
        if not (c.get('generate') or c.get('acme')):
            continue
        files = cert_files(cert_dir, c['name'])
        out.append(files['key'] if c.get('acme') else files['chain'])
        if next_key:
            out.append(files['next_key'])
    return out


def plan(role, host, profiles, dh_group='', program=None):
    """The tls role's intended state on one host. MailTLSError names the input at fault.

    ``role``: the role's variables by their names without ``postfix_tls_`` (see INPUTS). ``host``: the
    result of M(tls_host_facts) (mail_version, default_database_type, master, config_file_known,
    openssl_version_number). ``profiles``: the profile table (roles/tls/vars/profiles.yml, rendered).
    ``dh_group``: the text of the role's ffdhe3072.pem, written where the profile names that file.
    ``program``: the text of each of _acme.PROGRAM_FILES, installed for the scheduled ACME renewal.
    """
    v = _inputs(role)
    host = host or {}
    version = str(host.get('mail_version') or '')
    if not version:
        raise MailTLSError('plan: the host facts have no mail_version')
    if version_tuple(version)[:2] < MIN_VERSION:
        raise MailTLSError('Postfix %s is too old for this role: smtpd_tls_chain_files needs 3.4 or later' % version)
    map_type = v['policy_map_type'] or host.get('default_database_type') or 'hash'
    digest = v['fingerprint_digest']
    relay = relay_plan(v['relayhost'], digest, version) if v['relayhost'] else {}
    entries = _policy_entries(v['policies'], relay)
    use_map = bool(v['policies'] or v['policy_file'] or relay)

    main_profile = profile_parameters(profiles, v['profile'], version, overrides={
        'smtpd_tls_protocols': v['server_protocols'], 'smtpd_tls_mandatory_protocols': v['server_mandatory_protocols'],
        'smtp_tls_protocols': v['client_protocols'], 'smtp_tls_mandatory_protocols': v['client_mandatory_protocols']})
    submission_overrides = {}
    if v['submission_profile'] not in ('', v['profile']):
        submission_overrides = service_overrides(
            main_profile, profile_parameters(profiles, v['submission_profile'], version), SERVICE_PROFILE_PARAMETERS)
    written = (['submission/inet'] if v['submission_587'] else []) + (['submissions/inet'] if v['submissions_465'] else [])
    openssl = baseline(v['profile'], profiles[v['profile']].get('openssl'), version, v['openssl_config_file'],
                       bool(host.get('config_file_known')), int(host.get('openssl_version_number') or 0))
    openssl['services'] = server_services(host.get('master') or '', openssl['service_parameters'], written)

    named = [(i, c, cert_files(v['cert_dir'], c['name'])['chain']) for i, c in enumerate(v['certificates'])
             if isinstance(c, dict) and isinstance(c.get('name'), string_types)]
    chain_files = [path for dummy, dummy2, path in named]
    # the certificates given from the controller (not made on the host): what tls_apply installs. Their keys
    # stay out of the plan; the action reads them from postfix_tls_certificates[index]
    given = [{'index': i, 'path': path, 'hostnames': c.get('hostnames') or v['hostnames']}
             for i, c, path in named if not c.get('generate') and not c.get('acme')]
    dane_used = v['client_security_level'] in DANE_LEVELS or any(
        isinstance(e, dict) and e.get('level') in DANE_LEVELS for e in entries)
    dns_level = v['dns_support_level'] or ('dnssec' if dane_used else '')
    sasl = sasl_server(v, host.get('sasl_server_types'))
    main_cf = dict(main_profile)
    main_cf.update(openssl['parameters'])
    main_cf.update({
        'smtpd_tls_security_level': v['server_security_level'],
        'smtpd_tls_loglevel': v['server_loglevel'],
        'smtpd_tls_received_header': v['received_header'],
        'smtpd_tls_session_cache_database': v['server_session_cache'],
        'smtpd_tls_ask_ccert': v['ask_ccert'],
        'smtpd_tls_chain_files': chain_files or None,
        'smtp_tls_security_level': v['client_security_level'],
        'smtp_tls_CAfile': v['client_cafile'],
        'smtp_tls_chain_files': v['client_chain_files'] or None,
        'smtp_tls_fingerprint_digest': digest,
        'smtp_tls_loglevel': v['client_loglevel'],
        'smtp_tls_session_cache_database': v['client_session_cache'],
        'smtp_tls_policy_maps': '%s:%s' % (map_type, v['policy_map']) if use_map else None,
    })
    if dns_level:
        main_cf['smtp_dns_support_level'] = dns_level
    if relay:
        main_cf.update(relay['main_cf'])
        main_cf['smtp_sasl_password_maps'] = '%s:%s' % (map_type, v['sasl_password_map']) if relay['sasl'] else None
    reporter = {}
    if v['tlsrpt']:
        why = reporter_supported(version, host.get('tlsrpt_support'))
        if why:
            raise MailTLSError('postfix_tls_tlsrpt: %s' % why)
        reporter = reporter_settings({'organization': v['tlsrpt_organization'], 'contact': v['tlsrpt_contact'],
                                      'sender': v['tlsrpt_sender'], 'reportd_options': v['tlsrpt_reportd_options']},
                                     host.get('queue_directory'), v['tlsrpt_venv'])
        main_cf.update(reporter['main_cf'])
    elif version_tuple(version)[:2] >= REPORTER_MIN_VERSION:
        # off: a TLSRPT the role once turned on is turned off again
        main_cf.update({'smtp_tlsrpt_enable': None, 'smtp_tlsrpt_socket_name': None})
    main_cf.update(v['main_cf_extra'])

    dh_files = [main_profile.get('smtpd_tls_dh1024_param_file'), submission_overrides.get('smtpd_tls_dh1024_param_file')]
    files = managed_files(v['config_dir'], v['cert_dir'], v['state_dir'], v['certificates'], v['next_key'],
                          policy_map=v['policy_map'] if use_map else None,
                          sasl_map=v['sasl_password_map'] if relay.get('sasl') else None, map_type=map_type,
                          openssl_config_file=v['openssl_config_file'] if openssl['config'] else None,
                          dh_files=dh_files)
    dh_file = posixpath.join(v['config_dir'], DH_FILE)
    dh_file = dh_file if dh_file in files else None
    if dh_file and not str(dh_group or '').startswith('-----BEGIN DH PARAMETERS-----'):
        raise MailTLSError('plan: the profile names %s, but no DH group text (PEM) was given to write there' % dh_file)
    acme = _acme_files(v, program) + (reporter.get('files') or [])
    files += [f['path'] for f in reporter.get('files') or []]
    write = ([{'path': v['openssl_config_file'], 'content': openssl['config']}] if openssl['config'] else []) + (
        [{'path': dh_file, 'content': dh_group.rstrip('\n') + '\n'}] if dh_file else []) + acme
    warnings = list(openssl['warnings'])
    if digest in WEAK_DIGESTS:
        warnings.append('postfix_tls_fingerprint_digest=%s is accepted for compatibility with old pins only; '
                        'use sha256' % digest)
    units = [f for f in files if f.startswith(SYSTEMD_DIR + '/')]
    return {
        'key_files': held_key_files(v['cert_dir'], v['certificates'], v['next_key']),
        'version': version, 'map_type': map_type, 'use_map': use_map, 'relay': relay, 'policy_entries': entries,
        'policy_map': v['policy_map'] if use_map else None,
        'sasl_map': v['sasl_password_map'] if relay.get('sasl') else None,
        'chain_files': chain_files, 'given': given, 'main_cf': main_cf, 'services': _services(v, submission_overrides, openssl, relay, sasl),
        'if_known': list(VERSION_DEPENDENT), 'absent': list(LEGACY_CERT_PARAMETERS) if v['certificates'] else [],
        'openssl': dict((k, openssl[k]) for k in ('signature_algorithms', 'groups')),
        'write': write, 'outside_postfix': [f['path'] for f in acme], 'dh_file': dh_file, 'files': files,
        'systemd_units': units,
        'timers': [f for f in units if f.endswith('.timer') and '/timers.target.wants/' not in f],
        'tlsrpt': dict((k, reporter[k]) for k in ('socket', 'units')) if reporter else None,
        'warnings': warnings,
    }


__all__ = ['ACME_SCRIPT', 'DH_FILE', 'INDEX_SUFFIX', 'INPUTS', 'SERVICE_PROFILE_PARAMETERS', 'SUBMISSION_SERVICES',
           'SYSTEMD_DIR', 'VERSION_DEPENDENT', 'acme_units', 'held_key_files', 'managed_files', 'plan', 'renewal_units']
