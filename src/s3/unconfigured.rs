//! Reads of the bucket sub-resources LabStore does not configure yet (replication, and the
//! analytics, metrics, inventory and intelligent-tiering configurations), answered as S3
//! answers a bucket that never set them: a 404 naming the missing configuration, or an empty list. Their writes answer
//! `NotImplemented` (`router::NOT_IMPLEMENTED`). Every answer needs the bucket to exist.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList>
#![expect(
    clippy::unused_async,
    reason = "handlers share the async signature the operation table dispatches to; these answers come from memory"
)]

use serde::Serialize;

use super::error::{Code, S3Error};
use super::xml::{document_named, Xmlns};
use super::{Ctx, Reply, Req};

/// The bucket exists, and nothing of `code`'s kind is configured on it.
fn not_configured(req: &Req<'_>, code: Code) -> Reply {
    req.found.existing()?;
    Err(code.into())
}

/// GetBucketReplication: `ReplicationConfigurationNotFoundError`.
pub async fn get_bucket_replication(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    not_configured(&req, Code::ReplicationConfigurationNotFoundError)
}

/// An empty page of one of the configuration lists: `IsTruncated` false and no entry.
#[derive(Debug, Serialize)]
struct EmptyList {
    #[serde(rename = "@xmlns")]
    xmlns: Xmlns,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
}

/// An empty list named `root`. No list ever has a page to continue, so a (non-empty)
/// `continuation-token` cannot be one LabStore gave: refused, as S3 refuses a token it did
/// not issue.
fn empty_list(req: &Req<'_>, root: &str) -> Reply {
    req.found.existing()?;
    if req
        .query
        .get("continuation-token")
        .is_some_and(|t| !t.is_empty())
    {
        return Err(S3Error::new(
            Code::InvalidArgument,
            "The continuation token provided is incorrect",
        ));
    }
    document_named(
        root,
        &EmptyList {
            xmlns: Xmlns::default(),
            is_truncated: false,
        },
    )
}

/// The `id` a Get…Configuration names does not exist on any bucket: `NoSuchConfiguration`.
fn no_such_configuration(req: &Req<'_>) -> Reply {
    not_configured(req, Code::NoSuchConfiguration)
}

/// ListBucketAnalyticsConfigurations: none.
pub async fn list_bucket_analytics_configurations(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    empty_list(&req, "ListBucketAnalyticsConfigurationResult")
}

/// ListBucketMetricsConfigurations: none.
pub async fn list_bucket_metrics_configurations(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    empty_list(&req, "ListMetricsConfigurationsResult")
}

/// ListBucketInventoryConfigurations: none.
pub async fn list_bucket_inventory_configurations(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    empty_list(&req, "ListInventoryConfigurationsResult")
}

/// ListBucketIntelligentTieringConfigurations: none.
pub async fn list_bucket_intelligent_tiering_configurations(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    empty_list(&req, "ListBucketIntelligentTieringConfigurationsOutput")
}

/// GetBucketAnalyticsConfiguration (`?analytics&id=…`): no such configuration.
pub async fn get_bucket_analytics_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    no_such_configuration(&req)
}

/// GetBucketMetricsConfiguration (`?metrics&id=…`): no such configuration.
pub async fn get_bucket_metrics_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    no_such_configuration(&req)
}

/// GetBucketInventoryConfiguration (`?inventory&id=…`): no such configuration.
pub async fn get_bucket_inventory_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    no_such_configuration(&req)
}

/// GetBucketIntelligentTieringConfiguration (`?intelligent-tiering&id=…`): no such
/// configuration.
pub async fn get_bucket_intelligent_tiering_configuration(_ctx: &Ctx<'_>, req: Req<'_>) -> Reply {
    no_such_configuration(&req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::xml::{assert_documented, to_xml};

    /// AWS's ListBucketAnalyticsConfigurations example, less its entries: the page of a bucket
    /// without any. The other three lists have the same shape under their own root.
    /// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketAnalyticsConfigurations.html>
    #[test]
    fn empty_configuration_lists_answer_as_documented() {
        let doc = EmptyList {
            xmlns: Xmlns::default(),
            is_truncated: false,
        };
        assert_documented(
            &to_xml(Some("ListBucketAnalyticsConfigurationResult"), &doc).unwrap(),
            r#"<?xml version="1.0" encoding="UTF-8"?>
            <ListBucketAnalyticsConfigurationResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <IsTruncated>false</IsTruncated>
            </ListBucketAnalyticsConfigurationResult>"#,
        );
    }
}
