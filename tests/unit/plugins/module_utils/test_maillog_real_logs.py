"""The mail-log readers on real Postfix logs (3.5, 3.7, 3.10), judged by pflogsumm.

The fixtures in tests/unit/fixtures/maillog/ are the sender's mail log of one run of
tests/lab/capture-maillogs.py per Postfix version (the lab images; maillog_file, and for 3.7 also Debian 12's
rsyslog; addresses rewritten to 192.0.2.N, nothing else changed): verify, may and secure levels to one server under three next-hop keys, a relay-smtps service
(wrapper mode on 465, its own syslog_name), a bounce, a refused connection, a failed certificate check,
smtp_tls_loglevel 1 then 2 with smtp_tls_connection_reuse through tlsproxy, and expiry. The expected counts
come from pflogsumm (Debian's Postfix log summarizer, installed by make setup), run on the same file: its
per-domain delivered and deferral counts and its total of bounces. Both of this project's readers must
agree with it: the module's (_maillog.Reader) and the scenarios' (resources/maillog_deliveries.py).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.mailtls.postfix.plugins.module_utils._maillog import Reader, TRUSTS

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = sorted(glob.glob(os.path.join(HERE, '..', '..', 'fixtures', 'maillog', 'postfix-*.log')))
SCENARIO_READER = os.path.join(HERE, '..', '..', '..', '..', 'extensions', 'molecule', 'resources', 'maillog_deliveries.py')
# the capture's message subjects (Message-ID fixture-SUBJECT@...) and the recipient domain of each
DOMAIN_OF = {'verify': 'verify.test', 'may': 'may.test', 'relayed': 'relayed.test', 'bounce': 'verify.test',
             'dead': 'dead.test', 'strict': 'strict.test'}


def version_of(path):
    return re.search(r'postfix-([\d.]+(?:-syslog)?)\.log$', path).group(1)


def pflogsumm(path):
    """pflogsumm's delivered and deferral counts per recipient domain, and its total of bounced messages."""
    if not shutil.which('pflogsumm'):
        pytest.fail('this test needs pflogsumm (Debian package pflogsumm): run make setup')
    out = subprocess.run(['pflogsumm', '-h', '100', '--detail', '0', path], capture_output=True, text=True,
                         check=True).stdout
    table = out.split('Host/Domain Summary: Message Delivery')[1].split('\n\n')[0]
    per_domain = {}
    for line in table.splitlines():
        m = re.match(r'^\s*(\d+)\s+\d+[km]?\s+(\d+)\s+\S+ [smhd]\s+\S+ [smhd]\s+(\S+)$', line)
        if m:
            per_domain[m.group(3)] = {'delivered': int(m.group(1)), 'deferred': int(m.group(2))}
    bounced = int(re.search(r'^\s*(\d+)\s+bounced$', out, re.M).group(1))
    return per_domain, bounced


def module_reader(path):
    reader = Reader()
    reader.read_file(path)
    return reader


def scenario_reader(path):
    """The scenarios' reader: each fixture message's attempts, by recipient domain."""
    out = subprocess.run([sys.executable, SCENARIO_READER, path, '-', 'fixture-', '2026'], capture_output=True,
                         text=True, check=True).stdout
    by_domain = {}
    for message in json.loads(out)['messages']:
        subject = re.match(r'fixture-([a-z]+)-', message['message_id']).group(1)
        by_domain.setdefault(DOMAIN_OF[subject], []).extend(message['attempts'])
    return by_domain


def test_the_fixtures_are_there():
    assert [version_of(p) for p in FIXTURES] == ['3.10', '3.5', '3.7-syslog', '3.7']
    # the syslog one is rsyslog's (Debian 12's default: RFC 3339 stamps), the others Postfix's maillog_file
    with open([p for p in FIXTURES if p.endswith('-syslog.log')][0]) as f:
        assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 snd-bookworm postfix/', f.readline())


@pytest.fixture(params=FIXTURES, ids=version_of)
def fixture(request):
    return request.param


def test_delivered_and_deferred_per_domain_are_pflogsumms(fixture):
    judged, bounced = pflogsumm(fixture)
    reader = module_reader(fixture)
    mine = dict((d, {'delivered': s['delivered'], 'deferred': s['deferred']}) for d, s in reader.domains.items())
    # pflogsumm also counts the local deliveries (the bounce notices to the sender's own user), which the
    # module does not read (it reads the SMTP client only): every other domain is the same, count for count
    local = set(judged) - set(mine)
    assert len(local) == 1 and next(iter(local)).startswith('snd-'), (judged, mine)
    assert mine == dict((d, judged[d]) for d in mine)
    assert sum(s['bounced'] for s in reader.domains.values()) == bounced == 1
    # what the capture did, as pflogsumm counts it: 7 each at verify (1 + 6) and may, 1 through relay-smtps;
    # dead.test and strict.test deferred twice each (once when sent, once at the flush that expired them)
    assert judged['verify.test'] == judged['may.test'] == {'delivered': 7, 'deferred': 0}
    assert judged['relayed.test'] == {'delivered': 1, 'deferred': 0}
    assert judged['dead.test'] == judged['strict.test'] == {'delivered': 0, 'deferred': 2}


def test_the_scenario_reader_agrees_with_pflogsumm_and_the_module(fixture):
    judged, bounced = pflogsumm(fixture)
    reader = module_reader(fixture)
    attempts = scenario_reader(fixture)
    for domain, counts in judged.items():
        if domain.startswith('snd-'):
            continue
        statuses = [a['status'] for a in attempts[domain]]
        assert (statuses.count('sent'), statuses.count('deferred')) == (counts['delivered'], counts['deferred']), domain
    assert sum([a['status'] for a in v].count('bounced') for v in attempts.values()) == bounced
    # the trust of each delivered message's session, new or reused (tlsproxy): the two readers agree
    for domain, stats in reader.domains.items():
        sent = [a for a in attempts[domain] if a['status'] == 'sent']
        theirs = dict((t, [a['tls'] for a in sent].count(t)) for t in TRUSTS)
        assert theirs == dict((t, stats['tls'][t]) for t in TRUSTS), domain


def test_what_the_sessions_were(fixture):
    # pflogsumm does not read TLS: these are the levels the capture set, as the log shows them
    tls = module_reader(fixture).domains
    assert tls['verify.test']['tls']['Verified'] == 7            # verify, match=hostname
    assert tls['may.test']['tls']['Trusted'] == 7                # may with a CA file: no name check
    assert tls['relayed.test']['tls']['Trusted'] == 1            # encrypt over relay-smtps (wrapper mode)
    with open(fixture) as f:
        text = f.read()
    # the capture reached what it set out to: a relay-smtps client, tlsproxy, a reused TLS connection, expiry
    assert re.search(r'postfix/relay-smtps/smtp\[\d+\]: \w+: to=<lab@relayed\.test>, relay=\S+:465, .*status=sent', text)
    assert re.search(r'postfix/tlsproxy\[\d+\]: ', text)
    assert re.search(r'postfix/smtp\[\d+\]: \w+ TLS connection reused to ', text)
    assert len(re.findall(r'postfix/qmgr\[\d+\]: \w+: from=<[^>]*>, status=expired, returned to sender', text)) == 2
