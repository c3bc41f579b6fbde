//! The document editors' helpers: documents pretty-printed for editing, and an error placed
//! at its line and column (a JSON syntax error exactly; an API's refusal at the first place
//! the document holds what the message quotes).

/// An error in a posted document, and where it is (lines and columns from 1; `line` 0 when
/// the place is unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// The text of that line, to show under the message.
    pub excerpt: String,
}

impl Located {
    fn at(text: &str, message: String, line: usize, column: usize) -> Located {
        let excerpt = match line {
            0 => String::new(),
            n => text.lines().nth(n - 1).unwrap_or_default().to_owned(),
        };
        Located {
            message,
            line,
            column,
            excerpt,
        }
    }
}

/// Whether `text` is JSON; where it stops being so.
pub fn check_json(text: &str) -> Result<(), Located> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let message = format!("This is not valid JSON: {e}");
            Err(Located::at(text, message, e.line(), e.column()))
        }
    }
}

/// Places an API's refusal of `text`: at the first occurrence of a word the message quotes
/// (`"…"` or `'…'`), or of the JSON or XML element it names; unplaced otherwise.
pub fn locate(text: &str, message: &str) -> Located {
    let quoted = message
        .split(['"', '\''])
        .skip(1)
        .step_by(2)
        .filter(|q| !q.trim().is_empty());
    let named = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() > 2 && w.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    for needle in quoted.chain(named) {
        if let Some(at) = text.find(needle) {
            let line = text[..at].matches('\n').count() + 1;
            let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let column = text[start..at].chars().count() + 1;
            return Located::at(text, message.to_owned(), line, column);
        }
    }
    Located::at(text, message.to_owned(), 0, 0)
}

/// JSON indented for editing (as stored, when it does not parse).
pub fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .map_or_else(|| text.to_owned(), |t| t + "\n")
}

/// XML indented for editing, one element per line (as stored, when it does not parse).
pub fn pretty_xml(text: &str) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Decl(_)) => {}
            // Only the whitespace between elements goes: text keeps every character.
            Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => {}
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    return text.to_owned();
                }
            }
            Err(_) => return text.to_owned(),
        }
    }
    String::from_utf8(writer.into_inner()).map_or_else(|_| text.to_owned(), |t| t + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_syntax_error_is_placed_at_its_line_and_column() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [,]\n}";
        let e = check_json(text).unwrap_err();
        assert_eq!((e.line, e.column), (3, 17));
        assert_eq!(e.excerpt, "  \"Statement\": [,]");
        assert!(check_json("{}").is_ok());
    }

    #[test]
    fn a_refusal_is_placed_where_the_document_holds_what_it_quotes() {
        let text =
            "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Efect\": \"Allow\"}]\n}";
        let e = locate(text, "Policy has an invalid element: \"Efect\"");
        assert_eq!((e.line, e.column), (3, 19));
        let e = locate("<A><Rule/></A>", "The XML you provided was not well-formed");
        assert_eq!(e.line, 0, "nothing quoted or named that the text holds");
    }

    #[test]
    fn documents_are_indented_for_editing() {
        assert_eq!(pretty_json("{\"a\":[1]}"), "{\n  \"a\": [\n    1\n  ]\n}\n");
        assert_eq!(
            pretty_xml("<?xml version=\"1.0\"?><A><B>x &amp; y</B></A>"),
            "<A>\n  <B>x &amp; y</B>\n</A>\n"
        );
        assert_eq!(pretty_xml("<A><B></A>"), "<A><B></A>");
    }
}
