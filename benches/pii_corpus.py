"""A seeded, labelled corpus for the PII benchmark (`benches/pii.py`).

Mixed lines (key=value logs, JSON logs, pytest-like output, PEM blocks, multi-line and `\\n`-escaped inside
JSON) with every kind planted in varied forms, and look-alikes that must not be reported. The ground truth
is kept: for each planted value its kind and its span in the corpus (the corpus is ASCII: characters are
bytes); for each look-alike its decoy class and span.

    from pii_corpus import make_corpus
    text, truth, decoys = make_corpus(2_000_000, seed=1)   # truth: [(kind, start, end, form)]
"""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import Callable

ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"
FIRST = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "oscar",
]
LAST = ["smith", "jones", "garcia", "miller", "davis", "lopez", "martin", "lee", "walker", "young"]
DOMAINS = ["example.com", "corp.io", "mail.example.org", "acme.co.uk", "test-shop.net", "users.example.dev"]
WORDS = ["request", "handled", "retrying", "cache", "miss", "upstream", "timeout", "queued", "worker", "done"]

#: An item: (key, before, value, after, label). The text is before + value + after; the span is the value's.
#: label is a kind (planted) or "decoy:<class>" (a look-alike that must not be reported).
Item = tuple[str, str, str, str, str]


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _card_number(rng: random.Random) -> tuple[str, str]:
    brand = rng.choice(["visa", "mc", "mc2", "amex", "discover"])
    if brand == "visa":
        prefix, n = "4", 16
    elif brand == "mc":
        prefix, n = str(rng.randint(51, 55)), 16
    elif brand == "mc2":
        prefix, n = str(rng.randint(2221, 2720)), 16
    elif brand == "amex":
        prefix, n = rng.choice(["34", "37"]), 15
    else:
        prefix, n = "6011", 16
    body = prefix + _r(rng, string.digits, n - len(prefix) - 1)
    return brand, body + luhn_digit(body)


def _group_card(num: str, sep: str) -> str:
    if len(num) == 15:
        return sep.join([num[:4], num[4:10], num[10:]])
    return sep.join(num[i : i + 4] for i in range(0, len(num), 4))


IBAN_FORMATS = {  # country: list of (alphabet, count) of the BBAN
    "DE": [(string.digits, 18)],
    "GB": [(string.ascii_uppercase, 4), (string.digits, 14)],
    "FR": [(string.digits, 10), (string.digits + string.ascii_uppercase, 11), (string.digits, 2)],
    "NL": [(string.ascii_uppercase, 4), (string.digits, 10)],
    "ES": [(string.digits, 20)],
    "IT": [(string.ascii_uppercase, 1), (string.digits, 10), (string.digits, 12)],
    "BE": [(string.digits, 12)],
    "CH": [(string.digits, 17)],
}


def _mod97(s: str) -> int:
    digits = "".join(str(int(c, 36)) for c in s)
    return int(digits) % 97


def _iban(rng: random.Random, valid: bool) -> str:
    cc = rng.choice(sorted(IBAN_FORMATS))
    bban = "".join(_r(rng, a, n) for a, n in IBAN_FORMATS[cc])
    check = 98 - _mod97(bban + cc + "00")
    if not valid:
        check = (check + rng.randint(1, 96)) % 97 + 2
        if _mod97(bban + cc + f"{check:02d}") == 1:
            check = check + 1 if check < 98 else 2
    return f"{cc}{check:02d}{bban}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pem(rng: random.Random, label: str, nbytes: int) -> str:
    body = base64.b64encode(rng.randbytes(nbytes)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def _email(rng: random.Random) -> str:
    sep = rng.choice([".", "_", "", "+"])
    local = (
        rng.choice(FIRST) + sep + rng.choice(LAST) + (str(rng.randint(1, 99)) if rng.random() < 0.3 else "")
    )
    return f"{local}@{rng.choice(DOMAINS)}"


def _nxx(rng: random.Random) -> str:
    """A NANP area code or exchange: NXX with N in 2-9, and not N11 (service codes such as 411, 911)."""
    while True:
        code = str(rng.randint(2, 9)) + _r(rng, string.digits, 2)
        if code[1:] != "11":
            return code


def _nanp(rng: random.Random) -> tuple[str, str, str]:
    return _nxx(rng), _nxx(rng), _r(rng, string.digits, 4)


def _ssn(rng: random.Random) -> str:
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _public_ip(rng: random.Random) -> str:
    first = rng.choice([23, 34, 52, 81, 93, 104, 151, 185, 203, 212])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    groups[0] = rng.choice(["2001", "2a00", "2606", "fe80", "2001"])
    if rng.random() < 0.5:
        groups[1] = "db8"
        return ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    return ":".join(groups)


def planted(rng: random.Random) -> Item:
    """One planted value of a random kind in a random form."""
    kind = rng.choice(
        ["email", "phone", "card", "ssn", "iban", "ipv4", "ipv6", "jwt", "aws_key", "private_key", "token"]
    )
    f = rng.random()
    if kind == "email":
        e = _email(rng)
        if f < 0.4:
            return ("user", "", e, "", kind)
        if f < 0.7:
            return ("from", f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()} <", e, ">", kind)
        return ("email", "", e, "", kind)
    if kind == "phone":
        a, b, c = _nanp(rng)
        forms = [f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1 {a} {b} {c}", f"{a}.{b}.{c}"]
        intl = rng.choice(
            [
                "+44" + "20" + _r(rng, string.digits, 8),
                "+49" + "30" + _r(rng, string.digits, 8),
                "+33" + str(rng.randint(1, 9)) + _r(rng, string.digits, 8),
                "+81" + "3" + _r(rng, string.digits, 8),
            ]
        )
        forms.append(intl)
        return (rng.choice(["phone", "contact", "callback"]), "", rng.choice(forms), "", kind)
    if kind == "card":
        _, num = _card_number(rng)
        form = rng.choice([num, _group_card(num, " "), _group_card(num, "-")])
        return (rng.choice(["card", "payment", "pan"]), "", form, "", kind)
    if kind == "ssn":
        s = _ssn(rng)
        if f < 0.5:
            return ("ssn", "", s.replace("-", ""), "", kind)
        return (rng.choice(["ssn", "applicant", "id_check"]), "", s, "", kind)
    if kind == "iban":
        i = _iban(rng, True)
        if f < 0.5:
            i = " ".join(i[k : k + 4] for k in range(0, len(i), 4))
        return (rng.choice(["iban", "account", "payee"]), "", i, "", kind)
    if kind == "ipv4":
        ip = _public_ip(rng)
        return (
            rng.choice(["client", "remote_addr", "peer"]),
            "",
            ip,
            f":{rng.randint(1024, 65535)}" if f < 0.5 else "",
            kind,
        )
    if kind == "ipv6":
        ip = _ipv6(rng)
        if f < 0.4:
            return ("peer", "[", ip, f"]:{rng.randint(1024, 65535)}", kind)
        return (rng.choice(["client", "remote_addr"]), "", ip, "", kind)
    if kind == "jwt":
        alg = rng.choice(["HS256", "RS256", "ES256"])
        header = _b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64url(
            json.dumps(
                {
                    "sub": str(rng.randint(1, 10**6)),
                    "iat": rng.randint(1.6e9, 1.8e9),
                    "name": rng.choice(FIRST),
                }
            ).encode()
        )
        sig = _r(rng, B64URL, 43 if alg == "HS256" else 86)
        tok = f"{header}.{payload}.{sig}"
        return (rng.choice(["session", "id_token", "jwt"]), "", tok, "", kind)
    if kind == "aws_key":
        key = rng.choice(["AKIA", "ASIA"]) + _r(rng, string.ascii_uppercase + "234567", 16)
        if f < 0.5:
            return (
                "url",
                "https://bucket.s3.amazonaws.com/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=",
                key,
                "%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z",
                kind,
            )
        return ("aws_access_key_id", "", key, "", kind)
    if kind == "private_key":
        label = rng.choice(
            [
                "RSA PRIVATE KEY",
                "PRIVATE KEY",
                "EC PRIVATE KEY",
                "OPENSSH PRIVATE KEY",
                "ENCRYPTED PRIVATE KEY",
            ]
        )
        return ("pem", "", _pem(rng, label, rng.choice([121, 600, 1190])), "", kind)
    # token
    if f < 0.2:
        return ("gh", "", "ghp_" + _r(rng, ALNUM, 36), "", kind)
    if f < 0.4:
        return ("stripe", "", "sk_live_" + _r(rng, ALNUM, 24), "", kind)
    if f < 0.55:
        return (
            "slack",
            "",
            f"xoxb-{rng.randint(10**10, 10**12)}-{rng.randint(10**10, 10**12)}-{_r(rng, ALNUM, 24)}",
            "",
            kind,
        )
    return (
        rng.choice(["api_key", "password", "client_secret"]),
        "",
        _r(rng, ALNUM + "+/", rng.randint(20, 40)),
        "",
        kind,
    )


def decoy(rng: random.Random) -> Item:
    """One look-alike that must not be reported."""
    cls = rng.choice(
        [
            "file@2x",
            "npm@version",
            "user@host",
            "epoch",
            "arn_account",
            "card_luhn",
            "ssn_area",
            "iban_mod97",
            "version",
            "mac",
            "public_pem",
            "git_sha",
            "sha256",
            "md5_etag",
            "uuid",
            "trace_id",
        ]
    )
    label = "decoy:" + cls
    if cls == "file@2x":
        return ("asset", "", rng.choice(["icon", "logo", "avatar", "banner"]) + "@2x.png", "", label)
    if cls == "npm@version":
        return (
            "dep",
            "",
            f"{rng.choice(['lodash', 'react', 'express', 'left-pad'])}@{rng.randint(1, 18)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}",
            "",
            label,
        )
    if cls == "user@host":
        return (
            "target",
            "",
            f"{rng.choice(['deploy', 'ci', 'root'])}@build-{rng.randint(1, 99):02d}",
            "",
            label,
        )
    if cls == "epoch":
        return (
            rng.choice(["ts", "epoch", "started"]),
            "",
            str(rng.randint(1_500_000_000, 1_900_000_000)),
            "",
            label,
        )
    if cls == "arn_account":
        return ("role", "arn:aws:iam::", _r(rng, string.digits, 12), f":role/{rng.choice(WORDS)}", label)
    if cls == "card_luhn":
        _, num = _card_number(rng)
        bad = num[:-1] + str((int(num[-1]) + rng.randint(1, 9)) % 10)
        return ("ref", "", rng.choice([bad, _group_card(bad, " "), _group_card(bad, "-")]), "", label)
    if cls == "ssn_area":
        area = rng.choice(["000", "666", str(rng.randint(900, 999))])
        return ("applicant", "", f"{area}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}", "", label)
    if cls == "iban_mod97":
        i = _iban(rng, False)
        if rng.random() < 0.5:
            i = " ".join(i[k : k + 4] for k in range(0, len(i), 4))
        return ("account", "", i, "", label)
    if cls == "version":
        v = rng.choice(
            [
                f"1.16.{rng.randint(0, 20)}.{rng.randint(0, 300)}",
                f"10.0.{rng.randint(10000, 22000)}.{rng.randint(0, 2000)}",
            ]
        )
        if rng.random() < 0.4:
            return (
                "ua",
                "Mozilla/5.0 Chrome/",
                f"{rng.randint(100, 130)}.0.{rng.randint(1000, 9999)}.{rng.randint(10, 200)}",
                " Safari/537.36",
                label,
            )
        return ("version", "", v, "", label)
    if cls == "mac":
        return ("hwaddr", "", ":".join(f"{rng.randint(0, 255):02x}" for _ in range(6)), "", label)
    if cls == "public_pem":
        return (
            "pem",
            "",
            _pem(rng, rng.choice(["PUBLIC KEY", "CERTIFICATE"]), rng.choice([294, 900])),
            "",
            label,
        )
    if cls == "git_sha":
        return ("commit", "", _r(rng, HEX, 40), "", label)
    if cls == "sha256":
        return ("digest", "sha256:", _r(rng, HEX, 64), "", label)
    if cls == "md5_etag":
        return ("etag", '"', _r(rng, HEX, 32), '"', label)
    if cls == "uuid":
        h = _r(rng, HEX, 32)
        return ("request_id", "", f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}", "", label)
    return ("trace_id", "", _r(rng, HEX, 32), "", label)


def _ts(rng: random.Random) -> str:
    return f"2026-11-{rng.randint(1, 30):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"


def _json_str(s: str) -> str:
    return json.dumps(s)[1:-1]


def make_corpus(
    target_bytes: int, seed: int = 1, decoy_share: float = 0.35
) -> tuple[str, list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """About `target_bytes` of corpus, its planted values [(kind, start, end)] and look-alikes
    [(class, start, end)], spans in characters (= bytes: the corpus is ASCII)."""
    rng = random.Random(seed)
    out: list[str] = []
    pos = 0
    truth: list[tuple[str, int, int]] = []
    decoys: list[tuple[str, int, int]] = []

    def put(s: str) -> None:
        nonlocal pos
        out.append(s)
        pos += len(s)

    def put_item(item: Item, escape: bool) -> None:
        _, before, value, after, label = item
        enc: Callable[[str], str] = _json_str if escape else (lambda s: s)
        put(enc(before))
        start = pos
        put(enc(value))
        (decoys if label.startswith("decoy:") else truth).append(
            (label.removeprefix("decoy:"), start, pos) if label.startswith("decoy:") else (label, start, pos)
        )
        put(enc(after))

    def item() -> Item:
        return decoy(rng) if rng.random() < decoy_share else planted(rng)

    while pos < target_bytes:
        style = rng.random()
        items = [item() for _ in range(rng.choice([1, 1, 2, 3]))]
        if style < 0.4:  # key=value log
            put(
                f'{_ts(rng)} level={rng.choice(["info", "warn", "debug"])} msg="{rng.choice(WORDS)} {rng.choice(WORDS)}"'
            )
            for it in items:
                if "\n" in it[2]:
                    put(f" {it[0]}=\n")
                    put_item(it, False)
                    put("\n")
                else:
                    put(f" {it[0]}=")
                    put_item(it, False)
            put(f" dur_ms={rng.randint(1, 900)}\n")
        elif style < 0.75:  # JSON log: every value a JSON string, PEM blocks \n-escaped
            put(
                f'{{"ts": "{_ts(rng)}", "level": "{rng.choice(["info", "error"])}", "msg": "{rng.choice(WORDS)}"'
            )
            for it in items:
                put(f', "{it[0]}": "')
                put_item(it, True)
                put('"')
            put("}\n")
        else:  # pytest-like output
            put(
                f"tests/test_{rng.choice(WORDS)}.py::test_{rng.choice(WORDS)}_{rng.randint(1, 99)} {rng.choice(['PASSED', 'FAILED'])}\n"
            )
            for it in items:
                if "\n" in it[2]:
                    put(f"E       captured {it[0]}:\n")
                    put_item(it, False)
                    put("\n")
                else:
                    put(f"E       AssertionError: expected {it[0]}: ")
                    put_item(it, False)
                    put(" got None\n")
    return "".join(out), truth, decoys
