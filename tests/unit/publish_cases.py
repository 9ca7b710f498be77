"""dns_publish against a real Knot DNS: each refusal, the input that causes it and the message it gives (a part of
it). tests/unit/plugins/modules/test_dns_publish_knot.py runs them; docs/bad-inputs.md lists them
(tests/unit/test_bad_inputs.py)."""

REFUSALS = [
    ('unknown-key', 'a TSIG key name the server does not know',
     'zone pub.test. on 127.0.0.1 port 5300: the update: NOTAUTH (BADKEY): the server does not know TSIG key nokey.'),
    ('wrong-secret', 'the right TSIG key name with a wrong secret',
     'NOTAUTH (BADSIG): the server knows TSIG key publisher. but not with this secret'),
    ('key-not-allowed', "a TSIG key the server's ACL does not let update TLSA (Knot: update-type)",
     'NOTAUTH (BADKEY): the server does not know TSIG key other. with this algorithm, or its ACL '
     'does not let that key update these names and types'),
    ('unsigned', 'no TSIG key, to a zone that takes only signed updates',
     'zone pub.test. on 127.0.0.1 port 5300: the update was answered NOTAUTH'),
    ('not-authoritative', 'a zone the server does not serve',
     'zone elsewhere.test. on 127.0.0.1 port 5300: the server is not authoritative for the zone (its answer to SOA '
     'elsewhere.test.: REFUSED'),
    ('no-updates', 'a zone the server serves but takes no updates for',
     'zone static.test. on 127.0.0.1 port 5300: the update'),
    ('server-down', 'a server that does not answer (nothing listens on the port)',
     'zone pub.test. on 127.0.0.1 port 5301: reading pub.test. SOA: the server cannot be reached'),
    ('outside-zone', 'a record name outside the zone', 'records[0]: mx.other.test. is not within the zone pub.test.'),
    ('secret-not-base64', 'a TSIG secret that is not base64', 'the key_secret of TSIG key publisher is not base64'),
    ('bad-tlsa', 'TLSA data that is not hex', "records[0] (_25._tcp.mx.pub.test.): '3 1 1 xyz' is not TLSA data"),
]
