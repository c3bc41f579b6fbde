//! One compiled condition (operator, key, values) and the rules for deciding it against the
//! request context.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>
//!
//! The rules, in the order they apply:
//! 1. `Null` asks only whether the key is present: `true` means absent, `false` present. A set
//!    qualifier on it changes nothing.
//! 2. A key that is absent (or present with no values) makes the condition: true with
//!    `...IfExists`; else true under `ForAllValues` and false under `ForAnyValue`; else true
//!    for a negated operator (`StringNotEquals`, `NotIpAddress`, ...) and false otherwise.
//! 3. Several policy values are OR-ed: a request value *matches* when it matches any of them.
//!    A negated operator is the plain NOT of that: none of the policy values may match.
//! 4. Several request values: `ForAnyValue` needs one request value to pass, `ForAllValues`
//!    every one. Without a qualifier (our choice; AWS asks for a qualifier on multi-valued
//!    keys and does not say), a plain operator passes when any request value matches and a
//!    negated one when none does, so that `StringNotEquals` stays exactly `!StringEquals`.
//! 5. A request value that does not parse for the operator (a number, date, boolean, address,
//!    base64 or ARN) matches no policy value; by rule 3 a negated operator is then true.
//! 6. Policy variables (string and ARN operators only, as the variables page says): a policy
//!    value whose variable cannot be resolved matches nothing, and a negated operator holding
//!    one is false. Either way an unresolvable variable never makes a statement apply,
//!    which is what AWS means by it "causing the statement to be invalid".

use std::borrow::Cow;
use std::cmp::Ordering;

use base64::Engine;

use super::context::Context;
use super::date::{self, Instant};
use super::variables::Template;
use crate::cidr::{self, Cidr};
use crate::policy::document::{BaseOp, Condition, SetQualifier};
use crate::policy::pattern::{Case, Part, Pattern};

#[derive(Debug, Clone)]
pub(super) struct CompiledCondition {
    /// As the policy writes it: the context folds case when it looks a key up, and the
    /// simulation APIs report missing keys in the author's spelling.
    key: String,
    if_exists: bool,
    set: Option<SetQualifier>,
    /// The operator is the `Not` form of `test`.
    negated: bool,
    test: Test,
}

/// The positive test behind each operator, with the policy values parsed once. Values that do
/// not parse for the operator are dropped: they could never match.
#[derive(Debug, Clone)]
enum Test {
    /// `StringEquals`, `StringEqualsIgnoreCase` and `StringLike` are all patterns: literal,
    /// literal folding case, and wildcard.
    Text {
        like: bool,
        case: Case,
        values: Values<Pattern>,
    },
    Arn(Values<ArnPattern>),
    Numeric(Comparison, Vec<f64>),
    Date(Comparison, Vec<Instant>),
    Bool(Vec<bool>),
    Binary(Vec<Vec<u8>>),
    Ip(Vec<Cidr>),
    /// `true`: the key must be absent.
    Null(Vec<bool>),
}

#[derive(Debug, Clone, Copy)]
enum Comparison {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// Policy values of the operators that take variables: those without any compiled once, the
/// others kept as templates until the request is known.
#[derive(Debug, Clone)]
pub(super) struct Values<T> {
    fixed: Vec<T>,
    templates: Vec<Template>,
}

/// The six components of an ARN pattern, each with wildcards; the last may hold colons.
#[derive(Debug, Clone)]
pub(super) struct ArnPattern {
    components: Vec<Pattern>,
}

impl CompiledCondition {
    /// `variables` is false under policy version 2008-10-17.
    pub(super) fn compile(condition: &Condition, variables: bool) -> CompiledCondition {
        let op = condition.op;
        let texts = &condition.values;
        let text_test = |like, case| Test::Text {
            like,
            case,
            values: Values::compile(texts, variables, |parts| {
                Some(text_pattern(parts, like, case))
            }),
        };
        let test = match op.base {
            BaseOp::StringEquals | BaseOp::StringNotEquals => text_test(false, Case::Sensitive),
            BaseOp::StringEqualsIgnoreCase | BaseOp::StringNotEqualsIgnoreCase => {
                text_test(false, Case::Insensitive)
            }
            BaseOp::StringLike | BaseOp::StringNotLike => text_test(true, Case::Sensitive),
            BaseOp::ArnEquals | BaseOp::ArnLike | BaseOp::ArnNotEquals | BaseOp::ArnNotLike => {
                Test::Arn(Values::compile(texts, variables, ArnPattern::from_parts))
            }
            BaseOp::NumericEquals | BaseOp::NumericNotEquals => numeric(Comparison::Equal, texts),
            BaseOp::NumericLessThan => numeric(Comparison::Less, texts),
            BaseOp::NumericLessThanEquals => numeric(Comparison::LessOrEqual, texts),
            BaseOp::NumericGreaterThan => numeric(Comparison::Greater, texts),
            BaseOp::NumericGreaterThanEquals => numeric(Comparison::GreaterOrEqual, texts),
            BaseOp::DateEquals | BaseOp::DateNotEquals => dates(Comparison::Equal, texts),
            BaseOp::DateLessThan => dates(Comparison::Less, texts),
            BaseOp::DateLessThanEquals => dates(Comparison::LessOrEqual, texts),
            BaseOp::DateGreaterThan => dates(Comparison::Greater, texts),
            BaseOp::DateGreaterThanEquals => dates(Comparison::GreaterOrEqual, texts),
            BaseOp::Bool => Test::Bool(texts.iter().filter_map(|t| parse_bool(t)).collect()),
            BaseOp::BinaryEquals => Test::Binary(texts.iter().filter_map(|t| base64(t)).collect()),
            BaseOp::IpAddress | BaseOp::NotIpAddress => {
                Test::Ip(texts.iter().filter_map(|t| cidr::parse_cidr(t)).collect())
            }
            BaseOp::Null => Test::Null(texts.iter().filter_map(|t| parse_bool(t)).collect()),
        };
        CompiledCondition {
            key: condition.key.clone(),
            if_exists: op.if_exists,
            set: op.set,
            negated: op.base.is_negated(),
            test,
        }
    }

    pub(super) fn holds(&self, context: &Context) -> bool {
        let present = context.values(&self.key);
        if let Test::Null(expected) = &self.test {
            return expected.contains(&present.is_none());
        }
        let Some(request) = present else {
            return self.when_absent();
        };
        match &self.test {
            Test::Text { values, like, case } => {
                let resolved =
                    values.resolve(context, |parts| Some(text_pattern(parts, *like, *case)));
                let matches = |value: &str| resolved.values.iter().any(|p| p.matches(value));
                self.combine(request, resolved.complete, matches)
            }
            Test::Arn(values) => {
                let resolved = values.resolve(context, ArnPattern::from_parts);
                let matches = |value: &str| resolved.values.iter().any(|p| p.matches(value));
                self.combine(request, resolved.complete, matches)
            }
            Test::Numeric(comparison, policy) => self.combine(request, true, |value| {
                value
                    .parse::<f64>()
                    .is_ok_and(|n| policy.iter().any(|p| comparison.holds(n.partial_cmp(p))))
            }),
            Test::Date(comparison, policy) => self.combine(request, true, |value| {
                date::parse(value)
                    .is_some_and(|d| policy.iter().any(|p| comparison.holds(Some(d.cmp(p)))))
            }),
            Test::Bool(policy) => self.combine(request, true, |value| {
                parse_bool(value).is_some_and(|b| policy.contains(&b))
            }),
            Test::Binary(policy) => self.combine(request, true, |value| {
                base64(value).is_some_and(|bytes| policy.contains(&bytes))
            }),
            Test::Ip(policy) => self.combine(request, true, |value| {
                cidr::parse_address(value).is_some_and(|a| policy.iter().any(|c| c.contains(a)))
            }),
            // Answered before the key was looked at.
            Test::Null(_) => false,
        }
    }

    /// The context keys this condition reads: its own key and those of the policy variables
    /// (without a default) in its values.
    pub(super) fn context_keys<'a>(&'a self, keys: &mut Vec<&'a str>) {
        keys.push(&self.key);
        match &self.test {
            Test::Text { values, .. } => keys.extend(values.required_keys()),
            Test::Arn(values) => keys.extend(values.required_keys()),
            _ => {}
        }
    }

    /// Rule 2 of the module docs.
    fn when_absent(&self) -> bool {
        if self.if_exists {
            return true;
        }
        match self.set {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => false,
            None => self.negated,
        }
    }

    /// Rules 3, 4 and 6: `matches` says whether one request value matches any policy value;
    /// `complete` is false when some policy value had an unresolvable variable.
    fn combine(&self, request: &[String], complete: bool, matches: impl Fn(&str) -> bool) -> bool {
        let passes = |value: &String| match self.negated {
            true => complete && !matches(value),
            false => matches(value),
        };
        match self.set {
            Some(SetQualifier::ForAllValues) => request.iter().all(passes),
            Some(SetQualifier::ForAnyValue) => request.iter().any(passes),
            None => {
                let any = request.iter().any(|value| matches(value));
                match self.negated {
                    true => complete && !any,
                    false => any,
                }
            }
        }
    }
}

fn numeric(comparison: Comparison, texts: &[String]) -> Test {
    Test::Numeric(
        comparison,
        texts.iter().filter_map(|t| t.parse().ok()).collect(),
    )
}

fn dates(comparison: Comparison, texts: &[String]) -> Test {
    Test::Date(
        comparison,
        texts.iter().filter_map(|t| date::parse(t)).collect(),
    )
}

/// `true` / `false` in any case, as AWS's examples mix `"true"` and JSON `true`.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Both sides are base64 text; comparing the decoded bytes makes padding and line layout
/// irrelevant.
fn base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// A string operator's pattern: wildcards only for `StringLike`; the other two take the
/// author's `*` and `?` literally too.
fn text_pattern<'a>(parts: &[Part<'a>], like: bool, case: Case) -> Pattern {
    let literal = |part: &Part<'a>| match *part {
        Part::Wild(text) | Part::Literal(text) => Part::Literal(text),
    };
    match like {
        true => Pattern::from_parts(parts.iter().copied(), case),
        false => Pattern::from_parts(parts.iter().map(literal), case),
    }
}

impl Comparison {
    /// `None` is an unordered pair (a NaN), which satisfies no comparison.
    fn holds(self, order: Option<Ordering>) -> bool {
        let Some(order) = order else {
            return false;
        };
        match self {
            Comparison::Equal => order.is_eq(),
            Comparison::Less => order.is_lt(),
            Comparison::LessOrEqual => order.is_le(),
            Comparison::Greater => order.is_gt(),
            Comparison::GreaterOrEqual => order.is_ge(),
        }
    }
}

/// The policy values usable for one request.
pub(super) struct Resolved<'a, T: Clone> {
    pub(super) values: Cow<'a, [T]>,
    /// False when a variable in some value could not be resolved.
    pub(super) complete: bool,
}

impl<T: Clone> Values<T> {
    /// `build` turns a fixed value's parts into `T`, or refuses it (it could never match).
    pub(super) fn compile(
        texts: &[String],
        variables: bool,
        build: impl Fn(&[Part<'_>]) -> Option<T>,
    ) -> Values<T> {
        let mut values = Values {
            fixed: Vec::new(),
            templates: Vec::new(),
        };
        let empty = Context::new();
        for text in texts {
            let template = Template::parse(text, variables);
            if !template.is_fixed() {
                values.templates.push(template);
            } else if let Some(value) = template.resolve(&empty).and_then(|p| build(&p)) {
                values.fixed.push(value);
            }
        }
        values
    }

    /// The keys of the variables without a default, which the values cannot do without.
    pub(super) fn required_keys(&self) -> impl Iterator<Item = &str> {
        self.templates.iter().flat_map(Template::required_keys)
    }

    /// Borrows the fixed values when there are no templates: the common case allocates nothing.
    pub(super) fn resolve<'a>(
        &'a self,
        context: &Context,
        build: impl Fn(&[Part<'_>]) -> Option<T>,
    ) -> Resolved<'a, T> {
        if self.templates.is_empty() {
            return Resolved {
                values: Cow::Borrowed(&self.fixed),
                complete: true,
            };
        }
        let mut values = self.fixed.clone();
        let mut complete = true;
        for template in &self.templates {
            match template.resolve(context) {
                Some(parts) => values.extend(build(&parts)),
                None => complete = false,
            }
        }
        Resolved {
            values: Cow::Owned(values),
            complete,
        }
    }
}

impl ArnPattern {
    /// Splits the parts at their first five colons (substituted text included: a variable
    /// holding an ARN spans components) and compiles each component. Fewer than six
    /// components is not an ARN, and matches nothing.
    pub(super) fn from_parts(parts: &[Part<'_>]) -> Option<ArnPattern> {
        let mut components: Vec<Vec<Part<'_>>> = vec![Vec::new()];
        for part in parts {
            let (mut rest, wild) = match *part {
                Part::Wild(text) => (text, true),
                Part::Literal(text) => (text, false),
            };
            loop {
                let split = rest.find(':').filter(|_| components.len() < 6);
                let (head, tail) = match split {
                    Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                    None => (rest, None),
                };
                let piece = if wild {
                    Part::Wild(head)
                } else {
                    Part::Literal(head)
                };
                components.last_mut()?.push(piece);
                match tail {
                    Some(tail) => {
                        components.push(Vec::new());
                        rest = tail;
                    }
                    None => break,
                }
            }
        }
        if components.len() != 6 {
            return None;
        }
        let components = components
            .into_iter()
            .map(|parts| Pattern::from_parts(parts, Case::Sensitive))
            .collect();
        Some(ArnPattern { components })
    }

    /// Component by component; the request ARN needs all six.
    pub(super) fn matches(&self, arn: &str) -> bool {
        let mut request = arn.splitn(6, ':');
        self.components
            .iter()
            .all(|pattern| request.next().is_some_and(|c| pattern.matches(c)))
    }
}
