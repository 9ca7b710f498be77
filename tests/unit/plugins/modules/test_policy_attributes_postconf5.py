"""The policy validator against Postfix's own manual and postmap, in the three lab images (issue 28).

For each image (Postfix 3.5, 3.7, 3.10) a container reads the postconf(5) page that Debian ships with that
Postfix (/usr/share/man/man5/postconf.5.gz) and takes the attribute names its smtp_tls_policy_maps section
quotes, leaving out main.cf parameters (``postconf -d`` knows them), security levels and the keywords of
match= and servername=. On 3.10 those names must be exactly the attributes the validator accepts for 3.10
(the MTA-STS ones are documented elsewhere, in TLSRPT_README); on 3.5 and 3.7, whose pages predate the
servername, tafile and enable_rpk text, every name the page quotes must be accepted. Then the
tls_policy_map module writes a map with connection_reuse=yes (Postfix 3.4 and later) and ``postmap -q``
gives every entry back with its meaning; enable_rpk=yes (3.9) is refused below 3.9 with the version named.
Needs the lab images (make lab).
"""
import json

import pytest

from labkit import lab_image_runner

from ansible_collections.mailtls.postfix.plugins.module_utils._policy import (
    ATTRIBUTES,
    LEVELS,
    MIN_VERSION,
    STS_FIELDS,
    PolicyEntry,
    version_tuple,
)

IMAGES = {'3.5': 'localhost/mailtls-lab:bullseye', '3.7': 'localhost/mailtls-lab:bookworm',
          '3.10': 'localhost/mailtls-lab:trixie'}
SOURCE = """\
reuse.example          may connection_reuse=yes
[relay.example]:587    encrypt protocols=!SSLv2:!SSLv3:!TLSv1:!TLSv1.1 connection_reuse=YES
.example.net           secure match=.example.net:example.net connection_reuse=no
"""
RPK = "rpk.example encrypt enable_rpk=yes\n"

INNER = r'''
import gzip, json, os, re, subprocess, sys
out = {'version': subprocess.run(['postconf', '-h', 'mail_version'], capture_output=True, text=True).stdout.strip()}
page = gzip.open('/usr/share/man/man5/postconf.5.gz', 'rt').read()
start = page.index('.SH smtp_tls_policy_maps ')
section = page[start:page.index('.SH ', start + 4)].replace('\\-', '-')
parameters = set(line.split('=')[0].strip() for line in subprocess.run(['postconf', '-d'], capture_output=True,
                                                                    text=True).stdout.splitlines())
out['quoted'] = sorted(set(re.findall(r'"([a-z_]+)"', section)) - parameters)
for name, source in (('reuse', '/work/reuse.txt'), ('rpk', '/work/rpk.txt')):
    args = json.dumps({'ANSIBLE_MODULE_ARGS': {'path': '/etc/postfix/tls_' + name, 'src': source, 'map_type': 'hash'}})
    p = subprocess.run([sys.executable, '/src/ansible_collections/mailtls/postfix/plugins/modules/tls_policy_map.py'],
                       input=args, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH='/src'))
    out[name] = json.loads(p.stdout)
    out[name + '_q'] = {}
    for key in json.loads(sys.argv[1]):
        q = subprocess.run(['postmap', '-q', key, 'hash:/etc/postfix/tls_' + name], capture_output=True, text=True)
        out[name + '_q'][key] = q.stdout.strip() if q.returncode == 0 else None
print(json.dumps(out))
'''

KEYWORDS = {'hostname', 'nexthop', 'dot-nexthop'}  # values of match= and servername=, quoted in the page


def accepted_for(version):
    """The attribute names the validator accepts on this Postfix, as postconf(5) names them (not the STS ones)."""
    names = set()
    for level in LEVELS:
        names.update('match' if a == 'fingerprints' else a for a in ATTRIBUTES[level])
    return set(n for n in names - set(STS_FIELDS) if version_tuple(version) >= MIN_VERSION.get(n, (0,)))


@pytest.fixture(scope='module', params=sorted(IMAGES, key=version_tuple))
def lab(request, tmp_path_factory):
    work = tmp_path_factory.mktemp('attributes')
    (work / 'reuse.txt').write_text(SOURCE)
    (work / 'rpk.txt').write_text(RPK)
    (work / 'inner.py').write_text(INNER)
    keys = [line.split()[0].lower() for line in SOURCE.splitlines()] + ['rpk.example']
    return request.param, lab_image_runner(work, IMAGES[request.param])(json.dumps(keys))


def test_the_manual_and_the_validator_name_the_same_attributes(lab):
    line, got = lab
    assert got['version'].startswith(line + '.')
    documented = set(got['quoted']) - set(LEVELS) - KEYWORDS
    if line == '3.10':
        assert documented == accepted_for(got['version'])
    else:
        assert documented <= accepted_for(got['version']), documented - accepted_for(got['version'])
        assert 'connection_reuse' in documented


def test_connection_reuse_goes_through_postmap_with_its_meaning(lab):
    dummy, got = lab
    assert got['reuse'].get('failed') is not True, got['reuse']
    for number, text in enumerate(SOURCE.splitlines()):
        want = PolicyEntry.from_line(text, where='line %d' % number, postfix_version=got['version'])
        key = text.split()[0].lower()
        back = PolicyEntry.from_line('%s %s' % (key, got['reuse_q'][key]), postfix_version=got['version'])
        assert back.get('connection_reuse') == want.get('connection_reuse')
        assert want.get('connection_reuse') in ('yes', 'no')
        assert back.level == want.level and back.get('protocols') == want.get('protocols')


def test_enable_rpk_is_refused_below_3_9_with_the_version_named(lab):
    dummy, got = lab
    if version_tuple(got['version']) >= (3, 9):
        assert got['rpk'].get('failed') is not True, got['rpk']
        assert got['rpk_q']['rpk.example'] == 'encrypt enable_rpk=yes'
    else:
        assert got['rpk']['failed'] is True
        assert 'enable_rpk needs Postfix 3.9 or later, this Postfix is %s' % got['version'] in got['rpk']['msg']
        assert got['rpk_q']['rpk.example'] is None  # nothing was written
