"""Install the offline get-pip stand-in where ansible-test looks for it.

Usage: python tests/sanity/install-get-pip.py   (with ansible-test importable)
"""
import os
import re
import shutil

import ansible_test

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
CACHE = os.path.expanduser('~/.ansible/test/cache')


def main():
    with open(SOURCE, encoding='utf-8') as f:
        versions = sorted(set(re.findall(r"pip='([0-9.]+)'", f.read())))
    if not versions:
        raise SystemExit('cannot find the pip version ansible-test bootstraps in %s' % SOURCE)
    os.makedirs(CACHE, exist_ok=True)
    for version in versions:
        target = os.path.join(CACHE, 'get_pip_%s.py' % version.replace('.', '_'))
        shutil.copyfile(os.path.join(HERE, 'get_pip.py'), target)
        print('sanity: pip %s bootstrap stand-in at %s' % (version, target))


if __name__ == '__main__':
    main()
