"""dovecot_tls in the lab images (Debian's Dovecot 2.3.13, 2.3.19 and 2.4.1): each fault, the input that causes it
and the message it gives (a part of it). tests/unit/plugins/modules/test_dovecot_tls.py provokes them in each image
and asserts the message and what is left; docs/bad-inputs.md lists them (tests/unit/test_bad_inputs.py)."""

# (the result's key in test_dovecot_tls.py, the bad input or fault, the message (a part of it), what is left)
FAULTS = [
    ('mismatch', 'a certificate file whose private key is not its certificate\'s',
     "/etc/postfix/tls/mixed.pem': the private key does not match the first certificate",
     'nothing written'),
    ('missing', 'Dovecot not installed (no doveconf on PATH)',
     'Dovecot is not installed here (no doveconf on PATH); nothing was written', 'nothing written'),
    ('broken', "Dovecot's configuration already broken before the change (a conf.d file with an unknown setting)",
     "Dovecot's configuration is already refused before this change (doveconf -n: ",
     'nothing written; the fault is named, not blamed on the change'),
    ('fault', 'a fault after writing: the drop-in is not read by dovecot.conf (its settings are not in effect)',
     'are not in effect (ssl_min_protocol is ',
     'the file removed again, Dovecot reloaded on the previous configuration and still serving TLS on 993'),
]
