#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_library_info
short_description: The OpenSSL that Postfix's smtpd links, and whether Postfix reads an OpenSSL configuration file
version_added: 0.2.0
description:
  - Finds the C(libssl) that Postfix's C(smtpd) is linked with (C(ldd)), loads that library and asks it for its
    version (C(OpenSSL_version_num)), so that the answer is the library Postfix runs with, not the C(openssl)
    command's or the controller's.
  - Asks C(postconf -d) whether this Postfix has C(tls_config_file) (3.9, and 3.8.1, 3.7.6, 3.6.10, 3.5.20 and later).
author:
  - mailtls.postfix developers (@mailtls)
extends_documentation_fragment:
  - mailtls.postfix.attributes
  - mailtls.postfix.attributes.read_only
options:
  daemon_directory:
    description: Postfix's C(daemon_directory) (C(postconf -h daemon_directory)), where C(smtpd) is.
    type: path
    required: true
  config_dir:
    description: The Postfix configuration directory.
    type: path
    default: /etc/postfix
seealso:
  - name: postconf(5), tls_config_file
    description: Which Postfix versions read an OpenSSL configuration file, and how.
    link: https://www.postfix.org/postconf.5.html#tls_config_file
"""

EXAMPLES = r"""
- name: Which OpenSSL does Postfix run with?
  mailtls.postfix.tls_library_info:
    daemon_directory: /usr/lib/postfix/sbin
  register: library
"""

RETURN = r"""
openssl_version:
  description: The linked OpenSSL's version.
  returned: success
  type: str
  sample: 3.5.9
openssl_version_number:
  description: Its C(OPENSSL_VERSION_NUMBER).
  returned: success
  type: int
  sample: 810549392
openssl_library:
  description: The C(libssl) file that C(smtpd) loads.
  returned: success
  type: str
  sample: /lib/x86_64-linux-gnu/libssl.so.3
config_file_known:
  description: Whether C(postconf -d) knows C(tls_config_file).
  returned: success
  type: bool
  sample: true
"""

import ctypes
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.mailtls.postfix.plugins.module_utils._library import libssl_path, openssl_version_text
from ansible_collections.mailtls.postfix.plugins.module_utils._postconf import Instance, parse_parameters


def main():
    module = AnsibleModule(
        argument_spec=dict(
            daemon_directory=dict(type='path', required=True),
            config_dir=dict(type='path', default='/etc/postfix'),
        ),
        supports_check_mode=True,
    )
    smtpd = os.path.join(module.params['daemon_directory'], 'smtpd')
    ldd = module.get_bin_path('ldd', required=True)
    rc, out, err = module.run_command([ldd, smtpd])
    path = libssl_path(out) if rc == 0 else None
    if not path:
        module.fail_json(msg='%s: ldd shows no libssl (is Postfix built with TLS?): %s' % (smtpd, (err or out).strip()))
    try:
        library = ctypes.CDLL(path)
        library.OpenSSL_version_num.restype = ctypes.c_ulong
        number = int(library.OpenSSL_version_num())
    except (OSError, AttributeError) as e:
        module.fail_json(msg='%s: cannot read the OpenSSL version: %s' % (path, e))
    # the names postconf -d knows, read as the postconf module reads them for if_known
    known = 'tls_config_file' in parse_parameters(Instance(module, module.params['config_dir']).postconf(['-d'])[0])
    module.exit_json(changed=False, openssl_version=openssl_version_text(number), openssl_version_number=number,
                     openssl_library=path, config_file_known=known)


if __name__ == '__main__':
    main()
