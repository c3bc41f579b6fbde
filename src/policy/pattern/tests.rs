//! Wildcard tables run through both matchers, an exhaustive cross-check of both against a
//! plain dynamic-programming reference on short strings, and the pathological pattern.

use super::*;
use Case::{Insensitive, Sensitive};

/// Both forms must agree on every row.
fn assert_both(pattern: &str, text: &str, case: Case, expected: bool) {
    assert_eq!(
        matches(pattern, text, case),
        expected,
        "matches({pattern:?}, {text:?}, {case:?})"
    );
    assert_eq!(
        Pattern::new(pattern, case).matches(text),
        expected,
        "Pattern::new({pattern:?}, {case:?}).matches({text:?})"
    );
}

#[test]
fn case_sensitive_table() {
    let rows: &[(&str, &str, bool)] = &[
        ("", "", true),
        ("", "a", false),
        ("*", "", true),
        ("*", "anything/at:all", true),
        ("**", "x", true),
        ("abc", "abc", true),
        ("abc", "abd", false),
        ("abc", "ABC", false),
        ("abc", "abcd", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a?c", "abbc", false),
        ("???", "ab", false),
        ("???", "abc", true),
        ("a*", "a", true),
        ("a*", "ab/c:d", true),
        ("a*", "ba", false),
        ("*a", "ba", true),
        ("*a", "ab", false),
        ("a*b*c", "abc", true),
        ("a*b*c", "a--b--c", true),
        ("a*b*c", "a--c--b", false),
        ("ab*ba", "aba", false),
        ("ab*ba", "abba", true),
        ("*?", "", false),
        ("*?", "x", true),
        ("a*?b", "ab", false),
        ("a*?b", "a-b", true),
        ("*b*b*", "abcb", true),
        ("*b*b*", "abc", false),
        // Only * and ? are special: S3 keys may hold the characters globs treat specially.
        ("[ab]", "a", false),
        ("[ab]", "[ab]", true),
        ("{a,b}", "{a,b}", true),
        ("a\\*", "a\\xyz", true),
        ("a\\*", "a*", false),
        // `*` crosses `/` and `:`; `?` is one character, however many bytes it takes.
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", true),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false),
        ("arn:aws:s3:::bucket*", "arn:aws:s3:::bucket", true),
        ("arn:*:s3:::b", "arn:aws:x:y:s3:::b", true),
        ("caf?", "café", true),
        ("caf??", "café", false),
        ("*é", "caféé", true),
        ("?é", "éé", true),
        ("h?me/*/x", "höme/a/b/x", true),
    ];
    for &(pattern, text, expected) in rows {
        assert_both(pattern, text, Sensitive, expected);
    }
}

#[test]
fn case_insensitive_table() {
    let rows: &[(&str, &str, bool)] = &[
        ("s3:GetObject", "s3:getobject", true),
        ("S3:GETOBJECT", "s3:GetObject", true),
        ("s3:Get*", "S3:GETOBJECTACL", true),
        ("s3:*Object", "s3:PUTOBJECT", true),
        ("s3:?etObject", "S3:GETOBJECT", true),
        ("s3:GetObject", "s3:GetObjects", false),
        ("s3:List*", "s3:GetObject", false),
        // Only ASCII folds.
        ("É", "é", false),
    ];
    for &(pattern, text, expected) in rows {
        assert_both(pattern, text, Insensitive, expected);
    }
}

#[test]
fn literal_parts_never_act_as_wildcards() {
    let home = |user: &str| {
        Pattern::from_parts(
            [Part::Wild("home/"), Part::Literal(user), Part::Wild("/*")],
            Sensitive,
        )
    };
    assert!(home("a*").matches("home/a*/notes.txt"));
    assert!(!home("a*").matches("home/alice/notes.txt"));
    assert!(!home("a?").matches("home/ab/x"));
    assert!(home("a?").matches("home/a?/x"));
    assert!(Pattern::literal("*", Sensitive).matches("*"));
    assert!(!Pattern::literal("*", Sensitive).matches("x"));
    assert!(Pattern::literal("A?", Insensitive).matches("a?"));
    assert!(!Pattern::literal("A?", Insensitive).matches("ab"));
}

/// Plain dynamic programming over characters: obviously right, and quadratic.
fn reference(pattern: &[char], text: &[char]) -> bool {
    // reach[j]: pattern[..i] matches text[..j]
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for &p in pattern {
        let mut next = vec![false; text.len() + 1];
        for j in 0..=text.len() {
            next[j] = match p {
                '*' => reach[j] || (j > 0 && next[j - 1]),
                '?' => j > 0 && reach[j - 1],
                c => j > 0 && reach[j - 1] && text[j - 1] == c,
            };
        }
        reach = next;
    }
    reach[text.len()]
}

/// Every string of length 0..=max over `alphabet`.
fn all_strings(alphabet: &[char], max: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut previous = vec![String::new()];
    for _ in 0..max {
        let longer: Vec<String> = previous
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        all.extend(longer.iter().cloned());
        previous = longer;
    }
    all
}

#[test]
fn both_matchers_agree_with_the_reference_on_all_short_inputs() {
    let patterns = all_strings(&['a', 'é', '*', '?'], 5);
    let texts = all_strings(&['a', 'b', 'é'], 5);
    for pattern in &patterns {
        let compiled = Pattern::new(pattern, Sensitive);
        let pattern_chars: Vec<char> = pattern.chars().collect();
        for text in &texts {
            let text_chars: Vec<char> = text.chars().collect();
            let expected = reference(&pattern_chars, &text_chars);
            assert_eq!(
                matches(pattern, text, Sensitive),
                expected,
                "{pattern:?} {text:?}"
            );
            assert_eq!(compiled.matches(text), expected, "{pattern:?} {text:?}");
        }
    }
}

/// The brief's pathological case, plus one whose suffix matches so that the middle segments
/// are actually searched. Neither may backtrack exponentially; the assertions are on the
/// answers, the test's runtime is the real check.
#[test]
fn pathological_patterns_stay_polynomial() {
    let text = "a".repeat(10_000);
    assert_both("a*a*a*a*a*a*a*a*b", &text, Sensitive, false);
    assert_both("*a*a*a*a*a*a*a*a*b*a", &text, Sensitive, false);
    assert_both("a*a*a*a*a*a*a*a*a", &text, Sensitive, true);
    let mut near_miss = "ab".repeat(5_000);
    near_miss.push('c');
    assert_both("*a*b*a*b*a*b*a*b*a*b*d", &near_miss, Insensitive, false);
}

#[test]
fn shapes_take_their_fast_paths() {
    let shape = |p: &str| Pattern::new(p, Sensitive).shape;
    assert_eq!(shape("*"), Shape::Any);
    assert_eq!(shape("***"), Shape::Any);
    assert_eq!(shape("abc"), Shape::Exact("abc".into()));
    assert_eq!(shape("ab*"), Shape::Prefix("ab".into()));
    assert_eq!(shape("ab**"), Shape::Prefix("ab".into()));
    assert!(matches!(shape("a?c"), Shape::Single(_)));
    assert!(matches!(shape("*bc"), Shape::Stars { .. }));
    // Insensitive patterns store lowercase, so only the request side is folded.
    assert_eq!(
        Pattern::new("S3:Get*", Insensitive).shape,
        Shape::Prefix("s3:get".into())
    );
}
