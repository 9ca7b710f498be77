"""held_pins: the pins of the keys a host holds, as the role publishes them before a rotation, against openssl."""
import base64
import hashlib
import subprocess

from ansible_collections.mailtls.postfix.plugins.module_utils._chainfile import read_secret
from ansible_collections.mailtls.postfix.plugins.module_utils._hostkey import held_pins


def openssl_pin(key_path):
    """sha256 of the DER SubjectPublicKeyInfo as `openssl pkey -pubout -outform DER` gives it, colon-separated."""
    der = subprocess.run(['openssl', 'pkey', '-in', key_path, '-pubout', '-outform', 'DER'], check=True,
                         stdout=subprocess.PIPE).stdout
    return ':'.join('%02X' % b for b in hashlib.sha256(der).digest())


def test_key_files_and_chain_files_in_order_each_once_missing_left_out(pki, tmp_path):
    current = pki.issue('mx.example.org', ['mx.example.org'], key_type='ec')
    nxt = pki.issue('next.mx.example.org', ['mx.example.org'], key_type='rsa')
    chain = tmp_path / 'ecdsa.pem'
    chain.write_text(open(current.key_path).read() + open(current.cert_path).read())
    pins = held_pins([str(chain), str(tmp_path / 'missing.key'), nxt.key_path, current.key_path], read_secret)
    assert pins == [openssl_pin(current.key_path), openssl_pin(nxt.key_path)]
    assert len(set(pins)) == 2 and all(len(base64.b16decode(p.replace(':', ''))) == 32 for p in pins)
