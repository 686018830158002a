"""A throwaway certificate authority made by ``openssl``, for tests that run
nginx with TLS (tests/deploy/test_tls.py, tests/browser/test_secure_context.py).

``make_ca(dir, names)`` writes a CA and a server certificate for ``names``
(DNS names and IP addresses) signed by it, and returns where they are with
the CA's SPKI hash, the form Chromium trusts with
``--ignore-certificate-errors-spki-list``. A missing ``openssl`` fails the
test (scripts/setup.sh installs it); nothing is skipped.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.services import TlsFiles

HOST = "launch.test"  # the name the tests give the server (.test is reserved: never a real site)


@dataclass(frozen=True)
class ThrowawayCA:
    ca_cert: Path
    server: TlsFiles
    spki_sha256_b64: str  # base64 of the SHA-256 of the CA's SubjectPublicKeyInfo (DER)


def _openssl(*args: str, input: bytes | None = None) -> bytes:
    exe = shutil.which("openssl")
    if exe is None:
        raise AssertionError("openssl not found: run scripts/setup.sh (make setup)")
    done = subprocess.run([exe, *args], input=input, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed:\n{done.stderr.decode(errors='replace')}")
    return done.stdout


def make_ca(dir: Path, names: tuple[str, ...] = (HOST, "127.0.0.1")) -> ThrowawayCA:
    dir.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = dir / "ca.key", dir / "ca.pem"
    key, csr, crt, chain = dir / "privkey.pem", dir / "server.csr", dir / "server.pem", dir / "fullchain.pem"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "2", "-subj", "/CN=launchday test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={names[0]}")
    sans = ",".join(f"IP:{n}" if _is_ip(n) else f"DNS:{n}" for n in names)
    ext = dir / "server.ext"
    ext.write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
             "-out", str(crt), "-days", "2", "-extfile", str(ext))
    # What nginx serves: the certificate, then the CA's. (A real chain stops
    # below the root; the test sends it too because Chromium's SPKI list is
    # matched against the certificates the server presents.)
    chain.write_bytes(crt.read_bytes() + ca_crt.read_bytes())
    spki = _openssl("x509", "-in", str(ca_crt), "-noout", "-pubkey")
    der = _openssl("pkey", "-pubin", "-outform", "DER", input=spki)
    return ThrowawayCA(ca_crt, TlsFiles(chain, key), base64.b64encode(hashlib.sha256(der).digest()).decode())


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
