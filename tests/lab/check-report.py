"""Render a posture report (HTML) in headless Chromium and check what a reader sees.

    python3 check-report.py REPORT.html [--expect DEST=CLASS ...] [--rest CLASS] [--own HOST:PORT=CLASS ...]
                            [--volume HOST=DELIVERED ...] [--senders DOMAIN:MX:TYPE=CLASS ...]
                            [--senders-sessions N] [--max-width PX] [--screenshot OUT.png]

Checks, on the DOM as Chromium built it (--dump-dom) and on a screenshot:
  - the summary table and the posture table are there, with the ten column headings;
  - every --expect DEST=CLASS: every row of destination DEST (one per mail host and MX endpoint) has row class
    CLASS (ok, warn, bad);
  - --rest CLASS: every row of a destination not named by --expect has row class CLASS;
  - every --own HOST:PORT=CLASS: the fleet's own servers table (table#own) has one row for HOST's PORT, of class CLASS;
  - every --volume HOST=DELIVERED: the volume table (table#volume) has one row for HOST with that many messages
    delivered, and the page has the chart (svg#volume-chart) with a bar segment (rect) per class and day, whose
    green, amber and red are in the screenshot when segments of that class are;
  - every --senders DOMAIN:MX:TYPE=CLASS: the senders' failures table (table#senders) has one row for that policy
    domain, receiving MX and result type, of class CLASS; and --senders-sessions N: the senders' domains table
    (table#senders-domains) totals N sessions;
  - --max-width PX: laid out in a window PX pixels wide, the page is no wider than the window (its tables wrap
    rather than overflow; measured by Chromium: document.documentElement.scrollWidth, written into a copy of
    the page by a script added at its end);
  - the screenshot shows the problem colours: red rows when a row (of any table) is bad, amber when one is warn
    (pixels of the row background colours are counted in the decoded PNG).
Prints what it found; exits 1 with the reason when a check fails, 2 when Chromium cannot run.
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser

COLUMNS = ['Mail host', 'Destination', 'Level', 'Delivers', 'MX endpoint', 'TLS', 'Key', 'Days left', 'Trust', 'Note']
# background colours of the row classes in the report's CSS (tr.bad td, tr.warn td)
COLOURS = {'bad': (0xfd, 0xe2, 0xe1), 'warn': (0xff, 0xf4, 0xcc)}
# fill colours of the chart's bar segments (_report.chart_svg)
CHART = {'verified': (0x0a, 0x6b, 0x1f), 'unauthenticated': (0xd9, 0xa4, 0x00), 'clear': (0xb0, 0x00, 0x20)}


class Tables(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tables, self.stack, self.in_cell = {}, [], False
        self.svg, self.rects = {}, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == 'svg':
            self.svg = attrs
        elif tag == 'rect' and self.svg:
            self.rects.append(attrs.get('class') or '')
        elif tag == 'table':
            self.stack.append(attrs.get('id') or '')
            self.tables.setdefault(self.stack[-1], [])
        elif tag == 'tr' and self.stack:
            self.tables[self.stack[-1]].append({'class': attrs.get('class') or '', 'cells': []})
        elif tag in ('td', 'th') and self.stack:
            self.tables[self.stack[-1]][-1]['cells'].append('')
            self.in_cell = True

    def handle_endtag(self, tag):
        if tag == 'table' and self.stack:
            self.stack.pop()
        elif tag in ('td', 'th') and self.stack and self.tables[self.stack[-1]]:
            self.in_cell = False
            cells = self.tables[self.stack[-1]][-1]['cells']
            if cells:
                cells[-1] = cells[-1].strip()

    def handle_data(self, data):
        if self.in_cell and self.stack and self.tables[self.stack[-1]] and self.tables[self.stack[-1]][-1]['cells']:
            self.tables[self.stack[-1]][-1]['cells'][-1] += data


def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    print("check-report: no chromium on PATH (make setup installs Debian's chromium package)")
    sys.exit(2)


def run_chromium(binary, args, profile):
    argv = [binary, '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
            '--no-first-run', '--user-data-dir=' + profile, '--hide-scrollbars'] + args
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode('utf-8', 'replace')[-2000:])
        print('check-report: chromium exited %d' % proc.returncode)
        sys.exit(2)
    return proc.stdout.decode('utf-8', 'replace')


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA non-interlaced PNG."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('%s is not a PNG' % path)
    pos, idat, width = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, ctype, dummy, dummy2, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError('unsupported PNG (depth %d, colour type %d, interlace %d)' % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev, i = [], bytearray(stride), 0
    for dummy in range(height):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xff
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xff
            elif ftype == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 0xff
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else (b if pb <= pc else c))) & 0xff
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('report')
    parser.add_argument('--expect', action='append', default=[], metavar='DEST=CLASS')
    parser.add_argument('--own', action='append', default=[], metavar='HOST:PORT=CLASS',
                        help="the class of the row of HOST's own PORT in the fleet's own servers table")
    parser.add_argument('--volume', action='append', default=[], metavar='HOST=DELIVERED',
                        help="the number of messages delivered in HOST's row of the volume table")
    parser.add_argument('--senders', action='append', default=[], metavar='DOMAIN:MX:TYPE=CLASS',
                        help="the class of the row of the senders' failures table for DOMAIN, MX and result TYPE")
    parser.add_argument('--senders-sessions', type=int, metavar='N', help="the sessions the senders' domains table totals")
    parser.add_argument('--max-width', type=int, metavar='PX', help='the page laid out in a window this wide is no wider')
    parser.add_argument('--rest', choices=('ok', 'warn', 'bad'), help='the class every row not named by --expect must have')
    parser.add_argument('--screenshot', help='where to keep the screenshot (default: a temporary file)')
    args = parser.parse_args()
    url = 'file://' + os.path.abspath(args.report)
    binary = chromium()
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        dom = run_chromium(binary, ['--dump-dom', url], os.path.join(tmp, 'profile'))
        tables = Tables()
        tables.feed(dom)
        summary, posture = tables.tables.get('summary'), tables.tables.get('posture')
        if not summary:
            problems.append('no summary table (table#summary) in the rendered page')
        if not posture:
            problems.append('no posture table (table#posture) in the rendered page')
            posture = [{'class': '', 'cells': []}]
        elif posture[0]['cells'] != COLUMNS:
            problems.append('posture table headings are %s, expected %s' % (posture[0]['cells'], COLUMNS))
        body = posture[1:]
        print('check-report: chromium rendered %d summary rows and %d destination rows' % (len(summary or []), len(body)))
        for row in body:
            print('  %-5s %s' % (row['class'], ' | '.join(row['cells'][:5] + row['cells'][8:9])))
        named = set()
        for want in args.expect:
            dest, dummy, cls = want.partition('=')
            named.add(dest)
            classes = [r['class'] for r in body if len(r['cells']) > 1 and r['cells'][1] == dest]
            if not classes:
                problems.append('%s: no row' % dest)
            elif set(classes) != {cls}:
                problems.append('%s: rows are %s, expected every one %s' % (dest, classes, cls))
        if args.rest:
            others = [r for r in body if len(r['cells']) < 2 or r['cells'][1] not in named]
            if not others:
                problems.append('--rest %s: no row besides the --expect destinations' % args.rest)
            for row in others:
                if row['class'] != args.rest:
                    problems.append('%s (%s): row is %s, expected %s like every row not named by --expect'
                                    % (row['cells'][1] if len(row['cells']) > 1 else '?', row['cells'][0] if row['cells'] else '?',
                                       row['class'] or 'unclassed', args.rest))
        shot = args.screenshot or os.path.join(tmp, 'report.png')
        height = 900 + 60 * sum(len(t) for t in tables.tables.values()) + (300 if tables.svg else 0)
        run_chromium(binary, ['--screenshot=' + shot, '--window-size=1600,%d' % height, url], os.path.join(tmp, 'profile'))
        width, height, pixels = png_pixels(shot)
        counts = dict((name, sum(row.count(rgb) for row in pixels)) for name, rgb in COLOURS.items())
        print('check-report: screenshot %dx%d, pixels of the red rows %d, of the amber rows %d'
              % (width, height, counts['bad'], counts['warn']))
        own = (tables.tables.get('own') or [{}])[1:]
        for row in own:
            print('  own %-5s %s' % (row['class'], ' | '.join(row['cells'][:2] + row['cells'][-1:])))
        for want in args.own:
            where, dummy, cls = want.partition('=')
            classes = [r['class'] for r in own if ':'.join(r['cells'][:2]) == where]
            if classes != [cls]:
                problems.append('own port %s: rows are %s, expected one %s' % (where, classes, cls))
        volume = (tables.tables.get('volume') or [{}])[1:]
        for row in volume:
            print('  volume %-5s %s' % (row['class'], ' | '.join(row['cells'])))
        for want in args.volume:
            host, dummy, delivered = want.partition('=')
            rows = [r for r in volume if r['cells'][:2] == [host, delivered]]
            if len(rows) != 1:
                problems.append('volume: expected one row %s with %s delivered, rows are %s' % (host, delivered, volume))
        if args.volume:
            print('check-report: chart %s with %d bar segments %s' % (tables.svg.get('id'), len(tables.rects), sorted(set(tables.rects))))
            if tables.svg.get('id') != 'volume-chart' or not tables.rects:
                problems.append('volume: no chart (svg#volume-chart with bar segments) in the rendered page')
            for cls, rgb in CHART.items():
                drawn = sum(row.count(rgb) for row in pixels)
                if (cls in tables.rects) != (drawn > 50):
                    problems.append('volume chart: %s segments %s in the page, %d pixels of their colour in the screenshot'
                                    % (cls, 'are' if cls in tables.rects else 'are not', drawn))
        senders = (tables.tables.get('senders') or [{}])[1:]
        for row in senders:
            print('  senders %-5s %s' % (row['class'], ' | '.join(row['cells'])))
        for want in args.senders:
            where, dummy, cls = want.partition('=')
            classes = [r['class'] for r in senders if ':'.join(r['cells'][:3]) == where]
            if classes != [cls]:
                problems.append('senders %s: rows are %s, expected one %s' % (where, classes, cls))
        if args.senders_sessions is not None:
            totals = [r['cells'][4] for r in (tables.tables.get('senders-domains') or [])[1:] if r['class'] == 'total']
            print('check-report: the senders\' domains table totals %s sessions' % totals)
            if totals != [str(args.senders_sessions)]:
                problems.append('senders: the domains table totals %s sessions, expected %d' % (totals, args.senders_sessions))
        if args.max_width:
            with open(args.report, encoding='utf-8') as f:
                page = f.read()
            probe = os.path.join(tmp, 'width.html')
            with open(probe, 'w', encoding='utf-8') as f:
                f.write(page.replace('</body>', '<script>document.body.setAttribute("data-scroll-width", '
                                     'document.documentElement.scrollWidth)</script></body>'))
            dom = run_chromium(binary, ['--window-size=%d,1000' % args.max_width, '--dump-dom', 'file://' + probe],
                               os.path.join(tmp, 'profile'))
            found = re.search(r'data-scroll-width="([0-9]+)"', dom)
            print('check-report: laid out %d pixels wide, the page is %s pixels wide'
                  % (args.max_width, found.group(1) if found else '?'))
            if not found:
                problems.append('max-width: Chromium did not measure the page')
            elif int(found.group(1)) > args.max_width:
                problems.append('max-width: the page is %s pixels wide in a %d-pixel window (a table overflows)'
                                % (found.group(1), args.max_width))
        for name in ('bad', 'warn'):
            rendered = counts[name] > 500
            present = any(r['class'] == name for r in body + own + volume + senders
                          + (tables.tables.get('unauthenticated') or [])[1:] + (tables.tables.get('senders-domains') or [])[1:])
            if present != rendered:
                problems.append('%s rows %s in the table but their colour %s in the screenshot (%d pixels)'
                                % (name, 'are' if present else 'are not', 'is not' if present else 'is', counts[name]))
    for problem in problems:
        print('check-report: FAIL ' + problem)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
