//! `Principal` / `NotPrincipal` in bucket policies: does a statement speak about this caller?
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>
//!
//! - `"*"` and `{"AWS": "*"}`: everyone, anonymous callers included.
//! - An account, as `123456789012` or `arn:aws:iam::123456789012:root`: the account, which
//!   AWS treats as a delegation to the account's own identity policies. So its `Allow` grants
//!   an IAM user nothing by itself (the user still needs an identity policy's `Allow`; the
//!   root needs none), while its `Deny` binds every principal of the account. Never an
//!   anonymous caller.
//! - Any other ARN: exactly that principal. AWS does not support wildcards in principal ARNs
//!   (other than `*` alone), so a `*` elsewhere is compared as a plain character.
//! - `Federated` with an OpenID Connect provider's ARN: the identity provider, as
//!   AssumeRoleWithWebIdentity presents it to a role's trust policy (no other caller has
//!   such an ARN); `Service`, SAML providers and `CanonicalUser` name callers LabStore never
//!   has: no match.
//!
//! `NotPrincipal` matches the callers the same list would not name; an account listed there
//! spares only the account's root, not its users (AWS asks for the user's ARN as well), so
//! `NotPrincipal` never spares more than it names.

use super::Caller;
use crate::policy::document::{Effect, PrincipalSpec, PrincipalType, Principals};

#[derive(Debug, Clone)]
pub(super) struct PrincipalMatcher {
    negated: bool,
    everyone: bool,
    /// Twelve-digit account ids.
    accounts: Vec<String>,
    /// Principal ARNs compared exactly.
    arns: Vec<String>,
}

impl PrincipalMatcher {
    pub(super) fn compile(spec: &PrincipalSpec) -> PrincipalMatcher {
        let (negated, principals) = match spec {
            PrincipalSpec::Principal(p) => (false, p),
            PrincipalSpec::NotPrincipal(p) => (true, p),
        };
        let mut matcher = PrincipalMatcher {
            negated,
            everyone: false,
            accounts: Vec::new(),
            arns: Vec::new(),
        };
        match principals {
            Principals::Any => matcher.everyone = true,
            Principals::Typed(typed) => {
                let aws = typed.iter().filter(|(kind, _)| *kind == PrincipalType::Aws);
                for value in aws.flat_map(|(_, values)| values) {
                    matcher.add_aws(value);
                }
                // An OpenID Connect provider's ARN: the caller a web identity presents to a
                // role's trust policy. No other caller has such an ARN.
                let federated = typed
                    .iter()
                    .filter(|(kind, _)| *kind == PrincipalType::Federated);
                for value in federated.flat_map(|(_, values)| values) {
                    if value.contains(":oidc-provider/") {
                        matcher.arns.push(value.clone());
                    }
                }
            }
        }
        matcher
    }

    fn add_aws(&mut self, value: &str) {
        if value == "*" {
            self.everyone = true;
        } else if is_account_id(value) {
            self.accounts.push(value.to_owned());
        } else if let Some(account) = account_root(value) {
            self.accounts.push(account.to_owned());
        } else {
            self.arns.push(value.to_owned());
        }
    }

    /// Whether this is a `Principal` (not `NotPrincipal`) listing `arn` itself.
    pub(super) fn names(&self, arn: &str) -> bool {
        !self.negated && self.arns.iter().any(|named| named == arn)
    }

    /// Whether a statement with `effect` and this principal applies to `caller`.
    pub(super) fn matches(&self, caller: Option<&Caller<'_>>, effect: Effect) -> bool {
        let named = |caller: &Caller<'_>| {
            self.arns
                .iter()
                .any(|arn| arn == caller.arn || Some(arn.as_str()) == caller.role_arn)
        };
        let in_account = |caller: &Caller<'_>| self.accounts.iter().any(|a| a == caller.account);
        if self.negated {
            let spared =
                self.everyone || caller.is_some_and(|c| named(c) || (c.is_root && in_account(c)));
            return !spared;
        }
        self.everyone
            || caller.is_some_and(|c| {
                named(c) || (in_account(c) && (effect == Effect::Deny || c.is_root))
            })
    }
}

fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// The account of `arn:<partition>:iam::<account>:root`.
fn account_root(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (_partition, rest) = rest.split_once(':')?;
    let account = rest.strip_prefix("iam::")?.strip_suffix(":root")?;
    is_account_id(account).then_some(account)
}
