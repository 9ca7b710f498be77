"""tlsrpt_read, run as Ansible runs a module (its JSON arguments on stdin), over an mbox of two reports: one
read, one named as malformed; and a path that is no mailbox refused."""
import gzip
import json
import mailbox
import os
import subprocess
import sys
from email.message import EmailMessage

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def run(args):
    # the collection as conftest links it
    env = dict(os.environ, PYTHONPATH=os.environ['MAILTLS_UNITS_COLLECTIONS'])
    p = subprocess.run([sys.executable, os.path.join(TOP, 'plugins', 'modules', 'tlsrpt_read.py')],
                       input=json.dumps({'ANSIBLE_MODULE_ARGS': args}), capture_output=True, text=True, env=env,
                       check=False)
    return json.loads(p.stdout)


def test_an_mbox_of_reports(tmp_path):
    path = str(tmp_path / 'tlsrpt.mbox')
    box = mailbox.mbox(path)
    for ctype, data in [('tlsrpt+gzip', gzip.compress(json.dumps({
            'organization-name': 'Org', 'report-id': 'r1', 'date-range': {
                'start-datetime': '2026-12-01T00:00:00Z', 'end-datetime': '2026-12-01T23:59:59Z'},
            'policies': [{'policy': {'policy-type': 'no-policy-found', 'policy-domain': 'example.com'},
                          'summary': {'total-successful-session-count': 4, 'total-failure-session-count': 0}}]}).encode())),
            ('tlsrpt+json', b'not json')]:
        msg = EmailMessage()
        msg['Subject'] = 'Report Domain: example.com'
        msg.set_content('report')
        msg.add_attachment(data, maintype='application', subtype=ctype, filename='r')
        box.add(msg)
    box.flush()
    got = run({'path': path})
    assert got['changed'] is False and got['reports'] == 1
    assert got['summary'] == [{'organization': 'Org', 'policy_domain': 'example.com', 'policy_type': 'no-policy-found',
                               'day': '2026-12-01', 'success': 4, 'failure': 0}]
    assert len(got['malformed']) == 1 and got['malformed'][0]['reason'].startswith('not JSON')


def test_a_path_that_is_no_mailbox(tmp_path):
    got = run({'path': str(tmp_path / 'missing')})
    assert got['failed'] is True
    assert 'is neither a Maildir, an mbox file nor a directory' in got['msg']
