//! Identifiers in AWS's shapes: unique ids with a type prefix (`AIDA` user, `AGPA` group,
//! `ANPA` policy, `AROA` role) and access key ids (`AKIA`), all in base-32 capitals ([A-Z2-7]).
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids>

use rand::Rng;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn random(prefix: &str, len: usize) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    for _ in 0..len {
        id.push(ALPHABET[rng.random_range(0..32)] as char);
    }
    id
}

/// A user id: `AIDA` + 17 characters (21 in all, as AWS).
pub fn user_id() -> String {
    random("AIDA", 17)
}

pub fn group_id() -> String {
    random("AGPA", 17)
}

pub fn role_id() -> String {
    random("AROA", 17)
}

pub fn policy_id() -> String {
    random("ANPA", 17)
}

/// An access key id: `AKIA` + 16 characters.
pub fn access_key_id() -> String {
    random("AKIA", 16)
}

/// A temporary access key id: `ASIA` + 16 characters, as AWS's.
pub fn session_access_key_id() -> String {
    random("ASIA", 16)
}

pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user{path}{name}")
}

pub fn group_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:group{path}{name}")
}

pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

/// The account part of an AWS managed policy's ARN (`arn:aws:iam::aws:policy/…`).
pub const AWS_POLICY_ACCOUNT: &str = "aws";

pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{path}{name}")
}

/// Splits a customer-managed policy ARN of this account into (path, name).
pub fn parse_policy_arn<'a>(account: &str, arn: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let rest = rest.strip_prefix(account)?.strip_prefix(":policy")?;
    let slash = rest.rfind('/')?;
    let (path, name) = rest.split_at(slash + 1);
    (path.starts_with('/') && !name.is_empty()).then_some((path, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        for (id, prefix, len) in [
            (user_id(), "AIDA", 21),
            (group_id(), "AGPA", 21),
            (policy_id(), "ANPA", 21),
            (role_id(), "AROA", 21),
            (access_key_id(), "AKIA", 20),
        ] {
            assert!(id.starts_with(prefix));
            assert_eq!(id.len(), len);
            assert!(id.bytes().all(|b| ALPHABET.contains(&b)), "{id}");
        }
        assert_ne!(access_key_id(), access_key_id());
    }

    #[test]
    fn policy_arns_round_trip() {
        let arn = policy_arn("123456789012", "/team/", "ReadOnly");
        assert_eq!(arn, "arn:aws:iam::123456789012:policy/team/ReadOnly");
        assert_eq!(
            parse_policy_arn("123456789012", &arn),
            Some(("/team/", "ReadOnly"))
        );
        assert_eq!(
            parse_policy_arn("123456789012", "arn:aws:iam::123456789012:policy/P"),
            Some(("/", "P"))
        );
        assert_eq!(parse_policy_arn("999999999999", &arn), None);
        assert_eq!(
            parse_policy_arn(
                "123456789012",
                "arn:aws:iam::aws:policy/AdministratorAccess"
            ),
            None
        );
        assert_eq!(
            parse_policy_arn("123456789012", "arn:aws:iam::123456789012:policy/"),
            None
        );
    }
}
