# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The Postfix instance a module reads and changes. Its commands are built in one place:
    # module_utils/_postconf.py (Instance), with -c config_dir.
    DOCUMENTATION = r"""
options:
  config_dir:
    description:
      - Configuration directory of the Postfix instance whose configuration applies (C(postconf -c), C(postmap -c)),
        for a secondary instance. Default is the default instance's.
    type: path
"""

    # the digest of policy pins, read from that instance
    DIGEST = r"""
options:
  digest:
    description:
      - The digest of the pins, which fixes their length. Pins must use the effective C(smtp_tls_fingerprint_digest)
        of the Postfix that reads them.
      - Defaults to that parameter of the Postfix instance on the host (O(config_dir)) where Postfix is installed,
        else V(sha256).
    type: str
    choices: [sha256, sha1, md5]
"""
