//! Where each statement of a policy document sits in its text, for the `StartPosition` and
//! `EndPosition` that the IAM simulation APIs report for a matched statement.
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_Statement.html>
//!
//! AWS's examples (the aws CLI's `simulate-custom-policy` page) place a statement written as
//! `{...}` starting at the column just after its `{` and ending at the column just after its
//! `}`, lines and columns counted from 1; we count the same way. Columns count characters
//! (a policy parameter holds only characters up to U+00FF, one UTF-16 unit each, as AWS
//! counts), and CR, LF and CR LF each end a line.
//!
//! The scan runs only on text that [`super::parse`] accepted, so it is a plain walk over valid
//! JSON; should it meet anything else it gives up (`None`) rather than guess.

/// A place in a document's text: both numbers count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// The start and end of each statement, in the order of `PolicyDocument::statements`, or
/// `None` when the text is not a policy document that parses.
pub fn statement_positions(json: &str) -> Option<Vec<(Position, Position)>> {
    let mut scan = Scanner::new(json);
    let mut found = None;
    scan.skip_whitespace();
    scan.object(|scan, key| {
        if key != "Statement" {
            return scan.value();
        }
        // A repeated key: the parser keeps the last value, so this walk does too.
        let mut spans = Vec::new();
        match scan.peek()? {
            '{' => spans.push(scan.object_span()?),
            '[' => scan.array(|scan| {
                spans.push(scan.object_span()?);
                Some(())
            })?,
            _ => return None,
        }
        found = Some(spans);
        Some(())
    })?;
    scan.skip_whitespace();
    match scan.peek() {
        None => found,
        Some(_) => None,
    }
}

struct Scanner<'a> {
    rest: std::str::Chars<'a>,
    line: u32,
    /// The column of the next character.
    column: u32,
    /// The last character was a CR: an LF now ends no further line.
    after_cr: bool,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            rest: text.chars(),
            line: 1,
            column: 1,
            after_cr: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.rest.clone().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        match c {
            '\n' if self.after_cr => {}
            '\r' | '\n' => {
                self.line += 1;
                self.column = 1;
            }
            _ => self.column += 1,
        }
        self.after_cr = c == '\r';
        Some(c)
    }

    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn expect(&mut self, wanted: char) -> Option<()> {
        (self.bump()? == wanted).then_some(())
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\n')) {
            self.bump();
        }
    }

    /// An object whose span is wanted: the positions just after `{` and just after `}`.
    fn object_span(&mut self) -> Option<(Position, Position)> {
        let mut start = None;
        self.object_with(|scan| start = Some(scan.here()), |scan, _| scan.value())?;
        Some((start?, self.here()))
    }

    /// `{ "key": value, ... }`; `member` is called with each decoded key and must consume the
    /// value. Leading whitespace is the caller's; trailing whitespace is consumed.
    fn object(&mut self, member: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        self.object_with(|_| {}, member)
    }

    fn object_with(
        &mut self,
        opened: impl FnOnce(&Self),
        mut member: impl FnMut(&mut Self, &str) -> Option<()>,
    ) -> Option<()> {
        self.expect('{')?;
        opened(self);
        self.skip_whitespace();
        if self.peek()? == '}' {
            self.bump();
            return Some(());
        }
        loop {
            let raw = self.string()?;
            // Keys may hold escapes (`"State\u006dent"`); compare them decoded.
            let key: String = serde_json::from_str(&raw).ok()?;
            self.skip_whitespace();
            self.expect(':')?;
            self.skip_whitespace();
            member(self, &key)?;
            self.skip_whitespace();
            match self.bump()? {
                ',' => self.skip_whitespace(),
                '}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// `[ value, ... ]`, with `element` consuming each value.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.expect('[')?;
        self.skip_whitespace();
        if self.peek()? == ']' {
            self.bump();
            return Some(());
        }
        loop {
            element(self)?;
            self.skip_whitespace();
            match self.bump()? {
                ',' => self.skip_whitespace(),
                ']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A string, returned with its quotes and escapes as written.
    fn string(&mut self) -> Option<String> {
        self.expect('"')?;
        let mut raw = String::from('"');
        loop {
            let c = self.bump()?;
            raw.push(c);
            match c {
                '"' => return Some(raw),
                '\\' => raw.push(self.bump()?),
                _ => {}
            }
        }
    }

    /// Any value, skipped. Nesting is bounded: the parser accepted this text, and serde_json
    /// refuses documents nested more than 128 deep.
    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            '{' => self.object(|scan, _| scan.value()),
            '[' => self.array(Self::value),
            '"' => self.string().map(drop),
            _ => {
                // A number, true, false or null: up to the next delimiter.
                let mut any = false;
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, ',' | '}' | ']' | ' ' | '\t' | '\r' | '\n'))
                {
                    self.bump();
                    any = true;
                }
                any.then_some(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn one_line_document_as_in_awss_example() {
        // The aws CLI's simulate-custom-policy example reports 1:38 to 1:167 for this text.
        let json = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}"#;
        assert_eq!(
            statement_positions(json),
            Some(vec![(at(1, 38), at(1, 167))])
        );
    }

    #[test]
    fn statements_in_an_array_across_lines() {
        let json = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"A\", \"Effect\": \"Allow\",\n     \"Action\": \"s3:*\", \"Resource\": \"*\"},\r\n    {\"Effect\": \"Deny\", \"Action\": \"s3:*\", \"Resource\": [\"a\", \"b}\"]}\r    ]\n}";
        assert_eq!(
            statement_positions(json),
            Some(vec![(at(4, 6), at(5, 40)), (at(6, 6), at(6, 66)),])
        );
    }

    #[test]
    fn braces_and_quotes_inside_strings_and_escaped_keys() {
        let json = r#"{"Id":"{\"[","State\u006dent":[{"Sid":"x","Effect":"Allow","Action":"a:b","Resource":"}{"}]}"#;
        let spans = statement_positions(json).unwrap();
        assert_eq!(spans.len(), 1);
        let (start, end) = spans[0];
        let text: String = json
            .chars()
            .skip(start.column as usize - 2)
            .take((end.column - start.column + 1) as usize)
            .collect();
        assert!(
            text.starts_with("{\"Sid\"") && text.ends_with("\"}{\"}"),
            "{text}"
        );
    }

    #[test]
    fn the_last_statement_key_wins_and_junk_gives_up() {
        let json = r#"{"Statement":{"a":1},"Statement":[{"b":[1,2]},{}]}"#;
        assert_eq!(
            statement_positions(json),
            Some(vec![(at(1, 36), at(1, 46)), (at(1, 48), at(1, 49))])
        );
        for junk in ["", "[]", "{\"Statement\":1}", "{\"Statement\":{}", "{} x"] {
            assert_eq!(statement_positions(junk), None, "{junk}");
        }
    }
}
