"""Make a lab PKI for Molecule scenarios: root CA, issuing CA, and RSA and ECDSA server certificates.

Usage: mkpki.py DIR HOSTNAME...   (writes DIR/ca.pem, DIR/HOST-{rsa,ecdsa}.key and .chain.pem: leaf then issuing CA)
Existing files are kept, so repeated runs (converge, idempotence) see the same keys.
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(subject_cn, key, issuer_cn, issuer_key, ca, sans=()):
    builder = (x509.CertificateBuilder().subject_name(name(subject_cn)).issuer_name(name(issuer_cn))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - datetime.timedelta(days=1))
               .not_valid_after(NOW + datetime.timedelta(days=3650 if ca else 90))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    # the extensions strict verifiers demand (Python 3.13's default X509_STRICT: key identifiers, key usage)
    builder = (builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
               .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                                            key_encipherment=not ca and isinstance(key, rsa.RSAPrivateKey),
                                            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                                            encipher_only=False, decipher_only=False), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)


def main(directory, hosts):
    os.makedirs(directory, mode=0o700, exist_ok=True)
    ca_path = os.path.join(directory, 'ca.pem')
    if os.path.exists(ca_path):
        issuing_key = serialization.load_pem_private_key(open(os.path.join(directory, 'issuing.key'), 'rb').read(), None)
        issuing = x509.load_pem_x509_certificate(open(os.path.join(directory, 'issuing.pem'), 'rb').read())
    else:
        root_key = ec.generate_private_key(ec.SECP384R1())
        root = issue('mailtls lab root CA', root_key, 'mailtls lab root CA', root_key, True)
        issuing_key = ec.generate_private_key(ec.SECP256R1())
        issuing = issue('mailtls lab issuing CA', issuing_key, 'mailtls lab root CA', root_key, True)
        write(os.path.join(directory, 'issuing.key'), pem_key(issuing_key), 0o600)
        write(os.path.join(directory, 'issuing.pem'), pem(issuing))
        write(ca_path, pem(root))
    issuer_cn = issuing.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    for host in hosts:
        for kind, make in (('rsa', lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072)),
                           ('ecdsa', lambda: ec.generate_private_key(ec.SECP256R1()))):
            stem = os.path.join(directory, '%s-%s' % (host, kind))
            if os.path.exists(stem + '.chain.pem'):
                continue
            key = make()
            cert = issue(host, key, issuer_cn, issuing_key, False, [host])
            write(stem + '.key', pem_key(key), 0o600)
            write(stem + '.chain.pem', pem(cert) + pem(issuing))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
