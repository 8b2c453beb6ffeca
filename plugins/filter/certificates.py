# -*- coding: utf-8 -*-
# Copyright (c) gonka.fleet contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters over certificates as community.crypto reads them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress


def _ip(text):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _names_match(pattern, name):
    """A DNS name of a certificate against a host name: exact, or a wildcard for one left-most label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _dot, rest = name.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == name


def certificate_names(info):
    """The names a certificate is valid for (its subjectAltName entries, as community.crypto gives them)."""
    return list((info or {}).get("subject_alt_name") or [])


def certificate_problems(info, public_key, name):
    """What keeps a server certificate from serving ``name`` with the key whose public part is
    ``public_key``: a list of sentences, empty when there is nothing.

    ``info`` is what community.crypto.x509_certificate_info returns for the certificate (the first
    one of a chain file), ``public_key`` the ``public_key`` of community.crypto.openssl_privatekey_info.
    Clients match the name against subjectAltName only (RFC 6125), never the common name."""
    info = info or {}
    problems = []
    if info.get("expired"):
        problems.append("the certificate expired on %s" % info.get("not_after", "an earlier date"))
    if (public_key or "").strip() != (info.get("public_key") or "").strip():
        problems.append("the private key does not belong to the certificate")
    names = certificate_names(info)
    address = _ip(name)
    if address is not None:
        ok = any(entry.startswith("IP:") and _ip(entry[3:]) == address for entry in names)
    else:
        ok = any(entry.startswith("DNS:") and _names_match(entry[4:], name) for entry in names)
    if not ok:
        problems.append("the certificate is not valid for %s (it names %s)"
                        % (name, ", ".join(names) if names else "no subjectAltName"))
    return problems


class FilterModule(object):
    def filters(self):
        return {"certificate_problems": certificate_problems}
