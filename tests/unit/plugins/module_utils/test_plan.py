"""The tls role's plan: the files a run may write (the rollback set), per option, and its bad inputs."""
import pytest

from ansible_collections.mailtls.postfix.plugins.filter.tls_plan import tls_plan
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._plan import managed_files

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


def test_the_filter_adds_the_systemd_units_and_refuses_unknown_inputs():
    plan = tls_plan(dict(BASE, certificates=[{'name': 'ecdsa', 'acme': True}], policy_map=None))
    assert plan['systemd_units'] == ['/etc/systemd/system/mailtls-acme-ecdsa.service',
                                     '/etc/systemd/system/mailtls-acme-ecdsa.timer',
                                     '/etc/systemd/system/timers.target.wants/mailtls-acme-ecdsa.timer']
    assert plan['timers'] == ['/etc/systemd/system/mailtls-acme-ecdsa.timer']
    assert plan['dh_file'] is None
    assert tls_plan(dict(BASE, dh_files=['/etc/postfix/ffdhe3072.pem']))['dh_file'] == '/etc/postfix/ffdhe3072.pem'
    with pytest.raises(AnsibleFilterError, match='unknown inputs: cert_dri; missing inputs: cert_dir'):
        tls_plan({'config_dir': '/etc/postfix', 'cert_dri': '/x', 'state_dir': '/y'})
    with pytest.raises(AnsibleFilterError, match='certificates.0. has no name'):
        tls_plan(dict(BASE, certificates=[{}]))
