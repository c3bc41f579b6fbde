//! The Query API's parameters: form body and query string merged, with typed accessors for
//! the shapes IAM uses (`Name.member.N` lists, `Tags.member.N.Key`, paging).
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/CommonParameters.html>

use std::collections::HashMap;

use super::error::{Code, IamError};
use super::validate;
use crate::iam_store::Tag;

/// AWS's default and largest page for IAM listings.
const DEFAULT_MAX_ITEMS: usize = 100;
const LARGEST_MAX_ITEMS: usize = 1000;

#[derive(Debug, Default)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    /// Parameters from the query string, then the form body; the first occurrence of a name
    /// wins.
    pub fn parse(query: Option<&str>, form: Option<&[u8]>) -> Params {
        let mut map = HashMap::new();
        let sources = query.map(str::as_bytes).into_iter().chain(form);
        for source in sources {
            for (name, value) in form_urlencoded::parse(source) {
                map.entry(name.into_owned())
                    .or_insert_with(|| value.into_owned());
            }
        }
        Params { map }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// A required parameter; `field` is its name in AWS's messages (camelCase).
    pub fn required(&self, name: &str, field: &str) -> Result<&str, IamError> {
        self.get(name).ok_or_else(|| IamError::missing(field))
    }

    /// `prefix.member.1`, `prefix.member.2`, … up to the first gap.
    pub fn members(&self, prefix: &str) -> Vec<&str> {
        (1..)
            .map_while(|i| self.get(&format!("{prefix}.member.{i}")))
            .collect()
    }

    /// Whether any parameter name starts with `prefix` (a list or structure was sent).
    pub fn any_with_prefix(&self, prefix: &str) -> bool {
        self.map.keys().any(|name| name.starts_with(prefix))
    }

    /// An optional enumerated parameter: `None` when absent, else the member of `set` it
    /// is (`validate::one_of`).
    pub fn one_of(
        &self,
        name: &str,
        field: &str,
        set: &[&'static str],
    ) -> Result<Option<&'static str>, IamError> {
        self.get(name)
            .map(|value| validate::one_of(value, field, set))
            .transpose()
    }

    /// `Tags.member.N.Key` / `.Value`, validated: first their shape (`ValidationError`), then
    /// the service's rules over the whole list (`InvalidInput`), as AWS orders them.
    pub fn tags(&self) -> Result<Vec<Tag>, IamError> {
        let mut tags: Vec<Tag> = Vec::new();
        for i in 1.. {
            let Some(key) = self.get(&format!("Tags.member.{i}.Key")) else {
                break;
            };
            let value = self.get(&format!("Tags.member.{i}.Value")).unwrap_or("");
            validate::tag(key, value)?;
            tags.push(Tag {
                key: key.to_owned(),
                value: value.to_owned(),
            });
        }
        if tags.len() > crate::iam_store::MAX_TAGS {
            return Err(IamError::invalid(
                &tags.len().to_string(),
                "tags",
                "Member must have length less than or equal to 50",
            ));
        }
        for (i, tag) in tags.iter().enumerate() {
            validate::tag_key_not_reserved(&tag.key)?;
            if tags[..i]
                .iter()
                .any(|t| t.key.eq_ignore_ascii_case(&tag.key))
            {
                return Err(IamError::new(
                    Code::InvalidInput,
                    "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
                ));
            }
        }
        Ok(tags)
    }

    /// `MaxItems`: 1 to 1000, default 100.
    pub fn max_items(&self) -> Result<usize, IamError> {
        let Some(text) = self.get("MaxItems") else {
            return Ok(DEFAULT_MAX_ITEMS);
        };
        match text.parse::<usize>() {
            Ok(n) if (1..=LARGEST_MAX_ITEMS).contains(&n) => Ok(n),
            _ => Err(IamError::invalid(
                text,
                "maxItems",
                "Member must have value between 1 and 1000",
            )),
        }
    }

    /// `Marker` from a previous page.
    pub fn marker(&self) -> Result<Option<String>, IamError> {
        match self.get("Marker") {
            Some("") => Err(IamError::invalid(
                "",
                "marker",
                "Member must have length greater than or equal to 1",
            )),
            other => Ok(other.map(str::to_owned)),
        }
    }

    /// `PathPrefix`, validated; "/" when absent.
    pub fn path_prefix(&self) -> Result<String, IamError> {
        let prefix = self.get("PathPrefix").unwrap_or("/");
        validate::path_prefix(prefix)?;
        Ok(prefix.to_owned())
    }

    /// `Path`, validated; "/" when absent.
    pub fn path(&self, name: &str, field: &str) -> Result<String, IamError> {
        let path = self.get(name).unwrap_or("/");
        validate::path(path, field)?;
        Ok(path.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_form_merge_first_wins() {
        let p = Params::parse(
            Some("Action=ListUsers&MaxItems=5"),
            Some(b"Action=CreateUser&UserName=a%2Bb&Path=%2F"),
        );
        assert_eq!(p.get("Action"), Some("ListUsers"));
        assert_eq!(p.get("UserName"), Some("a+b"));
        assert_eq!(p.max_items().unwrap(), 5);
        assert_eq!(p.path("Path", "path").unwrap(), "/");
    }

    #[test]
    fn members_and_tags() {
        let p = Params::parse(
            None,
            Some(b"TagKeys.member.1=a&TagKeys.member.2=b&TagKeys.member.4=d&Tags.member.1.Key=team&Tags.member.1.Value=x"),
        );
        assert_eq!(p.members("TagKeys"), ["a", "b"]);
        assert_eq!(
            p.tags().unwrap(),
            [Tag {
                key: "team".into(),
                value: "x".into()
            }]
        );
        let dup = Params::parse(None, Some(b"Tags.member.1.Key=Team&Tags.member.2.Key=team"));
        assert!(matches!(
            dup.tags(),
            Err(IamError {
                code: Code::InvalidInput,
                ..
            })
        ));
        let reserved = Params::parse(
            None,
            Some(b"Tags.member.1.Key=team&Tags.member.2.Key=AWS%3Ax"),
        );
        assert!(matches!(
            reserved.tags(),
            Err(IamError {
                code: Code::InvalidInput,
                ..
            })
        ));
        // A malformed tag anywhere in the list is found before a reserved key.
        let both = Params::parse(
            None,
            Some(b"Tags.member.1.Key=aws%3Ax&Tags.member.2.Key=a%21"),
        );
        assert!(matches!(
            both.tags(),
            Err(IamError {
                code: Code::ValidationError,
                ..
            })
        ));
    }

    #[test]
    fn enumerated_parameters() {
        let p = Params::parse(Some("Scope=Local&Status=on"), None);
        let scopes = ["All", "AWS", "Local"];
        assert_eq!(p.one_of("Scope", "scope", &scopes).unwrap(), Some("Local"));
        assert_eq!(p.one_of("Absent", "absent", &scopes).unwrap(), None);
        assert!(matches!(
            p.one_of("Status", "status", &["Active", "Inactive"]),
            Err(IamError {
                code: Code::ValidationError,
                ..
            })
        ));
    }

    #[test]
    fn paging_bounds() {
        for bad in ["0", "1001", "x", "-1"] {
            let p = Params::parse(Some(&format!("MaxItems={bad}")), None);
            assert!(
                matches!(
                    p.max_items(),
                    Err(IamError {
                        code: Code::ValidationError,
                        ..
                    })
                ),
                "{bad}"
            );
        }
        assert_eq!(Params::default().max_items().unwrap(), 100);
    }
}
