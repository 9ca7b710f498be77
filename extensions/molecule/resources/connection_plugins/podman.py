# Test infrastructure of mailtls.postfix (not part of the collection): the Molecule
# scenarios' connection. It is containers.podman.podman with pipelining: the module
# goes to the container's Python on stdin (podman exec -i) in one podman exec,
# instead of a temporary directory, a copy and a second exec per task. The Makefile
# puts this directory on ANSIBLE_CONNECTION_PLUGINS and turns pipelining on, so the
# inventory's "ansible_connection: podman" resolves here first.
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: podman
    short_description: containers.podman.podman with pipelining (mailtls.postfix test lab)
    description:
        - Runs commands in an existing podman container; modules are piped to its Python on stdin.
    author: mailtls.postfix developers (@mailtls)
    options:
      remote_addr:
        description: The container.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: User inside the container.
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments to pass to the podman command line.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: Executable for podman command.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
"""

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection


class Connection(PodmanConnection):
    transport = 'podman'
    has_pipelining = True

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        args = ['exec'] + (['-i'] if in_data is not None else [])
        if self.user:
            args += ['--user', self.user]
        return self._podman(args, shlex.split(to_native(cmd, errors='surrogate_or_strict')), in_data)
