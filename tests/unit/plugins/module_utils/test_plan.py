"""The tls role's plan: main.cf, master.cf, maps and the files a run may write (the rollback set), per Postfix
version, per option, and its bad inputs. The inputs are the role's defaults as the role renders them."""
import json
import os

import pytest
import roledata

from ansible_collections.mailtls.postfix.plugins.filter.tls_plan import tls_plan
from ansible_collections.mailtls.postfix.plugins.module_utils._acme import PROGRAM_FILES, settings_for
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._plan import INPUTS, SUBMISSION_SERVICES, held_key_files, managed_files, plan

from ansible.errors import AnsibleFilterError

BASE = dict(config_dir='/etc/postfix', cert_dir='/etc/postfix/tls', state_dir='/var/lib/mailtls-postfix')


def files(**kw):
    return managed_files(BASE['config_dir'], BASE['cert_dir'], BASE['state_dir'], **kw)


def test_the_least_a_run_writes():
    assert files(certificates=[{'name': 'rsa'}]) == [
        '/etc/postfix/main.cf', '/etc/postfix/master.cf', '/etc/postfix/tls/rsa.pem',
        '/var/lib/mailtls-postfix/tlsa-retired.json']


@pytest.mark.parametrize('map_type,index', [('hash', '.db'), ('btree', '.db'), ('lmdb', '.lmdb'), ('cdb', '.cdb'),
                                            ('texthash', None)])
def test_maps_with_the_index_postmap_writes(map_type, index):
    out = files(certificates=[], policy_map='/etc/postfix/tls_policy', sasl_map='/etc/postfix/sasl_passwd',
                map_type=map_type)
    for source in ('/etc/postfix/tls_policy', '/etc/postfix/sasl_passwd'):
        assert source in out
        assert (source + index in out) if index else not [f for f in out if f.startswith(source + '.')]


def test_the_files_the_old_rollback_set_forgot():
    # issue 32: ffdhe3072.pem, tlsa-retired.json, the ACME state files, the systemd units and mailtls-acme
    out = files(certificates=[{'name': 'ecdsa', 'acme': True}, {'name': 'rsa', 'generate': True}], next_key=True,
                openssl_config_file='/etc/postfix/mailtls-openssl.cnf', dh_files=['/etc/postfix/ffdhe3072.pem', ''])
    for path in ('/etc/postfix/ffdhe3072.pem', '/var/lib/mailtls-postfix/tlsa-retired.json',
                 '/var/lib/mailtls-postfix/acme-ecdsa.json', '/usr/local/sbin/mailtls-acme',
                 '/etc/systemd/system/mailtls-acme-ecdsa.service', '/etc/systemd/system/mailtls-acme-ecdsa.timer',
                 '/etc/systemd/system/timers.target.wants/mailtls-acme-ecdsa.timer',
                 '/etc/postfix/tls/ecdsa.key', '/etc/postfix/tls/ecdsa.next.key', '/etc/postfix/tls/rsa.next.key',
                 '/etc/postfix/mailtls-openssl.cnf', '/etc/postfix/tls/ecdsa.pem', '/etc/postfix/tls/rsa.pem'):
        assert path in out, path
    assert len(out) == len(set(out))
    # the rollover gate's observations of the DNS are not configuration: a failed run does not undo them
    assert '/var/lib/mailtls-postfix/rollover.json' not in out


def test_what_a_run_does_not_write_is_not_in_the_set():
    out = files(certificates=[{'name': 'rsa'}], next_key=True, dh_files=['', 'auto'])
    assert not [f for f in out if f.endswith(('.next.key', 'ffdhe3072.pem', '.cnf', '.json', '.service', '.timer'))
                and not f.endswith('tlsa-retired.json')]
    assert '/usr/local/sbin/mailtls-acme' not in out


@pytest.mark.parametrize('certificates,message', [
    ([{'generate': True}], 'certificates[0] has no name'),
    (['rsa'], 'certificates[0] has no name'),
    ([{'name': '../main.cf'}], 'certificates[0] (../main.cf): a name must not contain "/"'),
])
def test_bad_certificates(certificates, message):
    with pytest.raises(MailTLSError, match=r'^plan: ' + message.replace('[', r'\[').replace(']', r'\]')
                       .replace('(', r'\(').replace(')', r'\)')):
        files(certificates=certificates)


def test_bad_map_type():
    with pytest.raises(MailTLSError, match="map type 'dbm' is not one of btree, cdb, hash, lmdb, texthash"):
        files(certificates=[], policy_map='/etc/postfix/tls_policy', map_type='dbm')


# the lab images' Postfix and the OpenSSL its smtpd links (Debian 11, 12, 13), as tls_host_facts returns them
MASTER = """smtp       inet  n       -       y       -       -       smtpd
submission inet  n       -       y       -       -       smtpd -o syslog_name=postfix/submission
tlsproxy   unix  -       -       y       -       0       tlsproxy
smtp       unix  -       -       y       -       -       smtp
"""
HOSTS = {
    'bullseye': {'mail_version': '3.5.25', 'default_database_type': 'hash', 'master': MASTER,
                 'config_file_known': True, 'openssl_version_number': 0x1010117f,
                 'queue_directory': '/var/spool/postfix', 'tlsrpt_support': False},
    'bookworm': {'mail_version': '3.7.11', 'default_database_type': 'hash', 'master': MASTER,
                 'config_file_known': True, 'openssl_version_number': 0x30000140,
                 'queue_directory': '/var/spool/postfix', 'tlsrpt_support': False},
    'trixie': {'mail_version': '3.10.5', 'default_database_type': 'lmdb', 'master': MASTER,
               'config_file_known': True, 'openssl_version_number': 0x30500090,
               'queue_directory': '/var/spool/postfix', 'tlsrpt_support': True},
}
PROFILES = roledata.profiles(postfix_tls_config_dir='/etc/postfix')
DH = '-----BEGIN DH PARAMETERS-----\nMIIB\n-----END DH PARAMETERS-----\n'


def role_plan(image='trixie', host=None, **variables):
    return plan(roledata.inputs(**variables), HOSTS[image] if host is None else host, PROFILES, DH)


def test_the_role_passes_every_input_the_plan_reads_and_each_has_a_default():
    assert sorted(roledata.INPUT_VARS) == sorted(INPUTS)
    for name, expression in roledata.INPUT_VARS.items():
        assert expression == '{{ postfix_tls_%s }}' % name
        assert 'postfix_tls_' + name in roledata.DEFAULTS, name


@pytest.mark.parametrize('image,protocols,map_type', [
    ('bullseye', '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1', 'hash'),
    ('bookworm', '>=TLSv1.2', 'hash'),
    ('trixie', '>=TLSv1.2', 'lmdb'),
])
def test_the_defaults_per_postfix_version(image, protocols, map_type):
    p = role_plan(image)
    cf = p['main_cf']
    assert cf['smtpd_tls_protocols'] == cf['smtp_tls_mandatory_protocols'] == protocols
    assert (cf['smtpd_tls_security_level'], cf['smtp_tls_security_level']) == ('may', 'may')
    assert cf['smtpd_tls_received_header'] is True and cf['smtpd_tls_ask_ccert'] is False
    assert cf['smtp_tls_fingerprint_digest'] == 'sha256'
    # no map, no certificates, no relay, no DANE: nothing of theirs is written, and the old values are removed
    assert cf['smtp_tls_policy_maps'] is None and cf['smtpd_tls_chain_files'] is None
    assert 'smtp_dns_support_level' not in cf and 'relayhost' not in cf
    assert p['map_type'] == map_type and p['use_map'] is False and p['policy_entries'] == []
    assert p['absent'] == [] and p['if_known'] == ['tls_ffdhe_auto_groups', 'tls_config_file', 'tls_config_name']
    # the existing TLS servers get the OpenSSL baseline's -o parameters; no submission service is written
    assert [(s['name'], s['type']) for s in p['services']] == [('smtp', 'inet'), ('submission', 'inet'), ('tlsproxy', 'unix')]
    assert all(s['parameters']['tls_config_name'] == 'mailtls_server' for s in p['services'])
    assert p['write'][0]['path'] == '/etc/postfix/mailtls-openssl.cnf'
    assert p['files'][:2] == ['/etc/postfix/main.cf', '/etc/postfix/master.cf']
    assert p['warnings'] == []


def test_post_quantum_groups_only_where_openssl_and_postfix_have_them():
    assert role_plan('trixie')['openssl']['groups'].startswith('?X25519MLKEM768')
    assert role_plan('trixie')['main_cf']['tls_config_name'] == 'mailtls'
    for image in ('bullseye', 'bookworm'):
        p = role_plan(image)
        assert p['openssl']['groups'] == '' and p['openssl']['signature_algorithms']
        assert p['main_cf']['tls_config_name'] is None


def test_a_postfix_without_tls_config_file_is_warned_and_gets_no_file():
    p = role_plan(host=dict(HOSTS['bullseye'], mail_version='3.5.18', config_file_known=False))
    assert p['write'] == [] and '/etc/postfix/mailtls-openssl.cnf' not in p['files']
    assert p['warnings'] and 'has no tls_config_file' in p['warnings'][0]


@pytest.mark.parametrize('image,dh', [('bullseye', True), ('bookworm', True), ('trixie', False)])
def test_compat_writes_the_dh_group_before_postfix_3_8(image, dh):
    p = role_plan(image, postfix_tls_profile='compat')
    assert (p['dh_file'] == '/etc/postfix/ffdhe3072.pem') is dh
    assert ({'path': '/etc/postfix/ffdhe3072.pem', 'content': DH} in p['write']) is dh
    assert ('/etc/postfix/ffdhe3072.pem' in p['files']) is dh


def test_submission_services_with_sasl_and_another_profile():
    p = role_plan('bookworm', postfix_tls_submission=True, postfix_tls_submission_profile='modern')
    by_name = dict((s['name'], s) for s in p['services'])
    for name in ('submission', 'submissions'):
        params = by_name[name]['parameters']
        assert params['smtpd_sasl_auth_enable'] == 'yes' and params['smtpd_tls_auth_only'] == 'yes'
        assert params['smtpd_tls_protocols'] == '>=TLSv1.3' and params['tls_config_name'] == 'mailtls_server'
        assert by_name[name]['command'] == 'smtpd'
    assert by_name['submissions']['parameters']['smtpd_tls_wrappermode'] == 'yes'
    # the submission service written whole is not also edited as an existing server; the data is not changed
    assert [s['name'] for s in p['services']].count('submission') == 1
    assert 'smtpd_sasl_auth_enable' not in SUBMISSION_SERVICES['submission']['parameters']
    q = role_plan('bookworm', postfix_tls_submission_587=True, postfix_tls_submission_sasl='no')
    assert 'smtpd_sasl_auth_enable' not in [s for s in q['services'] if s['name'] == 'submission'][0]['parameters']
    assert 'submissions' not in [s['name'] for s in q['services']]


def test_submission_sasl_through_dovecot():
    host = dict(HOSTS['trixie'], sasl_server_types=['cyrus', 'dovecot'])
    p = role_plan(host=host, postfix_tls_submission=True, postfix_tls_submission_sasl_type='dovecot',
                  postfix_tls_submission_sasl_path='private/auth')
    for service in [s for s in p['services'] if s['name'] in ('submission', 'submissions')]:
        assert service['parameters']['smtpd_sasl_type'] == 'dovecot'
        assert service['parameters']['smtpd_sasl_path'] == 'private/auth'
    # only the submission services: port 25 offers no AUTH, and main.cf keeps its own type
    assert 'smtpd_sasl_type' not in [s for s in p['services'] if s['name'] == 'smtp'][0]['parameters']
    assert 'smtpd_sasl_type' not in p['main_cf']
    # SASL off: nothing of the server type is written either
    q = role_plan(host=host, postfix_tls_submission_587=True, postfix_tls_submission_sasl=False,
                  postfix_tls_submission_sasl_type='dovecot', postfix_tls_submission_sasl_path='private/auth')
    assert 'smtpd_sasl_type' not in [s for s in q['services'] if s['name'] == 'submission'][0]['parameters']


@pytest.mark.parametrize('variables, host_types, message', [
    (dict(postfix_tls_submission_sasl_type='dovecot'), ['cyrus', 'dovecot'],
     "postfix_tls_submission_sasl_path: dovecot SASL needs the path of Dovecot's auth socket"),
    (dict(postfix_tls_submission_sasl_type='dovecot', postfix_tls_submission_sasl_path='private/auth'), ['cyrus'],
     'postfix_tls_submission_sasl_type: this Postfix was built without dovecot SASL (postconf -a lists cyrus)'),
    (dict(postfix_tls_submission_sasl_type='courier'), None,
     "postfix_tls_submission_sasl_type: 'courier' is not a SASL server type Postfix has (cyrus, dovecot)"),
    (dict(postfix_tls_submission_sasl_type='dovecot', postfix_tls_submission_sasl_path='private/auth x'), None,
     "postfix_tls_submission_sasl_path: 'private/auth x' cannot be a master.cf -o value"),
    (dict(postfix_tls_submission_sasl_path='a,b'), None, "'a,b' cannot be a master.cf -o value"),
])
def test_submission_sasl_refusals(variables, host_types, message):
    host = dict(HOSTS['bookworm'], sasl_server_types=host_types) if host_types is not None else HOSTS['bookworm']
    with pytest.raises(MailTLSError) as err:
        role_plan(host=host, postfix_tls_submission_587=True, **variables)
    assert message in str(err.value)


def test_operator_protocols_are_written_for_the_version():
    p = role_plan('bullseye', postfix_tls_server_protocols='>=TLSv1.3')
    assert p['main_cf']['smtpd_tls_protocols'] == '!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2'


def test_certificates_name_chain_files_and_remove_the_old_parameters():
    p = role_plan(postfix_tls_certificates=[{'name': 'rsa', 'key_src': 'k', 'chain_src': 'c'},
                                            {'name': 'ecdsa', 'generate': True}], postfix_tls_next_key=True)
    assert p['chain_files'] == ['/etc/postfix/tls/rsa.pem', '/etc/postfix/tls/ecdsa.pem']
    assert p['main_cf']['smtpd_tls_chain_files'] == p['chain_files']
    assert p['absent'] == ['smtpd_tls_cert_file', 'smtpd_tls_key_file', 'smtpd_tls_eccert_file', 'smtpd_tls_eckey_file']
    assert '/etc/postfix/tls/ecdsa.next.key' in p['files'] and '/etc/postfix/tls/rsa.next.key' not in p['files']
    # the keys made here, current then next (what is published before a rotation); none of a given certificate
    assert p['key_files'] == ['/etc/postfix/tls/ecdsa.pem', '/etc/postfix/tls/ecdsa.next.key']


def test_an_acme_key_is_held_in_its_own_file():
    certificates = [{'name': 'ecdsa', 'acme': True}, {'name': 'rsa', 'key_src': 'k', 'chain_src': 'c'}]
    assert held_key_files('/etc/postfix/tls', certificates, True) == ['/etc/postfix/tls/ecdsa.key',
                                                                      '/etc/postfix/tls/ecdsa.next.key']
    assert held_key_files('/etc/postfix/tls', certificates) == ['/etc/postfix/tls/ecdsa.key']
    assert set(held_key_files('/etc/postfix/tls', certificates, True)) <= set(
        managed_files('/etc/postfix', '/etc/postfix/tls', '/var/lib/mailtls-postfix', certificates, True))


def test_policies_and_dane_turn_on_the_map_and_dnssec_lookups():
    p = role_plan('bookworm', postfix_tls_policies=[{'destination': 'example.org', 'level': 'dane'}])
    assert p['use_map'] and p['main_cf']['smtp_tls_policy_maps'] == 'hash:/etc/postfix/tls_policy'
    assert p['main_cf']['smtp_dns_support_level'] == 'dnssec'
    assert p['policy_map'] == '/etc/postfix/tls_policy' and '/etc/postfix/tls_policy.db' in p['files']
    assert role_plan(postfix_tls_client_security_level='dane')['main_cf']['smtp_dns_support_level'] == 'dnssec'
    assert role_plan(postfix_tls_dns_support_level='enabled',
                     postfix_tls_client_security_level='dane')['main_cf']['smtp_dns_support_level'] == 'enabled'
    assert role_plan(postfix_tls_policy_file='files/policy')['use_map']
    assert role_plan(postfix_tls_policy_map_type='cdb', postfix_tls_policies=[{'destination': 'a.example', 'level': 'secure'}]
                     )['main_cf']['smtp_tls_policy_maps'] == 'cdb:/etc/postfix/tls_policy'


def test_the_relay_entry_replaces_one_for_the_same_next_hop_and_adds_its_sasl_map():
    relay = {'host': 'relay.example.net', 'port': 465, 'sasl_username': 'u', 'sasl_password': 'not-in-the-plan'}
    p = role_plan(postfix_tls_relayhost=relay, postfix_tls_policies=[
        {'destination': '[relay.example.net]:465', 'level': 'may'}, {'destination': 'example.org', 'level': 'secure'}])
    assert [(e['destination'], e['level']) for e in p['policy_entries']] == [
        ('example.org', 'secure'), ('[relay.example.net]:465', 'secure')]
    cf = p['main_cf']
    assert cf['relayhost'] == '[relay.example.net]:465' and cf['default_transport'] == 'relay-smtps'
    assert cf['smtp_sasl_password_maps'] == 'lmdb:/etc/postfix/sasl_passwd' and p['sasl_map'] == '/etc/postfix/sasl_passwd'
    assert 'relay-smtps' in [s['name'] for s in p['services']]
    assert '/etc/postfix/sasl_passwd.lmdb' in p['files']
    assert 'not-in-the-plan' not in repr(p)
    q = role_plan(postfix_tls_relayhost={'host': 'relay.example.net'})
    assert q['sasl_map'] is None and q['main_cf']['smtp_sasl_password_maps'] is None
    assert q['use_map'] and q['main_cf']['default_transport'] is None


def test_main_cf_extra_has_the_last_word():
    p = role_plan(postfix_tls_main_cf_extra={'smtpd_tls_loglevel': 2, 'tls_preempt_cipherlist': None})
    assert p['main_cf']['smtpd_tls_loglevel'] == 2 and p['main_cf']['tls_preempt_cipherlist'] is None


def test_a_weak_digest_is_warned():
    assert 'use sha256' in role_plan(postfix_tls_fingerprint_digest='sha1')['warnings'][0]


@pytest.mark.parametrize('variables,host,message', [
    ({'postfix_tls_profile': 'strict'}, None, "profile 'strict' is not one of compat, intermediate, modern"),
    ({'postfix_tls_submission_profile': 'strict'}, None, "profile 'strict' is not one of"),
    ({}, dict(HOSTS['bullseye'], mail_version='3.3.0'),
     'Postfix 3.3.0 is too old for this role: smtpd_tls_chain_files needs 3.4 or later'),
    ({}, {}, 'the host facts have no mail_version'),
    ({'postfix_tls_relayhost': {'host': '[relay.example.net]'}}, None, 'postfix_tls_relayhost .* without brackets'),
    ({'postfix_tls_relayhost': {'host': 'relay.example.net', 'level': 'may'}}, None, 'does not authenticate the relay'),
    ({'postfix_tls_next_key': 'perhaps'}, None, 'postfix_tls_next_key: .*perhaps'),
    ({'postfix_tls_certificates': {'name': 'rsa'}}, None, 'postfix_tls_certificates must be a list, not dict'),
    ({'postfix_tls_certificates': [{'name': 'a/b'}]}, None, 'a name must not contain'),
    ({'postfix_tls_policy_map_type': 'dbm', 'postfix_tls_policy_file': 'p'}, None, "map type 'dbm' is not one of"),
    ({'postfix_tls_openssl_config_file': 'relative.cnf'}, None, 'must be an absolute path'),
])
def test_bad_inputs_name_the_input(variables, host, message):
    with pytest.raises(MailTLSError, match=message):
        role_plan(host=host, **variables)


def test_the_filter_names_unknown_and_missing_inputs():
    role = roledata.inputs()
    role['profil'] = role.pop('profile')
    with pytest.raises(AnsibleFilterError, match='^tls_plan: plan: unknown inputs: profil; missing inputs: postfix_tls_profile$'):
        tls_plan(role, HOSTS['trixie'], PROFILES, DH)


def test_no_dh_group_text_where_the_profile_names_the_file():
    with pytest.raises(AnsibleFilterError, match='names /etc/postfix/ffdhe3072.pem, but no DH group text'):
        tls_plan(roledata.inputs(postfix_tls_profile='compat'), HOSTS['bookworm'], PROFILES, '')
    assert tls_plan(roledata.inputs(), HOSTS['bookworm'], PROFILES)['dh_file'] is None


def test_acme_certificates_bring_the_scheduled_renewal_into_the_plan():
    role = roledata.inputs(postfix_tls_certificates=[{'name': 'ecdsa', 'acme': True}], postfix_tls_next_key=True,
                           postfix_tls_acme_directory='https://pebble.lab.test:14000/dir', postfix_tls_hostnames=['mx.acme.test'])
    p = tls_plan(role, HOSTS['trixie'], PROFILES, DH)
    assert p['systemd_units'] == ['/etc/systemd/system/mailtls-acme-ecdsa.service',
                                  '/etc/systemd/system/mailtls-acme-ecdsa.timer',
                                  '/etc/systemd/system/timers.target.wants/mailtls-acme-ecdsa.timer']
    assert p['timers'] == ['/etc/systemd/system/mailtls-acme-ecdsa.timer']
    written = dict((f['path'], f) for f in p['write'])
    # the settings the module computes, for the timer; root only (they name the account's address)
    settings = json.loads(written['/var/lib/mailtls-postfix/acme-ecdsa.json']['content'])
    assert settings == settings_for('ecdsa', ['mx.acme.test'], '/etc/postfix/tls', '/var/lib/mailtls-postfix', '/etc/postfix',
                                    'https://pebble.lab.test:14000/dir', True)
    assert written['/var/lib/mailtls-postfix/acme-ecdsa.json']['mode'] == '0600'
    # the entry point and the very module_utils files the module runs, as the collection has them
    assert written['/usr/local/sbin/mailtls-acme']['mode'] == '0755'
    lib = '/usr/local/lib/mailtls-postfix/ansible_collections/mailtls/postfix/plugins/module_utils/'
    for name in PROGRAM_FILES:
        with open(os.path.join(roledata.ROLE, '..', '..', 'plugins', 'module_utils', name)) as f:
            assert written[lib + name]['content'] == f.read()
    service = written['/etc/systemd/system/mailtls-acme-ecdsa.service']['content']
    assert 'ExecStart=/usr/bin/python3 /usr/local/sbin/mailtls-acme --config /var/lib/mailtls-postfix/acme-ecdsa.json --reload' in service
    # every file written is in the rollback set; Postfix reads none of the renewal's
    assert set(written) <= set(p['files'])
    assert sorted(p['outside_postfix']) == sorted(f for f in written if f != '/etc/postfix/mailtls-openssl.cnf')
    no_timer = tls_plan(dict(role, acme_timer=False), HOSTS['trixie'], PROFILES, DH)
    assert not [f for f in no_timer['write'] if f['path'].startswith('/etc/systemd/')]
    with pytest.raises(AnsibleFilterError, match="certificate 'ecdsa': the ACME directory must be an https:// URL "
                                                 r"\(postfix_tls_acme_directory\), not ''"):
        tls_plan(dict(role, acme_directory=''), HOSTS['trixie'], PROFILES, DH)


TLSRPT = dict(postfix_tls_tlsrpt=True, postfix_tls_tlsrpt_organization='Example Mail %', postfix_tls_tlsrpt_contact='mailto:tlsrpt@example.org',
              postfix_tls_tlsrpt_sender='noreply-tlsrpt@example.org')


def test_tlsrpt_writes_the_reporters_files_and_the_two_parameters():
    import configparser
    p = role_plan('trixie', **TLSRPT)
    assert (p['main_cf']['smtp_tlsrpt_enable'], p['main_cf']['smtp_tlsrpt_socket_name']) == ('yes', 'run/tlsrpt/tlsrpt.sock')
    written = dict((f['path'], f['content']) for f in p['write'])
    # the files are read back as tlsrpt-reporter reads them (configparser, with its interpolation)
    cfg = configparser.ConfigParser()
    cfg.read_string(written['/etc/tlsrpt/collectd.cfg'] + written['/etc/tlsrpt/fetcher.cfg'] + written['/etc/tlsrpt/reportd.cfg'])
    assert cfg['tlsrpt_collectd']['socketname'] == '/var/spool/postfix/run/tlsrpt/tlsrpt.sock'
    assert cfg['tlsrpt_collectd']['storage'] == cfg['tlsrpt_fetcher']['storage'] == 'sqlite:///var/lib/tlsrpt/collectd.sqlite'
    assert cfg['tlsrpt_reportd']['organization_name'] == 'Example Mail %'
    assert cfg['tlsrpt_reportd']['sender_address'] == 'noreply-tlsrpt@example.org'
    assert cfg['tlsrpt_reportd']['fetchers'] == '/opt/mailtls/tlsrpt-reporter/bin/tlsrpt-fetcher --config_file /etc/tlsrpt/fetcher.cfg'
    unit = written['/etc/systemd/system/tlsrpt-collectd.service']
    assert 'ExecStart=/opt/mailtls/tlsrpt-reporter/bin/tlsrpt-collectd --config_file /etc/tlsrpt/collectd.cfg' in unit
    assert 'User=_tlsrpt' in unit
    # every file is in the rollback set, outside Postfix's directory, and the units are the plan's systemd units
    assert set(written) - {'/etc/postfix/mailtls-openssl.cnf'} <= set(p['outside_postfix']) and set(written) <= set(p['files'])
    assert {'/etc/systemd/system/tlsrpt-collectd.service', '/etc/systemd/system/tlsrpt-reportd.service'} <= set(p['systemd_units'])
    assert p['tlsrpt'] == {'socket': '/var/spool/postfix/run/tlsrpt/tlsrpt.sock',
                           'units': ['tlsrpt-collectd.service', 'tlsrpt-reportd.service']}
    # off: on 3.10 the two parameters are removed, before 3.10 they are not named at all
    off = role_plan('trixie')['main_cf']
    assert off['smtp_tlsrpt_enable'] is None and off['smtp_tlsrpt_socket_name'] is None
    assert 'smtp_tlsrpt_enable' not in role_plan('bookworm')['main_cf'] and role_plan('trixie')['tlsrpt'] is None


@pytest.mark.parametrize('image,host,variables,message', [
    ('bookworm', None, {}, r'postfix_tls_tlsrpt: Postfix 3\.7\.11 has no TLSRPT client \(smtp_tlsrpt_enable is new in 3\.10\)'),
    ('trixie', dict(HOSTS['trixie'], tlsrpt_support=False), {}, r'Postfix 3\.10\.5 was built without TLSRPT'),
    ('trixie', None, {'postfix_tls_tlsrpt_sender': ''}, r'postfix_tls_tlsrpt_sender is required'),
    ('trixie', None, {'postfix_tls_tlsrpt_sender': 'reports'}, r"postfix_tls_tlsrpt_sender 'reports' is not a mail address"),
    ('trixie', None, {'postfix_tls_tlsrpt_organization': 'a\nb'}, r'postfix_tls_tlsrpt_organization must be one line'),
    ('trixie', None, {'postfix_tls_tlsrpt_reportd_options': {'dbname': '/tmp/x'}},
     r'postfix_tls_tlsrpt_reportd_options: dbname not a setting the role passes on'),
    ('trixie', None, {'postfix_tls_tlsrpt_reportd_options': {'spread_out_delivery': '10'}},
     r'spread_out_delivery must be a whole number'),
])
def test_tlsrpt_refusals_name_the_reason(image, host, variables, message):
    with pytest.raises(MailTLSError, match=message):
        role_plan(image, host, **dict(TLSRPT, **variables))
