//! IAM answers read as a small element tree: the Query API's documents are shallow and vary by
//! action, so the pages pick elements by name (`find`, `members`) instead of a struct per
//! action.

use quick_xml::events::Event;
use quick_xml::Reader;

/// One element: its name, its own text (entities resolved) and its child elements.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The document's elements under an unnamed root; what does not parse ends the tree there.
    pub fn parse(bytes: &[u8]) -> Node {
        let mut reader = Reader::from_reader(bytes);
        let mut stack = vec![Node::default()];
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => stack.push(Node {
                    name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..Node::default()
                }),
                Ok(Event::Empty(e)) => {
                    let node = Node {
                        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                        ..Node::default()
                    };
                    if let Some(top) = stack.last_mut() {
                        top.children.push(node);
                    }
                }
                Ok(Event::Text(t)) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Ok(Event::CData(t)) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Ok(Event::GeneralRef(r)) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        _ => match r.as_ref() {
                            b"amp" => Some('&'),
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"quot" => Some('"'),
                            b"apos" => Some('\''),
                            _ => None,
                        },
                    };
                    if let (Some(c), Some(top)) = (resolved, stack.last_mut()) {
                        top.text.push(c);
                    }
                }
                Ok(Event::End(_)) => {
                    if stack.len() > 1 {
                        if let Some(done) = stack.pop() {
                            if let Some(top) = stack.last_mut() {
                                top.children.push(done);
                            }
                        }
                    }
                }
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => {}
            }
        }
        while stack.len() > 1 {
            if let Some(done) = stack.pop() {
                if let Some(top) = stack.last_mut() {
                    top.children.push(done);
                }
            }
        }
        stack.pop().unwrap_or_default()
    }

    /// The first element named `name`, depth first (this one included).
    pub fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(name))
    }

    /// The text of the first element named `name`, or "".
    pub fn text_of(&self, name: &str) -> &str {
        self.find(name).map_or("", |n| n.text.as_str())
    }

    /// The `<member>` children of the first element named `list`.
    pub fn members(&self, list: &str) -> Vec<&Node> {
        self.find(list)
            .map(|l| l.children.iter().filter(|c| c.name == "member").collect())
            .unwrap_or_default()
    }

    /// The texts of the `<member>` children of `list`.
    pub fn member_texts(&self, list: &str) -> Vec<String> {
        self.members(list).iter().map(|m| m.text.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Node;

    #[test]
    fn members_and_entities_are_read() {
        let tree = Node::parse(
            b"<R><Users><member><UserName>a&amp;b&#60;</UserName></member><member><UserName>c</UserName></member></Users><IsTruncated>false</IsTruncated></R>",
        );
        let users = tree.members("Users");
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].text_of("UserName"), "a&b<");
        assert_eq!(tree.text_of("IsTruncated"), "false");
    }
}
