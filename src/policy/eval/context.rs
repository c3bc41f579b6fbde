//! The request context: condition keys and their values, as the caller collected them for one
//! request (`aws:username`, `aws:SourceIp`, `s3:prefix`, ...).

/// Condition context: key (case-insensitive) -> values. Built per request by the caller.
///
/// A `Vec` rather than a map: a request carries a dozen keys or so, and a linear scan that
/// folds ASCII case as it compares needs neither hashing nor a lowercased copy of the key.
/// AWS compares key names without regard to case
/// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>).
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// Keys stored ASCII-lowercased, each at most once.
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `values`, replacing whatever it held. A key set to no values is treated
    /// by the evaluator exactly as an absent one (see `eval`'s module docs).
    pub fn set(
        &mut self,
        key: &str,
        values: impl IntoIterator<Item = impl Into<String>>,
    ) -> &mut Self {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        match self
            .entries
            .iter_mut()
            .find(|(known, _)| known.eq_ignore_ascii_case(key))
        {
            Some((_, old)) => *old = values,
            None => self.entries.push((key.to_ascii_lowercase(), values)),
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(key))
            .map(|(_, values)| values.as_slice())
    }

    /// The values of `key` when it has at least one: how the evaluator asks.
    pub(super) fn values(&self, key: &str) -> Option<&[String]> {
        self.get(key).filter(|values| !values.is_empty())
    }
}
