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


def median(values):
    return sorted(values)[len(values) // 2]


def main(module_path, src, runs=3):
    """Median of `runs` runs each: postmap alone on a fresh copy, the module on a fresh path, the module again."""
    work = tempfile.mkdtemp(dir='/etc/postfix')
    try:
        postmap, first, again = [], [], []
        for run in range(runs):
            alone = os.path.join(work, 'alone%d' % run)
            shutil.copyfile(src, alone)
            postmap.append(timed(['postmap', 'hash:' + alone])[0])
            path = os.path.join(work, 'tls_policy%d' % run)
            seconds, r1 = module(module_path, path, src)
            first.append(seconds)
            seconds, r2 = module(module_path, path, src)
            again.append(seconds)
        print(json.dumps({'postmap': median(postmap), 'module_first': median(first), 'module_again': median(again),
                          'entries': r1['entries'], 'postmap_first': r1['postmap'], 'postmap_again': r2['postmap'],
                          'changed_again': r2['changed']}))
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    main(*sys.argv[1:])
