# Test infrastructure of mailtls.postfix (not part of the collection): the Molecule
# scenarios' connection. It is containers.podman.podman, with two changes that make
# a task cost one process instead of three podman runs:
#   - pipelining: the module goes to the container's Python on stdin, instead of a
#     temporary directory, a copy and a second exec per task;
#   - the command runs in the container's namespaces through nsenter(1) (mount, UTS,
#     IPC, network, PID, cgroup; its root and working directory) with the environment
#     of the container's first process, which is what podman exec gives it. The
#     container's PID is asked of podman once and kept in a file while that process
#     lives. `podman mount` and `podman exec` cost about 0.4 s of both cores each on
#     these machines, nsenter a few milliseconds.
# The command runs with root's full capabilities and without the container's seccomp
# filter, as Ansible does on a real host. When nsenter cannot be used (not root, a
# remote_user set, or the container has no PID), the plugin does what
# containers.podman.podman does.
# The Makefile puts this directory on ANSIBLE_CONNECTION_PLUGINS and turns
# pipelining on, so the inventory's "ansible_connection: podman" resolves here first.
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: podman
    short_description: containers.podman.podman with pipelining and nsenter (mailtls.postfix test lab)
    description:
        - Runs commands in an existing podman container's namespaces; modules are piped to its Python on stdin.
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

import json
import os
import shlex
import subprocess
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible.plugins.connection import ConnectionBase, ensure_connect
from ansible.utils.display import Display
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

display = Display()


def _start_time(pid):
    """The process's start time in clock ticks since boot (proc(5), stat field 22), None if it is gone."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count from its closing one
    return int(stat[stat.rindex(b')') + 2:].split()[19])


class Connection(PodmanConnection):
    transport = 'podman'
    has_pipelining = True

    def _connect(self):
        ConnectionBase._connect(self)
        self._target = None
        if os.geteuid() == 0 and not self.user:
            self._target = self._find_target()
        if self._target is None:
            PodmanConnection._connect(self)  # podman mount, for put_file and fetch_file
        self._connected = True
        return self

    def _cache_path(self):
        name = ''.join(c if c.isalnum() or c in '-_.' else '_' for c in to_native(self._container_id))
        return os.path.join(tempfile.gettempdir(), 'mailtls-lab-nsenter', name + '.json')

    def _find_target(self):
        """{pid, start, env} of the container's first process, from the cache file while that process lives."""
        path = self._cache_path()
        try:
            with open(path) as f:
                cached = json.load(f)
            if _start_time(cached['pid']) == cached['start']:
                return cached
        except (OSError, ValueError, KeyError, TypeError):
            pass
        rc, out, err = self._podman(['inspect', '--format', '{{.State.Pid}}'])
        try:
            pid = int(out.strip())
        except ValueError:
            pid = 0
        if rc != 0 or pid <= 0:
            display.vvvv('nsenter: no PID for %s (%s); using podman exec' % (self._container_id, to_native(err).strip()))
            return None
        try:
            with open('/proc/%d/environ' % pid, 'rb') as f:
                env = [e for e in f.read().split(b'\0') if b'=' in e]
        except OSError:
            return None
        target = {'pid': pid, 'start': _start_time(pid),
                  'env': dict(to_native(e, errors='surrogate_or_strict').split('=', 1) for e in env)}
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = '%s.%d' % (path, os.getpid())
        with open(tmp, 'w') as f:
            json.dump(target, f)
        os.replace(tmp, path)
        return target

    def _nsenter(self, argv, in_data=None, stdout=subprocess.PIPE):
        cmd = ['nsenter', '--target', str(self._target['pid']), '--mount', '--uts', '--ipc', '--net', '--pid',
               '--cgroup', '--root', '--wd', '--'] + argv
        display.vvv('NSENTER %s' % (cmd,), host=self._container_id)
        p = subprocess.Popen([to_bytes(a, errors='surrogate_or_strict') for a in cmd], shell=False,
                             stdin=subprocess.PIPE, stdout=stdout, stderr=subprocess.PIPE, env=self._target['env'])
        out, err = p.communicate(input=in_data)
        return p.returncode, to_bytes(out or b'', errors='surrogate_or_strict'), to_bytes(err, errors='surrogate_or_strict')

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        argv = shlex.split(to_native(cmd, errors='surrogate_or_strict'))
        if self._target is not None:
            return self._nsenter(argv, in_data)
        args = ['exec'] + (['-i'] if in_data is not None else [])
        if self.user:
            args += ['--user', self.user]
        return self._podman(args, argv, in_data)

    @ensure_connect
    def put_file(self, in_path, out_path):
        if self._target is None:
            return PodmanConnection.put_file(self, in_path, out_path)
        ConnectionBase.put_file(self, in_path, out_path)
        with open(to_bytes(in_path, errors='surrogate_or_strict'), 'rb') as f:
            data = f.read()
        rc, out, err = self._nsenter(['dd', 'of=' + to_native(out_path), 'bs=65536', 'status=none'], data)
        if rc != 0:
            raise AnsibleError('failed to copy %s to %s in container %s: %s'
                               % (in_path, out_path, self._container_id, to_native(err)))

    @ensure_connect
    def fetch_file(self, in_path, out_path):
        if self._target is None:
            return PodmanConnection.fetch_file(self, in_path, out_path)
        ConnectionBase.fetch_file(self, in_path, out_path)
        with open(to_bytes(out_path, errors='surrogate_or_strict'), 'wb') as f:
            rc, out, err = self._nsenter(['cat', '--', to_native(in_path)], stdout=f)
        if rc != 0:
            raise AnsibleError('failed to fetch %s from container %s: %s'
                               % (in_path, self._container_id, to_native(err)))
