//! Presigned GET URLs (query-string SigV4), as the console's share links: the same canonical
//! request and signature the verifier checks, built from the other side.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>

use std::time::SystemTime;

use http::{Method, Request};
use percent_encoding::utf8_percent_encode;

use super::{
    canonical_request, signature, signing_key, Credential, Location, Presented, URI_ENCODE,
};
use crate::timefmt;

/// What a presigned GET names and who signs it.
pub struct PresignGet<'a> {
    /// `http://host:port` or `https://host`: where the URL points (no path).
    pub base: &'a str,
    /// The path, already percent-encoded as it will be sent (`/bucket/key`).
    pub path: &'a str,
    pub access_key: &'a str,
    /// A temporary credential's session token (`X-Amz-Security-Token`).
    pub token: Option<&'a str>,
    pub region: &'a str,
    /// 1..=604800 seconds.
    pub expires_secs: u64,
    pub now: SystemTime,
}

impl PresignGet<'_> {
    /// The whole URL, signed with `secret`; `None` when the base has no host.
    pub fn url(&self, secret: &str) -> Option<String> {
        let host = self.base.split_once("://")?.1.trim_end_matches('/');
        if host.is_empty() {
            return None;
        }
        let amz_date = timefmt::format_amz_date(self.now);
        let date = &amz_date[..8];
        let credential = Credential::new(self.access_key, date, self.region, "s3");
        let scope = format!("{}/{date}/{}/s3/aws4_request", self.access_key, self.region);
        let enc = |v: &str| utf8_percent_encode(v, URI_ENCODE).to_string();
        let mut query = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={amz_date}&X-Amz-Expires={}",
            enc(&scope),
            self.expires_secs
        );
        if let Some(token) = self.token {
            query.push_str("&X-Amz-Security-Token=");
            query.push_str(&enc(token));
        }
        query.push_str("&X-Amz-SignedHeaders=host");
        let (parts, ()) = Request::builder()
            .method(Method::GET)
            .uri(format!("{}?{query}", self.path))
            .header(http::header::HOST, host)
            .body(())
            .ok()?
            .into_parts();
        let presented = Presented {
            credential,
            signed_headers: "host".to_owned(),
            signature: [0; 32],
            request_time: self.now,
            amz_date: amz_date.clone(),
            location: Location::Query {
                expires_secs: self.expires_secs,
            },
        };
        let canonical = canonical_request(&parts, &presented, "UNSIGNED-PAYLOAD");
        let key = zeroize::Zeroizing::new(signing_key(secret, date, self.region, "s3"));
        let signed = signature(&key, &presented, &canonical);
        Some(format!(
            "{}{}?{query}&X-Amz-Signature={}",
            self.base.trim_end_matches('/'),
            self.path,
            hex::encode(signed)
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::PresignGet;

    /// The worked example of the AWS page above: GET /test.txt from examplebucket, 86400 s.
    #[test]
    fn reproduces_the_aws_documentation_example() {
        let presign = PresignGet {
            base: "https://examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            access_key: "AKIAIOSFODNN7EXAMPLE",
            token: None,
            region: "us-east-1",
            expires_secs: 86400,
            // 20130524T000000Z
            now: UNIX_EPOCH + Duration::from_secs(1_369_353_600),
        };
        let url = presign
            .url("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
            .unwrap();
        assert!(
            url.ends_with(
                "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
            ),
            "{url}"
        );
        assert!(url.starts_with("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"));
    }
}
