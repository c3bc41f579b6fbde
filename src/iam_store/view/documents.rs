//! The policy documents the view holds, each compiled once and shared by text (documents are
//! immutable text: equal text is an equal policy), with the number of view entries using it:
//! an update compiles only documents the view did not hold, and drops a document when its
//! last entry goes. Kept beside the view, under the write lock: only writers read it.

use std::collections::HashMap;
use std::sync::Arc;

use super::{PolicyEntry, PolicySource};
use crate::policy::document::{parse, PolicyKind};
use crate::policy::eval::CompiledPolicy;

#[derive(Debug, Default)]
pub(in crate::iam_store) struct Documents {
    /// Text -> its compiled policy, to find a document the view already holds.
    by_text: HashMap<Arc<str>, Arc<CompiledPolicy>>,
    /// Entries using each document, by the address of its text: every entry shares the one
    /// `Arc<str>` handed out here (alive as long as it is in `by_text`), so counting hashes an
    /// address rather than a document.
    uses: HashMap<usize, usize>,
}

fn address(text: &Arc<str>) -> usize {
    Arc::as_ptr(text).cast::<u8>() as usize
}

impl Documents {
    /// The entry for `text`, compiling it unless it is known; counts one use.
    pub(super) fn entry(&mut self, source: PolicySource, text: String) -> PolicyEntry {
        if let Some((document, compiled)) = self.by_text.get_key_value(text.as_str()) {
            let entry = PolicyEntry {
                source,
                document: Arc::clone(document),
                compiled: Arc::clone(compiled),
            };
            *self.uses.entry(address(document)).or_insert(0) += 1;
            return entry;
        }
        let compiled = Arc::new(match parse(&text, PolicyKind::Identity) {
            Ok(doc) => CompiledPolicy::compile(&doc),
            Err(e) => {
                // Stored documents were validated when written; one that no longer parses
                // must not silently drop a Deny.
                tracing::error!(?source, error = %e, "a stored policy does not parse; it denies everything until replaced");
                CompiledPolicy::deny_all()
            }
        });
        let document: Arc<str> = Arc::from(text);
        self.uses.insert(address(&document), 1);
        self.by_text
            .insert(Arc::clone(&document), Arc::clone(&compiled));
        PolicyEntry {
            source,
            document,
            compiled,
        }
    }

    /// Counts one more use of each of `entries`, which this holds (copied into another entry).
    pub(super) fn retain(&mut self, entries: &[PolicyEntry]) {
        for entry in entries {
            if let Some(uses) = self.uses.get_mut(&address(&entry.document)) {
                *uses += 1;
            }
        }
    }

    /// Counts one use less of each of `entries`, forgetting documents no longer used.
    pub(super) fn release(&mut self, entries: &[PolicyEntry]) {
        for entry in entries {
            let at = address(&entry.document);
            let Some(uses) = self.uses.get_mut(&at) else {
                continue;
            };
            *uses -= 1;
            if *uses == 0 {
                self.uses.remove(&at);
                self.by_text.remove(&*entry.document);
            }
        }
    }

    /// The same documents with no uses counted, for a whole build to count again.
    pub(super) fn unused(mut self) -> Documents {
        self.uses.clear();
        self
    }

    /// Drops the documents a whole build did not use.
    pub(super) fn forget_unused(&mut self) {
        let uses = &self.uses;
        self.by_text
            .retain(|text, _| uses.contains_key(&address(text)));
    }

    /// Every document known, with its use count, for tests that compare an updated view with
    /// one built whole.
    #[cfg(test)]
    pub(in crate::iam_store) fn uses(&self) -> std::collections::BTreeMap<String, usize> {
        self.by_text
            .keys()
            .map(|text| {
                (
                    text.to_string(),
                    self.uses.get(&address(text)).copied().unwrap_or(0),
                )
            })
            .collect()
    }
}
