# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judge stage: the fleet's own servers as a remote sender or a user's mail client meets them. Private to mailtls.postfix.

For one port of one server (SMTP 25, 587, 465; IMAP 143, 993; POP3 110, 995) it reads:
  - what a client can do before TLS: AUTH offered or taken on SMTP, MAIL taken on
    submission, plaintext LOGIN (LOGINDISABLED) on IMAP, USER on POP3; whether 465,
    993 and 995 speak TLS from the first byte;
  - the TLS versions the server accepts (one handshake per version, the client
    limited to that version) and the weakest kind of TLS 1.2 suite it accepts
    (one handshake per kind, the client offering only suites of that kind);
  - whether the session it chooses has forward secrecy, and the certificate
    (chain verified against the CA bundle, names, days to expiry);
  - the key exchange (openssl s_client): whether it signs with SHA-1 or SHA-224 for a client that offers only
    that, and whether a client that offers only X25519MLKEM768 gets post-quantum key exchange.
Each finding carries a severity: bad (a password or mail can travel in clear, or
the chain does not verify on a port users log in to), warn (what a public mail-TLS
test marks: TLS 1.0/1.1, suites without forward secrecy, CBC, finite-field DHE, SHA-1 and SHA-224 signatures),
ok. Nothing here writes or sends mail; the one credential sent (to see whether AUTH
is refused before TLS) is a made-up one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import socket
import ssl

from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import certificate_facts, match_names
from ansible_collections.mailtls.postfix.plugins.module_utils._dns import key_matches
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._judge import sts_mx_allowed, worst
from ansible_collections.mailtls.postfix.plugins.module_utils._mtasts import discover
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import is_ip_literal
from ansible_collections.mailtls.postfix.plugins.module_utils._options import EXPIRY_WARN_DAYS
from ansible_collections.mailtls.postfix.plugins.module_utils._smtp import KEY_FAMILIES, Conversation, ProbeError

# port -> (protocol, TLS mode, a port users log in to)
PORTS = {
    25: ('smtp', 'starttls', False),
    587: ('smtp', 'starttls', True),
    465: ('smtp', 'implicit', True),
    143: ('imap', 'starttls', True),
    993: ('imap', 'implicit', True),
    110: ('pop3', 'starttls', True),
    995: ('pop3', 'implicit', True),
}
VERSIONS = (('TLSv1', 'TLSv1'), ('TLSv1.1', 'TLSv1_1'), ('TLSv1.2', 'TLSv1_2'), ('TLSv1.3', 'TLSv1_3'))
# kinds of TLS 1.2 suites, weakest first, as OpenSSL cipher strings that offer only that kind
WEAK_KINDS = (
    ('anonymous', 'aNULL:!eNULL:@SECLEVEL=0'),
    ('no forward secrecy', 'kRSA:!aNULL:!eNULL:@SECLEVEL=0'),
    ('CBC', 'kECDHE+AES:kDHE+AES:!AESGCM:!AESCCM:!aNULL:@SECLEVEL=0'),
    ('finite-field DHE', 'kDHE+AESGCM:kDHE+CHACHA20:!aNULL:@SECLEVEL=0'),
)
# The key exchange as internet.nl 1.11 (NCSC-NL 2025-05) judges it: the hash a server signs with for a TLS 1.2
# client at security level 0 that offers only SHA-1, or only SHA-224 ("insufficient"), and whether a TLS 1.3
# client that offers only the post-quantum hybrid X25519MLKEM768 gets it. Python's ssl module can set neither
# signature algorithms nor groups, so these handshakes are OpenSSL's own client, openssl s_client.
KEX_CASES = (
    ('sha1', ('-tls1_2', '-cipher', 'DEFAULT@SECLEVEL=0', '-sigalgs', 'RSA+SHA1:ECDSA+SHA1')),
    ('sha224', ('-tls1_2', '-cipher', 'DEFAULT@SECLEVEL=0', '-sigalgs', 'RSA+SHA224:ECDSA+SHA224')),
    ('post_quantum', ('-tls1_3', '-groups', 'X25519MLKEM768')),
)
PQ_GROUP = 'X25519MLKEM768'
# what openssl s_client says when this client cannot offer what a case asks (an OpenSSL before 3.5 and the hybrid)
_S_CLIENT_CANNOT = ('Error with command', 'cannot be set', 'unknown option', 'Unknown option', 'Invalid command')
# a made-up credential: "\0mailtls-probe\0not-a-password"
PROBE_AUTH = base64.b64encode(b'\0mailtls-probe\0not-a-password').decode('ascii')


class PostureError(MailTLSError):
    """Why a step stopped; ``cause``: the TLS error behind it, if any."""

    def __init__(self, message, cause=None):
        super(PostureError, self).__init__(message)
        self.cause = cause


def _connect(address, port, timeout):
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except (OSError, socket.timeout) as e:
        raise PostureError('connect to %s:%d: %s' % (address, port, e))


def _plain_session(protocol, conv, exposure, submission):
    """Talk until just before STARTTLS; fill ``exposure``; return whether STARTTLS is offered."""
    if protocol == 'smtp':
        code, dummy = conv.reply('banner')
        if code != 220:
            raise PostureError('banner: %d' % code)
        conv.send('EHLO mailtls-probe.invalid', 'EHLO')
        code, lines = conv.reply('EHLO')
        features = dict((l.split()[0].upper(), l) for l in lines[1:] if l.split())
        exposure['auth_offered_before_tls'] = 'AUTH' in features
        if submission:
            conv.send('AUTH PLAIN ' + PROBE_AUTH, 'AUTH before STARTTLS')
            code, lines = conv.reply('AUTH before STARTTLS')
            exposure['auth_before_tls'] = '%d %s' % (code, lines[-1])
            exposure['auth_refused_before_tls'] = code in (503, 530, 538)
            conv.send('MAIL FROM:<>', 'MAIL before STARTTLS')
            code, lines = conv.reply('MAIL before STARTTLS')
            exposure['mail_before_tls'] = '%d %s' % (code, lines[-1])
            exposure['mail_refused_before_tls'] = code == 530
            if code == 250:
                conv.send('RSET', 'RSET')
                conv.reply('RSET')
        return 'STARTTLS' in features
    if protocol == 'imap':
        greeting = conv.line('greeting')
        conv.send('a1 CAPABILITY', 'CAPABILITY')
        caps = greeting
        while True:
            line = conv.line('CAPABILITY')
            if line.startswith('a1 '):
                break
            caps += ' ' + line
        words = set(caps.upper().replace('[', ' ').replace(']', ' ').split())
        exposure['login_disabled_before_tls'] = 'LOGINDISABLED' in words
        return 'STARTTLS' in words
    # pop3
    conv.line('greeting')
    conv.send('CAPA', 'CAPA')
    caps = []
    if conv.line('CAPA').startswith('+OK'):
        while True:
            line = conv.line('CAPA')
            if line == '.':
                break
            caps.append(line.split()[0].upper() if line.split() else '')
    conv.send('USER mailtls-probe', 'USER before STLS')
    answer = conv.line('USER before STLS')
    exposure['user_before_tls'] = answer
    exposure['user_refused_before_tls'] = answer.startswith('-ERR')
    return 'STLS' in caps


def _starttls(protocol, conv):
    if protocol == 'smtp':
        conv.send('STARTTLS', 'STARTTLS')
        code, dummy = conv.reply('STARTTLS')
        ok = code == 220
    elif protocol == 'imap':
        conv.send('a2 STARTTLS', 'STARTTLS')
        while True:
            line = conv.line('STARTTLS')
            if line.startswith('a2 '):
                break
        ok = line.upper().startswith('A2 OK')
    else:
        conv.send('STLS', 'STLS')
        ok = conv.line('STLS').startswith('+OK')
    if not ok:
        raise PostureError('STARTTLS refused')


def _context(version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
    if ciphers is not None:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.set_ciphers(ciphers or ('ALL:@SECLEVEL=0' if version in ('TLSv1', 'TLSv1_1') else 'ALL'))
    except ssl.SSLError:
        return None  # this OpenSSL has no such suites: nothing of that kind can be offered
    return ctx


def handshake(address, port, protocol, mode, timeout, ctx, servername=None):
    """One TLS session (after STARTTLS where the mode says so); returns the SSLSocket, or raises PostureError."""
    sock = _connect(address, port, timeout)
    try:
        if mode == 'starttls':
            conv = Conversation(sock, timeout)
            _to_starttls(protocol, conv)
            _starttls(protocol, conv)
        sock.settimeout(timeout)
        return ctx.wrap_socket(sock, server_hostname=servername)
    except (ssl.SSLError, OSError, socket.timeout) as e:
        sock.close()
        raise PostureError('TLS handshake: %s' % (getattr(e, 'verify_message', None) or getattr(e, 'reason', None) or e), e)
    except ProbeError as e:
        sock.close()
        raise PostureError(str(e))
    except PostureError:
        sock.close()
        raise


def _to_starttls(protocol, conv):
    """Read the greeting (and on SMTP say EHLO), so that STARTTLS comes next."""
    if protocol == 'smtp':
        conv.reply('banner')
        conv.send('EHLO mailtls-probe.invalid', 'EHLO')
        conv.reply('EHLO')
    else:
        conv.line('greeting')


def _accepts(address, port, protocol, mode, timeout, ctx):
    if ctx is None:
        return None
    try:
        tls = handshake(address, port, protocol, mode, timeout, ctx)
    except PostureError:
        return None
    try:
        return tls.version(), tls.cipher()[0]
    finally:
        tls.close()


def forward_secret(version, cipher):
    return version == 'TLSv1.3' or cipher.startswith(('ECDHE-', 'DHE-'))


def inspect(address, port, protocol=None, mode=None, timeout=10, ca_file=None, hostname=None, now=None, users=None,
            resolver=None, run=None, expiry_warn_days=EXPIRY_WARN_DAYS):
    """Everything this module reads of one port. ``ca_file``: the CA bundle (default: the system's); ``hostname``:
    the name the certificate must cover; ``users``: whether users log in there (default: by the port);
    ``resolver`` (a _dns.Resolver): look up the TLSA records of _PORT._tcp.HOSTNAME and compare every key served;
    ``run`` (see key_exchange): read the key exchange with openssl s_client; ``expiry_warn_days``: a certificate
    that expires within so many days is a warning."""
    default = PORTS.get(port, ('smtp', 'starttls', False))
    protocol, mode = protocol or default[0], mode or default[1]
    users = default[2] if users is None else users
    result = {'address': address, 'port': port, 'protocol': protocol, 'tls_mode': mode, 'users_log_in': users,
              'reachable': False, 'error': None, 'exposure': {}, 'versions': [], 'weakest': None, 'session': None,
              'certificate': None, 'dane': None, 'key_exchange': None, 'findings': []}
    try:
        sock = _connect(address, port, timeout)
    except PostureError as e:
        result['error'] = str(e)
        result['findings'] = findings(result, expiry_warn_days)
        return result
    result['reachable'] = True
    exposure = result['exposure']
    try:
        if mode == 'starttls':
            conv = Conversation(sock, timeout)
            exposure['starttls_offered'] = _plain_session(protocol, conv, exposure, users)
        else:
            sock.settimeout(timeout)
            try:
                ctx = _context()
                tls = ctx.wrap_socket(sock, server_hostname=hostname)
                exposure['tls_at_once'] = True
                tls.close()
            except (ssl.SSLError, OSError) as e:
                exposure['tls_at_once'] = False
                result['error'] = 'no TLS at once: %s' % (getattr(e, 'reason', None) or e)
    except (PostureError, ProbeError) as e:
        result['error'] = str(e)
    finally:
        sock.close()
    if result['error'] or exposure.get('starttls_offered') is False:
        result['findings'] = findings(result, expiry_warn_days)
        return result
    try:
        tls = handshake(address, port, protocol, mode, timeout, _context(), hostname)
    except PostureError as e:
        result['error'] = str(e)
        result['findings'] = findings(result, expiry_warn_days)
        return result
    try:
        version, cipher = tls.version(), tls.cipher()[0]
        der = tls.getpeercert(binary_form=True)
    finally:
        tls.close()
    result['session'] = {'version': version, 'cipher': cipher, 'forward_secrecy': forward_secret(version, cipher)}
    facts = certificate_facts(der, now=now)
    verified, verify_error = verify_chain(address, port, protocol, mode, timeout, ca_file)
    result['certificate'] = {'names': facts['certificate']['san'], 'not_after': facts['certificate']['not_after'],
                             'days_remaining': facts['certificate']['days_remaining'],
                             'key': '%s %s' % (facts['certificate']['key_type'], facts['certificate']['key_bits']),
                             'chain_verified': verified, 'verify_error': verify_error,
                             'name_matches': match_names(facts['match_names'], [hostname]) if hostname else None}
    if resolver is not None and hostname and not is_ip_literal(hostname):
        result['dane'] = dane_state(keys_held(address, port, protocol, mode, timeout, facts), resolver.tlsa(hostname, port))
    for name, version_attr in VERSIONS:
        if _accepts(address, port, protocol, mode, timeout, _context(version_attr)):
            result['versions'].append(name)
    for kind, ciphers in WEAK_KINDS:
        accepted = _accepts(address, port, protocol, mode, timeout, _context(ciphers=ciphers))
        if accepted:
            result['weakest'] = {'kind': kind, 'cipher': accepted[1]}
            break
    if run is not None:
        result['key_exchange'] = key_exchange(address, port, protocol, mode, timeout, run, hostname)
    result['findings'] = findings(result, expiry_warn_days)
    return result


def verify_chain(address, port, protocol, mode, timeout, ca_file=None):
    """(True, None) or (False, OpenSSL's reason): OpenSSL's own verification of the served chain, names aside."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.check_hostname = False
    try:
        handshake(address, port, protocol, mode, timeout, ctx).close()
    except PostureError as e:
        cause = e.cause
        if isinstance(cause, ssl.SSLCertVerificationError):
            return False, cause.verify_message
        return None, str(e)
    return True, None


def keys_held(address, port, protocol, mode, timeout, first_facts):
    """Every key the server holds, each once, as the probe's served keys are: _certinfo.certificate_facts of the
    default session's certificate (``first_facts``), then of one TLS 1.2 session per key kind of
    _smtp.KEY_FAMILIES (ECDSA, RSA: a server with both serves either)."""
    found = [first_facts]
    for family in sorted(KEY_FAMILIES):
        ctx = _context(ciphers=KEY_FAMILIES[family] + ':!aNULL:@SECLEVEL=0')
        if ctx is None:
            continue
        try:
            tls = handshake(address, port, protocol, mode, timeout, ctx)
        except PostureError:
            continue
        try:
            found.append(certificate_facts(tls.getpeercert(binary_form=True)))
        finally:
            tls.close()
    return list(dict((facts['tlsa']['3 1 1'], facts) for facts in found).values())


def dane_state(keys, lookup):
    """Whether every served key matches a DANE-EE record, and whether a record for another key (the next one,
    RFC 7671 8.1) or a DANE-TA record stands ready for a rollover. ``keys``: keys_held (certificate facts);
    ``lookup``: _dns.Resolver.tlsa()."""
    records = lookup['records']
    matched = dict((k['tlsa']['3 1 1'], key_matches(records, k['tlsa']) is True) for k in keys)
    # a DANE-EE record of the kinds a served key is compared with (3 1 1, 3 0 1) that matches none of them:
    # another key's, ready for a rollover
    other_key = any(r['usage'] == 3 and (r['selector'], r['mtype']) in ((1, 1), (0, 1))
                    and not any(key_matches([r], k['tlsa']) for k in keys) for r in records)
    return {'name': lookup['name'], 'records': len(lookup['records']), 'validated': lookup['validated'],
            'error': lookup['error'],
            'keys': sorted((dict(key='%s %s' % (k['certificate']['key_type'], k['certificate']['key_bits']),
                                 spki_sha256=k['tlsa']['3 1 1'], matches=matched[k['tlsa']['3 1 1']]) for k in keys),
                           key=lambda k: k['spki_sha256']),
            'every_key_matches': all(matched.values()) if lookup['records'] and keys else None,
            'rollover': other_key or any(r['usage'] == 2 for r in records)}


def s_client_argv(address, port, protocol, mode, timeout, case_args, servername=None):
    """The argv of one openssl s_client handshake (after STARTTLS where the mode says so), bounded by timeout(1)."""
    host = '[%s]' % address if ':' in address else address
    argv = ['timeout', str(2 * int(timeout)), 'openssl', 's_client', '-connect', '%s:%d' % (host, port)]
    if mode == 'starttls':
        argv += ['-starttls', protocol]
    if servername and not is_ip_literal(servername):
        argv += ['-servername', servername]
    return argv + list(case_args)


def parse_s_client(text):
    """What one openssl s_client run got: the cipher (None: no session), the peer's signing digest, the key
    exchange group (TLS 1.3's negotiated group or the temporary key's), and whether this client could not even
    offer what it was asked to (``unsupported``)."""
    def after(prefix):
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        return None
    cipher = None
    for line in text.splitlines():
        if ', Cipher is ' in line:
            cipher = line.split(', Cipher is ', 1)[1].strip()
    if cipher in (None, '(NONE)'):
        cipher = None
    group = after('Negotiated TLS1.3 group:')
    if group is None:
        temp = after('Server Temp Key:') or after('Peer Temp Key:')
        if temp:
            words = [w.strip() for w in temp.split(',')]
            group = words[1] if words[0] in ('ECDH', 'DH') and len(words) > 2 else words[0]
    return {'cipher': cipher, 'digest': after('Peer signing digest:') if cipher else None, 'group': group if cipher else None,
            'unsupported': cipher is None and any(marker in text for marker in _S_CLIENT_CANNOT)}


def key_exchange(address, port, protocol, mode, timeout, run, servername=None):
    """sha1, sha224: a client offering only that hash got a session (the server signed with it); post_quantum: a
    client offering only X25519MLKEM768 got it. None where this host's openssl cannot ask (or is missing).
    ``run(argv)`` runs a command without a shell and returns (rc, stdout, stderr)."""
    result = {}
    for name, args in KEX_CASES:
        rc, out, err = run(s_client_argv(address, port, protocol, mode, timeout, args, servername))
        got = parse_s_client('%s\n%s' % (out, err))
        if rc == 127 or got['unsupported']:
            result[name] = None
        elif name == 'post_quantum':
            result[name] = got['group'] == PQ_GROUP
        else:
            result[name] = got['cipher'] is not None
    return result


def findings(result, expiry_warn_days=EXPIRY_WARN_DAYS):
    """(severity, text) for one port's facts; a certificate that expires within ``expiry_warn_days`` is a warning."""
    out = []
    port, users, exposure = result['port'], result['users_log_in'], result['exposure']
    label = '%s:%d' % (result['address'], port)
    if not result['reachable']:
        return [('warn', '%s: not reachable (%s)' % (label, result['error']))]
    if result['protocol'] == 'smtp' and result['tls_mode'] == 'starttls':
        if exposure.get('auth_offered_before_tls'):
            out.append(('bad', '%s offers AUTH before STARTTLS: a password can travel in clear' % label))
        if users and exposure.get('auth_refused_before_tls') is False:
            out.append(('bad', '%s takes AUTH before STARTTLS (%s)' % (label, exposure.get('auth_before_tls'))))
        if users and exposure.get('mail_refused_before_tls') is False:
            out.append(('bad', '%s takes MAIL before STARTTLS (%s): submission without TLS' % (label, exposure.get('mail_before_tls'))))
    if result['protocol'] == 'imap' and result['tls_mode'] == 'starttls' and exposure.get('login_disabled_before_tls') is False:
        out.append(('bad', '%s allows LOGIN before STARTTLS (no LOGINDISABLED)' % label))
    if result['protocol'] == 'pop3' and result['tls_mode'] == 'starttls' and exposure.get('user_refused_before_tls') is False:
        out.append(('bad', '%s takes USER before STLS (%s)' % (label, exposure.get('user_before_tls'))))
    if exposure.get('starttls_offered') is False:
        out.append(('bad' if users else 'warn', '%s offers no STARTTLS' % label))
    if exposure.get('tls_at_once') is False:
        out.append(('bad', '%s does not speak TLS at once (%s)' % (label, result['error'])))
    if result['error'] and exposure.get('tls_at_once') is not False and exposure.get('starttls_offered') is not False:
        out.append(('bad', '%s: %s' % (label, result['error'])))
    old = [v for v in result['versions'] if v in ('TLSv1', 'TLSv1.1')]
    if old:
        out.append(('bad' if users else 'warn', '%s accepts %s' % (label, ', '.join(old))))
    if result['weakest']:
        severity = 'bad' if result['weakest']['kind'] == 'anonymous' and users else 'warn'
        out.append((severity, '%s accepts %s suites (%s)' % (label, result['weakest']['kind'], result['weakest']['cipher'])))
    kex = result.get('key_exchange') or {}
    for name, digest in (('sha1', 'SHA-1'), ('sha224', 'SHA-224')):
        if kex.get(name):
            out.append(('warn', '%s signs its key exchange with %s for a client that offers only %s '
                        '(internet.nl: insufficient)' % (label, digest, digest)))
    session = result['session']
    if session and not session['forward_secrecy']:
        out.append(('warn', '%s chose a suite without forward secrecy (%s)' % (label, session['cipher'])))
    cert = result['certificate']
    dane = result.get('dane')
    # RFC 7672 3.1.1: a sender that authenticates the MX by DANE-EE(3) records checks neither the chain nor the
    # names, so on an MX port whose every key matches a validated record they are not findings
    dane_authenticated = bool(not users and dane and not dane['error'] and dane['records'] and dane['validated']
                              and dane['every_key_matches'])
    if cert and not dane_authenticated:
        if cert['chain_verified'] is False:
            out.append(('bad' if users else 'warn', '%s: the chain does not verify (%s)' % (label, cert['verify_error'])))
        if cert['name_matches'] is False:
            out.append(('bad' if users else 'warn', '%s: the certificate does not name the host' % label))
    if cert:
        days = cert['days_remaining']
        if days is not None and days < 0:
            out.append(('bad', '%s: the certificate expired %d days ago' % (label, -days)))
        elif days is not None and days < expiry_warn_days:
            out.append(('warn', '%s: the certificate expires in %d days' % (label, days)))
    if dane and dane['error']:
        out.append(('warn', '%s: %s' % (label, dane['error'])))
    elif dane and dane['records']:
        if not dane['validated']:
            out.append(('warn', '%s: the TLSA records of %s are not DNSSEC-validated; DANE senders ignore them'
                        % (label, dane['name'])))
        elif dane['every_key_matches'] is False:
            out.append(('bad', '%s: %s matches no TLSA record of %s: DANE senders defer mail when they get it'
                        % (label, ', '.join(k['key'] for k in dane['keys'] if not k['matches']), dane['name'])))
        elif not dane['rollover']:
            out.append(('warn', '%s: %s has no rollover record (a record for the next key, or a DANE-TA record)'
                        % (label, dane['name'])))
    if not out:
        out.append(('ok', '%s: %s, %s' % (label, ', '.join(result['versions']) or 'TLS',
                                          session['cipher'] if session else '')))
    return out


def mta_sts(domains, hostname, resolver, timeout=10, ca_file=None, discover_func=discover):
    """Per domain the host receives mail for: its MTA-STS policy and whether the policy's mx lines cover
    ``hostname`` (Postfix's and RFC 8461's rule: the name itself, or *. and one label), with findings."""
    states, out = [], []
    for domain in domains:
        state = discover_func(domain, resolver, timeout, ca_file)
        covered = sts_mx_allowed(state['mx'], hostname) if state['mode'] in ('enforce', 'testing') else None
        states.append({'domain': domain, 'mode': state['mode'], 'mx': state['mx'], 'max_age': state['max_age'],
                       'error': state['error'], 'covers_host': covered})
        if state['error'] and state['id'] is None:
            out.append(('warn', '%s: the MTA-STS TXT record cannot be looked up (%s)' % (domain, state['error'])))
        elif state['error']:
            out.append(('warn', '%s: MTA-STS is announced but no valid policy can be read (%s)' % (domain, state['error'])))
        elif covered is False:
            out.append(('bad' if state['mode'] == 'enforce' else 'warn',
                        '%s: the MTA-STS policy (mode %s, mx %s) does not cover %s: senders that enforce it %s'
                        % (domain, state['mode'], ', '.join(state['mx']), hostname,
                           'do not deliver to it' if state['mode'] == 'enforce' else 'report it')))
    return states, out


__all__ = ['KEX_CASES', 'PORTS', 'PQ_GROUP', 'PostureError', 'VERSIONS', 'WEAK_KINDS', 'dane_state', 'findings',
           'forward_secret', 'key_exchange', 'parse_s_client', 's_client_argv',
           'handshake', 'inspect', 'keys_held', 'mta_sts', 'worst']
