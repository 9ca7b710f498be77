"""Print the Debian archive this machine's apt already uses.

The lab images are built from the same mirror as the machine's own packages
(a user's machine, or a corporate mirror), so no mirror host is written into
the project. Reads /etc/apt/sources.list and /etc/apt/sources.list.d/*.list
(one-line form) and *.sources (deb822 form), and prints the first "deb"
source that carries the "main" component of a Debian release suite (not
-security, -updates or -backports). Exits 1 with a message when there is none;
set MAILTLS_LAB_MIRROR to choose one by hand.

    python3 tests/lab/apt-mirror.py [APT_DIR]        (default: /etc/apt)
"""

import glob
import os
import sys

_POCKETS = ("-security", "-updates", "-backports", "-proposed-updates")


def _release_suite(suite):
    return "/" not in suite and not suite.endswith(_POCKETS)


def _from_one_line(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if not words or words[0] != "deb":
                continue
            words = words[1:]
            if words and words[0].startswith("["):  # [arch=amd64 signed-by=...]
                while words and not words[0].endswith("]"):
                    words = words[1:]
                words = words[1:]
            if len(words) >= 3 and _release_suite(words[1]) and "main" in words[2:]:
                yield words[0]


def _from_deb822(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        stanzas = f.read().split("\n\n")
    for stanza in stanzas:
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.split()
        if fields.get("enabled", ["yes"])[0].lower() == "no":
            continue
        if "deb" not in fields.get("types", []) or "main" not in fields.get("components", []):
            continue
        if any(_release_suite(s) for s in fields.get("suites", [])):
            yield from fields.get("uris", [])


def mirrors(apt_dir="/etc/apt"):
    found = []
    main_list = os.path.join(apt_dir, "sources.list")
    if os.path.isfile(main_list):
        found.extend(_from_one_line(main_list))
    for path in sorted(glob.glob(os.path.join(apt_dir, "sources.list.d", "*"))):
        if path.endswith(".list"):
            found.extend(_from_one_line(path))
        elif path.endswith(".sources"):
            found.extend(_from_deb822(path))
    return found


def main(argv):
    apt_dir = argv[1] if len(argv) > 1 else "/etc/apt"
    found = mirrors(apt_dir)
    if not found:
        sys.stderr.write(
            "apt-mirror: no Debian 'main' source in %s/sources.list*; set MAILTLS_LAB_MIRROR\n" % apt_dir)
        return 1
    print(found[0].rstrip("/"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
