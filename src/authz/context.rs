//! The global condition keys every request carries, whichever listener it came to:
//! who is calling (`aws:username`, `aws:userid`, `aws:PrincipalType`, `aws:PrincipalArn`,
//! `aws:PrincipalAccount`), from where (`aws:SourceIp`, `aws:SecureTransport`) and when
//! (`aws:CurrentTime`, `aws:EpochTime`). The S3 listener adds its `s3:` keys on top.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
//!
//! Principal values follow AWS's table
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable>):
//! a user has its name, unique id and type `User`; the root has its account id as userid and
//! type `Account` and no username; an anonymous caller has userid `anonymous`, type
//! `Anonymous`, and neither username nor principal ARN.
//!
//! Forwarding headers are believed only from a configured trusted proxy: anyone else could
//! write `X-Forwarded-For: 10.0.0.1` to pass an `aws:SourceIp` condition.

use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use http::HeaderMap;

use crate::auth::session::Session;
use crate::auth::Caller;
use crate::cidr::{parse_address, Cidr};
use crate::iam_store::view::{Principal, RoleEntry};
use crate::policy::eval::Context;
use crate::timefmt;

/// Where a request comes from, as far as policies can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub source_ip: IpAddr,
    /// Whether the client spoke TLS: to the listener itself (an HTTPS listener), or to a
    /// trusted proxy that says so in `X-Forwarded-Proto`.
    pub secure: bool,
}

/// The request's origin: the peer, or, when the peer is a trusted proxy, the nearest
/// address in `X-Forwarded-For` (read from the right) that is not itself a trusted proxy.
/// `tls`: the request came over TLS to the listener. The transport is secure when it did,
/// except that a trusted proxy's `X-Forwarded-Proto`, when it sends one, tells for the
/// client's own leg (a proxy that took plain HTTP and forwards it over TLS says `http`).
pub fn origin(peer: SocketAddr, headers: &HeaderMap, trusted: &[Cidr], tls: bool) -> Origin {
    let peer_ip = parse_address(&peer.ip().to_string()).unwrap_or(peer.ip());
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer_ip) {
        return Origin {
            source_ip: peer_ip,
            secure: tls,
        };
    }
    let mut source_ip = peer_ip;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        // An entry that is not an address ends the walk: the last address believed stands.
        let Some(ip) = parse_address(hop.trim()) else {
            break;
        };
        source_ip = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    let secure = headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .map_or(tls, |proto| proto.trim().eq_ignore_ascii_case("https"));
    Origin { source_ip, secure }
}

/// The global keys for `caller` (`None`: anonymous) in `account`, from `origin` at `now`.
pub fn global(caller: Option<&Caller>, account: &str, origin: &Origin, now: SystemTime) -> Context {
    let mut context = Context::new();
    match caller {
        Some(Caller::User { principal, .. }) => user(&mut context, principal, account),
        Some(Caller::Root { arn, .. }) => {
            context
                .set("aws:userid", [account])
                .set("aws:PrincipalType", ["Account"])
                .set("aws:PrincipalArn", [arn.as_str()])
                .set("aws:PrincipalAccount", [account]);
        }
        Some(Caller::Role { role, session, .. }) => {
            role_session(&mut context, role, session, account);
        }
        None => {
            context
                .set("aws:userid", ["anonymous"])
                .set("aws:PrincipalType", ["Anonymous"]);
        }
    }
    if let Some(session) = caller.and_then(Caller::session) {
        context.set("aws:TokenIssueTime", [session.issue_time.as_str()]);
    }
    context
        .set("aws:SourceIp", [origin.source_ip.to_string()])
        .set("aws:SecureTransport", [origin.secure.to_string()])
        .set("aws:CurrentTime", [timefmt::format_iso8601(now)])
        .set("aws:EpochTime", [timefmt::unix_seconds(now).to_string()]);
    context
}

/// The principal keys of IAM user `principal` of `account`. The simulation APIs set the same
/// keys for the user they simulate, so that its policies read them as on a real request.
pub fn user(context: &mut Context, principal: &Principal, account: &str) {
    context
        .set("aws:username", [principal.name.as_str()])
        .set("aws:userid", [principal.id.as_str()])
        .set("aws:PrincipalType", ["User"])
        .set("aws:PrincipalArn", [principal.arn.as_str()])
        .set("aws:PrincipalAccount", [account]);
}

/// The principal keys every session of `role` has whatever the session: type `AssumedRole`,
/// the role's ARN as `aws:PrincipalArn`, the account, and the role's tags as
/// `aws:PrincipalTag/*`. SimulatePrincipalPolicy with a role source sets these (it simulates
/// no particular session, so no `aws:userid`).
pub fn role_keys(context: &mut Context, role: &RoleEntry, account: &str) {
    context
        .set("aws:PrincipalType", ["AssumedRole"])
        .set("aws:PrincipalArn", [role.arn.as_str()])
        .set("aws:PrincipalAccount", [account]);
    for (key, value) in &role.tags {
        context.set(&format!("aws:PrincipalTag/{key}"), [value.as_str()]);
    }
}

/// The principal keys of a session of role `role`: the role's id and the session name as
/// `aws:userid`, type `AssumedRole`, the role's ARN as `aws:PrincipalArn` (as AWS sets it), the
/// role's tags and over them the session's as `aws:PrincipalTag/*`, and the source identity and
/// identity provider when the session has them. The trust evaluation of a role chained from
/// this session reads the same keys. `aws:userid` was formatted when the session was opened
/// (the role's id is the one its token names, by which `role` was found).
pub fn role_session(context: &mut Context, role: &RoleEntry, session: &Session, account: &str) {
    let claims = &session.claims;
    if let Some(userid) = &session.role_userid {
        context.set("aws:userid", [userid.as_str()]);
    }
    role_keys(context, role, account);
    // Keys are case-insensitive: a session tag replaces the role's tag of the same key.
    for (key, value) in &claims.tags {
        context.set(&format!("aws:PrincipalTag/{key}"), [value.as_str()]);
    }
    if let Some(source) = &claims.source_identity {
        context.set("aws:SourceIdentity", [source.as_str()]);
    }
    if let Some(web) = &claims.web {
        context.set("aws:FederatedProvider", [web.provider_arn.as_str()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cidr::parse_cidr;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn trusted(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| parse_cidr(c).unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_trusted_proxies() {
        let proxies = trusted(&["10.0.0.0/8", "fd00::/8"]);
        let forwarded = headers(&[
            ("x-forwarded-for", "198.51.100.7, 10.1.1.1"),
            ("x-forwarded-proto", "https"),
        ]);
        let rows: &[(&str, &HeaderMap, &[Cidr], &str, bool)] = &[
            // Not a proxy: its headers are the client's word, ignored.
            (
                "203.0.113.9:1234",
                &forwarded,
                &proxies,
                "203.0.113.9",
                false,
            ),
            ("10.0.0.2:1234", &forwarded, &[], "10.0.0.2", false),
            // A trusted proxy: the rightmost untrusted hop is the client.
            ("10.0.0.2:1234", &forwarded, &proxies, "198.51.100.7", true),
            ("[fd00::1]:80", &forwarded, &proxies, "198.51.100.7", true),
            // A v4 client on a dual-stack socket reads as v4.
            (
                "[::ffff:203.0.113.9]:1",
                &forwarded,
                &proxies,
                "203.0.113.9",
                false,
            ),
            // A client cannot prepend its way past the proxy's own entry.
            (
                "10.0.0.2:1",
                &headers(&[("x-forwarded-for", "127.0.0.1, 198.51.100.7")]),
                &proxies,
                "198.51.100.7",
                false,
            ),
            // Garbage ends the walk at the last address believed.
            (
                "10.0.0.2:1",
                &headers(&[("x-forwarded-for", "198.51.100.7, junk, 10.9.9.9")]),
                &proxies,
                "10.9.9.9",
                false,
            ),
            // Several headers read as one list; no header leaves the proxy as the source.
            (
                "10.0.0.2:1",
                &headers(&[
                    ("x-forwarded-for", "198.51.100.7"),
                    ("x-forwarded-for", "10.2.2.2"),
                    ("x-forwarded-proto", "http"),
                ]),
                &proxies,
                "198.51.100.7",
                false,
            ),
            ("10.0.0.2:1", &HeaderMap::new(), &proxies, "10.0.0.2", false),
        ];
        for (peer, headers, trusted, want_ip, want_secure) in rows {
            let got = origin(peer.parse().unwrap(), headers, trusted, false);
            assert_eq!(got.source_ip, ip(want_ip), "{peer} {headers:?}");
            assert_eq!(got.secure, *want_secure, "{peer} {headers:?}");
        }
    }

    #[test]
    fn a_role_sessions_keys_name_the_role_and_the_session() {
        use crate::auth::session::{Claims, Session, Subject};
        use crate::policy::eval::CompiledPolicy;
        use std::sync::Arc;
        let origin = Origin {
            source_ip: ip("192.0.2.1"),
            secure: false,
        };
        let role = Arc::new(RoleEntry {
            id: "AROAEXAMPLEROLEID".into(),
            name: "deploy".into(),
            path: "/".into(),
            arn: "arn:aws:iam::111122223333:role/deploy".into(),
            max_session_duration: 3600,
            trust: CompiledPolicy::deny_all(),
            policies: Vec::new(),
            boundary: None,
            tags: vec![("team".into(), "blue".into()), ("tier".into(), "1".into())],
        });
        let claims = Claims {
            access_key: "ASIAEXAMPLE".into(),
            secret: "s".into(),
            subject: Subject::Role {
                role_id: role.id.clone(),
                role_name: "deploy".into(),
                role_arn: role.arn.clone(),
                session_name: "ci-42".into(),
            },
            issued: 1_700_000_000,
            expires: 1_700_003_600,
            policies: Vec::new(),
            tags: vec![("Team".into(), "red".into())],
            transitive: Vec::new(),
            source_identity: Some("alice".into()),
            web: None,
        };
        let caller = Caller::Role {
            access_key: "ASIAEXAMPLE".into(),
            arn: "arn:aws:sts::111122223333:assumed-role/deploy/ci-42".into(),
            role,
            session: Arc::new(Session::new("token", claims)),
        };
        let now = timefmt::from_unix_seconds(1_700_000_100);
        let context = global(Some(&caller), "111122223333", &origin, now);
        assert_eq!(
            context.get("aws:userid").unwrap(),
            ["AROAEXAMPLEROLEID:ci-42"]
        );
        assert_eq!(context.get("aws:PrincipalType").unwrap(), ["AssumedRole"]);
        assert_eq!(
            context.get("aws:PrincipalArn").unwrap(),
            ["arn:aws:iam::111122223333:role/deploy"]
        );
        assert_eq!(
            context.get("aws:TokenIssueTime").unwrap(),
            ["2023-11-14T22:13:20Z"]
        );
        assert_eq!(context.get("aws:PrincipalTag/team").unwrap(), ["red"]);
        assert_eq!(context.get("aws:PrincipalTag/tier").unwrap(), ["1"]);
        assert_eq!(context.get("aws:SourceIdentity").unwrap(), ["alice"]);
        assert_eq!(context.get("aws:username"), None);
    }

    #[test]
    fn tls_to_the_listener_is_secure_unless_a_trusted_proxy_says_http() {
        let proxies = [parse_cidr("10.0.0.0/8").unwrap()];
        let https = headers(&[("x-forwarded-proto", "https")]);
        let http = headers(&[("x-forwarded-proto", "http")]);
        let rows: &[(&str, &HeaderMap, bool, bool)] = &[
            ("192.0.2.1:1", &HeaderMap::new(), true, true),
            ("192.0.2.1:1", &HeaderMap::new(), false, false),
            // An untrusted client's header is ignored either way.
            ("192.0.2.1:1", &http, true, true),
            ("192.0.2.1:1", &https, false, false),
            // A trusted proxy over TLS, silent: the listener's TLS; saying http: not secure.
            ("10.0.0.2:1", &HeaderMap::new(), true, true),
            ("10.0.0.2:1", &http, true, false),
            ("10.0.0.2:1", &https, false, true),
        ];
        for (peer, headers, tls, want) in rows {
            let got = origin(peer.parse().unwrap(), headers, &proxies, *tls);
            assert_eq!(got.secure, *want, "{peer} {headers:?} tls={tls}");
        }
    }

    #[test]
    fn principal_keys_follow_awss_table() {
        let origin = Origin {
            source_ip: ip("192.0.2.1"),
            secure: false,
        };
        let now = timefmt::from_unix_seconds(1_700_000_000);
        let root = Caller::Root {
            access_key: "AK".into(),
            arn: "arn:aws:iam::111122223333:root".into(),
            session: None,
        };
        let context = global(Some(&root), "111122223333", &origin, now);
        assert_eq!(context.get("aws:username"), None);
        assert_eq!(context.get("aws:userid").unwrap(), ["111122223333"]);
        assert_eq!(context.get("aws:principaltype").unwrap(), ["Account"]);
        assert_eq!(context.get("aws:SourceIp").unwrap(), ["192.0.2.1"]);
        assert_eq!(context.get("aws:SecureTransport").unwrap(), ["false"]);
        assert_eq!(context.get("aws:EpochTime").unwrap(), ["1700000000"]);
        assert_eq!(
            context.get("aws:CurrentTime").unwrap(),
            ["2023-11-14T22:13:20Z"]
        );
        let anonymous = global(None, "111122223333", &origin, now);
        assert_eq!(anonymous.get("aws:userid").unwrap(), ["anonymous"]);
        assert_eq!(anonymous.get("aws:PrincipalType").unwrap(), ["Anonymous"]);
        assert_eq!(anonymous.get("aws:PrincipalArn"), None);
        assert_eq!(anonymous.get("aws:username"), None);
    }
}
