//! The verifier end to end over a JWKS file: algorithms, keys, signatures, claims.

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{json, Value};

use super::*;
use crate::oidc::keys::jwks_file_name;

const NOW: i64 = 1_800_000_000;
const URL: &str = "idp.example.com";

struct Keys {
    rsa: EncodingKey,
    rsa_public_der: Vec<u8>,
    ec: EncodingKey,
    jwks: Value,
}

/// One RSA and one EC key for every test (RSA generation is slow).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        use rsa::traits::PublicKeyParts;
        let rsa = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let ec = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let point = ec.public_key_raw();
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        Keys {
            rsa: EncodingKey::from_rsa_der(rsa.to_pkcs1_der().unwrap().as_bytes()),
            rsa_public_der: rsa.to_public_key().to_pkcs1_der().unwrap().into_vec(),
            ec: EncodingKey::from_ec_der(&ec.serialize_der()),
            jwks: json!({"keys": [
                {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
                 "n": b64(&rsa.n().to_bytes_be()), "e": b64(&rsa.e().to_bytes_be())},
                {"kty": "EC", "kid": "ec-1", "crv": "P-256",
                 "x": b64(&point[1..33]), "y": b64(&point[33..65])},
            ]}),
        }
    })
}

fn provider() -> OidcProvider {
    OidcProvider {
        url: URL.into(),
        client_ids: vec!["app".into()],
        thumbprints: vec![],
        created_at: 0,
    }
}

fn claims() -> Value {
    json!({"iss": format!("https://{URL}"), "sub": "u1", "aud": "app", "iat": NOW, "exp": NOW + 300})
}

fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let key = match alg {
        Algorithm::RS256 => &keys().rsa,
        _ => &keys().ec,
    };
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

/// A verifier reading `jwks` from a JWKS file, and the directory it lives in.
fn verifier(jwks: &Value) -> (OidcVerifier, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(jwks_file_name(URL)), jwks.to_string()).unwrap();
    let config = OidcConfig {
        jwks_dir: Some(dir.path().to_owned()),
        ..OidcConfig::default()
    };
    (OidcVerifier::new(&config).unwrap(), dir)
}

fn run(verifier: &OidcVerifier, token: &str) -> Result<WebIdentity, WebIdentityError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(verifier.verify(&provider(), token, NOW))
}

fn code(r: &Result<WebIdentity, WebIdentityError>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

/// `header.payload.signature` from raw JSON parts, for tokens no library would sign.
fn raw(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

#[test]
fn the_table() {
    let (v, _dir) = verifier(&keys().jwks);
    let with = |changes: Value| {
        let mut c = claims();
        for (k, val) in changes.as_object().unwrap() {
            c[k] = val.clone();
        }
        c
    };
    let good_rs = sign(Algorithm::RS256, Some("rsa-1"), &claims());
    let tampered = {
        let mut parts: Vec<String> = good_rs.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(with(json!({"sub": "admin"})).to_string());
        parts.join(".")
    };
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        let secret = EncodingKey::from_secret(&keys().rsa_public_der);
        jsonwebtoken::encode(&header, &claims(), &secret).unwrap()
    };
    let rows: Vec<(&str, String, &str)> = vec![
        ("good RS256", good_rs.clone(), "ok"),
        (
            "good ES256",
            sign(Algorithm::ES256, Some("ec-1"), &claims()),
            "ok",
        ),
        (
            "wrong iss",
            sign(
                Algorithm::RS256,
                Some("rsa-1"),
                &with(json!({"iss": "https://other.example.com"})),
            ),
            "InvalidIdentityToken",
        ),
        (
            "wrong aud",
            sign(
                Algorithm::RS256,
                Some("rsa-1"),
                &with(json!({"aud": "other"})),
            ),
            "InvalidIdentityToken",
        ),
        (
            "azp fallback",
            sign(
                Algorithm::ES256,
                Some("ec-1"),
                &with(json!({"aud": "other", "azp": "app"})),
            ),
            "ok",
        ),
        (
            "expired",
            sign(
                Algorithm::RS256,
                Some("rsa-1"),
                &with(json!({"exp": NOW - 3600})),
            ),
            "ExpiredTokenException",
        ),
        (
            "nbf in the future",
            sign(
                Algorithm::RS256,
                Some("rsa-1"),
                &with(json!({"nbf": NOW + 3600})),
            ),
            "InvalidIdentityToken",
        ),
        (
            "iat in the future",
            sign(
                Algorithm::RS256,
                Some("rsa-1"),
                &with(json!({"iat": NOW + 3600})),
            ),
            "InvalidIdentityToken",
        ),
        (
            "alg none",
            raw(&json!({"alg": "none", "kid": "rsa-1"}), &claims(), b""),
            "InvalidIdentityToken",
        ),
        (
            "HS256 with the public key as secret",
            hs256_with_public_key,
            "InvalidIdentityToken",
        ),
        ("RS384", sign_rs384(), "InvalidIdentityToken"),
        (
            "unknown kid",
            sign(Algorithm::RS256, Some("rsa-9"), &claims()),
            "InvalidIdentityToken",
        ),
        (
            "kid of the other key type",
            sign(Algorithm::RS256, Some("ec-1"), &claims()),
            "InvalidIdentityToken",
        ),
        ("tampered payload", tampered, "InvalidIdentityToken"),
        (
            "signature of another token",
            {
                let other = sign(Algorithm::RS256, Some("rsa-1"), &with(json!({"sub": "u2"})));
                let mut parts: Vec<&str> = good_rs.split('.').collect();
                parts[2] = other.rsplit('.').next().unwrap();
                parts.join(".")
            },
            "InvalidIdentityToken",
        ),
        ("not a JWT", "abc.def".into(), "InvalidIdentityToken"),
        ("empty", String::new(), "InvalidIdentityToken"),
        (
            "too long",
            "a".repeat(MAX_TOKEN + 1),
            "InvalidIdentityToken",
        ),
    ];
    for (name, token, want) in rows {
        assert_eq!(code(&run(&v, &token)), want, "{name}");
    }
    assert_eq!(
        v.fetches(),
        0,
        "a provider with a JWKS file is never fetched"
    );
}

fn sign_rs384() -> String {
    let mut header = Header::new(Algorithm::RS384);
    header.kid = Some("rsa-1".into());
    jsonwebtoken::encode(&header, &claims(), &keys().rsa).unwrap()
}

#[test]
fn a_verified_token_gives_its_claims() {
    let (v, _dir) = verifier(&keys().jwks);
    let token = sign(
        Algorithm::ES256,
        Some("ec-1"),
        &json!({"iss": "https://idp.example.com", "sub": "u1", "aud": ["x", "app"], "azp": "x",
                "amr": "pwd", "iat": NOW, "exp": NOW + 300, "groups": ["a"]}),
    );
    let id = run(&v, &token).unwrap();
    assert_eq!(id.issuer, "idp.example.com");
    assert_eq!(id.subject, "u1");
    assert_eq!(id.audience, "app");
    assert_eq!(id.azp.as_deref(), Some("x"));
    assert_eq!(id.amr, ["pwd"]);
    assert_eq!((id.issued_at, id.expires_at), (Some(NOW), NOW + 300));
    assert_eq!(id.claims["groups"], json!(["a"]));
}

#[test]
fn without_a_kid_the_only_key_fit_for_the_algorithm() {
    let (v, _dir) = verifier(&keys().jwks);
    assert_eq!(
        code(&run(&v, &sign(Algorithm::RS256, None, &claims()))),
        "ok"
    );
    assert_eq!(
        code(&run(&v, &sign(Algorithm::ES256, None, &claims()))),
        "ok"
    );
    let mut two_rsa = keys().jwks.clone();
    let mut copy = two_rsa["keys"][0].clone();
    copy["kid"] = json!("rsa-2");
    two_rsa["keys"].as_array_mut().unwrap().push(copy);
    let (v, _dir) = verifier(&two_rsa);
    assert_eq!(
        code(&run(&v, &sign(Algorithm::RS256, None, &claims()))),
        "InvalidIdentityToken"
    );
}

#[test]
fn an_unreadable_jwks_file_is_a_communication_error() {
    let (v, dir) = verifier(&keys().jwks);
    std::fs::write(dir.path().join(jwks_file_name(URL)), "not json").unwrap();
    let r = run(&v, &sign(Algorithm::RS256, Some("rsa-1"), &claims()));
    assert_eq!(code(&r), "IDPCommunicationError");
    assert!(r
        .unwrap_err()
        .public_message()
        .starts_with("Couldn't retrieve"));
}

#[test]
fn a_missing_ca_file_or_jwks_dir_stops_the_verifier() {
    let config = OidcConfig {
        ca_file: Some("/nonexistent/ca.pem".into()),
        ..OidcConfig::default()
    };
    assert!(OidcVerifier::new(&config).is_err());
    let config = OidcConfig {
        jwks_dir: Some("/nonexistent/jwks".into()),
        ..OidcConfig::default()
    };
    let e = OidcVerifier::new(&config).err().unwrap();
    assert!(e.to_string().contains("not a directory"), "{e}");
}
