"""Planning postconf edits from captured postconf output (Postfix 3.7, Debian 12)."""
import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import (
    Instance,
    parse_master,
    parse_parameters,
    plan,
    split_command,
)

POSTCONF_N = """alias_database = hash:/etc/aliases
alias_maps = hash:/etc/aliases
compatibility_level = 3.6
smtpd_tls_cert_file = /etc/ssl/certs/ssl-cert-snakeoil.pem
smtpd_tls_key_file = /etc/ssl/private/ssl-cert-snakeoil.key
smtpd_tls_security_level = may
smtp_tls_CApath = /etc/ssl/certs
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
mydestination =
"""

POSTCONF_M = """smtp       inet  n       -       y       -       -       smtpd
submission inet  n       -       y       -       -       smtpd -o smtpd_tls_security_level=encrypt -o smtpd_sasl_auth_enable=yes
pickup     unix  n       -       y       60      1       pickup
tlsmgr     unix  -       -       y       1000?   1       tlsmgr
postlog    unix-dgram n  -       n       -       1       postlogd
"""

KNOWN = dict.fromkeys(['smtpd_tls_security_level', 'smtp_tls_security_level', 'smtp_tls_loglevel', 'smtpd_tls_cert_file',
                       'smtpd_tls_key_file', 'smtpd_tls_chain_files', 'smtpd_tls_auth_only', 'syslog_name',
                       'smtpd_sasl_auth_enable', 'smtpd_tls_wrappermode', 'smtpd_client_restrictions', 'mydestination'])


def test_parse_parameters_keeps_empty_values():
    params = parse_parameters(POSTCONF_N)
    assert params['smtpd_relay_restrictions'] == 'permit_mynetworks permit_sasl_authenticated defer_unauth_destination'
    assert params['mydestination'] == ''
    assert len(params) == 9


def test_parse_master():
    master = parse_master(POSTCONF_M)
    assert master[('submission', 'inet')]['command'] == 'smtpd'
    assert master[('submission', 'inet')]['options'] == {'smtpd_tls_security_level': 'encrypt', 'smtpd_sasl_auth_enable': 'yes'}
    assert master[('tlsmgr', 'unix')]['wakeup'] == '1000?'
    assert master[('postlog', 'unix-dgram')]['command'] == 'postlogd'


def test_split_command_keeps_arguments():
    assert split_command('pipe flags=Rq user=nobody argv=/bin/x -o a=b') == ('pipe flags=Rq user=nobody argv=/bin/x', {'a': 'b'})


def test_only_differences_are_planned():
    p = plan(parse_parameters(POSTCONF_N), {}, KNOWN, parameters={
        'smtpd_tls_security_level': 'may',        # same: nothing
        'smtp_tls_security_level': 'may',         # new
        'smtp_tls_loglevel': 1,                   # int becomes "1"
        'smtpd_tls_cert_file': None,              # removed
    }, absent=['smtpd_tls_key_file', 'smtpd_tls_chain_files'])  # the second is not set: nothing
    assert p.main_set == ['smtp_tls_loglevel=1', 'smtp_tls_security_level=may']
    assert p.main_remove == ['smtpd_tls_cert_file', 'smtpd_tls_key_file']
    assert p.commands() == [
        ['-e', 'smtp_tls_loglevel=1', 'smtp_tls_security_level=may'],
        ['-X', 'smtpd_tls_cert_file', 'smtpd_tls_key_file']]
    assert 'main.cf: smtp_tls_loglevel = 1' in p.diff()['after']


def test_no_change_is_idempotent():
    p = plan(parse_parameters(POSTCONF_N), parse_master(POSTCONF_M), KNOWN,
             parameters={'smtpd_tls_security_level': 'may', 'mydestination': ''},
             services=[{'name': 'submission', 'type': 'inet', 'private': 'n', 'chroot': 'y', 'command': 'smtpd',
                        'parameters': {'smtpd_tls_security_level': 'encrypt', 'smtpd_sasl_auth_enable': True}}])
    assert p.changed is False
    assert p.commands() == []


def test_service_edits_keep_other_options_and_use_minus_p():
    p = plan({}, parse_master(POSTCONF_M), KNOWN, services=[
        {'name': 'submission', 'type': 'inet', 'private': 'n', 'chroot': 'n', 'command': 'smtpd',
         'parameters': {'smtpd_tls_auth_only': 'yes', 'smtpd_sasl_auth_enable': None}},
        {'name': 'submissions', 'type': 'inet', 'private': 'n', 'chroot': 'y', 'command': 'smtpd',
         'parameters': {'smtpd_tls_wrappermode': 'yes'}},
        {'name': 'pickup', 'type': 'unix', 'state': 'absent'},
    ])
    # postconf -M rewrites the whole entry, so the existing -o parameters are carried over
    assert p.master_set == [
        'submission/inet=submission inet n - n - - smtpd -o smtpd_sasl_auth_enable=yes -o smtpd_tls_security_level=encrypt',
        'submissions/inet=submissions inet n - y - - smtpd']
    assert p.param_set == ['submission/inet/smtpd_tls_auth_only=yes', 'submissions/inet/smtpd_tls_wrappermode=yes']
    assert p.param_remove == ['submission/inet/smtpd_sasl_auth_enable']
    assert p.master_remove == ['pickup/unix']
    instance = Instance(FakeModule(), '/etc/postfix-out')
    commands = [instance.argv('postconf', c) for c in p.commands()]
    assert [c[:4] for c in commands] == [
        ['/usr/sbin/postconf', '-c', '/etc/postfix-out', '-M'], ['/usr/sbin/postconf', '-c', '/etc/postfix-out', '-MX'],
        ['/usr/sbin/postconf', '-c', '/etc/postfix-out', '-P'], ['/usr/sbin/postconf', '-c', '/etc/postfix-out', '-PX']]


class FakeModule:
    """The parts of AnsibleModule that Instance uses; run_command records each argv and answers from ``answers``."""

    def __init__(self, answers=None, installed=True):
        self.answers = answers or {}
        self.installed = installed
        self.ran = []

    def get_bin_path(self, tool, required=False):
        return '/usr/sbin/' + tool if self.installed else None

    def run_command(self, argv, data=None):
        self.ran.append(argv if data is None else (argv, data))
        return self.answers.get(tuple(argv[-2:]), (0, '', ''))

    def fail_json(self, **kw):
        raise AssertionError(kw['msg'])


def test_query_feeds_the_keys_on_standard_input_never_on_the_command_line():
    module = FakeModule({('-', 'hash:/etc/postfix/tls_policy'): (0, 'a.example\tsecure\n', '')})
    instance = Instance(module, '/etc/postfix')
    assert instance.query('hash:/etc/postfix/tls_policy', ['a.example', '.example']) == (0, 'a.example\tsecure\n', '')
    assert module.ran == [(['/usr/sbin/postmap', '-c', '/etc/postfix', '-q', '-', 'hash:/etc/postfix/tls_policy'],
                           'a.example\n.example')]


def test_instance_builds_every_postfix_command_with_its_config_dir():
    module = FakeModule({('-xh', 'smtp_tls_fingerprint_digest'): (0, 'SHA1\n', '')})
    instance = Instance(module, '/etc/postfix-out')
    assert instance.effective_digest() == 'sha1'
    assert instance.postmap(['-q', 'a.example', 'hash:/etc/postfix-out/tls_policy']) == (0, '')
    assert module.ran == [['/usr/sbin/postconf', '-c', '/etc/postfix-out', '-xh', 'smtp_tls_fingerprint_digest'],
                          ['/usr/sbin/postmap', '-c', '/etc/postfix-out', '-q', 'a.example', 'hash:/etc/postfix-out/tls_policy']]
    assert Instance(FakeModule(), None).argv('postconf', ['-n']) == ['/usr/sbin/postconf', '-n']
    # without Postfix (a controller probing): no digest to read, the caller's default applies
    assert Instance(FakeModule(installed=False), None, required=False).effective_digest() is None
    # an answer that is not a digest, or a failing postconf, is no digest
    assert Instance(FakeModule({('-xh', 'smtp_tls_fingerprint_digest'): (0, 'sha512\n', '')})).effective_digest() is None
    assert Instance(FakeModule({('-xh', 'smtp_tls_fingerprint_digest'): (1, '', 'fatal')})).effective_digest() is None
    with pytest.raises(AssertionError, match='postconf -xh mail_version failed: fatal'):
        Instance(FakeModule({('-xh', 'mail_version'): (1, '', 'fatal')})).effective('mail_version')


@pytest.mark.parametrize('kwargs, message', [
    ({'parameters': {'smtpd_tls_secrity_level': 'may'}}, "parameters: 'smtpd_tls_secrity_level' is not a parameter this Postfix knows"),
    ({'parameters': {'bad name': 'x'}}, "parameters: 'bad name' is not a Postfix parameter name"),
    ({'parameters': {'smtp_tls_loglevel': '1\nsmtpd_tls_security_level = none'}}, 'parameters.smtp_tls_loglevel: the value contains a line break'),
    ({'parameters': {'smtp_tls_loglevel': 1}, 'absent': ['smtp_tls_loglevel']}, "absent: 'smtp_tls_loglevel' is also given a value"),
    ({'services': [{'name': 'new', 'type': 'inet'}]}, 'services[0]: new/inet is not in master.cf, so command is required'),
    ({'services': [{'name': 'a b', 'type': 'inet', 'command': 'smtpd'}]}, "services[0]: name 'a b' is not a master.cf service name"),
    ({'services': [{'name': 'x', 'type': 'tcp', 'command': 'smtpd'}]}, "services[0]: type 'tcp' is not one of"),
    ({'services': [{'name': 'x', 'type': 'inet', 'command': 'smtpd'}, {'name': 'x', 'type': 'inet', 'command': 'smtpd'}]},
     'services[1]: x/inet appears twice'),
    ({'services': [{'name': 'x', 'type': 'inet', 'command': 'smtpd', 'private': 'n n'}]}, "services[0]: private 'n n' must be one word"),
    ({'services': [{'name': 'x', 'type': 'inet', 'command': 'smtpd', 'parameters': {'smtpd_client_restrictions': 'permit, reject'}}]},
     "services[0].parameters.smtpd_client_restrictions: 'permit, reject' contains whitespace"),
    ({'services': [{'name': 'x', 'type': 'inet', 'command': 'smtpd', 'parameters': {'no_such_parameter': 'x'}}]},
     "services[0].parameters: 'no_such_parameter' is not a parameter this Postfix knows"),
])
def test_bad_input_names_the_problem(kwargs, message):
    with pytest.raises(MailTLSError) as e:
        plan(parse_parameters(POSTCONF_N), parse_master(POSTCONF_M), KNOWN, **kwargs)
    assert message in str(e.value)


def test_unknown_names_can_be_allowed():
    p = plan({}, {}, KNOWN, parameters={'mua_client_restrictions': 'permit_sasl_authenticated,reject'},
             allow_unknown=['mua_client_restrictions'])
    assert p.main_set == ['mua_client_restrictions=permit_sasl_authenticated,reject']


def test_if_known_skips_what_this_postfix_does_not_know():
    # tls_ffdhe_auto_groups is Postfix 3.8+: on 3.7 it is skipped, not refused and not written
    p = plan({}, {}, KNOWN, parameters={'smtp_tls_loglevel': 1, 'tls_ffdhe_auto_groups': ''},
             if_known=['tls_ffdhe_auto_groups'])
    assert p.main_set == ['smtp_tls_loglevel=1']
    assert p.skipped == ['tls_ffdhe_auto_groups']
    # where it is known, it is written like any other
    p = plan({}, {}, dict(KNOWN, tls_ffdhe_auto_groups='ffdhe2048 ffdhe3072'),
             parameters={'tls_ffdhe_auto_groups': ''}, if_known=['tls_ffdhe_auto_groups'])
    assert p.main_set == ['tls_ffdhe_auto_groups=']
    assert p.skipped == []
    # a name not in if_known is still refused
    with pytest.raises(MailTLSError, match="'tls_ffdhe_auto_groups' is not a parameter this Postfix knows"):
        plan({}, {}, KNOWN, parameters={'tls_ffdhe_auto_groups': ''})


def test_service_without_command_edits_only_its_parameters_and_keeps_its_fields():
    # what the tls role does to every smtpd and tlsproxy service it did not write (the OpenSSL baseline's name)
    master = parse_master('smtp inet n - y - 1 postscreen\nsmtpd pass - - y - - smtpd -o smtpd_tls_loglevel=1\n'
                          'tlsproxy unix - - y - 0 tlsproxy\n')
    p = plan({}, master, dict(KNOWN, tls_config_name='', tls_config_file='default'), services=[
        {'name': 'smtpd', 'type': 'pass', 'parameters': {'tls_config_name': 'mailtls_server'}},
        {'name': 'tlsproxy', 'type': 'unix', 'parameters': {'tls_config_name': 'mailtls_server'}}])
    assert p.master_set == []
    assert p.param_set == ['smtpd/pass/tls_config_name=mailtls_server', 'tlsproxy/unix/tls_config_name=mailtls_server']
    # with a command, the fields not given are "-" as before (the process limit 0 of tlsproxy would go)
    p = plan({}, master, KNOWN, services=[{'name': 'tlsproxy', 'type': 'unix', 'command': 'tlsproxy'}])
    assert p.master_set == ['tlsproxy/unix=tlsproxy unix - - - - - tlsproxy']
    # a service that does not exist still needs its command
    with pytest.raises(MailTLSError, match=r'services\[0\]: tlsproxy/unix is not in master.cf, so command is required'):
        plan({}, {}, KNOWN, services=[{'name': 'tlsproxy', 'type': 'unix', 'parameters': {}}])
