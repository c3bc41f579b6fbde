//! A request's query string, parsed once by the router. Authorization (the `s3:prefix`,
//! `s3:delimiter`, `s3:max-keys` condition keys) and the handlers read the same parsed value,
//! so that a policy can never be shown one value while the handler acts on another.
//!
//! A repeated parameter reads as its first occurrence, as S3 reads it
//! (`?prefix=a&prefix=b` lists under `a`); every reader goes through `get`, so there is no
//! second reading to disagree with the first.

/// The decoded `name=value` pairs of a query string, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (`application/x-www-form-urlencoded`, as S3 decodes it).
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// The value of `name`: its first occurrence. A parameter given without `=` reads as "".
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every parameter name, in order (repeats included).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_occurrence_wins_for_every_reader() {
        let q = Query::parse(Some(
            "list-type=2&prefix=&prefix=home%2Falice%2F&max-keys=1",
        ));
        assert_eq!(q.get("prefix"), Some(""));
        assert_eq!(q.get("max-keys"), Some("1"));
        assert_eq!(q.get("list-type"), Some("2"));
        assert_eq!(q.get("delimiter"), None);
        let q = Query::parse(Some("versionId&acl="));
        assert_eq!((q.get("versionId"), q.get("acl")), (Some(""), Some("")));
        assert!(Query::parse(None).names().next().is_none());
    }
}
