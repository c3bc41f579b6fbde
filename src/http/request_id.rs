//! Request ids in the shapes AWS uses: S3's 16 uppercase hex digits (`x-amz-request-id`) and
//! IAM's UUID (`x-amzn-RequestId`). Random rather than counted, so ids from different runs
//! or processes never collide in a log collector.

pub const S3_HEADER: &str = "x-amz-request-id";
pub const IAM_HEADER: &str = "x-amzn-requestid";

pub fn s3() -> String {
    format!("{:016X}", rand::random::<u64>())
}

pub fn iam() -> String {
    let v: u128 = rand::random();
    // Shaped as a version-4 UUID: 8-4-4-4-12 hex digits.
    let v = (v & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_the_aws_shapes() {
        let s3 = super::s3();
        assert_eq!(s3.len(), 16);
        assert!(s3
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
        let iam = super::iam();
        let parts: Vec<_> = iam.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert_eq!(&iam[14..15], "4");
        assert_ne!(super::s3(), super::s3());
    }
}
