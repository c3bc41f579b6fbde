//! Inline policies through `aws-sdk-iam` against the server: PutUserPolicy,
//! GetUserPolicy, ListUserPolicies, DeleteUserPolicy and their group counterparts, with the
//! per-user (2048) and per-group (5120) size quotas.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutUserPolicy.html> (and siblings)

use crate::common;

use aws_sdk_iam::Client;
use common::{all_pages, allow, document_of_size, error_code_status, root_iam, start_with_root};

type Failure = (String, u16);

fn failure<E: aws_sdk_iam::error::ProvideErrorMetadata + std::fmt::Debug>(
    e: aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
) -> Failure {
    error_code_status(Err::<(), _>(e))
}

/// Users or groups: the same four actions exist for each.
#[derive(Debug, Clone, Copy)]
enum Holder {
    User,
    Group,
}

impl Holder {
    async fn create(self, iam: &Client, name: &str) {
        match self {
            Holder::User => drop(iam.create_user().user_name(name).send().await.unwrap()),
            Holder::Group => drop(iam.create_group().group_name(name).send().await.unwrap()),
        }
    }

    async fn put(self, iam: &Client, owner: &str, name: &str, doc: &str) -> Result<(), Failure> {
        match self {
            Holder::User => iam
                .put_user_policy()
                .user_name(owner)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(drop)
                .map_err(failure),
            Holder::Group => iam
                .put_group_policy()
                .group_name(owner)
                .policy_name(name)
                .policy_document(doc)
                .send()
                .await
                .map(drop)
                .map_err(failure),
        }
    }

    /// The document, percent-decoded, after checking the names the response echoes.
    async fn get(self, iam: &Client, owner: &str, name: &str) -> Result<String, Failure> {
        let (echoed_owner, echoed_name, encoded) = match self {
            Holder::User => {
                let call = iam.get_user_policy().user_name(owner).policy_name(name);
                let out = call.send().await.map_err(failure)?;
                let names = (out.user_name().to_owned(), out.policy_name().to_owned());
                (names.0, names.1, out.policy_document().to_owned())
            }
            Holder::Group => {
                let call = iam.get_group_policy().group_name(owner).policy_name(name);
                let out = call.send().await.map_err(failure)?;
                let names = (out.group_name().to_owned(), out.policy_name().to_owned());
                (names.0, names.1, out.policy_document().to_owned())
            }
        };
        assert_eq!((echoed_owner.as_str(), echoed_name.as_str()), (owner, name));
        let text = percent_encoding::percent_decode_str(&encoded).decode_utf8();
        Ok(text.unwrap().into_owned())
    }

    async fn list_page(
        self,
        iam: &Client,
        owner: &str,
        max: Option<i32>,
        marker: Option<String>,
    ) -> Result<(Vec<String>, bool, Option<String>), Failure> {
        match self {
            Holder::User => {
                let call = iam.list_user_policies().user_name(owner);
                let call = call.set_max_items(max).set_marker(marker);
                let out = call.send().await.map_err(failure)?;
                let next = out.marker().map(str::to_owned);
                Ok((out.policy_names().to_vec(), out.is_truncated(), next))
            }
            Holder::Group => {
                let call = iam.list_group_policies().group_name(owner);
                let call = call.set_max_items(max).set_marker(marker);
                let out = call.send().await.map_err(failure)?;
                let next = out.marker().map(str::to_owned);
                Ok((out.policy_names().to_vec(), out.is_truncated(), next))
            }
        }
    }

    async fn list(self, iam: &Client, owner: &str) -> Vec<String> {
        let (names, truncated, _) = self.list_page(iam, owner, None, None).await.unwrap();
        assert!(!truncated);
        names
    }

    async fn delete(self, iam: &Client, owner: &str, name: &str) -> Result<(), Failure> {
        match self {
            Holder::User => {
                let call = iam.delete_user_policy().user_name(owner).policy_name(name);
                call.send().await.map(drop).map_err(failure)
            }
            Holder::Group => {
                let call = iam
                    .delete_group_policy()
                    .group_name(owner)
                    .policy_name(name);
                call.send().await.map(drop).map_err(failure)
            }
        }
    }
}

const BOTH: [Holder; 2] = [Holder::User, Holder::Group];

fn not_found() -> Result<(), Failure> {
    Err(("NoSuchEntity".into(), 404))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_list_replace_and_delete_inline_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    // Whitespace and characters that need escaping must come back exactly.
    let read = "{ \"Version\": \"2012-10-17\",\n \"Statement\": { \"Effect\": \"Allow\", \
                \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::b/a+b c&d=e/*\" } }";
    let write = allow("s3:PutObject");
    for holder in BOTH {
        holder.create(&iam, "owner").await;
        holder.put(&iam, "owner", "read", read).await.unwrap();
        holder.put(&iam, "owner", "write", &write).await.unwrap();
        assert_eq!(holder.get(&iam, "owner", "read").await.unwrap(), read);
        assert_eq!(holder.get(&iam, "owner", "write").await.unwrap(), write);
        assert_eq!(holder.list(&iam, "owner").await, ["read", "write"]);

        // Putting under an existing name replaces the document.
        let replaced = allow("s3:DeleteObject");
        holder.put(&iam, "owner", "write", &replaced).await.unwrap();
        assert_eq!(holder.get(&iam, "owner", "write").await.unwrap(), replaced);
        assert_eq!(holder.list(&iam, "owner").await, ["read", "write"]);

        holder.delete(&iam, "owner", "read").await.unwrap();
        assert_eq!(holder.list(&iam, "owner").await, ["write"]);
        let gone = holder.get(&iam, "owner", "read").await.map(drop);
        assert_eq!(gone, not_found(), "{holder:?}");
        let again = holder.delete(&iam, "owner", "read").await;
        assert_eq!(again, not_found(), "{holder:?}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_policy_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let doc = allow("s3:GetObject");
    for holder in BOTH {
        holder.create(&iam, "owner").await;
        let missing_owner = [
            holder.put(&iam, "nobody", "p", &doc).await,
            holder.get(&iam, "nobody", "p").await.map(drop),
            holder.list_page(&iam, "nobody", None, None).await.map(drop),
            holder.delete(&iam, "nobody", "p").await,
        ];
        for got in missing_owner {
            assert_eq!(got, not_found(), "{holder:?}");
        }
        let cases = [
            ("bad name", doc.clone(), "ValidationError", 400),
            ("p", "not json".to_owned(), "MalformedPolicyDocument", 400),
            (
                "p",
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}"#
                    .to_owned(),
                "MalformedPolicyDocument",
                400,
            ),
            (
                "p",
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}}"#
                    .to_owned(),
                "MalformedPolicyDocument",
                400,
            ),
        ];
        for (name, document, code, status) in cases {
            let got = holder.put(&iam, "owner", name, &document).await;
            assert_eq!(got, Err((code.into(), status)), "{holder:?} {document}");
        }
        assert_eq!(holder.list(&iam, "owner").await, Vec::<String>::new());
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inline_total_of_a_user_or_group_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    for (holder, quota) in [(Holder::User, 2048), (Holder::Group, 5120)] {
        holder.create(&iam, "capped").await;
        let first = document_of_size(1000);
        holder.put(&iam, "capped", "first", &first).await.unwrap();
        // Exactly at the quota (whitespace is not counted).
        let rest = document_of_size(quota - 1000);
        holder.put(&iam, "capped", "second", &rest).await.unwrap();
        let small = document_of_size(200);
        let over = holder.put(&iam, "capped", "third", &small).await;
        assert_eq!(over, Err(("LimitExceeded".into(), 409)), "{holder:?}");
        assert_eq!(holder.list(&iam, "capped").await, ["first", "second"]);

        // Replacing counts the new document instead of the old one, not on top of it.
        let same_size = document_of_size(quota - 1000).replace("aaaa", "bbbb");
        holder
            .put(&iam, "capped", "second", &same_size)
            .await
            .unwrap();
        let bigger = document_of_size(quota - 999);
        let over = holder.put(&iam, "capped", "second", &bigger).await;
        assert_eq!(over, Err(("LimitExceeded".into(), 409)), "{holder:?}");
        // The refused replacement left the stored document alone.
        let stored = holder.get(&iam, "capped", "second").await.unwrap();
        assert_eq!(stored, same_size, "{holder:?}");

        holder.delete(&iam, "capped", "first").await.unwrap();
        holder.put(&iam, "capped", "third", &small).await.unwrap();
    }
    // The quotas are per principal: another user starts from zero.
    Holder::User.create(&iam, "fresh").await;
    let big = document_of_size(2048);
    Holder::User.put(&iam, "fresh", "big", &big).await.unwrap();
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_policy_names_page_through_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let names: Vec<String> = (0..11).map(|i| format!("inline{i:02}")).collect();
    for holder in BOTH {
        holder.create(&iam, "many").await;
        for name in names.iter().rev() {
            let doc = allow("s3:GetObject");
            holder.put(&iam, "many", name, &doc).await.unwrap();
        }
        let pages = all_pages(10, |marker| {
            let iam = iam.clone();
            async move {
                let page = holder.list_page(&iam, "many", Some(4), marker).await;
                page.unwrap()
            }
        })
        .await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [4, 4, 3], "{holder:?}");
        assert_eq!(pages.concat(), names, "{holder:?}");
    }
    server.stop();
}
