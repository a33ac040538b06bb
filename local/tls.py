"""A certificate authority of this machine, for landing pages served over TLS in the drill.

The recovered webserver of the `https-landing` scenario presents a certificate for the site's
names (www.example.com, drill.example.com) issued by this CA; the drill's functions trust it
(REQUESTS_CA_BUNDLE), as functions in AWS trust the public CAs. Made once per process, in a
temporary directory: nothing secret outlives the drill.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SITE_NAMES = ("www.example.com", "drill.example.com")


@dataclass(frozen=True)
class ServerCertificate:
    certificate: Path  # the server's certificate followed by nothing else (the CA is trusted directly)
    key: Path


@dataclass(frozen=True)
class LocalCa:
    bundle: Path  # the CA certificate, for REQUESTS_CA_BUNDLE
    site: ServerCertificate  # issued to SITE_NAMES


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@cache
def local_ca() -> LocalCa:
    directory = Path(tempfile.mkdtemp(prefix="dr-autopilot-ca-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("DR Autopilot local drill CA"))
        .issuer_name(_name("DR Autopilot local drill CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    site_key = ec.generate_private_key(ec.SECP256R1())
    site = (
        x509.CertificateBuilder()
        .subject_name(_name(SITE_NAMES[0]))
        .issuer_name(ca.subject)
        .public_key(site_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in SITE_NAMES]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    bundle, certificate, key = directory / "ca.pem", directory / "site.pem", directory / "site.key"
    bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    certificate.write_bytes(site.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(_pem(site_key))
    key.chmod(0o600)
    return LocalCa(bundle, ServerCertificate(certificate, key))
