//! The authorization view follows every write: updated in place of the touched entries, left
//! alone by writes that touch nothing it holds, and equal to a view built whole.

use std::sync::Arc;
use std::time::Duration;

use super::attachments::Holder;
use super::policies::PolicyRef;
use super::*;
use crate::auth::Caller;
use crate::authz::Authorizer;
use crate::policy::eval::Context;

const ACCOUNT: &str = "111122223333";

fn config() -> DbConfig {
    DbConfig {
        max_open_conns: 2,
        max_idle_conns: 2,
        write_chan_cap: 16,
        timeout: Duration::from_secs(5),
        read_cache_size_kib: 1024,
        writer_cache_size_kib: 1024,
        durable: false,
        postgres: None,
    }
}

async fn open() -> (tempfile::TempDir, IamStore) {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let store = IamStore::open(dir.path(), &keys, &config(), ACCOUNT)
        .await
        .unwrap();
    (dir, store)
}

fn allow(action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
    )
}

fn deny(action: &str) -> String {
    allow(action).replace("Allow", "Deny")
}

fn policy(name: &str) -> PolicyRef {
    PolicyRef {
        arn: ids::policy_arn(ACCOUNT, "/", name),
        path_name: Some(("/".into(), name.into())),
        aws: false,
    }
}

/// Whether the next request signed with `access_key` may do `action` on `*`, decided from the
/// view as `auth` and `authz` decide it; `None` when the key does not authenticate.
fn may(store: &IamStore, access_key: &str, action: &str) -> Option<bool> {
    let view = store.view();
    let entry = view.key(access_key).filter(|k| k.active)?;
    let crate::iam_store::view::KeyOwner::User(principal) = &entry.owner else {
        return Some(true);
    };
    let caller = Caller::User {
        access_key: access_key.into(),
        principal: Arc::clone(principal),
        session: None,
    };
    let authorizer = Authorizer::new(Some(&caller), ACCOUNT, Context::new());
    Some(authorizer.allows(action, "*", None))
}

/// A user with one key; returns the key id.
async fn user_with_key(store: &IamStore, name: &str) -> String {
    store
        .create_user(name.into(), "/".into(), Vec::new(), None)
        .await
        .unwrap();
    let (key, _) = store.create_access_key(name.into()).await.unwrap();
    key.id
}

fn tag(key: &str) -> Tag {
    Tag {
        key: key.into(),
        value: "v".into(),
    }
}

#[tokio::test]
async fn writes_that_decide_nothing_leave_the_view_alone() {
    let (_dir, store) = open().await;
    let key = user_with_key(&store, "alice").await;
    let before = store.view();
    store
        .tag_user("alice".into(), vec![tag("team")])
        .await
        .unwrap();
    store
        .untag_user("alice".into(), vec!["team".into()])
        .await
        .unwrap();
    store.pending_last_used().record(&key, "s3", "us-east-1");
    store.flush_last_used().await.unwrap();
    // A policy attached nowhere, and versions that are not the default, apply to no one.
    store
        .create_policy("p".into(), "/".into(), None, allow("s3:*"))
        .await
        .unwrap();
    store
        .create_policy_version(policy("p"), deny("s3:*"), false)
        .await
        .unwrap();
    store.delete_policy_version(policy("p"), 2).await.unwrap();
    store.delete_policy(policy("p")).await.unwrap();
    // Refused writes commit nothing.
    let refused = store
        .create_user("ALICE".into(), "/".into(), Vec::new(), None)
        .await;
    assert!(matches!(refused, Err(StoreError::AlreadyExists(_))));
    assert!(Arc::ptr_eq(&before, &store.view()), "the view was replaced");
    assert_eq!(store.view_rebuilds(), 1, "only the build at open");
    let (_, last) = store.get_access_key_last_used(key).await.unwrap();
    assert_eq!(last.service.as_deref(), Some("s3"));
}

#[tokio::test]
async fn the_next_authorization_sees_each_update() {
    let (_dir, store) = open().await;
    let key = user_with_key(&store, "bob").await;
    let get = "s3:GetObject";
    assert_eq!(may(&store, &key, get), Some(false));

    store
        .create_policy("read".into(), "/".into(), None, allow(get))
        .await
        .unwrap();
    store
        .attach_policy(Holder::User, "bob".into(), policy("read"))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(true));
    // A new default version applies to every holder.
    store
        .create_policy_version(policy("read"), deny(get), true)
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(false));
    store
        .set_default_policy_version(policy("read"), 1)
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(true));
    store
        .detach_policy(Holder::User, "bob".into(), policy("read"))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(false));

    // Through a group: its policies reach its members, and leave with them.
    store
        .create_group("readers".into(), "/".into())
        .await
        .unwrap();
    store
        .put_inline_policy(Holder::Group, "readers".into(), "r".into(), allow(get))
        .await
        .unwrap();
    store
        .add_user_to_group("readers".into(), "bob".into())
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(true));
    store
        .put_inline_policy(Holder::Group, "readers".into(), "r".into(), deny(get))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(false));
    store
        .delete_inline_policy(Holder::Group, "readers".into(), "r".into())
        .await
        .unwrap();
    store
        .put_inline_policy(Holder::User, "bob".into(), "own".into(), allow(get))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(true));
    store
        .update_group("readers".into(), Some("viewers".into()), None)
        .await
        .unwrap();
    assert_eq!(store.view().user("bob").unwrap().groups, ["viewers"]);

    // Keys: status and deletion.
    store
        .update_access_key("bob".into(), key.clone(), false)
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), None);
    store
        .update_access_key("bob".into(), key.clone(), true)
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), Some(true));
    store
        .delete_access_key("bob".into(), key.clone())
        .await
        .unwrap();
    assert_eq!(may(&store, &key, get), None);
    assert_eq!(
        store.view_rebuilds(),
        1,
        "every write updated the view in place"
    );
}

#[tokio::test]
async fn an_updated_view_equals_one_built_whole() {
    let (_dir, store) = open().await;
    let shared = allow("s3:GetObject");
    for name in ["p1", "p2", "p3"] {
        store
            .create_policy(name.into(), "/".into(), None, shared.clone())
            .await
            .unwrap();
    }
    for group in ["g1", "g2"] {
        store.create_group(group.into(), "/".into()).await.unwrap();
        store
            .attach_policy(Holder::Group, group.into(), policy("p1"))
            .await
            .unwrap();
    }
    store
        .put_inline_policy(Holder::Group, "g2".into(), "x".into(), allow("s3:Put*"))
        .await
        .unwrap();
    let mut keys = Vec::new();
    for user in ["u1", "u2", "u3", "u4"] {
        keys.push(user_with_key(&store, user).await);
        store
            .add_user_to_group("g1".into(), user.into())
            .await
            .unwrap();
        store
            .attach_policy(Holder::User, user.into(), policy("p2"))
            .await
            .unwrap();
    }
    store
        .add_user_to_group("g2".into(), "u1".into())
        .await
        .unwrap();
    store
        .put_inline_policy(Holder::User, "u2".into(), "own".into(), deny("iam:*"))
        .await
        .unwrap();
    store
        .create_policy_version(policy("p1"), allow("s3:List*"), true)
        .await
        .unwrap();
    store
        .update_user(
            "u3".into(),
            Some("U3-renamed".into()),
            Some("/team/".into()),
        )
        .await
        .unwrap();
    store
        .update_group("g1".into(), None, Some("/ops/".into()))
        .await
        .unwrap();
    store
        .remove_user_from_group("g1".into(), "u4".into())
        .await
        .unwrap();
    store
        .detach_policy(Holder::User, "u4".into(), policy("p2"))
        .await
        .unwrap();
    store
        .delete_access_key("u4".into(), keys[3].clone())
        .await
        .unwrap();
    store.delete_user("u4".into()).await.unwrap();
    store
        .update_access_key("u1".into(), keys[0].clone(), false)
        .await
        .unwrap();
    store
        .detach_policy(Holder::Group, "g2".into(), policy("p1"))
        .await
        .unwrap();
    store
        .delete_inline_policy(Holder::Group, "g2".into(), "x".into())
        .await
        .unwrap();
    store
        .remove_user_from_group("g2".into(), "u1".into())
        .await
        .unwrap();
    store.delete_group("g2".into()).await.unwrap();
    let (kept, _) = store.create_root_access_key().await.unwrap();
    let (gone, _) = store.create_root_access_key().await.unwrap();
    store
        .update_root_access_key(kept.id.clone(), false)
        .await
        .unwrap();
    store.delete_root_access_key(gone.id.clone()).await.unwrap();
    let role = |name: &str| {
        roles::Role {
        id: String::new(),
        name: name.into(),
        path: "/".into(),
        description: None,
        max_session_duration: 3600,
        trust_policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#.into(),
        created_at: 0,
        permissions_boundary: None,
    }
    };
    let team = Tag {
        key: "team".into(),
        value: "blue".into(),
    };
    store
        .create_role(role("r1"), vec![team], None)
        .await
        .unwrap();
    store
        .create_role(role("r2"), Vec::new(), None)
        .await
        .unwrap();
    store
        .attach_policy(Holder::Role, "r1".into(), policy("p2"))
        .await
        .unwrap();
    store
        .put_inline_policy(Holder::Role, "R1".into(), "own".into(), deny("s3:Delete*"))
        .await
        .unwrap();
    let longer = roles::RoleUpdate {
        description: None,
        max_session_duration: Some(7200),
    };
    store.update_role("r1".into(), longer).await.unwrap();
    store.delete_role("r2".into()).await.unwrap();
    assert_eq!(store.view_rebuilds(), 1);

    let updated = store.view().dump();
    let documents = store.documents().await;
    store.refresh_view().await.unwrap();
    assert_eq!(store.view_rebuilds(), 2);
    assert_eq!(updated, store.view().dump());
    assert_eq!(documents, store.documents().await);
    // Shared text is compiled once: p2 (still attached to three users and a role) and p1's v1
    // share it.
    assert_eq!(documents.get(&shared), Some(&4));
    assert!(
        updated.contains(":role/r1 r1 7200 [(\"team\", \"blue\")]"),
        "{updated}"
    );
    assert!(updated.contains("RoleInline(\"own\")"));
    assert!(updated.contains("U3-renamed"));
    assert!(updated.contains(&format!("key {} false root", kept.id)));
    assert!(!updated.contains(&gone.id));
    // Names are compared as fields: the dump also holds random secrets, which may contain
    // any short string.
    let names: Vec<&str> = updated
        .lines()
        .filter_map(|l| {
            ["user ", "group ", "role "]
                .iter()
                .find_map(|kind| l.strip_prefix(kind))
        })
        .filter_map(|rest| rest.split(' ').nth(2))
        .collect();
    assert!(names.contains(&"u1") && names.contains(&"g1"), "{names:?}");
    assert!(
        !names.contains(&"u4") && !names.contains(&"g2"),
        "{names:?}"
    );
    assert!(
        updated.contains("\"g1\"") && !updated.contains("\"g2\""),
        "u1 left g2"
    );
}

#[tokio::test]
async fn a_policy_change_reaches_every_holder_and_member() {
    let (_dir, store) = open().await;
    store
        .create_policy("p".into(), "/".into(), None, allow("s3:GetObject"))
        .await
        .unwrap();
    store.create_group("g".into(), "/".into()).await.unwrap();
    store
        .attach_policy(Holder::Group, "g".into(), policy("p"))
        .await
        .unwrap();
    let direct = user_with_key(&store, "direct").await;
    store
        .attach_policy(Holder::User, "direct".into(), policy("p"))
        .await
        .unwrap();
    let member = user_with_key(&store, "member").await;
    store
        .add_user_to_group("g".into(), "member".into())
        .await
        .unwrap();
    let bystander = user_with_key(&store, "bystander").await;
    let untouched = Arc::clone(store.view().user("bystander").unwrap());
    store
        .create_policy_version(policy("p"), allow("s3:PutObject"), true)
        .await
        .unwrap();
    for key in [&direct, &member] {
        assert_eq!(may(&store, key, "s3:GetObject"), Some(false));
        assert_eq!(may(&store, key, "s3:PutObject"), Some(true));
    }
    assert_eq!(may(&store, &bystander, "s3:PutObject"), Some(false));
    // Entries the write did not touch are the same entries.
    assert!(Arc::ptr_eq(
        &untouched,
        store.view().user("bystander").unwrap()
    ));
    assert_eq!(store.view_rebuilds(), 1);
}

#[tokio::test]
async fn an_update_copies_only_the_shards_it_changes() {
    let (_dir, store) = open().await;
    let mut keys = Vec::new();
    for n in 0..200 {
        keys.push(user_with_key(&store, &format!("user{n}")).await);
    }
    let all = 7 * 64;
    let before = store.view();
    store
        .update_access_key("user7".into(), keys[7].clone(), false)
        .await
        .unwrap();
    assert_eq!(store.view().shared_shards(&before), all - 1, "one key");
    let before = store.view();
    store
        .put_inline_policy(Holder::User, "user7".into(), "own".into(), allow("s3:*"))
        .await
        .unwrap();
    // The user by name and by id, and its key.
    assert_eq!(store.view().shared_shards(&before), all - 3, "one user");
    assert_eq!(store.view_rebuilds(), 1);
}

/// Upgrading a database made before AWS managed policies keeps the account's policies, their
/// versions and attachments (the `policies` table is rebuilt under them), and a customer
/// policy that already had an AWS policy's name stays beside it.
#[tokio::test]
async fn upgrading_keeps_policies_and_attachments_beside_aws_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_path(dir.path());
    let before = Db::open("iam", &path, &config(), &MIGRATIONS[..3]).unwrap();
    before
        .write(move |conn| -> StoreResult<()> {
            conn.execute_batch(&format!(
                "INSERT INTO users (id, name, path, created_at) VALUES ('AIDAUSER', 'u', '/', 1);
                 INSERT INTO policies (id, name, path, description, default_version, next_version, created_at, updated_at)
                   VALUES ('ANPAMINE', 'ReadOnlyAccess', '/', NULL, 1, 2, 1, 1);
                 INSERT INTO policy_versions (policy_id, version, document, created_at)
                   VALUES ('ANPAMINE', 1, '{}', 1);
                 INSERT INTO user_attached_policies (user_id, policy_id) VALUES ('AIDAUSER', 'ANPAMINE');",
                allow("s3:GetObject")
            ))?;
            Ok(())
        })
        .await
        .unwrap();
    before.close().await;
    drop(before);

    let keys = dir.path().join("keys");
    let store = IamStore::open(dir.path(), &keys, &config(), ACCOUNT)
        .await
        .unwrap();
    let mine = store.get_policy(policy("ReadOnlyAccess")).await.unwrap();
    assert_eq!(
        (mine.id.as_str(), mine.attachment_count, mine.aws),
        ("ANPAMINE", 1, false)
    );
    let aws = PolicyRef {
        arn: "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        path_name: Some(("/".into(), "ReadOnlyAccess".into())),
        aws: true,
    };
    let theirs = store.get_policy(aws).await.unwrap();
    assert!(theirs.aws && theirs.id != "ANPAMINE");
    let user = store.view().user("u").map(Arc::clone).unwrap();
    assert_eq!(user.policies.len(), 1);
    assert!(user.policies[0].document.contains("s3:GetObject"));
}

/// A user's permissions boundary is in its view entry: set, replaced by a new default version
/// of its policy, kept when the user's groups change, removed; each on the next authorization,
/// and the updated view equals one built whole.
#[tokio::test]
async fn a_boundary_follows_every_write_that_changes_it() {
    use super::boundaries::Bounded;
    let (_dir, store) = open().await;
    let key = user_with_key(&store, "alice").await;
    store
        .put_inline_policy(Holder::User, "alice".into(), "own".into(), allow("s3:*"))
        .await
        .unwrap();
    store
        .create_policy("cap".into(), "/".into(), None, allow("s3:GetObject"))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, "s3:PutObject"), Some(true));
    store
        .put_permissions_boundary(Bounded::User, "alice".into(), policy("cap"))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, "s3:PutObject"), Some(false));
    assert_eq!(may(&store, &key, "s3:GetObject"), Some(true));
    assert_eq!(
        store.view().user("alice").unwrap().boundary_arn(),
        Some(ids::policy_arn(ACCOUNT, "/", "cap").as_str())
    );
    store
        .create_policy_version(policy("cap"), allow("s3:PutObject"), true)
        .await
        .unwrap();
    assert_eq!(may(&store, &key, "s3:PutObject"), Some(true));
    assert_eq!(may(&store, &key, "s3:GetObject"), Some(false));
    // A group change puts the user again: its boundary stays.
    store.create_group("g".into(), "/".into()).await.unwrap();
    store
        .add_user_to_group("g".into(), "alice".into())
        .await
        .unwrap();
    store
        .put_inline_policy(Holder::Group, "g".into(), "x".into(), allow("iam:*"))
        .await
        .unwrap();
    assert_eq!(may(&store, &key, "s3:GetObject"), Some(false));
    assert_eq!(may(&store, &key, "iam:GetUser"), Some(false));

    let updated = store.view().dump();
    let documents = store.documents().await;
    store.refresh_view().await.unwrap();
    assert_eq!(updated, store.view().dump());
    assert_eq!(documents, store.documents().await);
    assert!(updated.contains("Boundary"), "{updated}");

    store
        .delete_permissions_boundary(Bounded::User, "alice".into())
        .await
        .unwrap();
    assert_eq!(may(&store, &key, "s3:GetObject"), Some(true));
    assert!(store.view().user("alice").unwrap().boundary.is_none());
    // The boundary's documents are let go with it.
    let documents = store.documents().await;
    assert!(
        !documents.contains_key(&allow("s3:PutObject")),
        "{documents:?}"
    );
}
