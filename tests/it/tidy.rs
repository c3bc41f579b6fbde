//! The module boundaries `docs/ARCHITECTURE.md` states (its Invariants), checked on the text
//! of every file under `src/`:
//! - `s3`, `iam` and `admin` never import each other (`app` routes between them);
//! - `auth::sigv4`, `auth::sigv2`, `auth::chunked`, `policy` and `cidr` are pure: they name
//!   no stateful module, no runtime or database crate, no file, socket, environment or process
//!   I/O, no clock read and no shared mutable state (time and keys are parameters);
//! - only `main` and `cli` import `bench`, and `bench`, a client, takes from the crate only
//!   `auth::sigv4`, `timefmt`, `xml` and `crypto` (so it signs exactly as the server verifies).
//!
//! Every path is read: `use` trees (groups expanded), `super::`/`self::` resolved against the
//! file's module, and fully qualified paths in code. Comments, strings and `#[cfg(test)]`
//! items and modules are skipped: tests may do what the code they test may not.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The modules that protocol edges are: none imports another.
const PROTOCOLS: [&str; 3] = ["s3", "iam", "admin"];
/// The pure cores (module paths, and everything under them).
const PURE: [&[&str]; 5] = [
    &["auth", "sigv4"],
    &["auth", "sigv2"],
    &["auth", "chunked"],
    &["policy"],
    &["cidr"],
];
/// Crate modules that hold or reach state: a pure core names none of them.
const STATEFUL_MODULES: [&[&str]; 12] = [
    &["state"],
    &["tls"],
    &["db"],
    &["objects"],
    &["iam_store"],
    &["storage"],
    &["http"],
    &["app"],
    &["s3"],
    &["iam"],
    &["admin"],
    &["auth", "signing_keys"],
];
/// External crates that are a runtime, a database or a pool of connections.
const STATEFUL_CRATES: [&str; 4] = ["tokio", "tokio_util", "rusqlite", "r2d2"];
/// The only modules that may import `bench` (besides `bench` itself).
const BENCH_USERS: [&str; 2] = ["main", "cli"];
/// What `bench` may take from the crate: pure pieces, never the server.
const BENCH_TAKES: [&[&str]; 5] = [
    &["bench"],
    &["auth", "sigv4"],
    &["timefmt"],
    &["xml"],
    &["crypto"],
];

/// One path named in a file.
#[derive(Debug)]
struct Named {
    line: usize,
    /// As written, `use` groups expanded (`crate::{a, b}` gives `crate::a` and `crate::b`).
    written: Vec<String>,
    /// Within this crate: its module path from the crate root (`super`/`self` resolved).
    in_crate: Option<Vec<String>>,
}

#[test]
fn module_boundaries_hold() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 50,
        "found only {} files under src/",
        files.len()
    );
    let mut sources: Vec<(Vec<String>, String, String)> = files
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&src).unwrap();
            let text = std::fs::read_to_string(path).unwrap();
            let shown = format!("src/{}", relative.display());
            (module_of(relative), shown, text)
        })
        .collect();
    // Parents first, so that a `#[cfg(test)] mod x;` is known before `x`'s file is read.
    sources.sort_by_key(|(module, _, _)| module.len());
    let mut test_only = HashSet::new();
    let mut violations = Vec::new();
    for (module, shown, text) in &sources {
        if (1..=module.len()).any(|n| test_only.contains(&module[..n])) {
            continue;
        }
        let (named, tests) = scan(module, text);
        test_only.extend(tests);
        violations.extend(
            check(module, &named)
                .into_iter()
                .map(|v| format!("{shown}:{v}")),
        );
    }
    assert!(
        violations.is_empty(),
        "module boundaries from docs/ARCHITECTURE.md crossed:\n{}",
        violations.join("\n")
    );
}

/// The checker on snippets: what it must catch, and what it must let through.
#[test]
fn the_checker_catches_crossings_and_ignores_tests_comments_and_strings() {
    let caught = [
        (&["s3", "list"][..], "use crate::iam::users;"),
        (&["s3", "list"], "use crate::{admin, http};"),
        (&["s3", "list"], "use crate::{http::{self, x}, iam::a};"),
        (&["s3", "router"], "use super::super::iam::Action;"),
        (&["s3"], "fn f() { crate::admin::handle(x); }"),
        (&["iam"], "fn f() -> labstore::s3::Thing { todo!() }"),
        (&["auth", "sigv4"], "use crate::state::State;"),
        (
            &["auth", "sigv4", "canonical"],
            "use super::super::signing_keys::Cache;",
        ),
        (&["auth", "chunked"], "use tokio::io::AsyncRead;"),
        (&["policy", "eval"], "use std::fs;"),
        (&["policy", "eval"], "use std::{fs::File, io};"),
        (&["policy"], "use std::net::TcpStream;"),
        (
            &["policy"],
            "fn f() { let t = std::time::SystemTime::now(); }",
        ),
        (
            &["policy"],
            "use std::time::Instant; fn f() { Instant::now(); }",
        ),
        (&["auth", "sigv4"], "use std::sync::{Arc, Mutex};"),
        (&["auth", "sigv4"], "thread_local! { static X: u8 = 0; }"),
        (&["cidr"], "use rusqlite::Connection;"),
        (&["config"], "use crate::bench::BenchArgs;"),
        (&["s3", "object"], "fn f() { crate::bench::main(a); }"),
        (&["bench", "run"], "use crate::state::State;"),
        (
            &["bench", "client"],
            "use crate::auth::signing_keys::SigningKeyCache;",
        ),
    ];
    for (module, text) in caught {
        let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
        let (named, _) = scan(&module, text);
        assert_eq!(check(&module, &named).len(), 1, "{module:?}: {text}");
    }
    let allowed = [
        (&["app"][..], "use crate::{admin, http, iam, s3};"),
        (
            &["s3", "list"],
            "use super::error::Code; use crate::state::State;",
        ),
        (
            &["iam", "users"],
            "// use crate::s3::x;\nfn f() { g(\"crate::s3::y\"); }",
        ),
        (
            &["iam"],
            "/* crate::admin /* nested */ crate::s3 */ fn f() {}",
        ),
        (&["policy", "eval"], "use std::net::{IpAddr, Ipv4Addr};"),
        (&["policy"], "fn f(now: SystemTime) -> char { 'x' }"),
        (
            &["policy"],
            "#[cfg(test)]\nmod tests { use std::fs; use tokio::spawn; }",
        ),
        (&["policy"], "#[cfg(test)] use std::time::Instant;"),
        (
            &["auth", "sigv4"],
            "use crate::crypto::Secret; use crate::timefmt;",
        ),
        (&["main"], "fn main() { labstore::bench::main(args) }"),
        (&["cli"], "use crate::bench::BenchArgs;"),
        (
            &["bench", "client"],
            "use crate::auth::sigv4::{self, Credential}; use crate::xml;",
        ),
        (
            &["bench", "run"],
            "use crate::bench::ops; use super::client::Client;",
        ),
    ];
    for (module, text) in allowed {
        let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
        let (named, _) = scan(&module, text);
        assert_eq!(check(&module, &named), Vec::<String>::new(), "{text}");
    }
    let (_, tests) = scan(&["a".to_owned()], "#[cfg(test)]\n#[allow(x)]\nmod tests;");
    assert_eq!(tests, [vec!["a".to_owned(), "tests".to_owned()]]);
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `auth/sigv4/mod.rs` -> `auth::sigv4`; `lib.rs` -> the root; `main.rs` -> `main` (the
/// binary's root, named so that rules can tell it apart).
fn module_of(relative: &Path) -> Vec<String> {
    let mut module: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
        module.pop();
    }
    module
}

/// The rules one file breaks, each as "line: `path`: rule".
fn check(module: &[String], named: &[Named]) -> Vec<String> {
    let within =
        |prefix: &[&str]| module.len() >= prefix.len() && module[..prefix.len()] == *prefix;
    let top = module.first().map(String::as_str).unwrap_or_default();
    let pure = PURE.iter().any(|p| within(p));
    let mut found = Vec::new();
    for n in named {
        let written = n.written.join("::");
        let mut broken = |rule: &str| found.push(format!("{}: `{written}`: {rule}", n.line));
        if let Some(path) = &n.in_crate {
            let first = path.first().map(String::as_str).unwrap_or_default();
            if PROTOCOLS.contains(&top) && PROTOCOLS.contains(&first) && first != top {
                broken("`s3`, `iam` and `admin` never import each other");
            }
            if pure && STATEFUL_MODULES.iter().any(|m| path.starts_with(&owned(m))) {
                broken("pure core imports a stateful module");
            }
            if first == "bench" && top != "bench" && !BENCH_USERS.contains(&top) {
                broken("only `main` and `cli` import `bench`");
            }
            if top == "bench" && !BENCH_TAKES.iter().any(|m| path.starts_with(&owned(m))) {
                broken("`bench` is a client: from the crate only `auth::sigv4`, `timefmt`, `xml`, `crypto`");
            }
        } else if pure {
            if let Some(why) = impure(&n.written) {
                broken(&format!("pure core {why}"));
            }
        }
        if pure && clock_read(&n.written) {
            broken("pure core reads the clock (pass the time in)");
        }
    }
    found
}

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| s.to_string()).collect()
}

/// Why a path outside the crate is not for a pure core, if it is not.
fn impure(path: &[String]) -> Option<&'static str> {
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        [first, ..] if STATEFUL_CRATES.contains(first) => Some("uses a runtime or database crate"),
        ["std", "fs" | "env" | "process", ..] => Some("does I/O (std::fs, std::env, std::process)"),
        ["std", "net"] | ["std", "net", "*"] => {
            Some("imports std::net whole (name the address types)")
        }
        ["std", "net", "TcpListener" | "TcpStream" | "UdpSocket" | "ToSocketAddrs", ..] => {
            Some("does network I/O")
        }
        ["std", "sync", "Mutex" | "RwLock" | "OnceLock" | "LazyLock" | "Condvar" | "atomic" | "mpsc", ..]
        | ["parking_lot", ..]
        | ["thread_local!" | "static mut"] => Some("keeps shared mutable state"),
        _ => None,
    }
}

fn clock_read(path: &[String]) -> bool {
    path.windows(2).any(|w| {
        matches!(w[1].as_str(), "now") && matches!(w[0].as_str(), "SystemTime" | "Instant")
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Colons,
    Punct(char),
}

/// Tokens with their line numbers, without comments, string, char and number literals.
fn lex(text: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    // Skips to just past `end` (a char), counting lines; `\` escapes the next char.
    let skip_quoted = |mut i: usize, end: char, line: &mut usize| {
        while i < c.len() && c[i] != end {
            *line += usize::from(c[i] == '\n');
            i += if c[i] == '\\' { 2 } else { 1 };
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= c.len() {
                    break;
                } else {
                    line += usize::from(c[i] == '\n');
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_quoted(i + 1, '"', &mut line);
        } else if let Some(hashes) = raw_string_start(&c, i).filter(|_| ch == 'r' || ch == 'b') {
            // r"..", r#".."#, br".."
            let mut j = i + usize::from(ch == 'b') + 1 + hashes + 1;
            let closing: Vec<char> = std::iter::once('"')
                .chain((0..hashes).map(|_| '#'))
                .collect();
            while j < c.len() && c[j..].iter().take(closing.len()).ne(closing.iter()) {
                line += usize::from(c[j] == '\n');
                j += 1;
            }
            i = j + closing.len();
        } else if ch == 'b' && at(i + 1) == '"' {
            i = skip_quoted(i + 2, '"', &mut line);
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                i = skip_quoted(i + 1, '\'', &mut line);
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1; // a lifetime: its name lexes as an identifier, which names no path
            }
        } else if ch == 'b' && at(i + 1) == '\'' {
            i += 1;
        } else if ch.is_alphabetic() || ch == '_' {
            if ch == 'r' && at(i + 1) == '#' {
                i += 2; // r#ident
            }
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push((Tok::Ident(c[start..i].iter().collect()), line));
        } else if ch.is_ascii_digit() {
            while at(i).is_alphanumeric()
                || at(i) == '_'
                || (at(i) == '.' && at(i + 1).is_ascii_digit())
            {
                i += 1;
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push((Tok::Colons, line));
            i += 2;
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

/// The number of `#` if a raw (byte) string starts at `i`: `r"`, `r#"`, `br"`.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    let r = i + usize::from(c.get(i) == Some(&'b'));
    if c.get(r) != Some(&'r') {
        return None;
    }
    let hashes = c[r + 1..].iter().take_while(|&&h| h == '#').count();
    (c.get(r + 1 + hashes) == Some(&'"')).then_some(hashes)
}

/// Every path a file names (with its line), and the test-only child modules it declares
/// (`#[cfg(test)] mod x;`), as module paths.
fn scan(module: &[String], text: &str) -> (Vec<Named>, Vec<Vec<String>>) {
    let toks = lex(text);
    let ident = |i: usize| match toks.get(i) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let punct = |i: usize, p: char| matches!(toks.get(i), Some((Tok::Punct(q), _)) if *q == p);
    let colons = |i: usize| matches!(toks.get(i), Some((Tok::Colons, _)));
    let mut named = Vec::new();
    let mut test_modules = Vec::new();
    // Inline `mod name { .. }` blocks open around the current token: name, depth outside.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let (mut i, mut depth, mut cfg_test) = (0, 0usize, false);
    while i < toks.len() {
        let line = toks[i].1;
        if punct(i, '#') && (punct(i + 1, '[') || (punct(i + 1, '!') && punct(i + 2, '['))) {
            let open = if punct(i + 1, '[') { i + 1 } else { i + 2 };
            let close = matching(&toks, open);
            let is_cfg_test = close == open + 5
                && ident(open + 1) == Some("cfg")
                && punct(open + 2, '(')
                && ident(open + 3) == Some("test")
                && punct(open + 4, ')');
            cfg_test |= is_cfg_test;
            i = close + 1;
            continue;
        }
        if cfg_test {
            cfg_test = false;
            let at_mod = usize::from(ident(i) == Some("pub"));
            if ident(i + at_mod) == Some("mod") && punct(i + at_mod + 2, ';') {
                let mut child = here(module, &inline);
                child.push(ident(i + at_mod + 1).unwrap_or_default().to_owned());
                test_modules.push(child);
            }
            i = item_end(&toks, i);
            continue;
        }
        match &toks[i].0 {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            Tok::Ident(k) if k == "mod" && ident(i + 1).is_some() && punct(i + 2, '{') => {
                inline.push((ident(i + 1).unwrap().to_owned(), depth));
                i += 2;
                continue;
            }
            Tok::Ident(k) if k == "use" => {
                let mut paths = Vec::new();
                i = use_tree(&toks, i + 1, Vec::new(), &mut paths);
                for written in paths {
                    named.push(resolve(&here(module, &inline), written, line));
                }
                continue;
            }
            Tok::Ident(k) if k == "thread_local" && punct(i + 1, '!') => {
                named.push(resolve(
                    &here(module, &inline),
                    vec!["thread_local!".into()],
                    line,
                ));
            }
            Tok::Ident(k) if k == "static" && ident(i + 1) == Some("mut") => {
                named.push(resolve(
                    &here(module, &inline),
                    vec!["static mut".into()],
                    line,
                ));
            }
            Tok::Ident(_) | Tok::Colons
                if !colons(i.wrapping_sub(1)) && !punct(i.wrapping_sub(1), '.') =>
            {
                let mut written = Vec::new();
                let mut j = i + usize::from(colons(i));
                while let Some(segment) = ident(j) {
                    written.push(segment.to_owned());
                    if !(colons(j + 1) && ident(j + 2).is_some()) {
                        break;
                    }
                    j += 2;
                }
                if written.len() >= 2 {
                    named.push(resolve(&here(module, &inline), written, line));
                    i = j + 1;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (named, test_modules)
}

/// The module a token is in: the file's, and the inline `mod` blocks open around it.
fn here(module: &[String], inline: &[(String, usize)]) -> Vec<String> {
    let inline = inline.iter().map(|(name, _)| name.clone());
    module.iter().cloned().chain(inline).collect()
}

/// The index of the bracket that closes the one at `open`.
fn matching(toks: &[(Tok, usize)], open: usize) -> usize {
    let mut depth = 0;
    for (i, (t, _)) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// Just past the item starting at `i`: its `;`, or the `}` closing its body.
fn item_end(toks: &[(Tok, usize)], i: usize) -> usize {
    for (j, (t, _)) in toks.iter().enumerate().skip(i) {
        match t {
            Tok::Punct(';') => return j + 1,
            Tok::Punct('{') => return matching(toks, j) + 1,
            Tok::Punct('(' | '[') => return item_end(toks, matching(toks, j) + 1),
            _ => {}
        }
    }
    toks.len()
}

/// Parses one use tree at `i` under `prefix`, pushing each full path; returns the index past
/// it (past the `;` at the top level).
fn use_tree(
    toks: &[(Tok, usize)],
    mut i: usize,
    prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    let mut path = prefix;
    if matches!(toks.get(i), Some((Tok::Colons, _))) {
        i += 1;
    }
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::Ident(s)) => {
                // `{self, ..}` names the prefix itself; a leading `self::` is kept to resolve.
                if s != "self" || path.is_empty() {
                    path.push(s.clone());
                }
                i += 1;
                if matches!(toks.get(i), Some((Tok::Colons, _))) {
                    i += 1;
                    continue;
                }
                if matches!(toks.get(i), Some((Tok::Ident(a), _)) if a == "as") {
                    i += 2;
                }
                out.push(path);
                break;
            }
            Some(Tok::Punct('*')) => {
                path.push("*".into());
                out.push(path);
                i += 1;
                break;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                while !matches!(toks.get(i), Some((Tok::Punct('}'), _)) | None) {
                    i = use_tree(toks, i, path.clone(), out);
                    if matches!(toks.get(i), Some((Tok::Punct(','), _))) {
                        i += 1;
                    }
                }
                i += 1;
                break;
            }
            _ => break,
        }
    }
    if matches!(toks.get(i), Some((Tok::Punct(';'), _))) {
        i += 1;
    }
    i
}

/// Resolves `crate::`, `labstore::` (the library, as the binary names it), `super::` and
/// `self::` against the module `here`; any other path is outside the crate (or relative to
/// `here`, which stays inside it).
fn resolve(here: &[String], written: Vec<String>, line: usize) -> Named {
    let in_crate = match written.first().map(String::as_str) {
        Some("crate" | "labstore") => Some(written[1..].to_vec()),
        Some("self") => Some(here.iter().chain(&written[1..]).cloned().collect()),
        Some("super") => {
            let ups = written.iter().take_while(|s| *s == "super").count();
            let base = &here[..here.len().saturating_sub(ups)];
            Some(base.iter().chain(&written[ups..]).cloned().collect())
        }
        _ => None,
    };
    Named {
        line,
        written,
        in_crate,
    }
}
