# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_problems, against what community.crypto's info modules return for real keys."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.gonka.fleet.plugins.filter.certificates import certificate_problems


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def info_of(key, names, days=30):
    """The keys of x509_certificate_info the filter reads, for a certificate made with ``key``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ignored.example")])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=60))
               .not_valid_after(now + datetime.timedelta(days=days)))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    sans = ["DNS:%s" % n.value if isinstance(n, x509.DNSName) else "IP:%s" % n.value for n in names]
    return {"public_key": pem_public(key), "subject_alt_name": sans or None,
            "expired": cert.not_valid_after_utc < now, "not_after": cert.not_valid_after_utc.strftime("%Y%m%d%H%M%SZ")}


def test_a_matching_certificate_has_no_problem():
    import ipaddress
    key = ec.generate_private_key(ec.SECP256R1())
    info = info_of(key, [x509.DNSName("api.example.org"), x509.IPAddress(ipaddress.ip_address("10.231.0.20"))])
    assert certificate_problems(info, pem_public(key), "api.example.org") == []
    assert certificate_problems(info, pem_public(key), "API.example.org.") == []
    assert certificate_problems(info, pem_public(key), "10.231.0.20") == []


def test_a_wildcard_covers_one_label():
    key = ec.generate_private_key(ec.SECP256R1())
    info = info_of(key, [x509.DNSName("*.example.org")])
    assert certificate_problems(info, pem_public(key), "api.example.org") == []
    assert certificate_problems(info, pem_public(key), "a.b.example.org") != []
    assert certificate_problems(info, pem_public(key), "example.org") != []


def test_each_problem_is_named():
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    info = info_of(key, [x509.DNSName("other.example.org")], days=-1)
    problems = certificate_problems(info, pem_public(other), "api.example.org")
    assert problems[0].startswith("the certificate expired on ")
    assert problems[1] == "the private key does not belong to the certificate"
    assert problems[2] == "the certificate is not valid for api.example.org (it names DNS:other.example.org)"


def test_the_common_name_does_not_count():
    key = ec.generate_private_key(ec.SECP256R1())
    info = info_of(key, [])
    assert certificate_problems(info, pem_public(key), "ignored.example") == [
        "the certificate is not valid for ignored.example (it names no subjectAltName)"]
