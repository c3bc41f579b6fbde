//! Configuration through the real binary: `config show` reflects every layer, bad values stop
//! the process with a message naming the key and its source.

use crate::common;

use std::process::Output;

fn labstore(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(common::BIN);
    cmd.current_dir(dir)
        .env_remove("LABSTORE_CONFIG")
        .args(args);
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("LABSTORE_")) {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn shown_port(out: &Output) -> u16 {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml: serde_json::Value = {
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .skip_while(|l| !l.starts_with("  iam:"))
            .find(|l| l.trim_start().starts_with("port:"))
            .unwrap();
        serde_json::json!(line.split(':').nth(1).unwrap().trim())
    };
    yaml.as_str().unwrap().parse().unwrap()
}

#[test]
fn each_source_overrides_the_one_before() {
    let dir = tempfile::tempdir().unwrap();
    let show = ["config", "show"];
    assert_eq!(shown_port(&labstore(dir.path(), &show, &[])), 6788);
    std::fs::write(
        dir.path().join("labstore.yml"),
        "backend:\n  iam:\n    server:\n      port: 7001\n",
    )
    .unwrap();
    assert_eq!(shown_port(&labstore(dir.path(), &show, &[])), 7001);
    let env = [("LABSTORE_BACKEND_IAM_SERVER_PORT", "7002")];
    assert_eq!(shown_port(&labstore(dir.path(), &show, &env)), 7002);
    let flags = ["config", "show", "--iam-server-port", "7003"];
    assert_eq!(shown_port(&labstore(dir.path(), &flags, &env)), 7003);
    // -c names another file, which replaces ./labstore.yml.
    std::fs::write(
        dir.path().join("other.yml"),
        "backend:\n  iam:\n    server:\n      port: 7004\n",
    )
    .unwrap();
    assert_eq!(
        shown_port(&labstore(
            dir.path(),
            &["-c", "other.yml", "config", "show"],
            &[]
        )),
        7004
    );
}

#[test]
fn env_names_with_underscores_resolve_and_secrets_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    let out = labstore(
        dir.path(),
        &["config", "show"],
        &[
            ("LABSTORE_BACKEND_STORAGE_DATA_DIR", "/srv/labstore-data"),
            ("LABSTORE_BACKEND_IAM_DB_MAX_OPEN_CONNS", "7"),
            ("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", "do-not-print-me"),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("data_dir: /srv/labstore-data"), "{text}");
    assert!(text.contains("max_open_conns: 7"), "{text}");
    assert!(!text.contains("do-not-print-me"), "{text}");
}

#[test]
fn bad_configuration_exits_non_zero_naming_key_and_source() {
    let dir = tempfile::tempdir().unwrap();
    // (labstore.yml, environment, flags, key named, source named)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a str,
        &'a str,
    );
    let cases: &[Case] = &[
        (
            "backend:\n  storage:\n    data_dirr: x\n",
            &[],
            &[],
            "backend.storage.data_dirr",
            "labstore.yml",
        ),
        (
            "backend:\n  iam:\n    server:\n      port: many\n",
            &[],
            &[],
            "backend.iam.server.port",
            "labstore.yml",
        ),
        (
            "",
            &[("LABSTORE_BACKEND_S3_SERVER_PORT", "99999")],
            &[],
            "backend.s3.server.port",
            "LABSTORE_BACKEND_S3_SERVER_PORT",
        ),
        (
            "",
            &[("LABSTORE_BACKEND_STORAGE_DATADIR", "x")],
            &[],
            "LABSTORE_BACKEND_STORAGE_DATADIR",
            "environment variable",
        ),
        (
            "",
            &[],
            &["--s3-paging-max-keys", "5000"],
            "backend.s3.paging.max_keys",
            "--s3-paging-max-keys",
        ),
    ];
    for (yaml, env, flags, key, source) in cases {
        std::fs::write(dir.path().join("labstore.yml"), yaml).unwrap();
        for command in [&["serve"][..], &["config", "show"][..]] {
            let args: Vec<&str> = command.iter().chain(flags.iter()).copied().collect();
            let out = labstore(dir.path(), &args, env);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
            assert!(stderr.contains(key) && stderr.contains(source), "{stderr}");
        }
    }
    assert!(
        !dir.path().join("data").exists(),
        "a refused start wrote data"
    );
}

#[test]
fn version_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = labstore(dir.path(), &["--version"], &[]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("labstore {}", env!("CARGO_PKG_VERSION"))
    );
}
