"""A stand-in OpenID Connect issuer for end-to-end checks, without a network server: it makes
an RSA key, writes its JWKS where the e2e server reads issuers' keys
(`backend.iam.oidc.jwks_dir`, `Server.jwks_dir` in harness.py), and signs RS256 tokens with
given claims. Use the provider URL `https://<host>` in CreateOpenIDConnectProvider:

    issuer = Issuer(server.jwks_dir, "idp.e2e.example")
    token = issuer.token(issuer.claims("alice", "app"))
    ... (aws sts assume-role-with-web-identity --web-identity-token "$token" ...)
    issuer.remove()  # the JWKS file (checks share one server)

Needs the `cryptography` package (.ci/run installs it).
"""

import base64
import json
import os
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwks_file_name(url):
    """The server's file name for a provider URL without https:// (src/oidc/keys.rs):
    percent-encoded but for letters, digits, '.' and '-', plus .json."""
    out = []
    for b in url.encode():
        c = chr(b)
        out.append(c if (c.isascii() and c.isalnum()) or c in ".-" else f"%{b:02X}")
    return "".join(out) + ".json"


class Issuer:
    def __init__(self, jwks_dir, url, kid="e2e-rsa-1"):
        """`url` is the provider URL without https:// (a host, and optionally a path)."""
        self.url = url
        self.issuer = f"https://{url}"
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.key.public_key().public_numbers()
        as_bytes = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")
        self.jwk = {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                    "n": b64url(as_bytes(numbers.n)), "e": b64url(as_bytes(numbers.e))}
        self.path = os.path.join(jwks_dir, jwks_file_name(url))
        with open(self.path, "w") as f:
            json.dump({"keys": [self.jwk]}, f)

    def claims(self, sub, aud, lifetime=600, **extra):
        now = int(time.time())
        return {"iss": self.issuer, "sub": sub, "aud": aud, "iat": now, "exp": now + lifetime,
                **extra}

    def token(self, claims, kid=None):
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or self.kid}
        signing_input = (b64url(json.dumps(header).encode()) + "."
                         + b64url(json.dumps(claims).encode()))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    def verify(self, token):
        """The claims of `token` if this issuer's key verifies it (for checking the helper)."""
        signing_input, _, signature = token.rpartition(".")
        self.key.public_key().verify(b64url_decode(signature), signing_input.encode(),
                                     padding.PKCS1v15(), hashes.SHA256())
        return json.loads(b64url_decode(signing_input.split(".")[1]))

    def remove(self):
        if os.path.exists(self.path):
            os.remove(self.path)
