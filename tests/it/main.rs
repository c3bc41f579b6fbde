//! The integration tests, one binary (`cargo test --test it`; filter by module, e.g.
//! `cargo test --test it s3_objects::`): the AWS SDKs are linked once, not once per file.
//! Tests run the server in process (`common::TestServer`) unless the process itself is under
//! test (`common::Server` spawns the binary); the rule is under Testing in
//! `docs/ARCHITECTURE.md`.

mod common;

mod authz_iam;
mod authz_s3;
mod bench;
mod config_cli;
mod diskfull;
mod fixture;
mod iam_access_keys;
mod iam_account;
mod iam_auth;
mod iam_boundaries;
mod iam_errors;
mod iam_groups;
mod iam_inline;
mod iam_managed;
mod iam_oidc;
mod iam_policies;
mod iam_policy_attachments;
mod iam_roles;
mod iam_root_keys;
mod iam_simulate;
mod iam_smoke;
mod iam_user_tags;
mod iam_users;
mod keys;
mod lifecycle;
mod s3_acl;
mod s3_attributes;
mod s3_auth;
mod s3_bucket_policy;
mod s3_buckets;
mod s3_checksums;
mod s3_copy;
mod s3_cors;
mod s3_crash;
mod s3_delete;
mod s3_inline;
mod s3_integrity;
mod s3_lifecycle;
mod s3_listing;
mod s3_metadata;
mod s3_multipart;
mod s3_multipart_lists;
mod s3_object_lock;
mod s3_objects;
mod s3_post;
mod s3_sse;
mod s3_tagging;
mod s3_unconfigured;
mod s3_versions;
mod s3_versions_list;
mod s3_website;
mod scrub;
mod secrets;
mod serve;
mod sts;
mod tidy;
mod tls;
