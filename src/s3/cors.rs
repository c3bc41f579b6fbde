//! CORS: Put/Get/DeleteBucketCors (the `cors` bucket configuration kind), the preflight
//! (`OPTIONS` on a bucket or object path, answered without credentials), and the CORS headers
//! of an actual request that carries `Origin` (added by the request skeleton's response path,
//! `S3Api::decorate`, to every response of a bucket with rules, errors included).
//!
//! A request matches the first rule whose `AllowedOrigin` matches its `Origin`, whose
//! `AllowedMethod` holds its method (`Access-Control-Request-Method` on a preflight, and on an
//! actual request that carries it), and, on a preflight, whose `AllowedHeader`s match every
//! name of `Access-Control-Request-Headers`.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; a configuration read and a preflight are answered from memory"
)]

use http::{HeaderMap, HeaderValue, Response};
use serde::{Deserialize, Serialize};

use super::body::read_small;
use super::delete::verify;
use super::error::{Code, S3Error, S3Result};
use super::object::expected;
use super::xml::{document, read, RequestDocument, Xmlns};
use super::{finish, Ctx, Reply, Req};
use crate::objects::{BucketConfig, ConfigKind, CorsConfig, CorsRule};

/// S3 limits the document to 64 KB.
const MAX_BODY: usize = 64 * 1024;
/// "You can add up to 100 rules to the configuration."
const MAX_RULES: usize = 100;
/// "The value cannot be longer than 255 characters."
const MAX_ID: usize = 255;
/// The methods a rule may allow.
const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// S3's answer to a preflight no rule matches.
const NOT_ALLOWED: &str = "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/// The `Vary` of every CORS answer: what a cache must key a response on.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// `<CORSConfiguration>`: the request document of PutBucketCors and the answer of
/// GetBucketCors.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename = "CORSConfiguration")]
struct CorsConfiguration {
    #[serde(rename = "@xmlns", skip_deserializing, default)]
    xmlns: Xmlns,
    #[serde(rename = "CORSRule", default)]
    rules: Vec<RuleDoc>,
}

impl RequestDocument for CorsConfiguration {
    const ROOT: &'static str = "CORSConfiguration";
}

/// One `<CORSRule>`, in the element order of S3's answer.
#[derive(Debug, Default, Serialize, Deserialize)]
struct RuleDoc {
    #[serde(rename = "AllowedHeader", default)]
    allowed_headers: Vec<String>,
    #[serde(rename = "AllowedMethod", default)]
    allowed_methods: Vec<String>,
    #[serde(rename = "AllowedOrigin", default)]
    allowed_origins: Vec<String>,
    #[serde(rename = "ExposeHeader", default)]
    expose_headers: Vec<String>,
    #[serde(rename = "ID", skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(rename = "MaxAgeSeconds", skip_serializing_if = "Option::is_none")]
    max_age_seconds: Option<String>,
}

fn invalid(message: String) -> S3Error {
    S3Error::new(Code::InvalidRequest, message)
}

/// At most one `*`.
fn one_wildcard(value: &str) -> bool {
    value.bytes().filter(|b| *b == b'*').count() <= 1
}

impl RuleDoc {
    /// The rule, checked as S3 checks it.
    fn validate(self) -> S3Result<CorsRule> {
        if self.allowed_origins.is_empty() || self.allowed_methods.is_empty() {
            return Err(Code::MalformedXML.into());
        }
        if let Some(m) = self
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
        if let Some(o) = self.allowed_origins.iter().find(|o| !one_wildcard(o)) {
            return Err(invalid(format!(
                "AllowedOrigin \"{o}\" can not have more than one wildcard."
            )));
        }
        if let Some(h) = self.allowed_headers.iter().find(|h| !one_wildcard(h)) {
            return Err(invalid(format!(
                "AllowedHeader \"{h}\" can not have more than one wildcard."
            )));
        }
        if let Some(h) = self.expose_headers.iter().find(|h| h.contains('*')) {
            return Err(invalid(format!(
                "ExposeHeader \"{h}\" contains wildcard. We currently do not support wildcard for ExposeHeader."
            )));
        }
        // An exposed name is sent back in a header: it must be one a header can carry.
        if let Some(h) = self
            .expose_headers
            .iter()
            .find(|h| HeaderValue::from_str(h).is_err())
        {
            return Err(invalid(format!(
                "ExposeHeader \"{h}\" is not a valid header name."
            )));
        }
        if let Some(id) = self.id.as_ref().filter(|id| id.chars().count() > MAX_ID) {
            return Err(invalid(format!(
                "The ID value can be up to 255 characters long. Invalid ID is \"{id}\""
            )));
        }
        // An integer (S3's schema: 32 bits); a negative age means nothing to a browser.
        let max_age_seconds = match self.max_age_seconds.as_deref().map(str::trim) {
            None => None,
            Some(v) => Some(
                v.parse::<i32>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or(Code::MalformedXML)?,
            ),
        };
        Ok(CorsRule {
            id: self.id,
            allowed_origins: self.allowed_origins,
            allowed_methods: self.allowed_methods,
            allowed_headers: self.allowed_headers,
            expose_headers: self.expose_headers,
            max_age_seconds,
        })
    }

    fn of(rule: &CorsRule) -> RuleDoc {
        RuleDoc {
            allowed_headers: rule.allowed_headers.clone(),
            allowed_methods: rule.allowed_methods.clone(),
            allowed_origins: rule.allowed_origins.clone(),
            expose_headers: rule.expose_headers.clone(),
            id: rule.id.clone(),
            max_age_seconds: rule.max_age_seconds.map(|v| v.to_string()),
        }
    }
}

/// The rules of a PutBucketCors body: no rule is `MalformedXML`, more than 100
/// `InvalidRequest`, then each rule in order.
fn rules_of(doc: CorsConfiguration) -> S3Result<Vec<CorsRule>> {
    if doc.rules.is_empty() {
        return Err(Code::MalformedXML.into());
    }
    if doc.rules.len() > MAX_RULES {
        return Err(invalid(format!(
            "The number of CORS rules should not exceed allowed limit of {MAX_RULES} rules."
        )));
    }
    doc.rules.into_iter().map(RuleDoc::validate).collect()
}

/// PutBucketCors: replaces the bucket's rules. The body must carry Content-MD5 or a checksum,
/// as S3 requires, and is verified.
pub async fn put_bucket_cors(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    req.found.existing()?;
    let name = req.bucket.to_owned();
    let (parts, mut reader) = (req.parts, req.body);
    let want = expected(&parts.headers)?;
    let body = read_small(&mut reader, MAX_BODY).await?;
    verify(&body, &want, reader.trailers())?;
    let rules = rules_of(read(&body)?)?;
    let config = BucketConfig::Cors(CorsConfig::new(rules).into());
    ctx.index().put_bucket_config(name, config).await?;
    finish(Response::builder(), crate::http::empty())
}

/// GetBucketCors: the rules, or `NoSuchCORSConfiguration`.
pub async fn get_bucket_cors(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let bucket = req.found.existing()?;
    let Some(cors) = bucket.configs.cors.as_ref() else {
        return Err(S3Error::from(Code::NoSuchCORSConfiguration).with("BucketName", req.bucket));
    };
    document(&CorsConfiguration {
        xmlns: Xmlns::default(),
        rules: cors.rules.iter().map(RuleDoc::of).collect(),
    })
}

/// DeleteBucketCors: 204, whether or not the bucket had rules.
pub async fn delete_bucket_cors(ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    super::bucket_access::delete_config(ctx, &req, ConfigKind::Cors).await
}

/// Whether `text` matches `pattern`, whose one `*` stands for any run of characters (none
/// included); anchored at both ends.
fn wildcard(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let same = |a: &[u8], b: &[u8]| {
        if ignore_case {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    match pattern.split_once('*') {
        None => same(p, t),
        Some((prefix, suffix)) => {
            let (pre, suf) = (prefix.as_bytes(), suffix.as_bytes());
            t.len() >= pre.len() + suf.len()
                && same(&t[..pre.len()], pre)
                && same(&t[t.len() - suf.len()..], suf)
        }
    }
}

/// The rule a request matches, and whether it matched by the `*` origin (then any origin is
/// answered `*`, without credentials).
struct Matched<'a> {
    rule: &'a CorsRule,
    any_origin: bool,
}

/// The first rule that allows `origin`, `method` and every one of `requested` (lowercase
/// header names). Origins compare exactly (a browser sends them lowercase); header names
/// without regard to case.
fn find<'a>(
    config: &'a CorsConfig,
    origin: &str,
    method: &str,
    requested: &[String],
) -> Option<Matched<'a>> {
    config.rules.iter().find_map(|rule| {
        let pattern = rule
            .allowed_origins
            .iter()
            .find(|p| wildcard(p, origin, false))?;
        let allowed = rule.allowed_methods.iter().any(|m| m == method)
            && requested
                .iter()
                .all(|h| rule.allowed_headers.iter().any(|p| wildcard(p, h, true)));
        allowed.then_some(Matched {
            rule,
            any_origin: pattern == "*",
        })
    })
}

/// The headers both a preflight and an actual request get from the rule they matched.
fn allow(matched: &Matched<'_>, origin: &HeaderValue, headers: &mut HeaderMap) {
    let rule = matched.rule;
    if matched.any_origin {
        headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    } else {
        headers.insert("access-control-allow-origin", origin.clone());
        headers.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(
        "access-control-allow-methods",
        &rule.allowed_methods.join(", "),
    );
    if !rule.expose_headers.is_empty() {
        set(
            "access-control-expose-headers",
            &rule.expose_headers.join(", "),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        set("access-control-max-age", &age.to_string());
    }
    headers.insert(http::header::VARY, HeaderValue::from_static(VARY));
}

/// The names of `Access-Control-Request-Headers`, lowercase, empty items skipped.
fn requested_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("access-control-request-headers")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The preflight (`OPTIONS` on a bucket or object path), answered without credentials and
/// without looking the key up. S3's answers: no `Origin` is `400 BadRequest`; a bucket that
/// does not exist, or has no rules, `403 AccessForbidden`; no
/// `Access-Control-Request-Method` `400 BadRequest`; no rule matching `403 AccessForbidden`.
/// The 403s name the method asked for (`OPTIONS` when none was) and the resource type.
pub async fn preflight(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    let headers = &req.parts.headers;
    let Some(origin) = headers
        .get(http::header::ORIGIN)
        .filter(|o| o.to_str().is_ok())
    else {
        return Err(S3Error::new(
            Code::BadRequest,
            "Insufficient information. Origin request header needed.",
        ));
    };
    let method = headers
        .get("access-control-request-method")
        .map(|m| m.to_str().unwrap_or_default());
    let forbidden = |message: &'static str, resource: &str| {
        S3Error::new(Code::AccessForbidden, message)
            .with("Method", method.unwrap_or("OPTIONS"))
            .with("ResourceType", resource)
    };
    let Ok(bucket) = req.found.existing() else {
        return Err(forbidden("CORSResponse: Bucket not found", "BUCKET"));
    };
    let Some(cors) = bucket.configs.cors.as_ref() else {
        return Err(forbidden(
            "CORSResponse: CORS is not enabled for this bucket.",
            "BUCKET",
        ));
    };
    let Some(method) = method else {
        return Err(S3Error::new(
            Code::BadRequest,
            "Invalid Access-Control-Request-Method: null",
        ));
    };
    let requested = requested_headers(headers);
    let origin_text = origin.to_str().unwrap_or_default();
    let Some(matched) = find(cors, origin_text, method, &requested) else {
        let resource = if req.key.is_empty() {
            "BUCKET"
        } else {
            "OBJECT"
        };
        return Err(forbidden(NOT_ALLOWED, resource));
    };
    let mut response = finish(Response::builder(), crate::http::empty())?;
    let out = response.headers_mut();
    allow(&matched, origin, out);
    if !requested.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&requested.join(", ")) {
            out.insert("access-control-allow-headers", v);
        }
    }
    Ok(response)
}

/// Adds the CORS headers to the response to an actual request on a bucket with `config`,
/// when a rule matches its `Origin` and its method (`Access-Control-Request-Method` when it
/// carries one, as S3 decides). A request no rule matches is answered as it would be without
/// `Origin`.
pub(crate) fn decorate(
    config: &CorsConfig,
    origin: &HeaderValue,
    request: &http::request::Parts,
    response: &mut HeaderMap,
) {
    let Ok(origin_text) = origin.to_str() else {
        return;
    };
    let method = request
        .headers
        .get("access-control-request-method")
        .and_then(|m| m.to_str().ok())
        .unwrap_or(request.method.as_str());
    if let Some(matched) = find(config, origin_text, method, &[]) {
        allow(&matched, origin, response);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        CorsRule {
            id: None,
            allowed_origins: own(origins),
            allowed_methods: own(methods),
            allowed_headers: own(headers),
            expose_headers: Vec::new(),
            max_age_seconds: None,
        }
    }

    /// AWS's PutBucketCors example body, read, and answered back as GetBucketCors's syntax.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>
    #[test]
    fn the_documented_configuration_reads_and_answers() {
        let body = br"<CORSConfiguration>
             <CORSRule>
               <AllowedOrigin>http://www.example.com</AllowedOrigin>
               <AllowedMethod>PUT</AllowedMethod>
               <AllowedMethod>POST</AllowedMethod>
               <AllowedMethod>DELETE</AllowedMethod>
               <AllowedHeader>*</AllowedHeader>
               <MaxAgeSeconds>3000</MaxAgeSeconds>
               <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
             </CORSRule>
             <CORSRule>
               <AllowedOrigin>*</AllowedOrigin>
               <AllowedMethod>GET</AllowedMethod>
               <AllowedHeader>*</AllowedHeader>
               <MaxAgeSeconds>3000</MaxAgeSeconds>
             </CORSRule>
            </CORSConfiguration>";
        let rules = rules_of(read(body).unwrap()).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].allowed_methods, ["PUT", "POST", "DELETE"]);
        assert_eq!(rules[0].max_age_seconds, Some(3000));
        let answer = CorsConfiguration {
            xmlns: Xmlns::default(),
            rules: rules.iter().map(RuleDoc::of).collect(),
        };
        assert_documented(
            &to_xml(None, &answer).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <CORSRule>
                <AllowedHeader>*</AllowedHeader>
                <AllowedMethod>PUT</AllowedMethod>
                <AllowedMethod>POST</AllowedMethod>
                <AllowedMethod>DELETE</AllowedMethod>
                <AllowedOrigin>http://www.example.com</AllowedOrigin>
                <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>
                <MaxAgeSeconds>3000</MaxAgeSeconds>
              </CORSRule>
              <CORSRule>
                <AllowedHeader>*</AllowedHeader>
                <AllowedMethod>GET</AllowedMethod>
                <AllowedOrigin>*</AllowedOrigin>
                <MaxAgeSeconds>3000</MaxAgeSeconds>
              </CORSRule>
            </CORSConfiguration>"#,
        );
    }

    #[test]
    fn interleaved_lists_are_read() {
        let body = b"<CORSConfiguration><CORSRule><AllowedOrigin>a</AllowedOrigin>\
            <AllowedMethod>GET</AllowedMethod><AllowedOrigin>b</AllowedOrigin></CORSRule>\
            </CORSConfiguration>";
        let rules = rules_of(read(body).unwrap()).unwrap();
        assert_eq!(rules[0].allowed_origins, ["a", "b"]);
    }

    #[test]
    fn invalid_rules_are_refused_as_s3_refuses_them() {
        let check = |rule: &str| {
            let body =
                format!("<CORSConfiguration><CORSRule>{rule}</CORSRule></CORSConfiguration>");
            read::<CorsConfiguration>(body.as_bytes()).and_then(rules_of)
        };
        let code = |rule: &str| check(rule).unwrap_err().code;
        assert_eq!(
            code("<AllowedMethod>GET</AllowedMethod>"),
            Code::MalformedXML
        );
        assert_eq!(code("<AllowedOrigin>*</AllowedOrigin>"), Code::MalformedXML);
        let err = check("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>OPTIONS</AllowedMethod>")
            .unwrap_err();
        assert_eq!(err.code, Code::InvalidRequest);
        assert_eq!(
            err.message,
            "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"
        );
        assert_eq!(
            code("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>"),
            Code::InvalidRequest
        );
        let err = check(
            "<AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>",
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "AllowedOrigin \"http://*.*.com\" can not have more than one wildcard."
        );
        assert_eq!(
            code("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader>"),
            Code::InvalidRequest
        );
        assert_eq!(
            code("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-*</ExposeHeader>"),
            Code::InvalidRequest
        );
        assert_eq!(
            code(&format!(
                "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ID>{}</ID>",
                "i".repeat(256)
            )),
            Code::InvalidRequest
        );
        for age in ["-1", "x", "9999999999"] {
            assert_eq!(
                code(&format!(
                    "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>{age}</MaxAgeSeconds>"
                )),
                Code::MalformedXML
            );
        }
        let none = read::<CorsConfiguration>(b"<CORSConfiguration/>").unwrap();
        assert_eq!(rules_of(none).unwrap_err().code, Code::MalformedXML);
        let many = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
                .repeat(101)
        );
        let err = read::<CorsConfiguration>(many.as_bytes())
            .and_then(rules_of)
            .unwrap_err();
        assert_eq!(
            err.message,
            "The number of CORS rules should not exceed allowed limit of 100 rules."
        );
    }

    #[test]
    fn a_wildcard_stands_for_any_run_of_characters() {
        assert!(wildcard("*", "", false));
        assert!(wildcard(
            "http://*.example.com",
            "http://a.b.example.com",
            false
        ));
        assert!(!wildcard(
            "http://*.example.com",
            "https://a.example.com",
            false
        ));
        assert!(wildcard("start*end", "startend", false));
        assert!(!wildcard("start*end", "0startend", false));
        assert!(!wildcard("abc*abc", "abc", false));
        assert!(!wildcard("http://A.com", "http://a.com", false));
        assert!(wildcard("X-Amz-*", "x-amz-date", true));
        assert!(wildcard("é*", "é", false));
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let config = CorsConfig::new(vec![
            rule(&["http://a.com"], &["PUT"], &["x-amz-*"]),
            rule(&["*"], &["GET"], &[]),
        ]);
        let m = find(&config, "http://a.com", "PUT", &["x-amz-date".into()]).unwrap();
        assert!(!m.any_origin);
        assert!(find(&config, "http://a.com", "PUT", &["content-md5".into()]).is_none());
        let m = find(&config, "http://a.com", "GET", &[]).unwrap();
        assert!(m.any_origin);
        assert!(find(&config, "http://b.com", "GET", &["x-amz-date".into()]).is_none());
        assert!(find(&config, "http://b.com", "DELETE", &[]).is_none());
    }

    #[test]
    fn requested_headers_are_split_and_lowercased() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "access-control-request-headers",
            HeaderValue::from_static("X-Amz-Date, content-type,,authorization"),
        );
        assert_eq!(
            requested_headers(&headers),
            ["x-amz-date", "content-type", "authorization"]
        );
    }
}
