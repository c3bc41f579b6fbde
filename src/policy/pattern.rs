//! IAM wildcard matching: `*` is any run of characters (`/` and `:` included), `?` is exactly
//! one character, and nothing else is special (no `[]`, `{}` or `\`, which S3 keys may hold).
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards>
//!
//! Two forms: [`matches`] for a one-off pattern, and [`Pattern`], compiled once per policy,
//! for the evaluator's hot path. Both take time polynomial in the input: `a*a*a*…b` against a
//! long run of `a`s costs at most pattern length × text length steps, never an exponential
//! search.
//!
//! A `Pattern` can also be built from [`Part`]s, so that text substituted into a pattern (a
//! policy variable's value, or the `${*}` escape) stays literal: a user named `a*` must not
//! match every home folder starting with `a`.

#[cfg(test)]
mod tests;

/// Whether letters must match in case. Insensitive folds ASCII letters only, which is what
/// IAM action names (`s3:GetObject`) need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

/// A piece of pattern source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// Text in which `*` and `?` are wildcards: what the policy author wrote.
    Wild(&'a str),
    /// Text matched character for character: substituted values and escapes.
    Literal(&'a str),
}

/// Matches `text` against a wildcard `pattern` without compiling it.
///
/// Greedy, with one backtrack point: on a mismatch, the most recent `*` takes one more
/// character and matching resumes after it. Earlier stars never need revisiting, because a
/// later star can absorb anything an earlier one could, so the cost is O(pattern × text).
pub fn matches(pattern: &str, text: &str, case: Case) -> bool {
    let p = pattern.as_bytes();
    let (mut pi, mut ti) = (0, 0);
    // (pattern index after the star, text index the star's run currently ends at)
    let mut star: Option<(usize, usize)> = None;
    while let Some(tc) = text[ti..].chars().next() {
        match p.get(pi) {
            Some(b'*') => {
                pi += 1;
                star = Some((pi, ti));
                continue;
            }
            Some(b'?') => {
                pi += 1;
                ti += tc.len_utf8();
                continue;
            }
            Some(_) => {
                let pc = pattern[pi..].chars().next().unwrap_or_default();
                if chars_equal(pc, tc, case) {
                    pi += pc.len_utf8();
                    ti += tc.len_utf8();
                    continue;
                }
            }
            None => {}
        }
        let Some((after_star, run_end)) = star else {
            return false;
        };
        let grown = run_end + text[run_end..].chars().next().map_or(1, char::len_utf8);
        star = Some((after_star, grown));
        (pi, ti) = (after_star, grown);
    }
    p[pi..].iter().all(|&b| b == b'*')
}

fn chars_equal(a: char, b: char, case: Case) -> bool {
    match case {
        Case::Sensitive => a == b,
        Case::Insensitive => a.eq_ignore_ascii_case(&b),
    }
}

/// `literal` comes from a compiled [`Pattern`], already lowercased when `case` is insensitive.
fn bytes_equal(text: &[u8], literal: &[u8], case: Case) -> bool {
    match case {
        Case::Sensitive => text == literal,
        Case::Insensitive => {
            text.len() == literal.len()
                && text
                    .iter()
                    .zip(literal)
                    .all(|(t, l)| t.to_ascii_lowercase() == *l)
        }
    }
}

/// A compiled wildcard pattern.
///
/// Invariant: literal text is stored ASCII-lowercased when `case` is insensitive, so a match
/// folds only the request side.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    case: Case,
    shape: Shape,
}

/// The common shapes get their own fast path; everything else is [`Shape::Stars`].
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// Only stars (`*`, `**`): everything matches, the empty string included.
    Any,
    /// No wildcard at all.
    Exact(String),
    /// Literal text followed by one or more stars (`arn:aws:s3:::bucket/*`).
    Prefix(String),
    /// No star, but `?`s: one segment spanning the whole text.
    Single(Segment),
    /// `first * middle[0] * … * last`, where `first` and `last` may be empty.
    Stars {
        first: Segment,
        middle: Vec<Segment>,
        last: Segment,
    },
}

/// A star-free run of the pattern: literal text and `?`s. It always spans the same number of
/// characters, which is what lets the first match of each middle segment be the right one.
#[derive(Debug, Clone, PartialEq, Default)]
struct Segment {
    units: Vec<Unit>,
}

#[derive(Debug, Clone, PartialEq)]
enum Unit {
    Text(String),
    /// This many `?`s in a row: exactly that many characters.
    AnyChars(usize),
}

impl Pattern {
    /// Compiles a pattern in which `*` and `?` are wildcards.
    pub fn new(pattern: &str, case: Case) -> Pattern {
        Pattern::from_parts([Part::Wild(pattern)], case)
    }

    /// Compiles text that has no wildcards at all.
    pub fn literal(text: &str, case: Case) -> Pattern {
        Pattern::from_parts([Part::Literal(text)], case)
    }

    /// Compiles a pattern given as pieces, some of them literal.
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = Part<'a>>, case: Case) -> Pattern {
        let mut segments = vec![Segment::default()];
        for part in parts {
            match part {
                Part::Literal(text) => {
                    if let Some(segment) = segments.last_mut() {
                        segment.push_text(text, case);
                    }
                }
                Part::Wild(text) => push_wild(&mut segments, text, case),
            }
        }
        Pattern {
            case,
            shape: Shape::from_segments(segments),
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        let case = self.case;
        match &self.shape {
            Shape::Any => true,
            Shape::Exact(literal) => bytes_equal(text.as_bytes(), literal.as_bytes(), case),
            Shape::Prefix(prefix) => text
                .as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| bytes_equal(head, prefix.as_bytes(), case)),
            Shape::Single(segment) => segment.match_at(text, 0, case) == Some(text.len()),
            Shape::Stars {
                first,
                middle,
                last,
            } => match_stars(text, first, middle, last, case),
        }
    }
}

/// Splits wildcard text at its stars, appending to the segments built so far.
fn push_wild(segments: &mut Vec<Segment>, text: &str, case: Case) {
    for (i, piece) in text.split('*').enumerate() {
        if i > 0 {
            segments.push(Segment::default());
        }
        let Some(segment) = segments.last_mut() else {
            return;
        };
        for (j, run) in piece.split('?').enumerate() {
            if j > 0 {
                segment.push_any_char();
            }
            segment.push_text(run, case);
        }
    }
}

impl Shape {
    /// `segments` are the star-separated runs: one more than the number of stars.
    fn from_segments(mut segments: Vec<Segment>) -> Shape {
        if segments.iter().all(|s| s.units.is_empty()) && segments.len() > 1 {
            return Shape::Any;
        }
        if segments.len() == 1 {
            let only = segments.remove(0);
            return match only.as_text() {
                Some(text) => Shape::Exact(text),
                None => Shape::Single(only),
            };
        }
        // Empty middle segments are consecutive stars (`a**b`): one star does the same.
        let last = segments.pop().unwrap_or_default();
        let first = segments.remove(0);
        let middle: Vec<Segment> = segments
            .into_iter()
            .filter(|s| !s.units.is_empty())
            .collect();
        if middle.is_empty() && last.units.is_empty() {
            if let Some(prefix) = first.as_text() {
                return Shape::Prefix(prefix);
            }
        }
        Shape::Stars {
            first,
            middle,
            last,
        }
    }
}

/// `first` must match at the start, `last` at the end, and the middle segments in order in
/// between. Taking each middle segment's leftmost match is never wrong: segments have a fixed
/// length in characters, so an earlier match ends earlier and leaves more room for the rest.
fn match_stars(
    text: &str,
    first: &Segment,
    middle: &[Segment],
    last: &Segment,
    case: Case,
) -> bool {
    let Some(mut pos) = first.match_at(text, 0, case) else {
        return false;
    };
    let Some(end) = last.match_ending_at(text, text.len(), case) else {
        return false;
    };
    if end < pos {
        return false;
    }
    for segment in middle {
        match segment.find(text, pos, end, case) {
            Some(after) => pos = after,
            None => return false,
        }
    }
    true
}

impl Segment {
    fn push_text(&mut self, text: &str, case: Case) {
        if text.is_empty() {
            return;
        }
        let text = match case {
            Case::Sensitive => text.to_owned(),
            Case::Insensitive => text.to_ascii_lowercase(),
        };
        match self.units.last_mut() {
            Some(Unit::Text(previous)) => previous.push_str(&text),
            _ => self.units.push(Unit::Text(text)),
        }
    }

    fn push_any_char(&mut self) {
        match self.units.last_mut() {
            Some(Unit::AnyChars(n)) => *n += 1,
            _ => self.units.push(Unit::AnyChars(1)),
        }
    }

    /// The segment's text when it holds no `?`.
    fn as_text(&self) -> Option<String> {
        match &self.units[..] {
            [] => Some(String::new()),
            [Unit::Text(text)] => Some(text.clone()),
            _ => None,
        }
    }

    /// Where the segment ends when it starts at byte `pos` of `text`, if it matches there.
    /// `pos` must be a character boundary; so is the result.
    fn match_at(&self, text: &str, mut pos: usize, case: Case) -> Option<usize> {
        for unit in &self.units {
            match unit {
                Unit::Text(literal) => {
                    let end = pos.checked_add(literal.len())?;
                    let candidate = text.as_bytes().get(pos..end)?;
                    // Equal bytes starting on a boundary end on one: UTF-8 is self-synchronizing,
                    // and folding touches ASCII bytes only.
                    if !bytes_equal(candidate, literal.as_bytes(), case) {
                        return None;
                    }
                    pos = end;
                }
                Unit::AnyChars(n) => {
                    let mut chars = text.get(pos..)?.chars();
                    for _ in 0..*n {
                        pos += chars.next()?.len_utf8();
                    }
                }
            }
        }
        Some(pos)
    }

    /// Where the segment starts when it ends at byte `end` of `text`, if it matches there.
    fn match_ending_at(&self, text: &str, mut end: usize, case: Case) -> Option<usize> {
        for unit in self.units.iter().rev() {
            match unit {
                Unit::Text(literal) => {
                    let start = end.checked_sub(literal.len())?;
                    if !text.is_char_boundary(start)
                        || !bytes_equal(&text.as_bytes()[start..end], literal.as_bytes(), case)
                    {
                        return None;
                    }
                    end = start;
                }
                Unit::AnyChars(n) => {
                    let mut chars = text.get(..end)?.chars();
                    for _ in 0..*n {
                        end -= chars.next_back()?.len_utf8();
                    }
                }
            }
        }
        Some(end)
    }

    /// The end of the leftmost match starting at or after `from` and ending by `limit`.
    fn find(&self, text: &str, from: usize, limit: usize, case: Case) -> Option<usize> {
        let window = text.get(..limit)?;
        let mut starts = window.get(from..)?.char_indices().map(|(i, _)| from + i);
        starts.find_map(|start| self.match_at(window, start, case))
    }
}
