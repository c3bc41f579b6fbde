//! IAM groups through `aws-sdk-iam` against the server: CreateGroup, GetGroup, ListGroups,
//! ListGroupsForUser, UpdateGroup, DeleteGroup, AddUserToGroup, RemoveUserFromGroup.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateGroup.html> (and siblings)

use crate::common;

use aws_sdk_iam::Client;
use common::{all_pages, allow, error_code, error_code_status, root_iam, start_with_root};

async fn members(iam: &Client, group: &str) -> Vec<String> {
    let out = iam.get_group().group_name(group).send().await.unwrap();
    assert!(!out.is_truncated());
    let names = out.users().iter().map(|u| u.user_name().to_owned());
    names.collect()
}

async fn groups_of(iam: &Client, user: &str) -> Vec<String> {
    let out = iam.list_groups_for_user().user_name(user).send().await;
    let out = out.unwrap();
    assert!(!out.is_truncated());
    let names = out.groups().iter().map(|g| g.group_name().to_owned());
    names.collect()
}

async fn add(iam: &Client, group: &str, user: &str) {
    let call = iam.add_user_to_group().group_name(group).user_name(user);
    call.send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_and_list_groups_with_members() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);

    let created = iam
        .create_group()
        .group_name("devs")
        .path("/eng/")
        .send()
        .await
        .unwrap();
    let group = created.group().unwrap();
    assert_eq!(group.group_name(), "devs");
    assert_eq!(group.path(), "/eng/");
    assert_eq!(group.arn(), "arn:aws:iam::000000000000:group/eng/devs");
    let id = group.group_id().to_owned();
    assert!(id.starts_with("AGPA") && id.len() == 21, "{id}");
    iam.create_group().group_name("ops").send().await.unwrap();
    for user in ["zed", "amy", "kim"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    for user in ["zed", "amy"] {
        add(&iam, "devs", user).await;
    }
    add(&iam, "ops", "amy").await;

    let got = iam.get_group().group_name("devs").send().await.unwrap();
    let group = got.group().unwrap();
    assert_eq!(group.group_id(), id);
    assert_eq!(group.arn(), "arn:aws:iam::000000000000:group/eng/devs");
    let users: Vec<(&str, &str)> = got
        .users()
        .iter()
        .map(|u| (u.user_name(), u.arn()))
        .collect();
    assert_eq!(
        users,
        [
            ("amy", "arn:aws:iam::000000000000:user/amy"),
            ("zed", "arn:aws:iam::000000000000:user/zed"),
        ]
    );
    assert_eq!(members(&iam, "ops").await, ["amy"]);

    let cases: [(Option<&str>, &[&str]); 4] = [
        (None, &["devs", "ops"]),
        (Some("/eng/"), &["devs"]),
        (Some("/e"), &["devs"]),
        (Some("/none/"), &[]),
    ];
    for (prefix, expected) in cases {
        let out = iam
            .list_groups()
            .set_path_prefix(prefix.map(str::to_owned))
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = out.groups().iter().map(|g| g.group_name()).collect();
        assert_eq!(names, expected, "{prefix:?}");
    }

    assert_eq!(groups_of(&iam, "amy").await, ["devs", "ops"]);
    assert_eq!(groups_of(&iam, "zed").await, ["devs"]);
    assert_eq!(groups_of(&iam, "kim").await, Vec::<String>::new());

    let missing = [
        error_code_status(iam.get_group().group_name("nope").send().await),
        error_code_status(iam.list_groups_for_user().user_name("nope").send().await),
    ];
    for got in missing {
        assert_eq!(got, ("NoSuchEntity".into(), 404));
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_a_member_twice_changes_nothing_and_removing_it_works_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_group().group_name("g").send().await.unwrap();
    iam.create_user().user_name("u").send().await.unwrap();

    add(&iam, "g", "u").await;
    add(&iam, "g", "u").await;
    assert_eq!(members(&iam, "g").await, ["u"]);
    assert_eq!(groups_of(&iam, "u").await, ["g"]);

    let remove = iam.remove_user_from_group().group_name("g").user_name("u");
    remove.clone().send().await.unwrap();
    assert_eq!(members(&iam, "g").await, Vec::<String>::new());
    assert_eq!(groups_of(&iam, "u").await, Vec::<String>::new());
    assert_eq!(
        error_code_status(remove.send().await),
        ("NoSuchEntity".into(), 404)
    );

    let cases = [("nope", "u"), ("g", "nope")];
    for (group, user) in cases {
        let add = iam.add_user_to_group().group_name(group).user_name(user);
        assert_eq!(
            error_code_status(add.send().await),
            ("NoSuchEntity".into(), 404)
        );
        let remove = iam.remove_user_from_group().group_name(group);
        let remove = remove.user_name(user).send().await;
        assert_eq!(error_code(remove), "NoSuchEntity", "{group} {user}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_may_belong_to_ten_groups_not_eleven() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_user().user_name("busy").send().await.unwrap();
    let names: Vec<String> = (0..11).map(|i| format!("g{i:02}")).collect();
    for name in &names {
        iam.create_group().group_name(name).send().await.unwrap();
    }
    for name in &names[..10] {
        add(&iam, name, "busy").await;
    }
    // Adding again to a group it is in is no new membership.
    add(&iam, "g03", "busy").await;
    let eleventh = iam
        .add_user_to_group()
        .group_name("g10")
        .user_name("busy")
        .send()
        .await;
    assert_eq!(error_code_status(eleventh), ("LimitExceeded".into(), 409));
    assert_eq!(groups_of(&iam, "busy").await, names[..10]);
    assert_eq!(members(&iam, "g10").await, Vec::<String>::new());

    // ListGroupsForUser pages too.
    let pages = all_pages(10, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .list_groups_for_user()
                .user_name("busy")
                .max_items(3)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let names = out.groups().iter().map(|g| g.group_name().to_owned());
            (
                names.collect(),
                out.is_truncated(),
                out.marker().map(Into::into),
            )
        }
    })
    .await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 3, 1]);
    assert_eq!(pages.concat(), names[..10]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_group_renames_and_moves_keeping_members_and_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let created = iam.create_group().group_name("old").send().await.unwrap();
    let id = created.group().unwrap().group_id().to_owned();
    iam.create_group().group_name("taken").send().await.unwrap();
    iam.create_user().user_name("u").send().await.unwrap();
    add(&iam, "old", "u").await;
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(allow("s3:*"))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();
    let attach = iam.attach_group_policy().group_name("old").policy_arn(&arn);
    attach.send().await.unwrap();
    iam.put_group_policy()
        .group_name("old")
        .policy_name("inline")
        .policy_document(allow("s3:GetObject"))
        .send()
        .await
        .unwrap();

    iam.update_group()
        .group_name("old")
        .new_group_name("new")
        .new_path("/moved/")
        .send()
        .await
        .unwrap();
    let gone = iam.get_group().group_name("old").send().await;
    assert_eq!(error_code(gone), "NoSuchEntity");
    let got = iam.get_group().group_name("new").send().await.unwrap();
    let group = got.group().unwrap();
    assert_eq!(group.group_id(), id);
    assert_eq!(group.arn(), "arn:aws:iam::000000000000:group/moved/new");
    assert_eq!(members(&iam, "new").await, ["u"]);
    assert_eq!(groups_of(&iam, "u").await, ["new"]);
    let attached = iam.list_attached_group_policies().group_name("new");
    let attached = attached.send().await.unwrap();
    let arns: Vec<_> = attached
        .attached_policies()
        .iter()
        .map(|p| p.policy_arn().unwrap())
        .collect();
    assert_eq!(arns, [arn.as_str()]);
    let inline = iam.list_group_policies().group_name("new").send().await;
    assert_eq!(inline.unwrap().policy_names(), ["inline"]);

    let cases = [
        ("new", Some("taken"), None, ("EntityAlreadyExists", 409)),
        ("new", Some("TAKEN"), None, ("EntityAlreadyExists", 409)),
        ("nope", Some("x"), None, ("NoSuchEntity", 404)),
        ("new", Some("bad name"), None, ("ValidationError", 400)),
        ("new", None, Some("moved"), ("ValidationError", 400)),
    ];
    for (name, new_name, new_path, (code, status)) in cases {
        let call = iam
            .update_group()
            .group_name(name)
            .set_new_group_name(new_name.map(str::to_owned))
            .set_new_path(new_path.map(str::to_owned));
        let got = error_code_status(call.send().await);
        assert_eq!(got, (code.to_owned(), status), "{name} {new_name:?}");
    }
    let all = iam.list_groups().send().await.unwrap();
    let all: Vec<(&str, &str)> = all
        .groups()
        .iter()
        .map(|g| (g.group_name(), g.path()))
        .collect();
    assert_eq!(all, [("new", "/moved/"), ("taken", "/")]);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_group_refuses_while_it_has_members_or_policies() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_group().group_name("g").send().await.unwrap();
    iam.create_user().user_name("u").send().await.unwrap();
    let policy = iam
        .create_policy()
        .policy_name("p")
        .policy_document(allow("s3:*"))
        .send()
        .await
        .unwrap();
    let arn = policy.policy().unwrap().arn().unwrap().to_owned();

    add(&iam, "g", "u").await;
    let attach = iam.attach_group_policy().group_name("g").policy_arn(&arn);
    attach.send().await.unwrap();
    let put = iam.put_group_policy().group_name("g").policy_name("i");
    put.policy_document(allow("s3:*")).send().await.unwrap();

    // Each obstacle removed in turn; the delete is refused until none is left.
    let delete = iam.delete_group().group_name("g");
    assert_eq!(
        error_code_status(delete.clone().send().await),
        ("DeleteConflict".into(), 409)
    );
    let remove = iam.remove_user_from_group().group_name("g").user_name("u");
    remove.send().await.unwrap();
    assert_eq!(error_code(delete.clone().send().await), "DeleteConflict");
    let detach = iam.detach_group_policy().group_name("g").policy_arn(&arn);
    detach.send().await.unwrap();
    assert_eq!(error_code(delete.clone().send().await), "DeleteConflict");
    let drop_inline = iam.delete_group_policy().group_name("g").policy_name("i");
    drop_inline.send().await.unwrap();
    delete.clone().send().await.unwrap();

    assert_eq!(
        error_code_status(iam.get_group().group_name("g").send().await),
        ("NoSuchEntity".into(), 404)
    );
    assert_eq!(
        error_code_status(delete.send().await),
        ("NoSuchEntity".into(), 404)
    );
    // The name is free again, and the new group starts empty.
    iam.create_group().group_name("g").send().await.unwrap();
    assert_eq!(members(&iam, "g").await, Vec::<String>::new());
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_names_are_unique_regardless_of_case_and_validated() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    iam.create_group()
        .group_name("Admins")
        .send()
        .await
        .unwrap();
    for duplicate in ["Admins", "admins", "ADMINS"] {
        let again = iam.create_group().group_name(duplicate).path("/x/");
        assert_eq!(
            error_code_status(again.send().await),
            ("EntityAlreadyExists".into(), 409),
            "{duplicate}"
        );
    }
    let longest = "g".repeat(128);
    iam.create_group()
        .group_name(&longest)
        .send()
        .await
        .unwrap();
    let too_long = "h".repeat(129);
    for bad in ["has space", too_long.as_str(), "a/b", ""] {
        let call = iam.create_group().group_name(bad);
        assert_eq!(
            error_code_status(call.send().await),
            ("ValidationError".into(), 400),
            "{bad:?}"
        );
    }
    for bad in ["a/", "/a", "/a b/"] {
        let call = iam.create_group().group_name("pathy").path(bad);
        assert_eq!(error_code(call.send().await), "ValidationError", "{bad:?}");
    }
    let all = iam.list_groups().send().await.unwrap();
    assert_eq!(all.groups().len(), 2);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_groups_and_group_members_page_through_everything_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_root(dir.path());
    let iam = root_iam(&server);
    let groups: Vec<String> = (0..12).map(|i| format!("group{i:02}")).collect();
    for name in groups.iter().rev() {
        iam.create_group().group_name(name).send().await.unwrap();
    }
    let users: Vec<String> = (0..17).map(|i| format!("member{i:02}")).collect();
    for name in users.iter().rev() {
        iam.create_user().user_name(name).send().await.unwrap();
        add(&iam, "group05", name).await;
    }
    // Not members, so they must not appear.
    iam.create_user()
        .user_name("outsider")
        .send()
        .await
        .unwrap();

    let group_pages = all_pages(10, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .list_groups()
                .max_items(5)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            let names = out.groups().iter().map(|g| g.group_name().to_owned());
            (
                names.collect(),
                out.is_truncated(),
                out.marker().map(Into::into),
            )
        }
    })
    .await;
    let sizes: Vec<usize> = group_pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [5, 5, 2]);
    assert_eq!(group_pages.concat(), groups);

    let member_pages = all_pages(10, |marker| {
        let iam = iam.clone();
        async move {
            let out = iam
                .get_group()
                .group_name("group05")
                .max_items(4)
                .set_marker(marker)
                .send()
                .await
                .unwrap();
            assert_eq!(out.group().unwrap().group_name(), "group05");
            let names = out.users().iter().map(|u| u.user_name().to_owned());
            (
                names.collect(),
                out.is_truncated(),
                out.marker().map(Into::into),
            )
        }
    })
    .await;
    let sizes: Vec<usize> = member_pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [4, 4, 4, 4, 1]);
    assert_eq!(member_pages.concat(), users);
    server.stop();
}
