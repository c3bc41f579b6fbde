//! Policy variables: `${aws:username}` and friends in `Resource` entries and in the values of
//! string and ARN conditions, kept as [`Template`]s at compile time and resolved from the
//! request context per request.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html>
//!
//! Syntax handled:
//! - `${key}`: the key's value from the context; key names fold case. Every variable comes
//!   from the context, `aws:username`, `aws:userid` and `aws:PrincipalType` included: the
//!   caller fills them in, so that this module has one rule, not a list of special names.
//! - `${key, 'default'}`: the default when the key is absent; `''` inside the quotes is one
//!   quote, and spaces around the key and the quoted default are ignored.
//! - `${*}`, `${?}`, `${$}`: a literal `*`, `?`, `$`.
//!
//! Decisions where the AWS page is silent:
//! - Substituted text is literal: a user named `a*` does not match every key starting with `a`.
//!   A default is substituted text too.
//! - A key with several values cannot be a variable (the single- vs multi-valued keys page says
//!   so); it resolves like an absent key.
//! - `${` without a closing `}` is not a variable; the text stays as written.
//! - A malformed variable (`${}`, `${a b}`, `${key, unquoted}`) never resolves, like an absent
//!   key without default.
//! - One round only: a value or default holding `${...}` is not expanded again.

use super::context::Context;
use crate::policy::pattern::Part;

/// Policy text with its variables taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// As the author wrote it: `*` and `?` keep their wildcard meaning where the operator has
    /// wildcards.
    Text(String),
    /// An escape's character.
    Literal(&'static str),
    /// `key` as written; the context folds case when it looks it up.
    Variable {
        key: String,
        default: Option<String>,
    },
    /// A `${...}` that does not parse; it never resolves.
    Malformed,
}

impl Template {
    /// Parses `text`; with `variables` false (a 2008-10-17 policy) all of it is plain text.
    pub(super) fn parse(text: &str, variables: bool) -> Template {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${").filter(|_| variables) {
            let Some((inner, after)) = split_variable(&rest[start + 2..]) else {
                break;
            };
            push_text(&mut pieces, &rest[..start]);
            pieces.push(parse_inner(inner));
            rest = after;
        }
        push_text(&mut pieces, rest);
        Template { pieces }
    }

    /// True when the template needs no context: only text and escapes.
    pub(super) fn is_fixed(&self) -> bool {
        self.pieces
            .iter()
            .all(|piece| matches!(piece, Piece::Text(_) | Piece::Literal(_)))
    }

    /// The keys of the variables that have no default: without them the template does not
    /// resolve.
    pub(super) fn required_keys(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Variable { key, default: None } => Some(key.as_str()),
            _ => None,
        })
    }

    /// The pattern parts with each variable replaced by its (literal) value, or `None` when a
    /// variable cannot be resolved. Text pieces are [`Part::Wild`]; callers whose operator has
    /// no wildcards turn them literal.
    pub(super) fn resolve<'a>(&'a self, context: &'a Context) -> Option<Vec<Part<'a>>> {
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => Some(Part::Wild(text)),
                Piece::Literal(text) => Some(Part::Literal(text)),
                Piece::Variable { key, default } => match context.values(key) {
                    Some([one]) => Some(Part::Literal(one)),
                    _ => default.as_deref().map(Part::Literal),
                },
                Piece::Malformed => None,
            })
            .collect()
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if !text.is_empty() {
        pieces.push(Piece::Text(text.to_owned()));
    }
}

/// Splits `key, 'default'}rest` at the closing brace, skipping braces inside quotes.
fn split_variable(after_open: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in after_open.char_indices() {
        match c {
            // `''` inside quotes closes and reopens, which leaves the state right.
            '\'' => quoted = !quoted,
            '}' if !quoted => return Some((&after_open[..i], &after_open[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The text between `${` and `}`.
fn parse_inner(inner: &str) -> Piece {
    match inner {
        "*" => return Piece::Literal("*"),
        "?" => return Piece::Literal("?"),
        "$" => return Piece::Literal("$"),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((key, default)) => match unquote(default.trim()) {
            Some(default) => (key.trim(), Some(default)),
            None => return Piece::Malformed,
        },
    };
    if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == '\'') {
        return Piece::Malformed;
    }
    Piece::Variable {
        key: key.to_owned(),
        default,
    }
}

/// `'text'` with `''` standing for one quote; anything else (a lone quote inside, no quotes)
/// is refused.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Piece {
        Piece::Text(s.to_owned())
    }

    fn var(key: &str, default: Option<&str>) -> Piece {
        Piece::Variable {
            key: key.to_owned(),
            default: default.map(str::to_owned),
        }
    }

    #[test]
    fn parses_the_forms_the_aws_page_shows() {
        let rows: Vec<(&str, Vec<Piece>)> = vec![
            ("plain", vec![text("plain")]),
            (
                "home/${aws:username}/*",
                vec![text("home/"), var("aws:username", None), text("/*")],
            ),
            ("${AWS:UserName}", vec![var("AWS:UserName", None)]),
            (
                "${aws:userid, 'anonymous'}",
                vec![var("aws:userid", Some("anonymous"))],
            ),
            (
                "${ aws:userid ,  'a b' }",
                vec![var("aws:userid", Some("a b"))],
            ),
            ("${k, 'it''s'}", vec![var("k", Some("it's"))]),
            ("${k, 'a}b'}", vec![var("k", Some("a}b"))]),
            ("${k, ''}", vec![var("k", Some(""))]),
            (
                "a${*}b${?}${$}",
                vec![
                    text("a"),
                    Piece::Literal("*"),
                    text("b"),
                    Piece::Literal("?"),
                    Piece::Literal("$"),
                ],
            ),
            ("${}", vec![Piece::Malformed]),
            ("${a b}", vec![Piece::Malformed]),
            ("${k, unquoted}", vec![Piece::Malformed]),
            ("${k, 'a' 'b'}", vec![Piece::Malformed]),
            // An unbalanced quote hides the closing brace: not a variable at all.
            ("${k, 'a'b'}", vec![text("${k, 'a'b'}")]),
            ("cost: $5 {x}", vec![text("cost: $5 {x}")]),
            ("open ${never closed", vec![text("open ${never closed")]),
        ];
        for (input, pieces) in rows {
            assert_eq!(Template::parse(input, true).pieces, pieces, "{input}");
        }
    }

    #[test]
    fn required_keys_are_the_variables_without_a_default() {
        let template = Template::parse("${a:One}/${b:two, 'x'}/${*}/${}/${c:three}", true);
        assert_eq!(
            template.required_keys().collect::<Vec<_>>(),
            ["a:One", "c:three"]
        );
        assert_eq!(
            Template::parse("${a:one}", false).required_keys().count(),
            0
        );
    }

    #[test]
    fn version_2008_keeps_everything_as_text() {
        let template = Template::parse("home/${aws:username}/${*}", false);
        assert_eq!(template.pieces, vec![text("home/${aws:username}/${*}")]);
        assert!(template.is_fixed());
    }

    #[test]
    fn resolves_from_the_context() {
        let mut context = Context::new();
        context
            .set("aws:username", ["al*ce"])
            .set("aws:TagKeys", ["a", "b"]);
        let template = Template::parse("home/${aws:username}/*", true);
        assert_eq!(
            template.resolve(&context),
            Some(vec![
                Part::Wild("home/"),
                Part::Literal("al*ce"),
                Part::Wild("/*")
            ])
        );
        // Several values: not usable as a variable; the default applies if there is one.
        assert_eq!(
            Template::parse("${aws:tagkeys}", true).resolve(&context),
            None
        );
        let with_default = Template::parse("${aws:tagkeys, 'none'}", true);
        assert_eq!(
            with_default.resolve(&context),
            Some(vec![Part::Literal("none")])
        );
        assert_eq!(
            Template::parse("${aws:userid}", true).resolve(&context),
            None
        );
        // Key names fold case, whatever case the author wrote.
        assert_eq!(
            Template::parse("${AWS:UserName}", true).resolve(&context),
            Some(vec![Part::Literal("al*ce")])
        );
        assert_eq!(Template::parse("${}", true).resolve(&context), None);
        // One round only.
        let nested = Template::parse("${missing, '${aws:username}'}", true);
        assert_eq!(
            nested.resolve(&context),
            Some(vec![Part::Literal("${aws:username}")])
        );
    }
}
