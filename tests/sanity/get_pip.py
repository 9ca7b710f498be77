"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test bootstraps pip into each of its virtual environments with a
script it fetches from a host that this project's machines cannot reach, but
it uses ~/.ansible/test/cache/get_pip_<version>.py when that file exists.
`make setup` copies this file there. It takes the same arguments as the real
script: it installs the bundled pip with ensurepip, then asks that pip to
install the requested packages (e.g. pip==24.2) from the package index.
"""
import ensurepip
import os
import sys

GET_PIP_ONLY = ('--no-setuptools', '--no-wheel', '--no-pip')


def main(argv):
    saved = dict(os.environ)
    ensurepip.bootstrap(upgrade=True)
    # ensurepip sets PIP_CONFIG_FILE=/dev/null in this process, which would
    # drop the machine's pip configuration (its CA bundle, index, find-links).
    os.environ.clear()
    os.environ.update(saved)
    for name in list(sys.modules):
        if name == 'pip' or name.startswith('pip.'):
            del sys.modules[name]
    from pip._internal.cli.main import main as pip_main

    args = [a for a in argv if a not in GET_PIP_ONLY]
    return pip_main(['install', '--upgrade'] + args)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
