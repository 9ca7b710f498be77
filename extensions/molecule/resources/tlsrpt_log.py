"""Count the TLSRPT status lines of a Postfix mail log (Postfix 3.10 and later, TLSRPT_README "TLSRPT Status
logging"): one per TLS handshake smtp(8) reported, per policy domain, with each failure's receiving MX and type
(Postfix's failure_type, spelled as RFC 8460's result-type: underscores become hyphens), and the receiving MX
hosts (for DANE, a report's policy-domain is the TLSA base domain, the MX host, not the recipient domain).

    tlsrpt_log.py MAIL_LOG  ->  {"domains": {DOMAIN: {"success": N, "failure": N, "failures": {"MX TYPE": N}, "mx": [MX]}},
                                 "unmatched": [lines with "TLSRPT: status=" that are not in that format]}
"""
import json
import re
import sys

LINE = re.compile(r'TLSRPT: status=(success|failure), domain=([^,\s]+), receiving_mx=([^\[\s]+)\[[^\]]*\]'
                  r'(?:, failure_type=([a-z_]+))?')


def main(path):
    domains, unmatched = {}, []
    with open(path, errors='replace') as f:
        for line in f:
            if 'TLSRPT: status=' not in line:
                continue
            m = LINE.search(line)
            if not m:
                unmatched.append(line.rstrip('\n'))
                continue
            status, domain, mx, kind = m.groups()
            d = domains.setdefault(domain.lower().rstrip('.'), {'success': 0, 'failure': 0, 'failures': {}, 'mx': []})
            d[status] += 1
            if mx.lower().rstrip('.') not in d['mx']:
                d['mx'].append(mx.lower().rstrip('.'))
            if status == 'failure':
                key = '%s %s' % (mx.lower().rstrip('.'), (kind or 'unknown').replace('_', '-'))
                d['failures'][key] = d['failures'].get(key, 0) + 1
    print(json.dumps({'domains': domains, 'unmatched': unmatched}))


if __name__ == '__main__':
    main(sys.argv[1])
