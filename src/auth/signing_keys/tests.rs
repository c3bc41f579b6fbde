use super::*;

/// The example secret of the IAM signing pages.
const IAM_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[test]
fn the_cache_hands_out_the_derived_key_and_forgets_deleted_access_keys() {
    let cache = SigningKeyCache::new();
    let secret = Secret::new(IAM_SECRET.into());
    let credential =
        |access_key: &str, date: &str| Credential::new(access_key, date, "us-east-1", "iam");
    let len = |cache: &SigningKeyCache| cache.lock().len();
    let derived = signing_key(IAM_SECRET, "20150830", "us-east-1", "iam");
    assert_eq!(
        *cache.signing_key(&credential("A", "20150830"), &secret),
        derived
    );
    assert_eq!(
        *cache.signing_key(&credential("A", "20150830"), &secret),
        derived
    );
    assert_eq!(len(&cache), 1);
    cache.signing_key(&credential("A", "20150831"), &secret);
    cache.signing_key(&credential("B", "20150830"), &secret);
    assert_eq!(len(&cache), 3);
    cache.forget("A");
    assert_eq!(len(&cache), 1);
    assert_eq!(
        *cache.signing_key(&credential("B", "20150830"), &secret),
        derived
    );
}

#[test]
fn the_cache_starts_over_past_its_capacity() {
    let cache = SigningKeyCache::new();
    let secret = Secret::new("s".into());
    for n in 0..=CACHE_CAPACITY {
        let credential = Credential::new(&format!("AKID{n}"), "20150830", "", "s3");
        cache.signing_key(&credential, &secret);
    }
    // The 4097th key found 4096 entries, cleared them, and is alone.
    assert_eq!(cache.lock().len(), 1);
}

#[test]
fn debug_output_shows_only_the_number_of_keys() {
    let cache = SigningKeyCache::new();
    let credential = Credential::new("AKID", "20150830", "us-east-1", "iam");
    cache.signing_key(&credential, &Secret::new(IAM_SECRET.into()));
    assert_eq!(format!("{cache:?}"), "SigningKeyCache { entries: 1 }");
}
