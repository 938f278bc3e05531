"""Masking personal data: phones, emails and IP addresses, alone or inside free text.

Lists (search results, the inbox, queues, audit pages) and exports show contacts masked;
only the audited reveal shows them whole.  The same patterns keep them out of the logs.
"""
from __future__ import annotations

import ipaddress
import re

from adapters.base import masked

# a mainland mobile (11 digits from 1[3-9]), optionally +86; or any 7-15 digit run written
# as a phone (+, spaces or dashes between groups).  Digit runs inside longer numbers (order
# numbers, transaction ids) are left alone by the look-arounds.
_PHONE = re.compile(r"(?<![\w.])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![\w])"
                    r"|(?<![\w+])\+\d{1,3}[ -]?\d{2,4}[ -]?\d{3,4}[ -]?\d{3,4}(?!\w)",
                    re.ASCII)  # ASCII: "尾号13812345678" is a phone after Chinese text
# the same mobile right after a percent-escape (a URL-encoded space, "+86" or Chinese text)
_ENCODED_PHONE = re.compile(r"(?:(?<=%[0-9A-Fa-f]{2})|(?<=%2[Bb]86))1[3-9]\d{9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:])"
                   r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4})?(?![\w:])")


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` -> ``138****5678``: enough to confirm with the caller, not to dial."""
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 \
        else masked(phone)


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return email
    name, _, domain = email.partition("@")
    return (name[:1] + "***" if len(name) > 1 else "*") + "@" + domain


def mask_ip(ip: str | None) -> str | None:
    """``203.0.113.7`` -> ``203.0.*.*``; IPv6 keeps its first two groups."""
    if not ip:
        return ip
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return mask_text(ip)
    if address.version == 4:
        first, second, _, _ = str(address).split(".")
        return f"{first}.{second}.*.*"
    groups = address.exploded.split(":")
    return f"{int(groups[0], 16):x}:{int(groups[1], 16):x}:*"


def mask_contact(value: str | None) -> str | None:
    """A value that is a phone or an email (or may be either), masked as such."""
    if not value:
        return value
    if "@" in value:
        return mask_email(value)
    digits = re.sub(r"[ +-]", "", value)
    if digits.isdigit() and len(digits) >= 7:
        return mask_phone(value)
    return mask_text(value)


def mask_text(text: str | None, ips: bool = True) -> str | None:
    """Free text (a chat preview, a log line, a reason) with every phone, email and (unless
    ``ips`` is false) IP in it masked, and everything else left as it was."""
    if not text:
        return text
    text = _EMAIL.sub(lambda m: mask_email(m.group()) or "", text)
    if ips:
        text = _IPV4.sub(lambda m: _ipv4_or_same(m.group()), text)
        text = _IPV6.sub(lambda m: _ipv6_or_same(m.group()), text)
    text = _ENCODED_PHONE.sub(lambda m: _masked_phone_text(m.group()), text)
    return _PHONE.sub(lambda m: _masked_phone_text(m.group()), text)


def _ipv4_or_same(candidate: str) -> str:
    try:
        ipaddress.IPv4Address(candidate)
    except ValueError:
        return candidate
    return mask_ip(candidate) or candidate


def _ipv6_or_same(candidate: str) -> str:
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return candidate
    return mask_ip(candidate) or candidate


def _masked_phone_text(phone: str) -> str:
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    keep = set(digits[:3] + digits[-4:])
    return "".join(ch if not ch.isdigit() or i in keep else "*" for i, ch in enumerate(phone))
