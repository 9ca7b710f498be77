# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy stage: a relay host (smarthost) for satellites: relayhost, its policy entry, SASL, and wrapper mode on 465.

Private to mailtls.postfix. Pure functions: the role's ``tls_relay`` filter turns
``postfix_tls_relayhost`` into what the role writes, and the ``sasl_password_map``
module uses ``sasl_line`` to write the password map.

Postfix facts used here (postconf(5), SASL_README):
- ``relayhost`` is ``[host]:port`` (no MX lookup) or ``host:port`` (MX lookup); both
  ``smtp_tls_policy_maps`` and ``smtp_sasl_password_maps`` are looked up with that
  next hop as written, so the policy key, the SASL key and ``relayhost`` are one string.
- ``smtp_tls_wrappermode`` (implicit TLS, port 465) applies to every delivery of the
  transport that sets it: the relay on 465 gets its own ``smtp`` service in master.cf
  with ``-o smtp_tls_wrappermode=yes``, made the ``default_transport`` (its next hop is
  still ``relayhost``); other transports are not touched.
- ``smtp_sasl_security_options`` applies to sessions without TLS, and
  ``smtp_sasl_tls_security_options`` to sessions with TLS: ``noplaintext`` on the first
  keeps PLAIN and LOGIN out of any session that is not encrypted.
- A password map value is ``username:password``: Postfix splits at the first colon, and
  the value ends at the end of the line, with leading and trailing white space removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._nexthop import is_ip_literal, parse_nexthop
from ansible_collections.mailtls.postfix.plugins.module_utils._policy import PolicyEntry

# levels that authenticate the relay: credentials go only to the server they are meant for
RELAY_LEVELS = ('secure', 'verify', 'fingerprint', 'dane', 'dane-only')
WRAPPER_PORTS = (465,)
WRAPPER_SERVICE = 'relay-smtps'
RELAY_FIELDS = ('host', 'port', 'mx', 'level', 'match', 'fingerprints', 'sasl_username', 'sasl_password',
                'sasl_mechanisms', 'tls_mode')
TLS_MODES = ('auto', 'starttls', 'implicit')
# Cyrus SASL client mechanisms that send the password itself: only inside TLS (noplaintext outside it)
DEFAULT_MECHANISMS = ('plain', 'login')


def _where(relay):
    host = relay.get('host') if isinstance(relay, dict) else None
    return 'postfix_tls_relayhost (%s)' % host if isinstance(host, str) else 'postfix_tls_relayhost'


def check_credentials(where, username, password):
    """Refuse a username or password that Postfix would misread in its password map."""
    if username in (None, '') and password in (None, ''):
        return False
    if username in (None, ''):
        raise MailTLSError('%s: sasl_password is given without sasl_username' % where)
    if password in (None, ''):
        raise MailTLSError('%s: sasl_username %r is given without sasl_password' % (where, username))
    if not isinstance(username, str) or not isinstance(password, str):
        raise MailTLSError('%s: sasl_username and sasl_password must be strings' % where)
    if ':' in username:
        raise MailTLSError('%s: sasl_username %r contains a colon; Postfix splits username:password at the first colon'
                           % (where, username))
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in username):
        raise MailTLSError('%s: sasl_username %r contains white space or a control character' % (where, username))
    # never echo the password itself
    if any(c in password for c in '\r\n\0'):
        raise MailTLSError('%s: sasl_password contains a line break or NUL; a map line cannot hold it' % where)
    if any(ord(c) < 32 or ord(c) == 127 for c in password):
        raise MailTLSError('%s: sasl_password contains a control character' % where)
    if password != password.strip():
        raise MailTLSError('%s: sasl_password starts or ends with white space, which Postfix strips from a map value' % where)
    return True


def _port(where, relay):
    port = relay.get('port', 587)
    if isinstance(port, bool) or not isinstance(port, (int, str)) or str(port) == '':
        raise MailTLSError('%s: port %r is not a port number or service name' % (where, port))
    return str(port)


def plan(relay, digest='sha256', postfix_version=None):
    """What the role writes for ``relay`` (postfix_tls_relayhost). MailTLSError names the problem.

    Returns a dict: ``relayhost`` (the next hop as Postfix looks it up), ``policy`` (the entry
    dict for the policy map), ``sasl`` (bool), ``wrapper`` (bool), ``main_cf`` (parameters, None
    meaning absent) and ``service`` (the master.cf service, state present or absent).
    """
    if not isinstance(relay, dict):
        raise MailTLSError('postfix_tls_relayhost must be a mapping with at least host')
    where = _where(relay)
    unknown = sorted(k for k in relay if k not in RELAY_FIELDS)
    if unknown:
        raise MailTLSError('%s: unknown option(s) %s; known: %s' % (where, ', '.join(unknown), ', '.join(RELAY_FIELDS)))
    host = relay.get('host')
    if not isinstance(host, str) or not host or '[' in host or ']' in host or (':' in host and not is_ip_literal(host)):
        raise MailTLSError('%s: host must be a host name or address, without brackets or port (got %r)' % (where, host))
    mx = relay.get('mx', False)
    if not isinstance(mx, bool):
        raise MailTLSError('%s: mx must be true or false' % where)
    if mx and is_ip_literal(host):
        raise MailTLSError('%s: an IP address cannot take an MX lookup; set mx to false' % where)
    port = _port(where, relay)
    written = ('%s:%s' if mx else '[%s]:%s') % (host, port)
    try:
        nexthop = parse_nexthop(written)
    except MailTLSError as e:
        raise MailTLSError('%s: %s' % (where, e))
    level = relay.get('level', 'secure')
    if level not in RELAY_LEVELS:
        raise MailTLSError('%s: level %r does not authenticate the relay, so credentials and mail could go to an impostor; '
                           'use one of %s' % (where, level, ', '.join(RELAY_LEVELS)))
    tls_mode = relay.get('tls_mode', 'auto')
    if tls_mode not in TLS_MODES:
        raise MailTLSError('%s: tls_mode %r is not one of %s' % (where, tls_mode, ', '.join(TLS_MODES)))
    wrapper = tls_mode == 'implicit' or (tls_mode == 'auto' and nexthop.port in WRAPPER_PORTS)
    entry = {'destination': nexthop.key, 'level': level}
    for name in ('match', 'fingerprints'):
        if relay.get(name) not in (None, '', []):
            entry[name] = relay[name]
    policy = PolicyEntry.from_dict(entry, digest, where, postfix_version)
    sasl = check_credentials(where, relay.get('sasl_username'), relay.get('sasl_password'))
    mechanisms = relay.get('sasl_mechanisms', list(DEFAULT_MECHANISMS))
    if not isinstance(mechanisms, list) or not all(isinstance(m, str) and m and m.replace('-', '').isalnum() for m in mechanisms):
        raise MailTLSError('%s: sasl_mechanisms must be a list of SASL mechanism names' % where)
    main_cf = {
        'relayhost': nexthop.key,
        'default_transport': WRAPPER_SERVICE if wrapper else None,
        'smtp_sasl_auth_enable': 'yes' if sasl else None,
        'smtp_sasl_security_options': 'noanonymous, noplaintext' if sasl else None,
        'smtp_sasl_tls_security_options': 'noanonymous' if sasl else None,
        'smtp_sasl_mechanism_filter': ', '.join(m.lower() for m in mechanisms) if sasl and mechanisms else None,
    }
    service = {'name': WRAPPER_SERVICE, 'type': 'unix', 'state': 'present' if wrapper else 'absent'}
    if wrapper:
        service.update({'private': '-', 'unpriv': '-', 'chroot': 'y', 'wakeup': '-', 'maxproc': '-', 'command': 'smtp',
                        'parameters': {'syslog_name': 'postfix/' + WRAPPER_SERVICE, 'smtp_tls_wrappermode': 'yes'}})
    return {'relayhost': nexthop.key, 'port': nexthop.port, 'wrapper': wrapper, 'policy': policy.as_dict(),
            'sasl': sasl, 'main_cf': main_cf, 'service': service}


def sasl_line(key, username, password):
    """The password map line for ``key`` (the relayhost as written)."""
    check_credentials('sasl_password_map (%s)' % key, username, password)
    parse_nexthop(key)
    return '%s %s:%s\n' % (key, username, password)


__all__ = ['DEFAULT_MECHANISMS', 'RELAY_FIELDS', 'RELAY_LEVELS', 'WRAPPER_PORTS', 'WRAPPER_SERVICE', 'check_credentials',
           'plan', 'sasl_line']
