# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The options of the modules that probe many mail servers (mx_tls_info, tls_policy_check), with CONNECTION.
    # Their argument spec and checks: module_utils/_options.py (PROBE_OPTIONS, check_probe_options).
    DOCUMENTATION = r"""
options:
  concurrency:
    description: How many endpoints are probed (and destinations resolved) at the same time, from 1 to 1024.
    type: int
    default: 32
  tls_mode:
    description:
      - How TLS starts on each endpoint. V(starttls) - SMTP first, then STARTTLS (port 25, 587).
        V(implicit) - TLS from the first byte, then SMTP inside it (RFC 8314, port 465; relays that take
        mail there, Postfix's C(smtp_tls_wrappermode)). V(auto) - implicit on port 465, STARTTLS elsewhere.
      - In implicit mode an endpoint's C(starttls) is null; C(tls_mode) says which mode was used.
    type: str
    choices: [auto, starttls, implicit]
    default: auto
"""

    # How every module that talks to a mail server connects (mx_tls_info, tls_policy_check, tls_server_posture):
    # module_utils/_options.py (PROBE_CONNECTION_OPTIONS)
    CONNECTION = r"""
options:
  timeout:
    description:
      - Seconds allowed for each network step (connect, banner, EHLO, STARTTLS, TLS handshake, each DNS query).
      - A tarpit holds one probe for at most a few times this long. More than 0, at most 3600.
    type: float
    default: 10
  nameservers:
    description:
      - DNS servers to ask, each V(ip), V(ip:port) or V([ipv6]:port). Default is the system resolver.
    type: list
    elements: str
  ca_file:
    description:
      - PEM file of CA certificates that chains must verify against (for V(secure) and V(verify), the
        C(smtp_tls_CAfile) of the Postfix that will deliver). Defaults to the system's bundle.
    type: path
"""

    # the expiry threshold shared by the probe, the judges and the report (role variable postfix_tls_expiry_warn_days)
    EXPIRY = r"""
options:
  expiry_warn_days:
    description:
      - A certificate that expires in fewer days than this is a warning (it is counted or reported as expiring).
    type: int
    default: 21
"""
