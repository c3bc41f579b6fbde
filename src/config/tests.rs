use std::collections::BTreeSet;

use super::*;

fn leaf_paths(value: &serde_yaml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let name = k.as_str().unwrap();
                let path = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}.{name}")
                };
                leaf_paths(v, &path, out);
            }
        }
        _ => {
            out.insert(prefix.to_owned());
        }
    }
}

fn table() -> BTreeSet<String> {
    keys::KEYS.iter().map(|k| k.path.to_owned()).collect()
}

fn with_file(yaml: &str) -> (tempfile::TempDir, Sources) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("labstore.yml"), yaml).unwrap();
    let sources = Sources {
        cwd: dir.path().to_path_buf(),
        ..Sources::default()
    };
    (dir, sources)
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn the_key_table_describes_the_config_structs() {
    let yaml = serde_yaml::to_value(Config::default()).unwrap();
    let mut paths = BTreeSet::new();
    leaf_paths(&yaml, "", &mut paths);
    assert_eq!(paths, table());
}

#[test]
fn env_and_flag_names_are_unique_and_follow_the_scheme() {
    let envs: BTreeSet<_> = keys::KEYS.iter().map(|k| k.env_name()).collect();
    let flags: BTreeSet<_> = keys::KEYS.iter().map(|k| k.flag_name()).collect();
    assert_eq!(envs.len(), keys::KEYS.len());
    assert_eq!(flags.len(), keys::KEYS.len());
    let data_dir = keys::find("backend.storage.data_dir").unwrap();
    assert_eq!(data_dir.env_name(), "LABSTORE_BACKEND_STORAGE_DATA_DIR");
    assert_eq!(data_dir.flag_name(), "storage-data-dir");
    assert_eq!(keys::find("log.level").unwrap().flag_name(), "log-level");
}

#[test]
fn the_example_file_documents_every_key_with_its_default() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/labstore.example.yml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut paths = BTreeSet::new();
    leaf_paths(&serde_yaml::from_str(&text).unwrap(), "", &mut paths);
    assert_eq!(
        paths,
        table(),
        "labstore.example.yml and the key table differ"
    );
    for key in keys::KEYS {
        let leaf = key.path.rsplit('.').next().unwrap();
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("{leaf}:")))
            .unwrap();
        let above = text.lines().nth(line.wrapping_sub(1)).unwrap_or("");
        assert!(
            above.trim_start().starts_with('#'),
            "{} has no comment above it",
            key.path
        );
    }
    let sources = Sources {
        config_file: Some(path.into()),
        ..Sources::default()
    };
    assert_eq!(show(&load(&sources).unwrap()), show(&Config::default()));
}

#[test]
fn each_source_overrides_the_one_before() {
    let (_dir, mut sources) = with_file(
        "backend:\n  iam:\n    server:\n      port: 7001\n  s3:\n    server:\n      port: 7101\n",
    );
    assert_eq!(load(&sources).unwrap().backend.iam.server.port, 7001);
    assert_eq!(
        load(&sources).unwrap().backend.admin.server.port,
        6787,
        "default kept"
    );
    sources.env = env(&[
        ("LABSTORE_BACKEND_IAM_SERVER_PORT", "7002"),
        ("PATH", "/bin"),
    ]);
    let c = load(&sources).unwrap();
    assert_eq!(
        (c.backend.iam.server.port, c.backend.s3.server.port),
        (7002, 7101)
    );
    sources.flags = vec![("backend.iam.server.port", "7003".into())];
    assert_eq!(load(&sources).unwrap().backend.iam.server.port, 7003);
}

#[test]
fn env_names_with_underscores_resolve_against_known_keys() {
    let sources = Sources {
        env: env(&[
            ("LABSTORE_BACKEND_STORAGE_DATA_DIR", "/srv/data"),
            ("LABSTORE_BACKEND_IAM_DB_WRITER_CACHE_SIZE_KIB", "2048"),
            ("LABSTORE_BACKEND_ADMIN_AUTH_SECRET_KEY", "12345678"),
            ("LABSTORE_LOG_FORMAT", "JSON"),
        ]),
        ..Sources::default()
    };
    let c = load(&sources).unwrap();
    assert_eq!(
        c.backend.storage.data_dir,
        std::path::Path::new("/srv/data")
    );
    assert_eq!(c.backend.iam.db.writer_cache_size_kib, 2048);
    assert_eq!(
        c.backend.admin.auth.secret_key.unwrap().expose(),
        "12345678"
    );
    assert_eq!(c.log.format, LogFormat::Json);
}

#[test]
fn unknown_keys_are_refused_naming_key_and_source() {
    let (_dir, sources) = with_file("backend:\n  storage:\n    data_dirr: /x\n");
    let e = load(&sources).unwrap_err();
    assert_eq!(e.key, "backend.storage.data_dirr");
    assert!(e.origin.contains("labstore.yml"), "{e}");
    let (_dir, sources) = with_file("backend:\n  storage: /x\n");
    assert_eq!(load(&sources).unwrap_err().key, "backend.storage");
    let e = load(&Sources {
        env: env(&[("LABSTORE_BACKEND_STORAGE_DATADIR", "/x")]),
        ..Sources::default()
    })
    .unwrap_err();
    assert_eq!(
        e.origin,
        "environment variable LABSTORE_BACKEND_STORAGE_DATADIR"
    );
}

#[test]
fn wrong_types_and_ranges_are_refused_naming_key_and_source() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "backend:\n  iam:\n    server:\n      port: http\n",
            "backend.iam.server.port",
            "whole number",
        ),
        (
            "backend:\n  s3:\n    server:\n      port: 70000\n",
            "backend.s3.server.port",
            "out of range",
        ),
        (
            "backend:\n  s3:\n    paging:\n      max_keys: 0\n",
            "backend.s3.paging.max_keys",
            "out of range",
        ),
        (
            "backend:\n  storage:\n    data_dir: [a, b]\n",
            "backend.storage.data_dir",
            "expected text",
        ),
        ("log:\n  format: xml\n", "log.format", "not one of"),
        (
            "backend:\n  trusted_proxies: 10.0.0.0/8, 10.0.0.300\n",
            "backend.trusted_proxies",
            "\"10.0.0.300\" is not an IP address or CIDR block",
        ),
        (
            "backend:\n  iam:\n    account_id: '12345'\n",
            "backend.iam.account_id",
            "12 digits",
        ),
        (
            "backend:\n  admin:\n    auth:\n      secret_key: short\n",
            "backend.admin.auth.secret_key",
            "shorter than 8",
        ),
        (
            "backend:\n  iam:\n    db:\n      max_idle_conns: 9\n",
            "backend.iam.db.max_idle_conns",
            "more than max_open_conns",
        ),
        (
            "backend:\n  s3:\n    db:\n      max_idle_conns: 9\n",
            "backend.s3.db.max_idle_conns",
            "more than max_open_conns",
        ),
        (
            "backend:\n  s3:\n    base_domain: s3.lab\n    website:\n      base_domain: .S3.lab\n",
            "backend.s3.website.base_domain",
            "same domain as backend.s3.base_domain",
        ),
        (
            "backend:\n  s3:\n    io:\n      fsync: maybe\n",
            "backend.s3.io.fsync",
            "true or false",
        ),
    ];
    for (yaml, key, problem) in cases {
        let (_dir, sources) = with_file(yaml);
        let e = load(&sources).unwrap_err();
        assert_eq!(e.key, *key, "{yaml}");
        assert!(e.problem.contains(problem), "{yaml}: {e}");
        assert!(e.origin.contains("labstore.yml"), "{yaml}: {e}");
    }
    let e = load(&Sources {
        flags: vec![("backend.iam.db.timeout_ms", "soon".into())],
        ..Sources::default()
    })
    .unwrap_err();
    assert_eq!(e.origin, "command-line flag --iam-db-timeout-ms");
}

#[test]
fn a_rejected_secret_is_not_echoed() {
    let (_dir, sources) = with_file("backend:\n  admin:\n    auth:\n      secret_key: abc12\n");
    assert!(!load(&sources).unwrap_err().to_string().contains("abc12"));
}

#[test]
fn a_named_config_file_must_exist() {
    let e = load(&Sources {
        config_file: Some("/nonexistent/labstore.yml".into()),
        ..Sources::default()
    })
    .unwrap_err();
    assert_eq!(e.problem, "no such file");
}

#[test]
fn show_masks_secrets() {
    let mut c = Config::default();
    c.backend.admin.auth.secret_key = Some(crate::crypto::Secret::new("topsecret-value".into()));
    let shown = show(&c);
    assert!(!shown.contains("topsecret"), "{shown}");
    assert!(
        shown.contains("secret_key: '********'") || shown.contains("secret_key: \"********\""),
        "{shown}"
    );
}

#[test]
fn trusted_proxies_parse_into_ranges() {
    let yaml = "backend:\n  trusted_proxies: '127.0.0.1, 10.0.0.0/8,::1'\n";
    let (_dir, mut sources) = with_file(yaml);
    assert_eq!(load(&sources).unwrap().backend.trusted_proxies().len(), 3);
    sources.env = env(&[("LABSTORE_BACKEND_TRUSTED_PROXIES", "192.168.1.1")]);
    assert_eq!(load(&sources).unwrap().backend.trusted_proxies().len(), 1);
    assert!(Config::default().backend.trusted_proxies().is_empty());
}

#[test]
fn half_a_tls_pair_is_refused_naming_the_missing_key() {
    let (_dir, sources) =
        with_file("backend:\n  s3:\n    server:\n      tls:\n        cert_file: /c.pem\n");
    let e = load(&sources).unwrap_err();
    assert_eq!(e.key, "backend.s3.server.tls.key_file");
    assert!(e.problem.contains("backend.s3.server.tls.cert_file"), "{e}");
    assert!(e.origin.contains("labstore.yml"), "{e}");
    let e = load(&Sources {
        env: env(&[("LABSTORE_BACKEND_ADMIN_SERVER_TLS_KEY_FILE", "/k.pem")]),
        ..Sources::default()
    })
    .unwrap_err();
    assert_eq!(e.key, "backend.admin.server.tls.cert_file");
    let both = load(&Sources {
        env: env(&[
            ("LABSTORE_BACKEND_IAM_SERVER_TLS_KEY_FILE", "/k.pem"),
            ("LABSTORE_BACKEND_IAM_SERVER_TLS_CERT_FILE", "/c.pem"),
        ]),
        ..Sources::default()
    })
    .unwrap();
    assert_eq!(
        both.backend.iam.server.tls.cert_file.as_deref(),
        Some(Path::new("/c.pem"))
    );
    let e = load(&Sources {
        env: env(&[
            ("LABSTORE_BACKEND_TLS_SELF_SIGNED", "true"),
            ("LABSTORE_BACKEND_TLS_NAMES", " , "),
        ]),
        ..Sources::default()
    })
    .unwrap_err();
    assert_eq!(e.key, "backend.tls.names");
}

#[test]
fn the_postgres_engine_needs_a_url_and_a_plain_schema_prefix() {
    let sources = |pairs: &[(&str, &str)]| Sources {
        env: env(pairs),
        ..Sources::default()
    };
    let e = load(&sources(&[(
        "LABSTORE_BACKEND_METADATA_ENGINE",
        "postgres",
    )]))
    .unwrap_err();
    assert_eq!(e.key, "backend.metadata.postgres.url");
    for bad in ["Labstore", "1st", "a-b", "x;drop", &"a".repeat(41)] {
        let e = load(&sources(&[
            ("LABSTORE_BACKEND_METADATA_ENGINE", "postgres"),
            (
                "LABSTORE_BACKEND_METADATA_POSTGRES_URL",
                "postgres://u@h/db",
            ),
            ("LABSTORE_BACKEND_METADATA_POSTGRES_SCHEMA", bad),
        ]))
        .unwrap_err();
        assert_eq!(e.key, "backend.metadata.postgres.schema", "{bad}");
    }
    let config = load(&sources(&[
        ("LABSTORE_BACKEND_METADATA_ENGINE", "postgres"),
        (
            "LABSTORE_BACKEND_METADATA_POSTGRES_URL",
            "postgres://u:pw-zq81@h/db",
        ),
        ("LABSTORE_BACKEND_METADATA_POSTGRES_SCHEMA", "store_2"),
    ]))
    .unwrap();
    let target = config
        .backend
        .metadata
        .postgres_target("objects", "n1")
        .unwrap();
    assert_eq!(
        (target.schema.as_str(), target.channel.as_str()),
        ("store_2_objects", "store_2_changes")
    );
    // The URL may carry a password: never in Debug output or `config show`.
    assert!(!format!("{target:?}").contains("pw-zq81"));
    assert!(!crate::config::show(&config).contains("pw-zq81"));
    // SQLite, the default, needs neither.
    assert!(load(&Sources::default())
        .unwrap()
        .backend
        .metadata
        .postgres_target("iam", "n1")
        .is_none());
}
