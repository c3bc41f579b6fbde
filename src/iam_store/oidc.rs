//! OpenID Connect identity providers: the issuers whose web identity tokens STS may accept,
//! with the client ids (audiences) a token must name and the thumbprints IAM keeps for them.
//! A provider is named by its URL without `https://`, the resource part of its ARN. Providers
//! grant nothing by themselves (a role's trust policy names them), so no write here touches
//! the authorization view; STS reads a provider from the database when a token is presented
//! (`provider_by_arn`).

use crate::db::sql::{Connection, OptionalExtension};

use super::error::{is_unique_violation, StoreError, StoreResult};
use super::users::{put_tags_in, remove_tags_in, tag_page, tags_in};
use super::{now, IamStore, Page, Tag};

/// AWS's quota of OIDC providers in one account.
pub const MAX_PROVIDERS: usize = 100;
/// AWS's quota of client ids on one provider.
pub const MAX_CLIENT_IDS: usize = 100;
/// AWS's quota of thumbprints on one provider.
pub const MAX_THUMBPRINTS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// `host[:port][/path]`: the provider's URL without `https://`.
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created_at: i64,
}

impl OidcProvider {
    /// The issuer a token of this provider names (`iss`): its URL with `https://`.
    pub fn issuer(&self) -> String {
        format!("https://{}", self.url)
    }

    pub fn arn(&self, account: &str) -> String {
        provider_arn(account, &self.url)
    }

    fn from_row(row: &crate::db::sql::Row<'_>) -> crate::db::sql::Result<OidcProvider> {
        let list = |i: usize| -> crate::db::sql::Result<Vec<String>> {
            let text: String = row.get(i)?;
            serde_json::from_str(&text)
                .map_err(|e| crate::db::sql::Error::Invalid(format!("column {i}: {e}")))
        };
        Ok(OidcProvider {
            url: row.get(0)?,
            client_ids: list(1)?,
            thumbprints: list(2)?,
            created_at: row.get(3)?,
        })
    }
}

const COLUMNS: &str = "url, client_ids, thumbprints, created_at";

/// `arn:aws:iam::<account>:oidc-provider/<url>`.
pub fn provider_arn(account: &str, url: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{url}")
}

/// The URL (without scheme) an OIDC provider ARN of this account names; `None` for any other
/// ARN.
pub fn parse_provider_arn<'a>(account: &str, arn: &'a str) -> Option<&'a str> {
    let rest = arn.strip_prefix("arn:aws:iam::")?.strip_prefix(account)?;
    let url = rest.strip_prefix(":oidc-provider/")?;
    (!url.is_empty()).then_some(url)
}

fn not_found(arn: &str) -> StoreError {
    StoreError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serializes")
}

/// The provider with `url`, inside a read or a write; `arn` names it in the error.
fn by_url(conn: &Connection, url: &str, arn: &str) -> StoreResult<OidcProvider> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM oidc_providers WHERE url = ?1"),
        [url],
        OidcProvider::from_row,
    )
    .optional()?
    .ok_or_else(|| not_found(arn))
}

impl IamStore {
    /// The URL an ARN names, when it is an OIDC provider ARN of this account; else the
    /// provider cannot exist (`NoSuchEntity`).
    fn provider_url(&self, arn: &str) -> StoreResult<String> {
        parse_provider_arn(self.account_id(), arn)
            .map(str::to_owned)
            .ok_or_else(|| not_found(arn))
    }

    /// Creates a provider; `EntityAlreadyExists` for a URL already registered.
    pub async fn create_oidc_provider(
        &self,
        url: String,
        client_ids: Vec<String>,
        thumbprints: Vec<String>,
        tags: Vec<Tag>,
    ) -> StoreResult<(OidcProvider, Vec<Tag>)> {
        let provider = OidcProvider {
            url,
            client_ids,
            thumbprints,
            created_at: now(),
        };
        let row = provider.clone();
        let result = self
            .write(move |conn, _| {
                let count: usize =
                    conn.query_row("SELECT count(*) FROM oidc_providers", [], |r| r.get(0))?;
                if count >= MAX_PROVIDERS {
                    return Err(StoreError::LimitExceeded(format!(
                        "Cannot exceed quota for OpenIdConnectProvidersPerAccount: {MAX_PROVIDERS}"
                    )));
                }
                conn.execute(
                    "INSERT INTO oidc_providers (url, client_ids, thumbprints, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    (
                        &row.url,
                        json(&row.client_ids),
                        json(&row.thumbprints),
                        row.created_at,
                    ),
                )?;
                put_tags_in(conn, "oidc_provider_tags", "provider_url", &row.url, &tags)?;
                tags_in(conn, "oidc_provider_tags", "provider_url", &row.url)
            })
            .await;
        match result {
            Ok(tags) => Ok((provider, tags)),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "Provider with url {} already exists.",
                provider.issuer()
            ))),
            Err(e) => Err(e),
        }
    }

    /// The provider an ARN names, with its tags.
    pub async fn get_oidc_provider(&self, arn: String) -> StoreResult<(OidcProvider, Vec<Tag>)> {
        let url = self.provider_url(&arn)?;
        self.read(move |conn| {
            let provider = by_url(conn, &url, &arn)?;
            let tags = tags_in(conn, "oidc_provider_tags", "provider_url", &url)?;
            Ok((provider, tags))
        })
        .await
    }

    /// The provider an ARN names (its URL, client ids and thumbprints), for STS's
    /// AssumeRoleWithWebIdentity; `NoSuchEntity` when there is none.
    pub async fn oidc_provider_by_arn(&self, arn: &str) -> StoreResult<OidcProvider> {
        let url = self.provider_url(arn)?;
        let arn = arn.to_owned();
        self.read(move |conn| by_url(conn, &url, &arn)).await
    }

    /// Every provider, by URL.
    pub async fn list_oidc_providers(&self) -> StoreResult<Vec<OidcProvider>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM oidc_providers ORDER BY url"
            ))?;
            let rows = stmt.query_map([], OidcProvider::from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub async fn delete_oidc_provider(&self, arn: String) -> StoreResult<()> {
        let url = self.provider_url(&arn)?;
        self.write(move |conn, _| {
            match conn.execute("DELETE FROM oidc_providers WHERE url = ?1", [&url])? {
                0 => Err(not_found(&arn)),
                _ => Ok(()),
            }
        })
        .await
    }

    /// Changes a provider's lists with `change` (which may refuse), in one write.
    async fn change_oidc_provider(
        &self,
        arn: String,
        change: impl FnOnce(&mut OidcProvider) -> StoreResult<()> + Send + 'static,
    ) -> StoreResult<()> {
        let url = self.provider_url(&arn)?;
        self.write(move |conn, _| {
            let mut provider = by_url(conn, &url, &arn)?;
            change(&mut provider)?;
            conn.execute(
                "UPDATE oidc_providers SET client_ids = ?2, thumbprints = ?3 WHERE url = ?1",
                (
                    &url,
                    json(&provider.client_ids),
                    json(&provider.thumbprints),
                ),
            )?;
            Ok(())
        })
        .await
    }

    /// Adds a client id; one already there is no error (AWS: idempotent).
    pub async fn add_oidc_client_id(&self, arn: String, client_id: String) -> StoreResult<()> {
        self.change_oidc_provider(arn, move |p| {
            if p.client_ids.contains(&client_id) {
                return Ok(());
            }
            if p.client_ids.len() >= MAX_CLIENT_IDS {
                return Err(StoreError::LimitExceeded(format!(
                    "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
                )));
            }
            p.client_ids.push(client_id);
            Ok(())
        })
        .await
    }

    /// Removes a client id; one not there is no error (AWS: idempotent).
    pub async fn remove_oidc_client_id(&self, arn: String, client_id: String) -> StoreResult<()> {
        self.change_oidc_provider(arn, move |p| {
            p.client_ids.retain(|id| *id != client_id);
            Ok(())
        })
        .await
    }

    /// Replaces the thumbprint list.
    pub async fn update_oidc_thumbprints(
        &self,
        arn: String,
        thumbprints: Vec<String>,
    ) -> StoreResult<()> {
        self.change_oidc_provider(arn, move |p| {
            p.thumbprints = thumbprints;
            Ok(())
        })
        .await
    }

    pub async fn tag_oidc_provider(&self, arn: String, tags: Vec<Tag>) -> StoreResult<()> {
        let url = self.provider_url(&arn)?;
        self.write(move |conn, _| {
            by_url(conn, &url, &arn)?;
            put_tags_in(conn, "oidc_provider_tags", "provider_url", &url, &tags)
        })
        .await
    }

    pub async fn untag_oidc_provider(&self, arn: String, keys: Vec<String>) -> StoreResult<()> {
        let url = self.provider_url(&arn)?;
        self.write(move |conn, _| {
            by_url(conn, &url, &arn)?;
            remove_tags_in(conn, "oidc_provider_tags", "provider_url", &url, &keys)
        })
        .await
    }

    pub async fn list_oidc_provider_tags(
        &self,
        arn: String,
        marker: Option<String>,
        max: usize,
    ) -> StoreResult<Page<Tag>> {
        let url = self.provider_url(&arn)?;
        self.read(move |conn| {
            by_url(conn, &url, &arn)?;
            let tags = tags_in(conn, "oidc_provider_tags", "provider_url", &url)?;
            Ok(tag_page(tags, marker.as_deref(), max))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_round_trip() {
        let arn = provider_arn("123456789012", "idp.example.com/tenant");
        assert_eq!(
            arn,
            "arn:aws:iam::123456789012:oidc-provider/idp.example.com/tenant"
        );
        assert_eq!(
            parse_provider_arn("123456789012", &arn),
            Some("idp.example.com/tenant")
        );
        assert_eq!(parse_provider_arn("999999999999", &arn), None);
        assert_eq!(
            parse_provider_arn("123456789012", "arn:aws:iam::123456789012:oidc-provider/"),
            None
        );
        assert_eq!(
            parse_provider_arn("123456789012", "arn:aws:iam::123456789012:role/x"),
            None
        );
    }
}
