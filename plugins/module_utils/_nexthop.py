# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe stage: Postfix next hops and policy-map keys. Private to mailtls.postfix.

Parses a destination as an operator writes it in ``smtp_tls_policy_maps``
(postconf(5), transport(5)): a domain (``example.com``, MX lookup), a domain
with a port (``smtp.example.com:587``, MX lookup, the usual ``relayhost`` form),
or a next hop in brackets (``[host]``, ``[host]:port``, ``[192.0.2.1]:port``,
``[2001:db8::1]:port``; no MX lookup). A port may be a number or a service
name (``[smarthost.example]:submission``), resolved as Postfix resolves it,
from the services database. Postfix looks the next hop up as written, so the
key keeps the port as written: ``[host]:submission`` and ``[host]:587`` are
different keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
import socket

from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError


_LABEL = re.compile(r'^(?!-)[a-z0-9-]{1,63}(?<!-)$')
_PORT = re.compile(r'^[0-9]{1,5}$')
_SERVICE = re.compile(r'^[a-z][a-z0-9+_.-]*$')


def _port(text, port_text):
    """A port written as a number or a service name -> the number. MailTLSError names the problem."""
    if _PORT.match(port_text):
        if not 1 <= int(port_text) <= 65535:
            raise MailTLSError('%r: port %r is not a number from 1 to 65535' % (text, port_text))
        return int(port_text)
    if not _SERVICE.match(port_text.lower()):
        raise MailTLSError('%r: port %r is not a number from 1 to 65535 or a service name' % (text, port_text))
    try:
        return socket.getservbyname(port_text.lower(), 'tcp')
    except (OSError, socket.error):
        raise MailTLSError('%r: service %r is not in the services database (/etc/services)' % (text, port_text))


def to_ascii_domain(name):
    """Return the A-label (punycode) form of a domain, lower-case, without a trailing dot.

    Raises MailTLSError when the name is not a valid DNS host name.
    """
    if not isinstance(name, str) or not name:
        raise MailTLSError('empty name')
    if name != name.strip() or any(c.isspace() for c in name):
        raise MailTLSError('whitespace in %r' % name)
    stripped = name[:-1] if name.endswith('.') else name
    try:
        ascii_name = stripped.encode('idna').decode('ascii').lower()
    except (UnicodeError, ValueError) as e:
        raise MailTLSError('%r is not a valid domain name (%s)' % (name, e))
    if len(ascii_name) > 253:
        raise MailTLSError('%r is longer than 253 characters' % name)
    labels = ascii_name.split('.')
    for label in labels:
        if not _LABEL.match(label):
            raise MailTLSError('%r is not a valid domain name (bad label %r)' % (name, label))
    return ascii_name


def is_ip_literal(text):
    """Whether text is an IPv4 or IPv6 address (without brackets)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class NextHop:
    """A parsed destination.

    ``key``: the policy-map key as it will be written (A-label, lower-case).
    ``host``: the domain for an MX lookup, or the host or address in brackets.
    ``port``: the port number when one is written (a service name resolved), else None.
    ``mx``: True when Postfix would look up MX records (no brackets), also with a port.
    ``address``: an ipaddress object when the host is an IP literal, else None.
    """

    __slots__ = ('original', 'key', 'host', 'port', 'mx', 'address')

    def __init__(self, original, key, host, port, mx, address):
        self.original = original
        self.key = key
        self.host = host
        self.port = port
        self.mx = mx
        self.address = address

    def __repr__(self):
        return 'NextHop(%r)' % self.key

    @property
    def mta_sts(self):
        """Whether MTA-STS (RFC 8461: delivery to a domain's MX hosts on port 25) applies to this next hop."""
        return self.mx and self.port is None

    @property
    def name_for_match(self):
        """The name that the secure level's nexthop strategy compares certificates with (None for IP literals)."""
        return None if self.address is not None else self.host


def parse_nexthop(text, allow_port=True):
    """Parse a destination written as a Postfix next hop. Raise MailTLSError naming the problem."""
    if not isinstance(text, str):
        raise MailTLSError('%r is not a string' % (text,))
    if text == '' or text.strip() == '':
        raise MailTLSError('empty destination')
    if any(c.isspace() for c in text) or ',' in text:
        raise MailTLSError('%r contains whitespace or a comma' % text)
    if text.startswith('['):
        m = re.match(r'^\[([^\[\]]+)\](?::(.*))?$', text)
        if not m:
            raise MailTLSError('%r is not of the form [host] or [host]:port' % text)
        inner, port_text = m.group(1), m.group(2)
        port = None
        if port_text is not None:
            if not allow_port:
                raise MailTLSError('%r: a port is not allowed here' % text)
            port = _port(text, port_text)
        try:
            address = ipaddress.ip_address(inner)
            # connect to the normal form, but keep the key as written:
            # Postfix looks up the next hop as the operator wrote it
            host, shown = str(address), inner.lower()
        except ValueError:
            address = None
            host = shown = to_ascii_domain(inner)
        # the port as written (postmap folds keys to lower case)
        key = '[%s]' % shown + (':%s' % port_text.lower() if port is not None else '')
        return NextHop(text, key, host, port, False, address)
    if text.startswith('.'):
        raise MailTLSError('%r is a parent-domain pattern, not a destination to probe' % text)
    for literal, suffix in ((text, ''), tuple(text.rsplit(':', 1)) if ':' in text else (None, None)):
        if literal is None:
            continue
        try:
            ipaddress.ip_address(literal)
        except ValueError:
            continue
        raise MailTLSError('%r: an IP address needs brackets, as in [%s]%s' % (text, literal, ':' + suffix if suffix else ''))
    port = port_text = None
    name = text
    if ':' in text:
        # domain:port: an MX lookup for domain, then that port on each MX host (relayhost = smtp.example.com:587)
        name, port_text = text.rsplit(':', 1)
        if not allow_port:
            raise MailTLSError('%r: a port is not allowed here' % text)
        port = _port(text, port_text)
    host = to_ascii_domain(name)
    key = host + (':%s' % port_text.lower() if port is not None else '')
    return NextHop(text, key, host, port, True, None)


__all__ = ['NextHop', 'is_ip_literal', 'parse_nexthop', 'to_ascii_domain']
