"""Every row of docs/bad-inputs.md, run: the input goes in, the documented error comes out.

The table below is the source of docs/bad-inputs.md; test_doc_is_in_step fails when they differ
(regenerate with: MAILTLS_WRITE_DOCS=1 python -m pytest tests/unit/test_bad_inputs.py).
The role's rows are proven by Molecule scenarios; test_role_rows_are_what_the_scenarios_assert checks
that each documented message matches every pattern its scenario asserts the role's message against.
"""
import gzip
import os
import re

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from cryptography.hazmat.primitives import serialization

import roledata
from dovecot_cases import FAULTS as DOVECOT_FAULTS
from publish_cases import REFUSALS

from ansible_collections.mailtls.postfix.plugins.filter.tls_pins import tls_pins
from ansible_collections.mailtls.postfix.plugins.filter.tls_plan import tls_plan
from ansible_collections.mailtls.postfix.plugins.filter.tls_posture_report import tls_posture_report
from ansible_collections.mailtls.postfix.plugins.filter.tls_profile import tls_profile
from ansible_collections.mailtls.postfix.plugins.filter.tls_relay import tls_relay
from ansible_collections.mailtls.postfix.plugins.filter.tls_tlsa_records import tls_tlsa_records
from ansible_collections.mailtls.postfix.plugins.module_utils._acme import settings_for
from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import check_chain
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import parse_nameserver
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._library import baseline
from ansible_collections.mailtls.postfix.plugins.module_utils._decide import decide
from ansible_collections.mailtls.postfix.plugins.module_utils._domainpolicy import publication
from ansible_collections.mailtls.postfix.plugins.module_utils._dovecot import plan as dovecot_plan
from ansible_collections.mailtls.postfix.plugins.module_utils._tlsrpt import decode as tlsrpt_decode, read as tlsrpt_read
from ansible_collections.mailtls.postfix.plugins.filter.tls_tlsrpt_findings import tls_tlsrpt_findings
from ansible_collections.mailtls.postfix.plugins.module_utils._mxprobe import parse_destinations
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import build, entries_lines, map_text_entries, map_text_lines, validate_entry
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import plan

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(TOP, 'docs', 'bad-inputs.md')
PIN = ':'.join(['AB'] * 32)
PIN_SHA1 = ':'.join(['AB'] * 20)


def entry(**kw):
    return lambda: validate_entry(dict(kw), 'sha256', 'postfix_tls_policies[0]')


def relay(**kw):
    return lambda: tls_relay(dict(kw))


def duplicates():
    lines = entries_lines([{'destination': 'a.example', 'level': 'encrypt'},
                           {'destination': 'A.example', 'level': 'may'}], 'sha256', 'entries')
    build([lines])


TLSRPT_ON = dict(postfix_tls_tlsrpt=True, postfix_tls_tlsrpt_organization='Example', postfix_tls_tlsrpt_contact='mailto:p@example.org',
                 postfix_tls_tlsrpt_sender='noreply@example.org')


# the settings of Debian's Dovecot 2.3 and 2.4 that the role writes (doveconf -d of the lab images names them all)
DOVECOT_23_KNOWN = {'import_environment', 'ssl', 'disable_plaintext_auth', 'ssl_cert', 'ssl_key', 'ssl_alt_cert', 'ssl_alt_key',
                    'ssl_min_protocol', 'ssl_cipher_list', 'ssl_curve_list', 'ssl_prefer_server_ciphers'}
DOVECOT_24_KNOWN = {'import_environment', 'ssl', 'auth_allow_cleartext', 'ssl_server_cert_file', 'ssl_server_key_file',
                    'ssl_server_alt_cert_file', 'ssl_server_alt_key_file', 'ssl_min_protocol', 'ssl_cipher_list',
                    'ssl_curve_list', 'ssl_server_prefer_ciphers'}


def tlsrpt_on(**changes):
    """The role's inputs with TLSRPT on, with ``changes``."""
    values = dict(TLSRPT_ON)
    values.update(changes)
    return roledata.inputs(**values)


def tlsrpt_oversized():
    """A Maildir with one message of 4 KiB read under a 1 KiB cap: the reason it was not read (a ReportError)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for sub in ('cur', 'new', 'tmp'):
            os.mkdir(os.path.join(tmp, sub))
        with open(os.path.join(tmp, 'new', '1.host'), 'wb') as f:
            f.write(b'Subject: report\n\n' + b'x' * 4096)
        got = tlsrpt_read(tmp, cap=1024)
    raise MailTLSError(got['malformed'][0]['reason'])


def chain(kind):
    def run(pki):
        ca = pki.issue('Bad Inputs CA', ca=True, days=(-10, 3650))
        leaf = pki.issue('mx.example.com', ['mx.example.com'], issuer=ca)
        other = pki.issue('other.example.com', ['other.example.com'], issuer=ca)
        old = pki.issue('old.example.com', ['old.example.com'], issuer=ca, days=(-100, -1))
        key = leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        old_key = old.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
        cases = {
            'mismatch': (key, other.pem.decode()),
            'expired': (old_key, old.pem.decode()),
            'key not PEM': ('not a key', leaf.pem.decode()),
            'chain not PEM': (key, 'hello'),
            'garbled PEM': (key, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
        }
        check_chain('rsa', *cases[kind])
    run.needs_pki = True
    return run


# (area, bad input, call, the error the user gets: a part of the message)
CASES = [
    ('policy entry', 'fingerprint with a letter that is not hex', entry(destination='a.example', level='fingerprint', fingerprints=['AB:CD:XY']),
     "'AB:CD:XY' is not hex digits in pairs joined by colons"),
    ('policy entry', 'fingerprint with an odd hex group', entry(destination='a.example', level='fingerprint', fingerprints=['ABC:D']),
     "'ABC:D' is not hex digits in pairs joined by colons"),
    ('policy entry', 'sha1 fingerprint where the digest is sha256', entry(destination='a.example', level='fingerprint', fingerprints=[PIN_SHA1]),
     'has 20 bytes; a sha256 fingerprint has 32 (smtp_tls_fingerprint_digest)'),
    ('policy entry', 'fingerprint level without fingerprints', entry(destination='a.example', level='fingerprint'),
     'level fingerprint needs at least one fingerprint'),
    ('policy entry', 'unknown level', entry(destination='a.example', level='strict'),
     "level 'strict' is not one of none, may, encrypt, dane, dane-only, fingerprint, verify, secure"),
    ('policy entry', 'level missing', entry(destination='a.example'), 'level None is not one of'),
    ('policy entry', 'destination missing', entry(level='may'), 'destination is missing'),
    ('policy entry', 'unknown attribute', entry(destination='a.example', level='may', colour='red'), 'unknown attribute(s) colour'),
    ('policy entry', 'match at level encrypt', entry(destination='a.example', level='encrypt', match='nexthop'),
     'match not allowed at level encrypt'),
    ('policy entry', 'fingerprints at level secure', entry(destination='a.example', level='secure', fingerprints=[PIN]),
     'fingerprints not allowed at level secure'),
    ('policy entry', 'protocols at level none', entry(destination='a.example', level='none', protocols='>=TLSv1.2'),
     'protocols not allowed at level none (allowed: none)'),
    ('policy entry', 'space in a destination', entry(destination='a.example encrypt', level='may'), 'contains whitespace or a comma'),
    ('policy entry', 'comma in a destination', entry(destination='a.example,evil.example', level='may'), 'contains whitespace or a comma'),
    ('policy entry', 'line break in a destination (a second entry smuggled in)', entry(destination='a.example\nevil.example none', level='may'),
     'contains whitespace or a comma'),
    ('policy entry', 'line break in a match value', entry(destination='a.example', level='secure', match='nexthop\nevil.example none'),
     'contains whitespace, a comma or a line break'),
    ('policy entry', 'comma inside a fingerprint value', entry(destination='a.example', level='fingerprint', fingerprints=[PIN + ',' + PIN]),
     'contains whitespace, a comma or a line break'),
    ('policy entry', 'trailing space in a fingerprint', entry(destination='a.example', level='fingerprint', fingerprints=[PIN + ' ']),
     'contains whitespace, a comma or a line break'),
    ('policy entry', 'unknown TLS protocol', entry(destination='a.example', level='encrypt', protocols='TLSv1.4'),
     "'TLSv1.4' is not a TLS protocol"),
    ('policy entry', 'unknown cipher grade', entry(destination='a.example', level='encrypt', ciphers='strong'),
     "ciphers 'strong' is not a cipher grade"),
    ('policy entry', 'relative tafile', entry(destination='a.example', level='secure', tafile='ta.pem'),
     "tafile 'ta.pem' is not an absolute path"),
    ('policy entry', 'IP address with a port, without brackets', entry(destination='192.0.2.1:25', level='may'),
     'an IP address needs brackets, as in [192.0.2.1]:25'),
    ('policy entry', 'service name that is not in /etc/services', entry(destination='[mx.example]:smtps-typo', level='may'),
     "service 'smtps-typo' is not in the services database (/etc/services)"),
    ('policy entry', 'port out of range', entry(destination='[mx.example]:99999', level='may'), "port '99999' is not a number from 1 to 65535"),
    ('policy entry', 'port 0', entry(destination='[mx.example]:0', level='may'), "port '0' is not a number from 1 to 65535"),
    ('policy entry', 'IPv6 address without brackets', entry(destination='2001:db8::1', level='may'),
     'an IP address needs brackets, as in [2001:db8::1]'),
    ('policy entry', 'IPv6 next hop with the port inside the brackets', entry(destination='[2001:db8::1:25', level='may'),
     'is not of the form [host] or [host]:port'),
    ('policy entry', 'IPv4 address without brackets', entry(destination='192.0.2.1', level='may'), 'an IP address needs brackets, as in [192.0.2.1]'),
    ('policy entry', 'internationalised name with a character no host name may hold', entry(destination='bücher_.example', level='may'),
     "'bücher_.example' is not a valid domain name (bad label 'xn--bcher_-3ya')"),
    ('policy entry', 'internationalised label longer than 63 octets once encoded', entry(destination='ü' * 70 + '.example', level='may'),
     'is not a valid domain name (encoding with'),
    ('policy entry', 'empty label in a domain', entry(destination='a..example', level='may'), 'is not a valid domain name'),
    ('policy entry', 'MTA-STS attributes for a Postfix older than 3.10',
     lambda: validate_entry({'destination': 'a.example', 'level': 'secure', 'match': 'mx.a.example', 'policy_type': 'sts',
                             'mx_host_pattern': ['mx.a.example']}, 'sha256', 'postfix_tls_policies[0]', '3.7.11'),
     'policy_type, mx_host_pattern need Postfix 3.10 or later, this Postfix is 3.7.11'),
    ('policy entry', 'enable_rpk for a Postfix older than 3.9 (it rejects the entry and defers)',
     lambda: validate_entry({'destination': 'a.example', 'level': 'encrypt', 'enable_rpk': 'yes'}, 'sha256',
                            'postfix_tls_policies[0]', '3.7.11'),
     'enable_rpk needs Postfix 3.9 or later, this Postfix is 3.7.11'),
    ('policy entry', 'connection_reuse other than yes or no',
     entry(destination='a.example', level='may', connection_reuse='sometimes'), "connection_reuse 'sometimes' is not yes or no"),
    ('OpenSSL baseline', 'postfix_tls_openssl_config_file not an absolute path',
     lambda: baseline('intermediate', {'signature_algorithms': 'RSA+SHA256'}, '3.10.13', 'mailtls.cnf', True, 0x30500090),
     "postfix_tls_openssl_config_file: 'mailtls.cnf' must be an absolute path without whitespace"),
    ('policy entry', 'protocols=>=TLSv1.2 for Postfix 3.5 (it reads >= as an unknown protocol and defers)',
     lambda: validate_entry({'destination': 'a.example', 'level': 'encrypt', 'protocols': '>=TLSv1.2'}, 'sha256',
                            'postfix_tls_policies[0]', '3.5.25'),
     "protocols '>=TLSv1.2': the >= / <= form needs Postfix 3.6 or later, this Postfix is 3.5.25"),
    ('policy entry', 'MTA-STS pattern with a wildcard not in the first label',
     entry(destination='a.example', level='secure', policy_type='sts', mx_host_pattern=['mx.*.a.example']),
     "mx_host_pattern 'mx.*.a.example' is not a host name or *.domain"),
    ('policy entry', 'closing brace in a policy_string (would end the { } early)',
     entry(destination='a.example', level='secure', policy_type='sts', policy_string=['mode: enforce } none']),
     'contains a brace, a line break or a control character'),
    ('policy entry', 'STS attributes without policy_type',
     entry(destination='a.example', level='secure', mx_host_pattern=['mx.a.example']),
     'mx_host_pattern need policy_type (sts or no-policy-found)'),
    ('policy map', 'the same destination twice (case differs)', duplicates,
     'entries[1] (a.example): duplicate destination, also at entries[0]'),
    ('policy file', 'indented entry (Postfix joins it to the entry above, which becomes invalid)',
     lambda: map_text_lines('a.example encrypt\n  b.example encrypt\n', 'sha256', 'src'),
     "src line 1 (continued to line 2): attribute 'b.example' is not name=value"),
    ('policy file', 'continuation line with no entry before it (Postfix would ignore it)',
     lambda: map_text_lines('  a.example encrypt\n', 'sha256', 'src'),
     'src line 1 starts with whitespace but there is no line before it to continue (Postfix would ignore it)'),
    ('policy file', 'attribute without a value', lambda: map_text_entries('a.example encrypt\nb.example encrypt protocols\n', 'sha256', 'policy map'),
     "policy map line 2: attribute 'protocols' is not name=value"),
    ('mx_tls_info', 'empty destination list', lambda: parse_destinations([]),
     'destinations: the list is empty; give at least one domain or [host]:port'),
    ('mx_tls_info', 'the same destination twice', lambda: parse_destinations(['a.example', 'A.EXAMPLE']),
     "destinations[1]: 'A.EXAMPLE' is the same destination as destinations[0]"),
    ('mx_tls_info', 'parent-domain pattern as a destination to probe', lambda: parse_destinations(['.example.com']),
     'is a parent-domain pattern, not a destination to probe'),
    ('mx_tls_info', 'nameserver that is not an address', lambda: parse_nameserver('dns.example'), "nameservers: 'dns.example' is not an IP address"),
    ('tls_chain_file', 'key and certificate that do not match', chain('mismatch'), 'the private key does not match the first certificate'),
    ('tls_chain_file', 'expired certificate', chain('expired'), 'expired on'),
    ('tls_chain_file', 'key that is not PEM', chain('key not PEM'), 'the key is not a PEM private key'),
    ('tls_chain_file', 'chain that is not PEM', chain('chain not PEM'), 'the chain holds no PEM certificate'),
    ('tls_chain_file', 'damaged PEM certificate', chain('garbled PEM'), 'certificate 1 of the chain cannot be read'),
    ('postconf', 'line break in a value', lambda: plan({}, {}, {'smtpd_banner': ''}, parameters={'smtpd_banner': 'a\nrelayhost = evil'}),
     'smtpd_banner: the value contains a line break'),
    ('postconf', 'parameter name postconf -d does not know', lambda: plan({}, {}, {'smtpd_banner': ''}, parameters={'smtpd_bannr': 'x'}),
     'smtpd_bannr'),
    ('harden (decide)', 'explicit entry given twice', lambda: decide([], [{'destination': 'a.example', 'level': 'encrypt'},
                                                                          {'destination': 'a.example', 'level': 'may'}]),
     'explicit policy 1 (a.example): duplicate destination, already given by explicit policy 0'),
    ('harden (decide)', 'fleet host with domains but no certificate', lambda: decide([], [], [{'host': 'mx9', 'domains': ['x.example'], 'pins': []}]),
     'fleet host mx9 serves x.example but has no certificate to pin'),
    ('harden (tls_pins)', 'certificate entry with neither chain_content nor chain_src', lambda: tls_pins([{'name': 'rsa', 'key_src': '/k'}]),
     'certificates[0] (rsa) has neither chain_content nor chain_src'),
    ('harden (tls_pins)', 'chain_src that does not exist', lambda: tls_pins([{'name': 'rsa', 'chain_src': '/nonexistent/chain.pem'}]),
     'chain_src /nonexistent/chain.pem cannot be read: No such file or directory'),
    ('tlsa (tls_tlsa_records)', 'pin of the wrong length (sha1)', lambda: tls_tlsa_records([':'.join(['AB'] * 20)], ['mx.example.org']),
     'is not a sha256 public-key fingerprint (32 hex pairs joined by colons)'),
    ('tlsa (tls_tlsa_records)', 'wildcard instead of an MX host name', lambda: tls_tlsa_records(['ab' * 32], ['*.example.org']),
     'hostnames[0] is not an MX host name (TLSA records are published per MX host)'),
    ('report (tls_posture_report)', 'host without tls_policy_check results', lambda: tls_posture_report({'mx1': {'changed': False}}),
     'report: mx1 has no tls_policy_check results (a dict with a checks list)'),
    ('TLS profile (tls_profile)', 'a profile that does not exist',
     lambda: tls_profile({'intermediate': {}, 'modern': {}}, 'strict', '3.7.11'),
     "tls_profile: profile 'strict' is not one of intermediate, modern"),
    ('report (tls_posture_report)', 'unknown format', lambda: tls_posture_report({}, 'pdf'),
     "report: format must be markdown, html or data, got 'pdf'"),
    ('relay host', 'SASL username without a password', relay(host='smtp.example.com', sasl_username='satellite'),
     "postfix_tls_relayhost (smtp.example.com): sasl_username 'satellite' is given without sasl_password"),
    ('relay host', 'SASL password without a username', relay(host='smtp.example.com', sasl_password='secret'),
     'sasl_password is given without sasl_username'),
    ('relay host', 'password with a line break (a second map line smuggled in)',
     relay(host='smtp.example.com', sasl_username='u', sasl_password='secret\n[evil.example]:587 u:p'),
     'sasl_password contains a line break or NUL; a map line cannot hold it'),
    ('relay host', 'password with trailing white space', relay(host='smtp.example.com', sasl_username='u', sasl_password='secret '),
     'sasl_password starts or ends with white space, which Postfix strips from a map value'),
    ('relay host', 'colon in the SASL username', relay(host='smtp.example.com', sasl_username='a:b', sasl_password='secret'),
     "sasl_username 'a:b' contains a colon; Postfix splits username:password at the first colon"),
    ('relay host', 'level may (credentials could go to an impostor)',
     relay(host='smtp.example.com', level='may', sasl_username='u', sasl_password='secret'),
     "level 'may' does not authenticate the relay, so credentials and mail could go to an impostor"),
    ('relay host', 'level encrypt', relay(host='smtp.example.com', level='encrypt'), "level 'encrypt' does not authenticate the relay"),
    ('relay host', 'host written with brackets and port', relay(host='[smtp.example.com]:587'),
     "host must be a host name or address, without brackets or port (got '[smtp.example.com]:587')"),
    ('relay host', 'MX lookup for an IP address', relay(host='192.0.2.25', mx=True),
     'an IP address cannot take an MX lookup; set mx to false'),
    ('relay host', 'fingerprint level without pins', relay(host='smtp.example.com', level='fingerprint'),
     'level fingerprint needs at least one fingerprint'),
    ('relay host', 'port that is no service', relay(host='smtp.example.com', port='smtps-typo'), 'smtps-typo'),
    ('relay host', 'unknown option', relay(host='smtp.example.com', password='x'), 'unknown option(s) password'),
    ('role plan (tls_plan)', 'Postfix older than 3.4 (no smtpd_tls_chain_files)',
     lambda: tls_plan(roledata.inputs(), {'mail_version': '3.3.2'}, roledata.profiles()),
     'tls_plan: Postfix 3.3.2 is too old for this role: smtpd_tls_chain_files needs 3.4 or later'),
    ('role plan (tls_plan)', 'an acme certificate without postfix_tls_acme_directory',
     lambda: tls_plan(roledata.inputs(postfix_tls_certificates=[{'name': 'ecdsa', 'acme': True}]), {'mail_version': '3.7.11'},
                      roledata.profiles()),
     "tls_plan: certificate 'ecdsa': the ACME directory must be an https:// URL (postfix_tls_acme_directory), not ''"),
    ('role plan (tls_plan)', 'a role variable that is not true or false', lambda: tls_plan(
        roledata.inputs(postfix_tls_submission_587='perhaps'), {'mail_version': '3.7.11'}, roledata.profiles()),
     "tls_plan: postfix_tls_submission_587: The value 'perhaps' is not a valid boolean."),
    ('MTA-STS (role mta_sts)', 'an mx list that leaves out an MX that DNS lists',
     lambda: publication('example.com', ['mx1.example.com', 'mx2.example.com'], 'enforce', ['mx1.example.com']),
     'MTA-STS policy of example.com: its mx lines (mx1.example.com) leave out mx2.example.com, which DNS lists as MX of '
     'example.com: senders under enforce would not deliver there; nothing was published'),
    ('MTA-STS (role mta_sts)', 'a policy over 64 KiB (4000 MX hosts)',
     lambda: publication('example.com', ['mx%d.example.com' % i for i in range(4000)], 'enforce'),
     'MTA-STS policy of example.com: the policy is 94938 bytes, over the 65536 bytes (64 KiB) senders read (RFC 8461 3.3)'),
    ('MTA-STS (role mta_sts)', 'max_age over a year',
     lambda: publication('example.com', ['mx1.example.com'], 'testing', max_age=31557601),
     'MTA-STS policy of example.com: max_age must be a number of seconds from 1 to 31557600 (RFC 8461 3.2), not 31557601'),
    ('TLSRPT (role mta_sts)', 'a rua that is neither mailto: nor https:',
     lambda: publication('example.com', ['mx1.example.com'], tlsrpt_rua=['http://reports.example.com/tlsrpt']),
     "TLSRPT record of example.com: rua 'http://reports.example.com/tlsrpt' is not a mailto: URI with one address or "
     "an https: URI (RFC 8460 3)"),
    ('TLSRPT (role mta_sts)', 'two addresses in one mailto: (the URIs are separated by commas)',
     lambda: publication('example.com', ['mx1.example.com'], tlsrpt_rua=['mailto:a@example.com,b@example.com']),
     "rua 'mailto:a@example.com,b@example.com' is not a mailto: URI with one address"),
    ('TLS report (tlsrpt_read)', 'a zip archive instead of gzip', lambda: tlsrpt_decode(b'PK\x03\x04...'),
     'a zip archive, not gzip (RFC 8460 5.3 sends application/tlsrpt+gzip)'),
    ('TLS report (tlsrpt_read)', 'a truncated gzip', lambda: tlsrpt_decode(gzip.compress(b'{"a": 1}' * 100)[:-12]),
     'gzip data that cannot be read'),
    ('TLS report (tlsrpt_read)', 'a gzip bomb (over the size cap once decompressed)',
     lambda: tlsrpt_decode(gzip.compress(b' ' * 2048), cap=1024), 'larger than 1024 bytes once decompressed; not read'),
    ('TLS report (tlsrpt_read)', 'JSON that is not UTF-8', lambda: tlsrpt_decode(b'{"organization-name": "\xff"}', 'json'),
     'not UTF-8 (byte 23)'),
    ('role plan (tls_plan)', 'postfix_tls_tlsrpt on Postfix 3.7 (no TLSRPT client before 3.10)',
     lambda: tls_plan(tlsrpt_on(), {'mail_version': '3.7.11', 'queue_directory': '/var/spool/postfix'},
                      roledata.profiles()),
     'tls_plan: postfix_tls_tlsrpt: Postfix 3.7.11 has no TLSRPT client (smtp_tlsrpt_enable is new in 3.10)'),
    ('role plan (tls_plan)', 'postfix_tls_tlsrpt on a Postfix 3.10 built without libtlsrpt',
     lambda: tls_plan(tlsrpt_on(), {'mail_version': '3.10.5', 'queue_directory': '/var/spool/postfix',
                                    'tlsrpt_support': False}, roledata.profiles()),
     'tls_plan: postfix_tls_tlsrpt: Postfix 3.10.5 was built without TLSRPT'),
    ('role plan (tls_plan)', 'postfix_tls_tlsrpt without postfix_tls_tlsrpt_sender (the reports\' From)',
     lambda: tls_plan(tlsrpt_on(postfix_tls_tlsrpt_sender=''),
                      {'mail_version': '3.10.5', 'queue_directory': '/var/spool/postfix', 'tlsrpt_support': True},
                      roledata.profiles()),
     'tls_plan: postfix_tls_tlsrpt_sender is required with postfix_tls_tlsrpt (RFC 8460 4.4 puts it in every report)'),
    ('role plan (tls_plan)', 'a tlsrpt-reportd setting the role writes itself (dbname)',
     lambda: tls_plan(tlsrpt_on(postfix_tls_tlsrpt_reportd_options={'dbname': '/tmp/r.sqlite'}),
                      {'mail_version': '3.10.5', 'queue_directory': '/var/spool/postfix', 'tlsrpt_support': True},
                      roledata.profiles()),
     'tls_plan: postfix_tls_tlsrpt_reportd_options: dbname not a setting the role passes on'),
    ('TLS report (tlsrpt_read)', 'a Maildir message over twice the cap (a huge attachment)',
     tlsrpt_oversized, 'more than twice the 1024-byte cap; not read'),
    ('What senders saw (tls_tlsrpt_findings)', 'a failure share over 100 percent',
     lambda: tls_tlsrpt_findings([], 150), 'tlsrpt: the failure share threshold must be 0 to 100 (percent), not 150'),
    ('Dovecot (role dovecot)', 'a profile that needs a setting this Dovecot does not have (ssl_curve_list)',
     lambda: dovecot_plan('2.3.19', DOVECOT_23_KNOWN - {'ssl_curve_list'}, roledata.profiles()['intermediate'],
                          ['/etc/postfix/tls/rsa.pem'], {'imaps': True}),
     'Dovecot 2.3.19 does not know ssl_curve_list: this profile cannot be applied here; nothing was written'),
    ('Dovecot (role dovecot)', 'three certificates (Dovecot serves one RSA and one ECDSA key)',
     lambda: dovecot_plan('2.4.1', DOVECOT_24_KNOWN, roledata.profiles()['intermediate'],
                          ['/a.pem', '/b.pem', '/c.pem'], {'imaps': True}),
     '3 certificates: Dovecot serves at most two (one RSA, one ECDSA: ssl_cert and its alt)'),
    ('role plan (tls_plan)', 'postfix_tls_submission_sasl_type dovecot without the socket\'s path',
     lambda: tls_plan(roledata.inputs(postfix_tls_submission_587=True, postfix_tls_submission_sasl_type='dovecot'),
                      {'mail_version': '3.7.11', 'sasl_server_types': ['cyrus', 'dovecot']}, roledata.profiles()),
     "tls_plan: postfix_tls_submission_sasl_path: dovecot SASL needs the path of Dovecot's auth socket (private/auth, "
     'relative to queue_directory and inside the chroot, or inet:host:port)'),
    ('role plan (tls_plan)', 'postfix_tls_submission_sasl_type dovecot on a Postfix built without it',
     lambda: tls_plan(roledata.inputs(postfix_tls_submission_587=True, postfix_tls_submission_sasl_type='dovecot',
                                      postfix_tls_submission_sasl_path='private/auth'),
                      {'mail_version': '3.7.11', 'sasl_server_types': ['cyrus']}, roledata.profiles()),
     'tls_plan: postfix_tls_submission_sasl_type: this Postfix was built without dovecot SASL (postconf -a lists cyrus)'),
    ('Dovecot (role dovecot)', 'Dovecot 2.2 (no ssl_min_protocol)',
     lambda: dovecot_plan('2.2.36', DOVECOT_23_KNOWN, roledata.profiles()['intermediate'], ['/a.pem'], {}),
     'Dovecot 2.2.36 is too old for this role: it needs 2.3 or 2.4 (ssl_min_protocol is new in 2.3)'),
    ('ACME (tls_acme_certificate)', 'renew_days of 0 (renewal on every run)', lambda: settings_for(
        'ecdsa', ['mx.example.org'], '/etc/postfix/tls', '/var/lib/mailtls-postfix', '/etc/postfix',
        'https://acme.example/dir', renew_days=0),
     "certificate 'ecdsa': renew_days must be a whole number from 1 to 365, not 0"),
]

# The role's rows: (bad input, error, the Molecule scenario and the case that proves it)
# what the rollback scenario asserts at the end of a message when the role put the snapshot back
RESTORED = '(the previous configuration was restored; Postfix keeps running on it)'

ROLE_CASES = [
    ('valid certificate that is not the installed one (smtpd_tls_chain_files set to another pair through '
     'postfix_tls_main_cf_extra): every check before the reload passes',
     'The reloaded smtpd presents an installed certificate failed: after reload, [127.0.0.1]:25 does not present an '
     'installed certificate: presents another certificate (the previous configuration was restored; Postfix keeps running on it)',
     'rollback', 'wrong-certificate-served'),
    ('parameter value smtpd rejects (smtpd_tls_security_level: sometimes)',
     'Check the new configuration (postfix check, postconf -n, certificate files, postmap -q, a trial smtpd) failed: '
     'smtpd exits at startup with the new configuration (status 1), '
     'so Postfix would stop accepting mail: fatal: Invalid TLS level "sometimes" ' + RESTORED, 'rollback', 'invalid-value'),
    ('certificate that cannot be read',
     "certificate '/etc/postfix/tls/rsa.pem': certificate 1 of the chain cannot be read (...) " + RESTORED,
     'rollback', 'unreadable-certificate'),
    ('map type this Postfix cannot build (postfix_tls_policy_map_type: cdb)',
     'postmap cdb:/etc/postfix/tls_policy failed (rc=1): postmap: fatal: unsupported dictionary type: cdb ... ' + RESTORED,
     'rollback', 'failing-postmap'),
    ("main.cf tls_config_file naming a file that does not exist (postfix_tls_main_cf_extra): smtpd reads its own "
     "OpenSSL baseline through master.cf and passes; Postfix's client disables TLS",
     "Postfix's TLS client works with the new configuration failed: after reload, Postfix's TLS client (posttls-finger) "
     "cannot start TLS with [127.0.0.1]:25: posttls-finger: warning: error loading the 'mailtls' settings from the "
     "/etc/postfix/missing-openssl.cnf OpenSSL configuration file, disabling TLS support ... " + RESTORED,
     'rollback', 'client-openssl-file-missing'),
    ('ACME CA that cannot be reached (postfix_tls_acme_directory: https://127.0.0.1:9/dir)',
     'ACME certificates for the keys held here (renewed when due; with postfix_tls_rotate for the next key) failed: '
     'rb-acme: certbot failed (exit 1) at https://127.0.0.1:9/dir: ... Connection refused ... '
     '(the current certificate stays in place) ' + RESTORED, 'rollback', 'acme-unreachable'),
    ('main.cf that postfix check rejects (daemon_directory: /nonexistent)',
     'postfix check fails (status 1): fatal: chdir(/nonexistent): No such file or directory ' + RESTORED,
     'rollback', 'failing-postfix-check'),
    ('MTA-STS attributes (policy_type, mx_host_pattern) on Postfix 3.7',
     'mailtls.postfix.tls: Would the policy map change? failed: entries[1] (sts.example.test): policy_type, mx_host_pattern '
     'need Postfix 3.10 or later, this Postfix is 3.7.x (it would reject the whole entry with "invalid attribute name" and '
     'defer the mail) (nothing was changed)', 'rollback', 'sts-attributes-on-3.7'),
    ('policy file with protocols=>=TLSv1.2 on Postfix 3.5',
     "mailtls.postfix.tls: ... failed: .../policy.txt line 2 (bank.example): protocols '>=TLSv1.2': the >= / <= form needs "
     'Postfix 3.6 or later, this Postfix is 3.5.x; exclude the older ones instead (!SSLv2:!SSLv3:!TLSv1:!TLSv1.1) '
     '(the previous configuration was restored ...)', 'default', 'The role refuses the same entry on 3.5'),
    ('DNS server down when a rotation begins (postfix_tls_publish.server on a port where nothing answers)',
     'mailtls.postfix.tls: the TLSA records could not be published before the rotation: zone acme.test. on 10.89.0.2 '
     'port 5399: reading acme.test. SOA: the server cannot be reached ([Errno 111] Connection refused); nothing was '
     'changed (no key was changed)', 'acme', 'the DNS server down'),
    ('MTA-STS mode enforce while an MX serves a certificate not valid for its name (role mta_sts)',
     'mailtls.postfix.mta_sts: MTA-STS policy of wrong.acme.test: mode enforce is refused, senders would not deliver: '
     'MX alias.acme.test (10.89.0.72): its ECDSA certificate is not valid for the name alias.acme.test (it names '
     'mx.acme.test); publish mode testing until every MX serves a certificate senders accept (nothing was published)',
     'acme', 'wrong.acme.test at enforce'),
    ('pin that does not match the destination',
     'preflight: 1 policy entry would defer mail (judge: posttls-finger): alpha.test / fingerprint / fails / '
     'mx.alpha.test[...]:25: no pin matches (...). Nothing was changed.', 'fleet', 'Preflight - a wrong pin stops the role'),
]


def _ids():
    return ['%s: %s' % (c[0], c[1]) for c in CASES]


@pytest.mark.parametrize('area, bad, call, message', CASES, ids=_ids())
def test_bad_input_gives_the_documented_error(pki, area, bad, call, message):
    with pytest.raises((MailTLSError, AnsibleFilterError)) as err:
        call(pki) if getattr(call, 'needs_pki', False) else call()
    assert message in str(err.value)


def render():
    out = ['# Bad inputs and the errors they give', '',
           'Every row is a test: the unit rows run in `tests/unit/test_bad_inputs.py` (this file is generated',
           'from its table, and a test fails when they differ); the role rows run in the Molecule scenario named.',
           'Nothing is written when a module refuses its input; when the role fails after writing, it puts',
           'every file back and Postfix keeps running on the previous configuration.', '',
           '| # | where | bad input | error (part of the message) |', '| --- | --- | --- | --- |']
    for i, (area, bad, dummy, message) in enumerate(CASES, 1):
        out.append('| %d | %s | %s | `%s` |' % (i, area, bad.replace('|', '\\|'), message.replace('|', '\\|')))
    out += ['', '## The role (Molecule)', '', '| # | bad input | error | scenario: case |', '| --- | --- | --- | --- |']
    for i, (bad, message, scenario, case) in enumerate(ROLE_CASES, len(CASES) + 1):
        out.append('| %d | %s | `%s` | `%s`: %s |' % (i, bad, message.replace('|', '\\|'), scenario, case))
    out += ['', '## Publishing in DNS (dns_publish against Knot DNS)', '',
            'Run by `tests/unit/plugins/modules/test_dns_publish_knot.py` against a real Knot (Debian\'s knotd, in the',
            'lab image): each is refused with nothing changed in the zone (one UPDATE is applied whole or not at all).', '',
            '| # | bad input | error (part of the message) | case |', '| --- | --- | --- | --- |']
    for i, (case, bad, message) in enumerate(REFUSALS, len(CASES) + len(ROLE_CASES) + 1):
        out.append('| %d | %s | `%s` | %s |' % (i, bad, message.replace('|', '\\|'), case))
    out += ['', '## Dovecot (dovecot_tls in the lab images)', '',
            'Run by `tests/unit/plugins/modules/test_dovecot_tls.py` in each lab image, with Debian\'s own Dovecot',
            '(2.3.13, 2.3.19 and 2.4.1) running: each input or fault gives its message, and the module leaves what the',
            'last column says. A profile this Dovecot cannot do is in the first table (Dovecot (role dovecot)).', '',
            '| # | bad input or fault | error (part of the message) | what is left | case |',
            '| --- | --- | --- | --- | --- |']
    start = len(CASES) + len(ROLE_CASES) + len(REFUSALS) + 1
    for i, (case, bad, message, left) in enumerate(DOVECOT_FAULTS, start):
        out.append('| %d | %s | `%s` | %s | %s |' % (i, bad, message.replace('|', '\\|'), left, case))
    return '\n'.join(out) + '\n'


def test_doc_is_in_step():
    text = render()
    if os.environ.get('MAILTLS_WRITE_DOCS'):
        with open(DOC, 'w') as f:
            f.write(text)
    with open(DOC) as f:
        assert f.read() == text, 'docs/bad-inputs.md differs from the table in this test (MAILTLS_WRITE_DOCS=1 regenerates it)'
    assert len(CASES) + len(ROLE_CASES) >= 30


def _walk(tasks):
    for task in tasks or []:
        if isinstance(task, dict):
            yield task
            for key in ('tasks', 'block', 'rescue', 'always'):
                yield from _walk(task.get(key))


SEARCH = re.compile(r"""\bis search\((?P<q>["'])(?P<pattern>.*?)(?P=q)\)""")


def scenario_patterns(scenario, case):
    """The patterns that scenario's verify.yml asserts the role's error message against, for the case.

    rollback: the task whose vars have rb_case == case (tasks/inject.yml asserts rb_expect and the outcome in
    parentheses at the end); elsewhere: the play or block named after the case, the search() patterns of the asserts
    in its rescues.
    """
    with open(os.path.join(TOP, 'extensions', 'molecule', scenario, 'verify.yml')) as f:
        tasks = list(_walk(yaml.safe_load(f)))
    patterns = []
    for task in tasks:
        rb = task.get('vars') or {}
        if rb.get('rb_case') == case:
            outcome = rb.get('rb_outcome', 'the previous configuration was restored; Postfix keeps running on it')
            patterns += [rb['rb_expect'], '[(]' + re.escape(outcome) + '[)]$']
        elif case in task.get('name', ''):
            for rescue in [t['rescue'] for t in _walk([task]) if t.get('rescue')]:
                for sub in _walk(rescue):
                    for line in (sub.get('ansible.builtin.assert') or {}).get('that', []):
                        patterns += [m.group('pattern') for m in SEARCH.finditer(line) if 'ansible_failed_result.msg' in line]
    return patterns


@pytest.mark.parametrize('bad, message, scenario, case', ROLE_CASES, ids=[c[3] for c in ROLE_CASES])
def test_role_rows_are_what_the_scenarios_assert(bad, message, scenario, case):
    # the documented message must match every pattern the scenario asserts the role's message against, so that the
    # table cannot drift from what the scenarios check
    patterns = scenario_patterns(scenario, case)
    assert patterns, '%s: no assertion on the error message for the case %r' % (scenario, case)
    for pattern in patterns:
        assert re.search(pattern, message), '%s %s: the documented message %r does not match the asserted %r' % (
            scenario, case, message, pattern)
