//! IAM users through `aws-sdk-iam` against the server: CreateUser, GetUser, ListUsers,
//! UpdateUser, DeleteUser, with their documented errors. Tags are in `iam_user_tags.rs`.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html> (and siblings)

use crate::common;

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use common::{
    all_pages, allow, error_code, error_code_status, iam_client, root_iam, start_with_root,
};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build().unwrap()
}

/// The keys of `user`'s tags.
async fn tag_keys(iam: &Client, user: &str) -> Vec<String> {
    let out = iam.list_user_tags().user_name(user).send().await.unwrap();
    out.tags().iter().map(|t| t.key().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_user_without_a_name_describes_the_root_caller() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let me = iam.get_user().send().await.unwrap();
    let me = me.user().unwrap();
    assert_eq!(me.arn(), "arn:aws:iam::000000000000:root");
    assert_eq!(me.user_id(), "000000000000");

    let (code, status) = error_code_status(iam.get_user().user_name("ghost").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_filters_by_path_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    for (name, path) in [
        ("dave", "/other/"),
        ("carol", "/team/sub/"),
        ("bob", "/team/"),
        ("alice", "/"),
    ] {
        iam.create_user()
            .user_name(name)
            .path(path)
            .send()
            .await
            .unwrap();
    }
    let cases: [(Option<&str>, &[&str]); 6] = [
        (None, &["alice", "bob", "carol", "dave"]),
        (Some("/"), &["alice", "bob", "carol", "dave"]),
        (Some("/team/"), &["bob", "carol"]),
        (Some("/team/sub/"), &["carol"]),
        (Some("/te"), &["bob", "carol"]),
        (Some("/nowhere/"), &[]),
    ];
    for (prefix, expected) in cases {
        let out = iam
            .list_users()
            .set_path_prefix(prefix.map(str::to_owned))
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = out.users().iter().map(|u| u.user_name()).collect();
        assert_eq!(names, expected, "{prefix:?}");
        assert!(!out.is_truncated());
        for user in out.users() {
            assert_eq!(
                user.arn(),
                format!(
                    "arn:aws:iam::000000000000:user{}{}",
                    user.path(),
                    user.user_name()
                )
            );
        }
    }
    let bad = iam.list_users().path_prefix("team/");
    assert_eq!(error_code(bad.send().await), "ValidationError");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_pages_cover_every_user_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let mut expected: Vec<String> = (0..23).map(|i| format!("user{i:02}")).collect();
    // Created out of order, so that a listing in insertion order would fail.
    for name in expected.iter().rev() {
        iam.create_user().user_name(name).send().await.unwrap();
    }
    expected.sort();

    let pages = all_pages(10, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .list_users()
                .max_items(5)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let names = out.users().iter().map(|u| u.user_name().to_owned());
            (
                names.collect(),
                out.is_truncated(),
                out.marker().map(Into::into),
            )
        }
    })
    .await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [5, 5, 5, 5, 3]);
    assert_eq!(pages.concat(), expected);

    // A page exactly as large as what is left is not truncated.
    let exact = iam.list_users().max_items(23).send().await.unwrap();
    assert_eq!(exact.users().len(), 23);
    assert!(!exact.is_truncated());
    assert_eq!(exact.marker(), None);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_user_renames_and_moves_keeping_keys_groups_and_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let user = iam
        .create_user()
        .user_name("old")
        .path("/a/")
        .send()
        .await
        .unwrap();
    let id = user.user().unwrap().user_id().to_owned();
    let key = iam
        .create_access_key()
        .user_name("old")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    iam.create_group().group_name("g").send().await.unwrap();
    let add = iam.add_user_to_group().group_name("g").user_name("old");
    add.send().await.unwrap();
    let policy = iam
        .create_policy()
        .policy_name("managed")
        .policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();
    let attach = iam.attach_user_policy().user_name("old").policy_arn(&arn);
    attach.send().await.unwrap();
    iam.put_user_policy()
        .user_name("old")
        .policy_name("inline")
        .policy_document(allow("s3:ListBucket"))
        .send()
        .await
        .unwrap();

    iam.update_user()
        .user_name("old")
        .new_user_name("new")
        .new_path("/b/")
        .send()
        .await
        .unwrap();

    let gone = iam.get_user().user_name("old").send().await;
    assert_eq!(error_code(gone), "NoSuchEntity");
    let got = iam.get_user().user_name("new").send().await.unwrap();
    let got = got.user().unwrap();
    assert_eq!(got.user_id(), id);
    assert_eq!(got.path(), "/b/");
    assert_eq!(got.arn(), "arn:aws:iam::000000000000:user/b/new");

    let keys = iam
        .list_access_keys()
        .user_name("new")
        .send()
        .await
        .unwrap();
    let listed: Vec<_> = keys
        .access_key_metadata()
        .iter()
        .map(|k| (k.access_key_id().unwrap(), k.user_name().unwrap()))
        .collect();
    assert_eq!(listed, [(key.access_key_id(), "new")]);
    // The key still authenticates, now as the renamed user: refused by policy (AccessDenied),
    // not as an unknown key (InvalidClientTokenId).
    let as_user = iam_client(server.iam, key.access_key_id(), key.secret_access_key());
    let denied = as_user.list_users().send().await.unwrap_err();
    let denied = denied.into_service_error();
    assert_eq!(denied.meta().code(), Some("AccessDenied"));
    let message = denied.meta().message().unwrap_or_default();
    assert!(message.contains("user/b/new"), "{message}");

    let groups = iam.list_groups_for_user().user_name("new").send().await;
    let groups = groups.unwrap();
    let names: Vec<&str> = groups.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(names, ["g"]);
    let members = iam.get_group().group_name("g").send().await.unwrap();
    let names: Vec<&str> = members.users().iter().map(|u| u.user_name()).collect();
    assert_eq!(names, ["new"]);
    let attached = iam.list_attached_user_policies().user_name("new").send();
    let attached = attached.await.unwrap();
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap())
        .collect();
    assert_eq!(arns, [arn.as_str()]);
    let inline = iam.list_user_policies().user_name("new").send().await;
    assert_eq!(inline.unwrap().policy_names(), ["inline"]);

    // Only the path, then only the name.
    let mv = iam.update_user().user_name("new").new_path("/c/");
    mv.send().await.unwrap();
    let rename = iam.update_user().user_name("new").new_user_name("newer");
    rename.send().await.unwrap();
    let got = iam.get_user().user_name("newer").send().await.unwrap();
    assert_eq!(
        got.user().unwrap().arn(),
        "arn:aws:iam::000000000000:user/c/newer"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_user_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    for name in ["ann", "ben"] {
        iam.create_user().user_name(name).send().await.unwrap();
    }
    let cases = [
        ("ann", Some("ben"), None, ("EntityAlreadyExists", 409)),
        ("ann", Some("BEN"), None, ("EntityAlreadyExists", 409)),
        ("nobody", Some("x"), None, ("NoSuchEntity", 404)),
        ("ann", Some("has space"), None, ("ValidationError", 400)),
        (
            "ann",
            None,
            Some("/no-trailing-slash"),
            ("ValidationError", 400),
        ),
    ];
    for (name, new_name, new_path, (code, status)) in cases {
        let call = iam
            .update_user()
            .user_name(name)
            .set_new_user_name(new_name.map(str::to_owned))
            .set_new_path(new_path.map(str::to_owned));
        let got = error_code_status(call.send().await);
        assert_eq!(
            got,
            (code.to_owned(), status),
            "{name} {new_name:?} {new_path:?}"
        );
    }
    // Nothing moved.
    let users = iam.list_users().send().await.unwrap();
    let names: Vec<(&str, &str)> = users
        .users()
        .iter()
        .map(|u| (u.user_name(), u.path()))
        .collect();
    assert_eq!(names, [("ann", "/"), ("ben", "/")]);
    server.stop();
}

/// Something a user can hold that AWS makes you remove before DeleteUser.
#[derive(Debug, Clone, Copy)]
enum Holding {
    AccessKey,
    GroupMembership,
    AttachedPolicy,
    InlinePolicy,
}

async fn give(iam: &Client, user: &str, holding: Holding, policy_arn: &str) -> Option<String> {
    match holding {
        Holding::AccessKey => {
            let key = iam
                .create_access_key()
                .user_name(user)
                .send()
                .await
                .unwrap();
            return Some(key.access_key().unwrap().access_key_id().to_owned());
        }
        Holding::GroupMembership => {
            let add = iam.add_user_to_group().group_name("g").user_name(user);
            add.send().await.unwrap();
        }
        Holding::AttachedPolicy => {
            let attach = iam.attach_user_policy().user_name(user);
            attach.policy_arn(policy_arn).send().await.unwrap();
        }
        Holding::InlinePolicy => {
            let put = iam.put_user_policy().user_name(user).policy_name("p");
            put.policy_document(allow("s3:*")).send().await.unwrap();
        }
    }
    None
}

async fn take_back(iam: &Client, user: &str, holding: Holding, arn: &str, key: Option<String>) {
    match holding {
        Holding::AccessKey => {
            let delete = iam.delete_access_key().user_name(user);
            delete.set_access_key_id(key).send().await.unwrap();
        }
        Holding::GroupMembership => {
            let remove = iam.remove_user_from_group().group_name("g");
            remove.user_name(user).send().await.unwrap();
        }
        Holding::AttachedPolicy => {
            let detach = iam.detach_user_policy().user_name(user).policy_arn(arn);
            detach.send().await.unwrap();
        }
        Holding::InlinePolicy => {
            let delete = iam.delete_user_policy().user_name(user).policy_name("p");
            delete.send().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user_refuses_while_it_holds_keys_groups_or_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_group().group_name("g").send().await.unwrap();
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(allow("s3:*"))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();

    for holding in [
        Holding::AccessKey,
        Holding::GroupMembership,
        Holding::AttachedPolicy,
        Holding::InlinePolicy,
    ] {
        let create = iam.create_user().user_name("u").tags(tag("k", "v"));
        create.send().await.unwrap();
        let key = give(&iam, "u", holding, &arn).await;
        let refused = iam.delete_user().user_name("u").send().await;
        assert_eq!(
            error_code_status(refused),
            ("DeleteConflict".into(), 409),
            "{holding:?}"
        );
        assert!(iam.get_user().user_name("u").send().await.is_ok());
        take_back(&iam, "u", holding, &arn, key).await;
        iam.delete_user().user_name("u").send().await.unwrap();
        let gone = iam.get_user().user_name("u").send().await;
        assert_eq!(error_code(gone), "NoSuchEntity", "{holding:?}");
    }
    // A user created again under a deleted name starts without the old one's tags.
    iam.create_user().user_name("u").send().await.unwrap();
    assert_eq!(tag_keys(&iam, "u").await, Vec::<String>::new());

    let (code, status) = error_code_status(iam.delete_user().user_name("u2").send().await);
    assert_eq!((code.as_str(), status), ("NoSuchEntity", 404));
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_names_are_unique_regardless_of_case_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("Bob").send().await.unwrap();
    for duplicate in ["Bob", "bob", "BOB"] {
        let again = iam.create_user().user_name(duplicate).path("/other/");
        assert_eq!(
            error_code_status(again.send().await),
            ("EntityAlreadyExists".into(), 409),
            "{duplicate}"
        );
    }

    let longest = "x".repeat(64);
    for ok in [longest.as_str(), "a+=,.@_-9"] {
        iam.create_user().user_name(ok).send().await.unwrap();
    }
    let too_long = "y".repeat(65);
    let bad_names = ["has space", too_long.as_str(), "slash/name", "é", ""];
    for bad in bad_names {
        let call = iam.create_user().user_name(bad);
        assert_eq!(
            error_code_status(call.send().await),
            ("ValidationError".into(), 400),
            "{bad:?}"
        );
    }
    let long_path = format!("/{}/", "p".repeat(511));
    for bad in ["a/", "/a", "/a b/", "", long_path.as_str()] {
        let call = iam.create_user().user_name("pathy").path(bad);
        assert_eq!(
            error_code_status(call.send().await),
            ("ValidationError".into(), 400),
            "{bad:?}"
        );
    }
    let users = iam.list_users().send().await.unwrap();
    let mut names: Vec<&str> = users.users().iter().map(|u| u.user_name()).collect();
    names.sort_unstable();
    let mut expected = vec!["Bob", "a+=,.@_-9", longest.as_str()];
    expected.sort_unstable();
    assert_eq!(names, expected);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_leave_exactly_one_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    // The same name in different cases, all at once: one wins, the rest are told it exists
    // (never a 5xx, which SDKs would retry).
    let names = [
        "racer", "RACER", "Racer", "rAcEr", "racer", "raceR", "RACEr", "racer",
    ];
    let tasks: Vec<_> = names
        .iter()
        .map(|name| {
            let call = iam.create_user().user_name(*name).path("/race/");
            tokio::spawn(async move { call.send().await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(e) => assert_eq!(
                error_code_status(Err::<(), _>(e)),
                ("EntityAlreadyExists".into(), 409)
            ),
        }
    }
    assert_eq!(created, 1);
    let listed = iam.list_users().send().await.unwrap();
    assert_eq!(listed.users().len(), 1);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_with_xml_special_characters_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let path = "/a&b/<c>/'d\"/~!*/";
    let created = iam.create_user().user_name("odd").path(path).send().await;
    assert_eq!(created.unwrap().user().unwrap().path(), path);
    let got = iam.get_user().user_name("odd").send().await.unwrap();
    let got = got.user().unwrap();
    assert_eq!(got.path(), path);
    assert_eq!(
        got.arn(),
        format!("arn:aws:iam::000000000000:user{path}odd")
    );
    let listed = iam.list_users().path_prefix("/a&b/<").send().await.unwrap();
    let paths: Vec<&str> = listed.users().iter().map(|u| u.path()).collect();
    assert_eq!(paths, [path]);
    server.stop();
}
