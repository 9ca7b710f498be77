# -*- coding: utf-8 -*-
# Copyright: mailtls.postfix contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Every module: where it runs.
    DOCUMENTATION = r"""
attributes:
  platform:
    description: Target OS families the module runs on.
    support: full
    platforms: posix
"""

    # Modules that only read (probe, check): they run the same in check mode and have nothing to diff.
    READ_ONLY = r"""
attributes:
  check_mode:
    description: The module only reads; it runs the same in check mode.
    support: full
  diff_mode:
    description: The module changes nothing, so there is no diff.
    support: none
"""
