//! CreateOpenIDConnectProvider, GetOpenIDConnectProvider, DeleteOpenIDConnectProvider,
//! ListOpenIDConnectProviders, AddClientIDToOpenIDConnectProvider,
//! RemoveClientIDFromOpenIDConnectProvider, UpdateOpenIDConnectProviderThumbprint,
//! TagOpenIDConnectProvider, UntagOpenIDConnectProvider, ListOpenIDConnectProviderTags.
//! The web identity tokens of a provider are verified by `crate::oidc`.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html>

use super::error::{Code, IamError};
use super::params::Params;
use super::users::write_tags;
use super::{iso8601, validate, write_page_end, Ctx, Reply};
use crate::iam_store::oidc::{provider_arn, MAX_CLIENT_IDS, MAX_THUMBPRINTS};
use crate::xml::XmlWriter;

/// The `Url` of a new provider, checked and brought to the form its ARN and the tokens'
/// `iss` use: `host[:port][/path]` without `https://`, scheme and host in lower case.
///
/// AWS's rules: `https://` only; a host and an optional path; no query, no fragment. AWS
/// advises against a port; LabStore accepts one (self-hosted issuers often listen on one,
/// and the token's `iss` then names it), see `docs/iam.md`.
pub fn provider_url(value: &str) -> Result<String, IamError> {
    validate::length(value, "url", 1, 255)?;
    let bad = |why: &str| IamError::new(Code::InvalidInput, format!("Invalid URL: {why}"));
    let rest = match value.get(..8) {
        Some(scheme) if scheme.eq_ignore_ascii_case("https://") => &value[8..],
        _ => return Err(bad("the URL must begin with https://")),
    };
    if rest.contains(['?', '#']) {
        return Err(bad("a query or a fragment is not allowed"));
    }
    if rest
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(bad("it must be printable ASCII without spaces"));
    }
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(bad("user information is not allowed"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !host_ok {
        return Err(bad("the host is not a valid host name"));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(bad("the port is not a valid port"));
        }
    }
    if path.contains("//") {
        return Err(bad("the path has an empty segment"));
    }
    Ok(format!("{}{path}", authority.to_ascii_lowercase()))
}

/// `OpenIDConnectProviderArn`, checked for length (a well-formed ARN that names no provider
/// is `NoSuchEntity`, from the store).
fn provider_arn_param(p: &Params) -> Result<String, IamError> {
    let arn = p.required("OpenIDConnectProviderArn", "openIDConnectProviderArn")?;
    validate::length(arn, "openIDConnectProviderArn", 20, 2048)?;
    Ok(arn.to_owned())
}

fn client_id(value: &str, field: &str) -> Result<String, IamError> {
    validate::length(value, field, 1, 255)?;
    Ok(value.to_owned())
}

/// `ClientIDList.member.N`: each 1 to 255 characters, at most 100, duplicates once.
fn client_ids(p: &Params) -> Result<Vec<String>, IamError> {
    let mut ids: Vec<String> = Vec::new();
    for value in p.members("ClientIDList") {
        let id = client_id(value, "clientIDList")?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_CLIENT_IDS {
        return Err(IamError::new(
            Code::LimitExceeded,
            format!("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"),
        ));
    }
    Ok(ids)
}

/// `ThumbprintList.member.N`: at most 5, each 40 hexadecimal digits.
fn thumbprints(p: &Params) -> Result<Vec<String>, IamError> {
    let list = p.members("ThumbprintList");
    if list.len() > MAX_THUMBPRINTS {
        return Err(IamError::invalid(
            &format!("[{}]", list.join(", ")),
            "thumbprintList",
            &format!("Member must have length less than or equal to {MAX_THUMBPRINTS}"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for value in list {
        if value.chars().count() != 40 {
            return Err(IamError::invalid(
                value,
                "thumbprintList",
                "Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]",
            ));
        }
        if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IamError::new(
                Code::InvalidInput,
                format!("Thumbprint {value} is not a hexadecimal string."),
            ));
        }
        let value = value.to_ascii_lowercase();
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(out)
}

fn write_list(w: &mut XmlWriter, tag: &str, items: &[String]) {
    w.open(tag);
    for item in items {
        w.elem("member", item);
    }
    w.close(tag);
}

pub async fn create_provider(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let url = provider_url(p.required("Url", "url")?)?;
    let client_ids = client_ids(p)?;
    let thumbprints = thumbprints(p)?;
    let tags = p.tags()?;
    let (provider, tags) = ctx
        .store()
        .create_oidc_provider(url, client_ids, thumbprints, tags)
        .await?;
    let mut w = XmlWriter::new();
    w.elem("OpenIDConnectProviderArn", &provider.arn(ctx.account()));
    if !tags.is_empty() {
        write_tags(&mut w, &tags);
    }
    Ok(Some(w.finish()))
}

pub async fn get_provider(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let (provider, tags) = ctx
        .store()
        .get_oidc_provider(provider_arn_param(p)?)
        .await?;
    let mut w = XmlWriter::new();
    w.elem("Url", &provider.url);
    write_list(&mut w, "ClientIDList", &provider.client_ids);
    write_list(&mut w, "ThumbprintList", &provider.thumbprints);
    w.elem("CreateDate", &iso8601(provider.created_at));
    if !tags.is_empty() {
        write_tags(&mut w, &tags);
    }
    Ok(Some(w.finish()))
}

pub async fn list_providers(ctx: &Ctx<'_>, _p: &Params) -> Reply {
    let providers = ctx.store().list_oidc_providers().await?;
    let mut w = XmlWriter::new();
    w.open("OpenIDConnectProviderList");
    for provider in &providers {
        w.open("member")
            .elem("Arn", &provider_arn(ctx.account(), &provider.url))
            .close("member");
    }
    w.close("OpenIDConnectProviderList");
    Ok(Some(w.finish()))
}

pub async fn delete_provider(ctx: &Ctx<'_>, p: &Params) -> Reply {
    ctx.store()
        .delete_oidc_provider(provider_arn_param(p)?)
        .await?;
    Ok(None)
}

pub async fn add_client_id(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let arn = provider_arn_param(p)?;
    let id = client_id(p.required("ClientID", "clientID")?, "clientID")?;
    ctx.store().add_oidc_client_id(arn, id).await?;
    Ok(None)
}

pub async fn remove_client_id(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let arn = provider_arn_param(p)?;
    let id = client_id(p.required("ClientID", "clientID")?, "clientID")?;
    ctx.store().remove_oidc_client_id(arn, id).await?;
    Ok(None)
}

/// Replaces the thumbprints. The list is required (an empty one, `ThumbprintList=`, clears
/// it).
pub async fn update_thumbprint(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let arn = provider_arn_param(p)?;
    if !p.any_with_prefix("ThumbprintList") {
        return Err(IamError::missing("thumbprintList"));
    }
    let list = thumbprints(p)?;
    ctx.store().update_oidc_thumbprints(arn, list).await?;
    Ok(None)
}

pub async fn tag_provider(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let arn = provider_arn_param(p)?;
    let tags = p.tags()?;
    if tags.is_empty() {
        return Err(IamError::missing("tags"));
    }
    ctx.store().tag_oidc_provider(arn, tags).await?;
    Ok(None)
}

pub async fn untag_provider(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let arn = provider_arn_param(p)?;
    let keys: Vec<String> = p
        .members("TagKeys")
        .into_iter()
        .map(str::to_owned)
        .collect();
    if keys.is_empty() {
        return Err(IamError::missing("tagKeys"));
    }
    ctx.store().untag_oidc_provider(arn, keys).await?;
    Ok(None)
}

pub async fn list_provider_tags(ctx: &Ctx<'_>, p: &Params) -> Reply {
    let arn = provider_arn_param(p)?;
    let page = ctx
        .store()
        .list_oidc_provider_tags(arn, p.marker()?, p.max_items()?)
        .await?;
    let mut w = XmlWriter::new();
    write_tags(&mut w, &page.items);
    write_page_end(&mut w, page.next_marker.as_deref());
    Ok(Some(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls_as_aws_takes_them() {
        for (given, stored) in [
            ("https://idp.example.com", "idp.example.com"),
            (
                "HTTPS://IdP.Example.com/Tenant/v2.0",
                "idp.example.com/Tenant/v2.0",
            ),
            ("https://127.0.0.1:8443", "127.0.0.1:8443"),
            (
                "https://token.actions.githubusercontent.com",
                "token.actions.githubusercontent.com",
            ),
        ] {
            assert_eq!(provider_url(given).unwrap(), stored, "{given}");
        }
        for bad in [
            "http://idp.example.com",
            "idp.example.com",
            "https://",
            "https://idp.example.com?x=1",
            "https://idp.example.com/#frag",
            "https://user@idp.example.com",
            "https://idp.example.com:0",
            "https://idp.example.com:99999",
            "https://idp.example.com:",
            "https://idp..example.com",
            "https://idp_example.com",
            "https://idp.example.com/a b",
            "https://idp.example.com//x",
        ] {
            let e = provider_url(bad).unwrap_err();
            assert_eq!(e.code, Code::InvalidInput, "{bad}");
        }
        let long = format!("https://{}.com", "a".repeat(250));
        assert_eq!(provider_url(&long).unwrap_err().code, Code::ValidationError);
    }

    #[test]
    fn thumbprint_lists() {
        let ok = "0123456789abcdef0123456789ABCDEF01234567";
        let p = Params::parse(Some(&format!("ThumbprintList.member.1={ok}")), None);
        assert_eq!(thumbprints(&p).unwrap(), [ok.to_ascii_lowercase()]);
        let short = Params::parse(Some("ThumbprintList.member.1=abc"), None);
        assert_eq!(thumbprints(&short).unwrap_err().code, Code::ValidationError);
        let not_hex = Params::parse(
            Some(&format!("ThumbprintList.member.1={}", "g".repeat(40))),
            None,
        );
        assert_eq!(thumbprints(&not_hex).unwrap_err().code, Code::InvalidInput);
        let six = (1..=6)
            .map(|i| format!("ThumbprintList.member.{i}={}", "a".repeat(40)))
            .collect::<Vec<_>>()
            .join("&");
        let six = Params::parse(Some(&six), None);
        assert_eq!(thumbprints(&six).unwrap_err().code, Code::ValidationError);
    }
}
