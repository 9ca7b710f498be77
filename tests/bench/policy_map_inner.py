"""Inside a lab container: time postmap alone and the tls_policy_map module on one policy file.

Usage: policy_map_inner.py MODULE SRC   (prints one JSON line of seconds)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def timed(argv, **kwargs):
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise SystemExit('%s failed: %s %s' % (argv[0], proc.stdout[-500:], proc.stderr[-500:]))
    return time.monotonic() - t0, proc.stdout


def module(module_path, path, src):
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
        json.dump({'ANSIBLE_MODULE_ARGS': {'path': path, 'src': src, 'digest': 'sha256', 'map_type': 'hash'}}, f)
    seconds, out = timed([sys.executable, module_path, f.name], env=dict(os.environ))
    os.unlink(f.name)
    return seconds, json.loads(out)


def main(module_path, src):
    work = tempfile.mkdtemp(dir='/etc/postfix')
    try:
        alone = os.path.join(work, 'alone')
        shutil.copyfile(src, alone)
        postmap, dummy = timed(['postmap', 'hash:' + alone])
        path = os.path.join(work, 'tls_policy')
        first, r1 = module(module_path, path, src)
        again, r2 = module(module_path, path, src)
        print(json.dumps({'postmap': postmap, 'module_first': first, 'module_again': again,
                          'entries': r1['entries'], 'postmap_first': r1['postmap'], 'postmap_again': r2['postmap'],
                          'changed_again': r2['changed']}))
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    main(*sys.argv[1:])
