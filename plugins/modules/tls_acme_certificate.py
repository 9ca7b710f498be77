#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_acme_certificate
short_description: An ACME certificate for a key this host holds, through certbot, for Postfix
version_added: 0.2.0
description:
  - Keeps the key of one certificate (and a next key, with O(next_key)) on the host, made here once and kept across
    renewals, so that pins and TLSA 3 1 1 records survive them.
  - Asks the ACME CA at O(directory) for a certificate with C(certbot certonly --csr) (http-01 on certbot's
    standalone server at O(http_port)) when none is installed, when the installed one is for another key, lacks one
    of O(hostnames), fails its check or expires within O(renew_days); with O(force); or for the next key with
    O(rotate).
  - A new certificate is installed only after it has been checked against the key, the chain order, the names and
    the dates. The chain file C(CERT_DIR/NAME.pem) (the key, then the chain, as C(smtpd_tls_chain_files) reads it)
    is replaced atomically with mode 0600. A failure leaves the current certificate and keys in place and says why.
  - The scheduled renewal (C(/usr/local/sbin/mailtls-acme), which the C(mailtls.postfix.tls) role installs with its
    systemd timer) runs the same code (C(module_utils/_acme.py)) with the settings the role writes to
    C(STATE_DIR/acme-NAME.json).
  - Never returns key material.
author:
  - mailtls.postfix developers (@mailtls)
attributes:
  check_mode:
    support: full
    description: Says what would be done (C(status) C(would renew ...)); makes no key and asks no CA.
  diff_mode:
    support: full
    description: Shows the pins and the certificate's expiry before and after.
extends_documentation_fragment:
  - mailtls.postfix.attributes
options:
  name:
    description: The certificate's name (C(postfix_tls_certificates[].name)); the files are C(NAME.pem), C(NAME.key) and C(NAME.next.key).
    type: str
    required: true
  hostnames:
    description: The names the certificate must carry (dNSName SANs; the first is also the CN).
    type: list
    elements: str
    required: true
  directory:
    description: The ACME directory URL (the CA's staging or production directory).
    type: str
    required: true
  cert_dir:
    description: The directory of the chain file and the keys (made 0755 when missing).
    type: path
    default: /etc/postfix/tls
  state_dir:
    description: The directory of certbot's account and work files for this certificate (C(STATE_DIR/acme-NAME), root only).
    type: path
    default: /var/lib/mailtls-postfix
  config_dir:
    description: Postfix's configuration directory (for the timer's C(postfix check) and C(postfix reload)).
    type: path
    default: /etc/postfix
  next_key:
    description: Hold a next key beside the current one (C(NAME.next.key)), for a DANE-safe rollover.
    type: bool
    default: false
  key_type:
    description: The type of the keys made here.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  email:
    description: The ACME account's contact address; empty registers without one.
    type: str
    default: ""
  ca_bundle:
    description: A CA file certbot trusts for the ACME server (C(REQUESTS_CA_BUNDLE)); empty for the system's.
    type: path
    default: ""
  renew_days:
    description: Renew when the certificate expires within this many days.
    type: int
    default: 30
  http_port:
    description: The port of certbot's standalone http-01 server.
    type: int
    default: 80
  challenge:
    description:
      - V(http-01), answered by certbot's standalone server on O(http_port); or V(dns-01), answered by putting
        C(_acme-challenge.NAME) TXT records into the zone by RFC 2136 (certbot's C(dns-rfc2136) plugin, Debian
        package C(python3-certbot-dns-rfc2136)), for hosts that serve nothing on port 80.
      - With V(dns-01) the module writes certbot's credentials (O(dns_publisher)) to
        C(STATE_DIR/acme-NAME/rfc2136.ini), mode 0600, where the scheduled renewal reads them too.
    type: str
    default: http-01
    choices: [http-01, dns-01]
  dns_propagation_seconds:
    description: With V(dns-01), how long certbot waits after the update before it asks the CA to validate.
    type: int
    default: 60
  dns_publisher:
    description:
      - With V(dns-01), the zone's primary server and the TSIG key that may update it (the same settings as
        M(mailtls.postfix.dns_publish)).
    type: dict
    suboptions:
      server:
        description: The zone's primary server, C(IP) or C(IP:port).
        type: str
        required: true
      key_name:
        description: The TSIG key's name.
        type: str
        required: true
      key_secret:
        description: The TSIG key's secret (base64). Never logged or returned.
        type: str
        required: true
      key_algorithm:
        description: The TSIG key's algorithm.
        type: str
        default: hmac-sha256
        choices: [hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1]
  keys_only:
    description: Only make the keys that are missing and return their pins; ask no CA.
    type: bool
    default: false
  force:
    description: A new certificate even if the current one is fine.
    type: bool
    default: false
  rotate:
    description:
      - Make the next key current, with a certificate for it, and make a new next key. The key files change only
        after the certificate for the next key has been issued and checked. Run the DANE rollover gate first
        (M(mailtls.postfix.tls_rollover_gate)).
    type: bool
    default: false
requirements:
  - certbot (on the host)
  - cryptography
"""

EXAMPLES = r"""
- name: A certificate from the ACME CA for the key held here, and a next key
  mailtls.postfix.tls_acme_certificate:
    name: ecdsa
    hostnames: [mx1.example.org]
    directory: https://acme-v02.api.letsencrypt.org/directory
    next_key: true
  register: acme

- name: The pins of the current and the next key
  ansible.builtin.debug:
    msg: "{{ acme.pins | map(attribute='sha256') | list }}"
"""

RETURN = r"""
status:
  description: C(fresh) (nothing due), C(keys) (O(keys_only)), C(renewed - REASON), C(keys made) or C(would renew - REASON).
  returned: always
  type: str
  sample: "renewed: the certificate expires on 2027-01-02T00:00:00Z, within 30 days"
pins:
  description: Public-key fingerprints by digest, of the current key and then of the next key (as M(mailtls.postfix.tls_host_key) returns them).
  returned: always
  type: list
  elements: dict
  sample: [{sha256: "CD:...", sha1: "...", md5: "..."}]
retired:
  description: After a rotation, the replaced key's fingerprints by digest (its TLSA record stays published a TTL longer).
  returned: when rotated
  type: list
  elements: dict
  sample: [{sha256: "3D:CC:...", sha1: "...", md5: "..."}]
actions:
  description: What was (or in check mode would be) done.
  returned: always
  type: list
  elements: str
  sample: ["created the key /etc/postfix/tls/ecdsa.key", "installed a certificate from https://acme.example/dir (no certificate yet)"]
not_after:
  description: The installed certificate's expiry.
  returned: when a certificate is installed
  type: str
  sample: "2027-03-04T05:06:07Z"
issuer:
  description: The installed certificate's issuer.
  returned: when a certificate is installed
  type: str
  sample: CN=Pebble Intermediate CA 5e3ac0
"""

import posixpath

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mailtls.postfix.plugins.module_utils._acme import CHALLENGES, STAYS, certificate, current, keys, settings_for
from ansible_collections.mailtls.postfix.plugins.module_utils._certinfo import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY
from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import read_secret, write_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._errors import MailTLSError
from ansible_collections.mailtls.postfix.plugins.module_utils._files import ensure_directory
from ansible_collections.mailtls.postfix.plugins.module_utils._publish import ALGORITHMS, certbot_credentials


def _facts(result):
    return '\n'.join(['pins: %s' % ', '.join(p['sha256'] for p in result.get('pins', []))]
                     + (['not_after: %s' % result['not_after']] if result.get('not_after') else [])) + '\n'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str', required=True),
            hostnames=dict(type='list', elements='str', required=True),
            directory=dict(type='str', required=True),
            cert_dir=dict(type='path', default='/etc/postfix/tls'),
            state_dir=dict(type='path', default='/var/lib/mailtls-postfix'),
            config_dir=dict(type='path', default='/etc/postfix'),
            next_key=dict(type='bool', default=False),
            key_type=dict(type='str', default='ecdsa', choices=['ecdsa', 'rsa']),
            email=dict(type='str', default=''),
            ca_bundle=dict(type='path', default=''),
            renew_days=dict(type='int', default=30),
            http_port=dict(type='int', default=80),
            challenge=dict(type='str', default='http-01', choices=list(CHALLENGES)),
            dns_propagation_seconds=dict(type='int', default=60),
            dns_publisher=dict(type='dict', options=dict(
                server=dict(type='str', required=True),
                key_name=dict(type='str', required=True),
                key_secret=dict(type='str', required=True, no_log=True),
                key_algorithm=dict(type='str', default='hmac-sha256', choices=list(ALGORITHMS)),
            )),
            keys_only=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            rotate=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('keys_only', 'force'), ('keys_only', 'rotate')],
        required_if=[('challenge', 'dns-01', ('dns_publisher',))],
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if p['rotate'] and not p['next_key']:
        module.fail_json(msg='%s: rotate needs next_key (there is no next key to make current)' % p['name'])

    def run(argv, env_update):
        return module.run_command(argv, environ_update=env_update)

    try:
        settings = settings_for(p['name'], p['hostnames'], p['cert_dir'], p['state_dir'], p['config_dir'],
                                p['directory'], p['next_key'], p['key_type'], p['email'], p['ca_bundle'],
                                p['renew_days'], p['http_port'], p['challenge'], p['dns_propagation_seconds'])
        if not module.check_mode:
            ensure_directory(p['state_dir'], 0o700)
        before = current(settings) if module._diff else None
        wrote = []
        if p['challenge'] == 'dns-01' and not p['keys_only']:
            d = p['dns_publisher']
            text = certbot_credentials(d['server'], d['key_name'], d['key_secret'], d['key_algorithm'])
            if read_secret(settings['dns_credentials']) != text:
                wrote.append('wrote the dns-01 credentials %s (mode 0600)' % settings['dns_credentials'])
                if not module.check_mode:
                    ensure_directory(posixpath.dirname(settings['dns_credentials']), 0o700)
                    write_secret(settings['dns_credentials'], text)
        if p['keys_only']:
            result = keys(settings, module.check_mode)
        else:
            result = certificate(settings, module.check_mode, p['force'], p['rotate'], run=run)
        if wrote:
            result['changed'] = True
            result['actions'] = wrote + result.get('actions', [])
    except MailTLSError as e:
        module.fail_json(msg='%s: %s %s' % (p['name'], e, STAYS))
    if before is not None:
        result['diff'] = {'before_header': settings['chain'], 'after_header': settings['chain'],
                          'before': _facts(before), 'after': _facts(result)}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
