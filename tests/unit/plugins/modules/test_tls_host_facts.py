"""tls_host_facts in the three lab images, against what Postfix, OpenSSL and Debian say themselves.

The module runs as Ansible runs it (a process with JSON arguments) inside each lab image; in the same
container the judges are Postfix's own commands (postconf -h, postconf -M, postconf -d tls_config_file),
and Debian's package database (the version of the libssl package that holds the library ldd names).
"""
import pytest

from labkit import inner_work, lab_image_runner

IMAGES = {'3.5': 'localhost/mailtls-lab:bullseye', '3.7': 'localhost/mailtls-lab:bookworm',
          '3.10': 'localhost/mailtls-lab:trixie'}

INNER = r'''
import json, os, subprocess, sys
env = dict(os.environ, PYTHONPATH='/src')
mod = '/src/ansible_collections/mailtls/postfix/plugins/modules/'
def module(name, args):
    with open('/tmp/%s.json' % name, 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, f)
    p = subprocess.run([sys.executable, mod + name + '.py', '/tmp/%s.json' % name], capture_output=True, text=True, env=env)
    return json.loads(p.stdout)
def sh(*argv):
    p = subprocess.run(list(argv), capture_output=True, text=True)
    return p.returncode, p.stdout
out = {'facts': module('tls_host_facts', {})}
out['postconf'] = dict((n, sh('postconf', '-h', n)[1].strip()) for n in ('mail_version', 'default_database_type', 'daemon_directory'))
out['master'] = sh('postconf', '-M')[1]
out['queue_directory'] = sh('postconf', '-h', 'queue_directory')[1].strip()
out['ldd_smtp'] = sh('ldd', os.path.join(out['postconf']['daemon_directory'], 'smtp'))[1]
out['known_rc'] = sh('postconf', '-d', 'tls_config_file')[0]
lib = out['facts'].get('openssl_library', '')
owner = sh('dpkg-query', '-S', lib)[1] or sh('dpkg-query', '-S', os.path.realpath(lib))[1]
package = owner.split(':')[0]
out['package'] = package
out['package_version'] = sh('dpkg-query', '-W', '-f', '${Version}', package)[1]
print(json.dumps(out))
'''


@pytest.fixture(scope='module')
def work(tmp_path_factory):
    return inner_work(tmp_path_factory, 'host-facts', INNER)


@pytest.mark.parametrize('line', sorted(IMAGES))
def test_the_facts_are_what_postfix_openssl_and_debian_say(work, line):
    got = lab_image_runner(work, IMAGES[line])()
    facts = got['facts']
    assert not facts.get('failed'), facts
    for name in ('mail_version', 'default_database_type', 'daemon_directory'):
        assert facts[name] == got['postconf'][name]
    assert facts['mail_version'].startswith(line + '.')
    assert facts['master'] == got['master'] and 'smtpd' in facts['master']
    assert facts['queue_directory'] == got['queue_directory']
    # TLSRPT read from the program: the one Debian links with libtlsrpt (3.10 in Debian 13) has it, the others not
    assert facts['tlsrpt_support'] is ('libtlsrpt' in got['ldd_smtp']) is (line == '3.10')
    assert facts['config_file_known'] == (got['known_rc'] == 0)
    # Debian builds its Postfix with both SASL server types (its postfix package links libsasl2 and has xsasl_dovecot)
    assert facts['sasl_server_types'] == ['cyrus', 'dovecot']
    # the library's own version is the one of the Debian package that ships it (1.1.1w-0+deb11u1 -> 1.1.1w)
    assert got["package"].startswith("libssl"), got["package"]
    assert got['package_version'].startswith(facts['openssl_version']), (got['package_version'], facts['openssl_version'])
    assert facts['openssl_library'].startswith('/') and 'libssl' in facts['openssl_library']
    assert facts['openssl_version_number'] >> 28 == int(facts['openssl_version'].split('.')[0])
