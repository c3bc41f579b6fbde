//! Managed policies attached to users and groups through `aws-sdk-iam` against the real
//! binary: AttachUserPolicy, DetachUserPolicy, AttachGroupPolicy, DetachGroupPolicy,
//! ListAttachedUserPolicies, ListAttachedGroupPolicies, ListEntitiesForPolicy, and DeletePolicy
//! while attached.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_AttachUserPolicy.html> (and siblings)

use crate::common;

use aws_sdk_iam::types::EntityType;
use aws_sdk_iam::Client;
use common::{all_pages, allow, error_code, error_code_status, root_iam, start_with_root};

const ACCOUNT: &str = "000000000000";

async fn create(iam: &Client, name: &str, path: &str) -> String {
    let out = iam
        .create_policy()
        .policy_name(name)
        .path(path)
        .policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    out.policy().unwrap().arn().unwrap().to_owned()
}

/// Users or groups, so that one table-driven test covers both kinds of holder.
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

    async fn attach(self, iam: &Client, name: &str, arn: &str) -> Result<(), (String, u16)> {
        match self {
            Holder::User => {
                let call = iam.attach_user_policy().user_name(name).policy_arn(arn);
                call.send()
                    .await
                    .map(drop)
                    .map_err(|e| error_code_status(Err::<(), _>(e)))
            }
            Holder::Group => {
                let call = iam.attach_group_policy().group_name(name).policy_arn(arn);
                call.send()
                    .await
                    .map(drop)
                    .map_err(|e| error_code_status(Err::<(), _>(e)))
            }
        }
    }

    async fn detach(self, iam: &Client, name: &str, arn: &str) -> Result<(), (String, u16)> {
        match self {
            Holder::User => {
                let call = iam.detach_user_policy().user_name(name).policy_arn(arn);
                call.send()
                    .await
                    .map(drop)
                    .map_err(|e| error_code_status(Err::<(), _>(e)))
            }
            Holder::Group => {
                let call = iam.detach_group_policy().group_name(name).policy_arn(arn);
                call.send()
                    .await
                    .map(drop)
                    .map_err(|e| error_code_status(Err::<(), _>(e)))
            }
        }
    }

    /// One page of attached (name, ARN) pairs, with IsTruncated and Marker.
    async fn list_page(
        self,
        iam: &Client,
        name: &str,
        prefix: Option<&str>,
        max: Option<i32>,
        marker: Option<String>,
    ) -> (Vec<(String, String)>, bool, Option<String>) {
        let prefix = prefix.map(str::to_owned);
        let (policies, truncated, next) = match self {
            Holder::User => {
                let out = iam
                    .list_attached_user_policies()
                    .user_name(name)
                    .set_path_prefix(prefix)
                    .set_max_items(max)
                    .set_marker(marker)
                    .send()
                    .await
                    .unwrap();
                let next = out.marker().map(str::to_owned);
                (out.attached_policies().to_vec(), out.is_truncated(), next)
            }
            Holder::Group => {
                let out = iam
                    .list_attached_group_policies()
                    .group_name(name)
                    .set_path_prefix(prefix)
                    .set_max_items(max)
                    .set_marker(marker)
                    .send()
                    .await
                    .unwrap();
                let next = out.marker().map(str::to_owned);
                (out.attached_policies().to_vec(), out.is_truncated(), next)
            }
        };
        let pairs = policies
            .iter()
            .map(|p| {
                let name = p.policy_name().unwrap().to_owned();
                (name, p.policy_arn().unwrap().to_owned())
            })
            .collect();
        (pairs, truncated, next)
    }

    async fn attached(self, iam: &Client, name: &str, prefix: Option<&str>) -> Vec<String> {
        let (pairs, truncated, _) = self.list_page(iam, name, prefix, None, None).await;
        assert!(!truncated);
        pairs.into_iter().map(|(name, _)| name).collect()
    }
}

async fn attachment_count(iam: &Client, arn: &str) -> i32 {
    let out = iam.get_policy().policy_arn(arn).send().await.unwrap();
    out.policy().unwrap().attachment_count().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_is_idempotent_and_detach_needs_an_attachment() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let reader = create(&iam, "Reader", "/").await;
    let writer = create(&iam, "Writer", "/team/").await;

    for holder in [Holder::User, Holder::Group] {
        holder.create(&iam, "h").await;
        let before = attachment_count(&iam, &reader).await;
        holder.attach(&iam, "h", &reader).await.unwrap();
        holder.attach(&iam, "h", &reader).await.unwrap();
        holder.attach(&iam, "h", &writer).await.unwrap();
        assert_eq!(
            attachment_count(&iam, &reader).await,
            before + 1,
            "{holder:?}"
        );
        let (pairs, _, _) = holder.list_page(&iam, "h", None, None, None).await;
        assert_eq!(
            pairs,
            [
                ("Reader".to_owned(), reader.clone()),
                ("Writer".to_owned(), writer.clone()),
            ],
            "{holder:?}"
        );
        let prefixed = holder.attached(&iam, "h", Some("/team/")).await;
        assert_eq!(prefixed, ["Writer"], "{holder:?}");

        holder.detach(&iam, "h", &reader).await.unwrap();
        assert_eq!(holder.attached(&iam, "h", None).await, ["Writer"]);
        assert_eq!(attachment_count(&iam, &reader).await, before);
        let again = holder.detach(&iam, "h", &reader).await;
        assert_eq!(again, Err(("NoSuchEntity".into(), 404)), "{holder:?}");

        let unknown = format!("arn:aws:iam::{ACCOUNT}:policy/Unknown");
        // An AWS managed policy this server does not have.
        let aws_managed = "arn:aws:iam::aws:policy/AmazonEC2FullAccess";
        for arn in [unknown.as_str(), aws_managed] {
            let attach = holder.attach(&iam, "h", arn).await;
            assert_eq!(
                attach,
                Err(("NoSuchEntity".into(), 404)),
                "{holder:?} {arn}"
            );
            let detach = holder.detach(&iam, "h", arn).await;
            assert_eq!(
                detach,
                Err(("NoSuchEntity".into(), 404)),
                "{holder:?} {arn}"
            );
        }
        let nobody = holder.attach(&iam, "nobody", &reader).await;
        assert_eq!(nobody, Err(("NoSuchEntity".into(), 404)), "{holder:?}");
        let nobody = holder.detach(&iam, "nobody", &writer).await;
        assert_eq!(nobody, Err(("NoSuchEntity".into(), 404)), "{holder:?}");
        let short = holder.attach(&iam, "h", "arn:aws:iam::0").await;
        assert_eq!(short, Err(("ValidationError".into(), 400)), "{holder:?}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_ten_managed_policies_per_user_and_per_group() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let mut arns = Vec::new();
    for i in 0..11 {
        arns.push(create(&iam, &format!("p{i:02}"), "/").await);
    }
    for holder in [Holder::User, Holder::Group] {
        holder.create(&iam, "full").await;
        for arn in &arns[..10] {
            holder.attach(&iam, "full", arn).await.unwrap();
        }
        // Attaching one it already has is no new attachment.
        holder.attach(&iam, "full", &arns[4]).await.unwrap();
        let eleventh = holder.attach(&iam, "full", &arns[10]).await;
        assert_eq!(eleventh, Err(("LimitExceeded".into(), 409)), "{holder:?}");
        let names = holder.attached(&iam, "full", None).await;
        assert_eq!(names.len(), 10, "{holder:?}");
        assert!(!names.contains(&"p10".to_owned()), "{holder:?}");
    }
    assert_eq!(attachment_count(&iam, &arns[10]).await, 0);
    assert_eq!(attachment_count(&iam, &arns[0]).await, 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attached_policies_page_through_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let mut expected = Vec::new();
    for i in (0..10).rev() {
        let name = format!("policy{i}");
        let arn = create(&iam, &name, "/").await;
        expected.push((name, arn));
    }
    expected.sort();
    // Attached to someone else only: must not show up.
    create(&iam, "elsewhere", "/").await;
    for holder in [Holder::User, Holder::Group] {
        holder.create(&iam, "h").await;
        for (_, arn) in &expected {
            holder.attach(&iam, "h", arn).await.unwrap();
        }
        let pages = all_pages(10, |marker| {
            let iam = iam.clone();
            async move {
                let (pairs, truncated, next) =
                    holder.list_page(&iam, "h", None, Some(3), marker).await;
                let items = pairs.into_iter().map(|(n, a)| format!("{n} {a}"));
                (items.collect(), truncated, next)
            }
        })
        .await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1], "{holder:?}");
        let all: Vec<String> = expected.iter().map(|(n, a)| format!("{n} {a}")).collect();
        assert_eq!(pages.concat(), all, "{holder:?}");
    }
    server.stop();
}

/// (group names, user names) a policy is attached to.
async fn entities(
    iam: &Client,
    arn: &str,
    filter: Option<&str>,
    prefix: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let out = iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .set_entity_filter(filter.map(EntityType::from))
        .set_path_prefix(prefix.map(str::to_owned))
        .send()
        .await
        .unwrap();
    assert!(!out.is_truncated());
    assert!(out.policy_roles().is_empty());
    let groups = out.policy_groups().iter();
    let users = out.policy_users().iter();
    (
        groups.map(|g| g.group_name().unwrap().to_owned()).collect(),
        users.map(|u| u.user_name().unwrap().to_owned()).collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_entities_for_policy_filters_by_kind_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let arn = create(&iam, "Shared", "/").await;
    let other = create(&iam, "Other", "/").await;
    for (user, path) in [("u-root", "/"), ("u-team", "/team/")] {
        let create = iam.create_user().user_name(user).path(path);
        create.send().await.unwrap();
        Holder::User.attach(&iam, user, &arn).await.unwrap();
    }
    for (group, path) in [("g-root", "/"), ("g-team", "/team/")] {
        let create = iam.create_group().group_name(group).path(path);
        create.send().await.unwrap();
        Holder::Group.attach(&iam, group, &arn).await.unwrap();
    }
    Holder::User.create(&iam, "u-other").await;
    Holder::User.attach(&iam, "u-other", &other).await.unwrap();

    let both_groups = vec!["g-root".to_owned(), "g-team".to_owned()];
    let both_users = vec!["u-root".to_owned(), "u-team".to_owned()];
    let none = Vec::<String>::new();
    let cases = [
        (None, None, (both_groups.clone(), both_users.clone())),
        (Some("User"), None, (none.clone(), both_users.clone())),
        (Some("Group"), None, (both_groups.clone(), none.clone())),
        (Some("Role"), None, (none.clone(), none.clone())),
        (
            None,
            Some("/team/"),
            (vec!["g-team".into()], vec!["u-team".into()]),
        ),
        (
            Some("User"),
            Some("/team/"),
            (none.clone(), vec!["u-team".into()]),
        ),
    ];
    for (filter, prefix, expected) in cases {
        let got = entities(&iam, &arn, filter, prefix).await;
        assert_eq!(got, expected, "{filter:?} {prefix:?}");
    }
    let ids = iam.list_entities_for_policy().policy_arn(&arn).send().await;
    let ids = ids.unwrap();
    for user in ids.policy_users() {
        assert!(user.user_id().unwrap().starts_with("AIDA"));
    }
    for group in ids.policy_groups() {
        assert!(group.group_id().unwrap().starts_with("AGPA"));
    }

    Holder::User.detach(&iam, "u-root", &arn).await.unwrap();
    Holder::Group.detach(&iam, "g-team", &arn).await.unwrap();
    let got = entities(&iam, &arn, None, None).await;
    assert_eq!(got, (vec!["g-root".into()], vec!["u-team".into()]));

    let pages = all_pages(10, |marker| {
        let iam = iam.clone();
        let arn = arn.clone();
        async move {
            let out = iam
                .list_entities_for_policy()
                .policy_arn(arn)
                .max_items(1)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let groups = out.policy_groups().iter().map(|g| g.group_name().unwrap());
            let users = out.policy_users().iter().map(|u| u.user_name().unwrap());
            let items = groups.chain(users).map(str::to_owned).collect();
            (items, out.is_truncated(), out.marker().map(Into::into))
        }
    })
    .await;
    assert_eq!(
        pages,
        [vec!["g-root".to_owned()], vec!["u-team".to_owned()]]
    );

    let unknown = format!("arn:aws:iam::{ACCOUNT}:policy/Unknown");
    let call = iam.list_entities_for_policy().policy_arn(&unknown).send();
    assert_eq!(error_code_status(call.await), ("NoSuchEntity".into(), 404));
    let bad_filter = iam
        .list_entities_for_policy()
        .policy_arn(&arn)
        .entity_filter(EntityType::from("Robot"));
    assert_eq!(error_code(bad_filter.send().await), "ValidationError");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_policy_refuses_while_attached() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let arn = create(&iam, "InUse", "/").await;
    for holder in [Holder::User, Holder::Group] {
        holder.create(&iam, "h").await;
        holder.attach(&iam, "h", &arn).await.unwrap();
        let delete = iam.delete_policy().policy_arn(&arn).send().await;
        assert_eq!(
            error_code_status(delete),
            ("DeleteConflict".into(), 409),
            "{holder:?}"
        );
        holder.detach(&iam, "h", &arn).await.unwrap();
    }
    iam.delete_policy().policy_arn(&arn).send().await.unwrap();
    let gone = iam.get_policy().policy_arn(&arn).send().await;
    assert_eq!(error_code(gone), "NoSuchEntity");
    for holder in [Holder::User, Holder::Group] {
        assert_eq!(holder.attached(&iam, "h", None).await, Vec::<String>::new());
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_paging_survives_a_detach_between_pages() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let arn = create(&iam, "paged", "/").await;
    for user in ["u-a", "u-b", "u-c"] {
        Holder::User.create(&iam, user).await;
        Holder::User.attach(&iam, user, &arn).await.unwrap();
    }
    let page = |marker: Option<String>| {
        iam.list_entities_for_policy()
            .policy_arn(&arn)
            .max_items(1)
            .set_marker(marker)
            .send()
    };
    let first = page(None).await.unwrap();
    let names: Vec<_> = first
        .policy_users()
        .iter()
        .filter_map(|u| u.user_name())
        .collect();
    assert_eq!(names, ["u-a"]);
    // The entity the marker points at goes away before the next page is asked for.
    Holder::User.detach(&iam, "u-a", &arn).await.unwrap();
    let second = page(first.marker().map(Into::into)).await.unwrap();
    let names: Vec<_> = second
        .policy_users()
        .iter()
        .filter_map(|u| u.user_name())
        .collect();
    assert_eq!(names, ["u-b"]);
    server.stop();
}
