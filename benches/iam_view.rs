//! IAM writes against a large account: 10,000 users (one access key, two groups, two attached
//! policies and one inline policy each), 2,000 groups (five attached policies and one inline
//! each, about ten members) and 50,000 managed policies (30,000 attached, 20,000 not), each
//! with its own document.
//!
//! `iam_view_whole/build` is `IamStore::refresh_view`: the view built whole from SQLite, as
//! every write did before writes updated only what they touch (and as open still does). The
//! `iam_write` cases are whole writes through the store's API, each a commit plus its view
//! update, as the IAM handlers call them:
//! - `tag_user`: leaves the view alone (the same `Arc`);
//! - `update_access_key`: one key's entry (status flipped each time);
//! - `put_user_policy`: one user's entry (its inline document replaced each time);
//! - `put_group_policy`: a group with ten members, and those members;
//! - `set_default_policy_version_200_groups`: a policy attached to 200 groups: those groups
//!   and their 1,030 members (the default version flipped between two each time).
//!
//! Each case checks that the view changed as it should (or not at all) before it is measured,
//! and that no case built the view whole. The account is made by bulk SQL inserts through the
//! store's writer, in one transaction (about 200,000 rows), in a temporary directory.
//!
//! Run with `cargo bench --bench iam_view`.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use labstore::config;
use labstore::crypto::Secret;
use labstore::db::sql::Connection;
use labstore::iam_store::attachments::Holder;
use labstore::iam_store::ids;
use labstore::iam_store::policies::PolicyRef;
use labstore::iam_store::view::KeyOwner;
use labstore::iam_store::{IamStore, StoreError, Tag};
use tokio::runtime::Runtime;

const ACCOUNT: &str = "111122223333";
const USERS: usize = 10_000;
const GROUPS: usize = 2_000;
const POLICIES: usize = 50_000;
/// Policies 0..10,000 are attached to groups (five each), 10,000..30,000 to users (two each).
const USER_POLICIES_FROM: usize = 5 * GROUPS;
/// Attached to groups 0..200 besides their five: the wide policy change.
const WIDE: &str = "wide";
const WIDE_GROUPS: usize = 200;

/// A document of three statements, distinct per `n`.
fn document(n: usize, action: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[
 {{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::data-{n}","arn:aws:s3:::data-{n}/*"]}},
 {{"Effect":"Allow","Action":"{action}","Resource":"arn:aws:s3:::shared/{n}/*","Condition":{{"StringLike":{{"s3:prefix":["home/${{aws:username}}/*"]}}}}}},
 {{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::data-{n}/locked/*"}}]}}"#
    )
}

/// The two groups of user `u`: `u mod 2000` and another one.
fn groups_of(u: usize) -> [usize; 2] {
    let first = u % GROUPS;
    [first, (first + 1 + u / GROUPS) % GROUPS]
}

struct Ids {
    users: Vec<String>,
    groups: Vec<String>,
    policies: Vec<String>,
    keys: Vec<(String, Vec<u8>)>,
}

fn insert_all(conn: &Connection, ids: &Ids) -> labstore::db::sql::Result<()> {
    let mut user =
        conn.prepare("INSERT INTO users (id, name, path, created_at) VALUES (?1, ?2, '/', 0)")?;
    let mut group =
        conn.prepare("INSERT INTO groups (id, name, path, created_at) VALUES (?1, ?2, '/', 0)")?;
    let mut policy = conn.prepare(
        "INSERT INTO policies (id, name, path, default_version, next_version, created_at, updated_at)
         VALUES (?1, ?2, '/', 1, 2, 0, 0)",
    )?;
    let mut version = conn.prepare("INSERT INTO policy_versions (policy_id, version, document, created_at) VALUES (?1, 1, ?2, 0)")?;
    let mut member =
        conn.prepare("INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2)")?;
    let mut user_attached =
        conn.prepare("INSERT INTO user_attached_policies (user_id, policy_id) VALUES (?1, ?2)")?;
    let mut group_attached =
        conn.prepare("INSERT INTO group_attached_policies (group_id, policy_id) VALUES (?1, ?2)")?;
    let mut user_inline = conn.prepare(
        "INSERT INTO user_inline_policies (user_id, name, document) VALUES (?1, 'own', ?2)",
    )?;
    let mut group_inline = conn.prepare(
        "INSERT INTO group_inline_policies (group_id, name, document) VALUES (?1, 'team', ?2)",
    )?;
    let mut key = conn.prepare("INSERT INTO access_keys (id, user_id, secret, status, created_at) VALUES (?1, ?2, ?3, 'Active', 0)")?;
    for (n, id) in ids.policies.iter().enumerate() {
        policy.execute((id, format!("policy{n}")))?;
        version.execute((id, document(n, "s3:PutObject")))?;
    }
    for (g, id) in ids.groups.iter().enumerate() {
        group.execute((id, format!("group{g}")))?;
        for p in 5 * g..5 * g + 5 {
            group_attached.execute((id, &ids.policies[p]))?;
        }
        group_inline.execute((id, document(POLICIES + g, "s3:PutObjectTagging")))?;
    }
    for (u, id) in ids.users.iter().enumerate() {
        user.execute((id, format!("user{u}")))?;
        for g in groups_of(u) {
            member.execute((&ids.groups[g], id))?;
        }
        for p in [USER_POLICIES_FROM + 2 * u, USER_POLICIES_FROM + 2 * u + 1] {
            user_attached.execute((id, &ids.policies[p]))?;
        }
        user_inline.execute((id, document(POLICIES + GROUPS + u, "s3:GetObjectTagging")))?;
        key.execute((&ids.keys[u].0, id, &ids.keys[u].1))?;
    }
    Ok(())
}

/// A store holding the account described at the top, its view built.
fn account(runtime: &Runtime, dir: &std::path::Path) -> (IamStore, Vec<String>) {
    let started = Instant::now();
    let db = config::Iam::default().db.to_db_config();
    let store = runtime
        .block_on(IamStore::open(dir, &dir.join("keys"), &db, ACCOUNT))
        .expect("opening the benchmark store");
    let key_ids: Vec<String> = (0..USERS).map(|_| ids::access_key_id()).collect();
    let ids = Ids {
        users: (0..USERS).map(|_| ids::user_id()).collect(),
        groups: (0..GROUPS).map(|_| ids::group_id()).collect(),
        policies: (0..POLICIES).map(|_| ids::policy_id()).collect(),
        keys: key_ids
            .iter()
            .map(|id| {
                let secret = Secret::generate(40);
                (
                    id.clone(),
                    store.master_key().seal_secret(&secret, id.as_bytes()),
                )
            })
            .collect(),
    };
    runtime
        .block_on(
            store
                .db()
                .write(move |conn| insert_all(conn, &ids).map_err(StoreError::from)),
        )
        .expect("filling the benchmark store");
    runtime
        .block_on(async {
            let wide = PolicyRef {
                arn: ids::policy_arn(ACCOUNT, "/", WIDE),
                path_name: Some(("/".into(), WIDE.into())),
                aws: false,
            };
            store
                .create_policy(WIDE.into(), "/".into(), None, document(0, "s3:*"))
                .await?;
            store
                .create_policy_version(wide.clone(), document(1, "s3:*"), false)
                .await?;
            for g in 0..WIDE_GROUPS {
                store
                    .attach_policy(Holder::Group, format!("group{g}"), wide.clone())
                    .await?;
            }
            store.refresh_view().await
        })
        .expect("attaching the wide policy");
    let view = store.view();
    assert_eq!(view.len(), USERS);
    // Its own three, and each of its two groups' seven (five attached, the wide one, inline).
    assert_eq!(view.user("user0").expect("user0").policies.len(), 3 + 2 * 7);
    let wide_members = (0..USERS)
        .filter(|&u| groups_of(u).iter().any(|&g| g < WIDE_GROUPS))
        .count();
    eprintln!(
        "iam_view: {USERS} users, {GROUPS} groups, {POLICIES} policies made in {:.1?}; \
         the wide policy reaches {wide_members} users",
        started.elapsed()
    );
    (store, key_ids)
}

fn whole_build(c: &mut Criterion, runtime: &Runtime, store: &IamStore) {
    let mut group = c.benchmark_group("iam_view_whole");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("build", |b| {
        b.iter(|| runtime.block_on(store.refresh_view()).expect("rebuild"))
    });
    group.finish();
}

fn writes(c: &mut Criterion, runtime: &Runtime, store: &IamStore, keys: &[String]) {
    let rebuilds = store.view_rebuilds();
    let flip = AtomicUsize::new(0);
    let next = || flip.fetch_add(1, Ordering::Relaxed);
    let mut group = c.benchmark_group("iam_write");
    group.sampling_mode(SamplingMode::Flat);

    let tag = || {
        let tags = vec![Tag {
            key: "team".into(),
            value: next().to_string(),
        }];
        runtime.block_on(store.tag_user("user17".into(), tags))
    };
    let before = store.view();
    tag().expect("TagUser");
    assert!(
        Arc::ptr_eq(&before, &store.view()),
        "TagUser replaced the view"
    );
    group.bench_function("tag_user", |b| b.iter(|| black_box(tag())));

    let key = &keys[17];
    let update_key = || {
        let active = next() % 2 == 0;
        runtime.block_on(store.update_access_key("user17".into(), key.clone(), active))?;
        Ok::<bool, StoreError>(active)
    };
    let active = update_key().expect("UpdateAccessKey");
    assert_eq!(store.view().key(key).expect("the key").active, active);
    group.bench_function("update_access_key", |b| b.iter(|| black_box(update_key())));

    let put_user_policy = || {
        let text = document(next(), "s3:GetObjectAcl");
        runtime.block_on(store.put_inline_policy(
            Holder::User,
            "user17".into(),
            "own".into(),
            text.clone(),
        ))?;
        Ok::<String, StoreError>(text)
    };
    let text = put_user_policy().expect("PutUserPolicy");
    let user = Arc::clone(store.view().user("user17").expect("user17"));
    assert!(user.policies.iter().any(|p| *p.document == *text));
    {
        let view = store.view();
        let KeyOwner::User(owner) = &view.key(key).expect("the key").owner else {
            panic!("user17's key signs as user17")
        };
        assert!(Arc::ptr_eq(&user, owner));
    }
    group.bench_function("put_user_policy", |b| {
        b.iter(|| black_box(put_user_policy()))
    });

    let put_group_policy = || {
        let text = document(next(), "s3:PutObjectAcl");
        runtime.block_on(store.put_inline_policy(
            Holder::Group,
            "group1500".into(),
            "team".into(),
            text.clone(),
        ))?;
        Ok::<String, StoreError>(text)
    };
    let text = put_group_policy().expect("PutGroupPolicy");
    let member = store.view().user("user1500").cloned().expect("user1500");
    assert!(member.policies.iter().any(|p| *p.document == *text));
    group.bench_function("put_group_policy_10_members", |b| {
        b.iter(|| black_box(put_group_policy()))
    });

    let wide = PolicyRef {
        arn: ids::policy_arn(ACCOUNT, "/", WIDE),
        path_name: Some(("/".into(), WIDE.into())),
        aws: false,
    };
    let set_default = || {
        let version = if next() % 2 == 0 { 1 } else { 2 };
        runtime.block_on(store.set_default_policy_version(wide.clone(), version))?;
        Ok::<i64, StoreError>(version)
    };
    let version = set_default().expect("SetDefaultPolicyVersion");
    let expected = document(
        usize::try_from(version - 1).expect("version 1 or 2"),
        "s3:*",
    );
    let member = store.view().user("user50").cloned().expect("user50");
    assert!(member.policies.iter().any(|p| *p.document == *expected));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("set_default_policy_version_200_groups", |b| {
        b.iter(|| black_box(set_default()))
    });
    group.finish();
    assert_eq!(
        store.view_rebuilds(),
        rebuilds,
        "a write built the view whole"
    );
}

fn iam_view(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, keys) = account(&runtime, dir.path());
    writes(c, &runtime, &store, &keys);
    whole_build(c, &runtime, &store);
    runtime.block_on(store.db().close());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = iam_view
}
criterion_main!(benches);
