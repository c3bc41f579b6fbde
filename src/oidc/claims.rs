//! The claim checks of a web identity token whose signature has been verified, as STS's
//! AssumeRoleWithWebIdentity makes them. Pure: the time is a parameter.

use serde_json::{Map, Value};

use super::{WebIdentity, WebIdentityError};
use crate::iam_store::oidc::OidcProvider;

/// How far the issuer's clock and ours may disagree, in seconds, for `exp`, `nbf` and `iat`.
pub const SKEW_SECONDS: i64 = 300;

fn invalid(message: impl Into<String>) -> WebIdentityError {
    WebIdentityError::InvalidIdentityToken(message.into())
}

/// A NumericDate claim (seconds, possibly fractional), truncated to whole seconds.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, WebIdentityError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            #[allow(clippy::cast_possible_truncation)]
            (None, Some(f)) if f.is_finite() && f.abs() < 1e15 => Ok(Some(f.trunc() as i64)),
            _ => Err(invalid(format!("The {name} claim is not a valid date."))),
        },
        Some(_) => Err(invalid(format!("The {name} claim is not a valid date."))),
    }
}

/// A claim that is a string or an array of strings; `None` when absent.
fn strings(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<Vec<String>>, WebIdentityError> {
    let bad = || {
        invalid(format!(
            "The {name} claim must be a string or an array of strings."
        ))
    };
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(bad()),
    }
}

fn string(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, WebIdentityError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("The {name} claim must be a string."))),
    }
}

/// Checks the claims of a token of `provider` at `now` (Unix seconds) and returns what STS
/// needs of them.
pub fn check(
    claims: Map<String, Value>,
    provider: &OidcProvider,
    now: i64,
) -> Result<WebIdentity, WebIdentityError> {
    let issuer = provider.issuer();
    if string(&claims, "iss")?.as_deref() != Some(issuer.as_str()) {
        return Err(invalid(
            "The issuer (iss) of the token does not match the provider.",
        ));
    }
    let expires_at = numeric_date(&claims, "exp")?
        .ok_or_else(|| invalid("The token has no expiration (exp) claim."))?;
    if now >= expires_at.saturating_add(SKEW_SECONDS) {
        return Err(WebIdentityError::ExpiredToken(format!(
            "Token expired: current date/time {now} must be before the expiration date/time {expires_at}"
        )));
    }
    if let Some(nbf) = numeric_date(&claims, "nbf")? {
        if now.saturating_add(SKEW_SECONDS) < nbf {
            return Err(invalid("The token is not valid yet (nbf)."));
        }
    }
    let issued_at = numeric_date(&claims, "iat")?;
    if issued_at.is_some_and(|iat| iat > now.saturating_add(SKEW_SECONDS)) {
        return Err(invalid("The token was issued in the future (iat)."));
    }
    let subject = string(&claims, "sub")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("The token has no subject (sub) claim."))?;
    let azp = string(&claims, "azp")?;
    let audiences = strings(&claims, "aud")?.unwrap_or_default();
    let known = |id: &String| provider.client_ids.contains(id);
    let audience = match audiences.iter().find(|aud| known(aud)) {
        Some(aud) => aud.clone(),
        None => match &azp {
            Some(azp) if known(azp) => azp.clone(),
            _ => return Err(invalid("Incorrect token audience.")),
        },
    };
    let amr = strings(&claims, "amr")?.unwrap_or_default();
    Ok(WebIdentity {
        issuer: provider.url.clone(),
        subject,
        audience,
        azp,
        amr,
        issued_at,
        expires_at,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn provider() -> OidcProvider {
        OidcProvider {
            url: "idp.example.com/tenant".into(),
            client_ids: vec!["app-1".into(), "app-2".into()],
            thumbprints: vec![],
            created_at: 0,
        }
    }

    fn good() -> Value {
        json!({
            "iss": "https://idp.example.com/tenant",
            "sub": "user-42",
            "aud": "app-1",
            "iat": NOW - 10,
            "nbf": NOW - 10,
            "exp": NOW + 600,
            "amr": ["pwd", "mfa"],
            "email": "a@example.com",
        })
    }

    fn with(changes: &[(&str, Option<Value>)]) -> Map<String, Value> {
        let mut claims = good().as_object().unwrap().clone();
        for (name, value) in changes {
            match value {
                Some(v) => claims.insert((*name).to_owned(), v.clone()),
                None => claims.remove(*name),
            };
        }
        claims
    }

    fn code(r: Result<WebIdentity, WebIdentityError>) -> &'static str {
        match r {
            Ok(_) => "ok",
            Err(e) => e.code(),
        }
    }

    #[test]
    fn a_good_token_gives_its_identity() {
        let id = check(with(&[]), &provider(), NOW).unwrap();
        assert_eq!(id.issuer, "idp.example.com/tenant");
        assert_eq!(id.subject, "user-42");
        assert_eq!(id.audience, "app-1");
        assert_eq!(id.amr, ["pwd", "mfa"]);
        assert_eq!(id.issued_at, Some(NOW - 10));
        assert_eq!(id.expires_at, NOW + 600);
        assert_eq!(id.claims["email"], "a@example.com");
        assert_eq!(id.azp, None);
    }

    #[test]
    fn each_claim_rule() {
        let skew = SKEW_SECONDS;
        type Row<'a> = (&'a str, &'a [(&'a str, Option<Value>)], &'a str);
        let rows: &[Row] = &[
            (
                "wrong iss",
                &[("iss", Some(json!("https://evil.example.com/tenant")))],
                "InvalidIdentityToken",
            ),
            (
                "iss without scheme",
                &[("iss", Some(json!("idp.example.com/tenant")))],
                "InvalidIdentityToken",
            ),
            ("no iss", &[("iss", None)], "InvalidIdentityToken"),
            (
                "wrong aud",
                &[("aud", Some(json!("other")))],
                "InvalidIdentityToken",
            ),
            (
                "aud array with a match",
                &[("aud", Some(json!(["other", "app-2"])))],
                "ok",
            ),
            (
                "aud array without",
                &[("aud", Some(json!(["x", "y"])))],
                "InvalidIdentityToken",
            ),
            (
                "azp fallback",
                &[("aud", Some(json!("other"))), ("azp", Some(json!("app-2")))],
                "ok",
            ),
            (
                "azp unknown",
                &[("aud", Some(json!("other"))), ("azp", Some(json!("x")))],
                "InvalidIdentityToken",
            ),
            (
                "no aud, azp known",
                &[("aud", None), ("azp", Some(json!("app-1")))],
                "ok",
            ),
            (
                "aud not a string",
                &[("aud", Some(json!(7)))],
                "InvalidIdentityToken",
            ),
            (
                "expired",
                &[("exp", Some(json!(NOW - skew - 1)))],
                "ExpiredTokenException",
            ),
            (
                "expired within skew",
                &[("exp", Some(json!(NOW - skew + 1)))],
                "ok",
            ),
            ("no exp", &[("exp", None)], "InvalidIdentityToken"),
            (
                "exp not a number",
                &[("exp", Some(json!("soon")))],
                "InvalidIdentityToken",
            ),
            (
                "nbf in the future",
                &[("nbf", Some(json!(NOW + skew + 1)))],
                "InvalidIdentityToken",
            ),
            ("nbf within skew", &[("nbf", Some(json!(NOW + skew)))], "ok"),
            (
                "iat beyond skew",
                &[("iat", Some(json!(NOW + skew + 1)))],
                "InvalidIdentityToken",
            ),
            ("iat within skew", &[("iat", Some(json!(NOW + 60)))], "ok"),
            (
                "fractional dates",
                &[
                    ("iat", Some(json!(1_799_999_999.5))),
                    ("exp", Some(json!(1_800_000_099.9))),
                ],
                "ok",
            ),
            ("no sub", &[("sub", None)], "InvalidIdentityToken"),
            (
                "empty sub",
                &[("sub", Some(json!("")))],
                "InvalidIdentityToken",
            ),
            ("amr a string", &[("amr", Some(json!("pwd")))], "ok"),
        ];
        for (name, changes, want) in rows {
            assert_eq!(
                code(check(with(changes), &provider(), NOW)),
                *want,
                "{name}"
            );
        }
        let id = check(
            with(&[("aud", Some(json!("other"))), ("azp", Some(json!("app-2")))]),
            &provider(),
            NOW,
        )
        .unwrap();
        assert_eq!(
            (id.audience.as_str(), id.azp.as_deref()),
            ("app-2", Some("app-2"))
        );
    }

    #[test]
    fn a_provider_without_client_ids_accepts_no_audience() {
        let mut p = provider();
        p.client_ids.clear();
        assert_eq!(code(check(with(&[]), &p, NOW)), "InvalidIdentityToken");
    }
}
