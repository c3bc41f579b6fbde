//! Address ranges, RFC 4632 CIDR blocks, IPv4 and IPv6, or a bare address (a /32 or /128):
//! for policies' `IpAddress` / `NotIpAddress` conditions and for `backend.trusted_proxies`.
//! Pure (text in, ranges out), so both `policy` and the configuration and transport use it.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress>
//!
//! An IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, what a dual-stack listener reports for a
//! v4 client) is read as the IPv4 address, and a mapped range (`::ffff:203.0.113.0/120`) as the
//! IPv4 range, so either spelling on either side compares. Otherwise v4 only falls in v4
//! ranges and v6 in v6 ranges. Host bits set in a range (`203.0.113.9/24`) are ignored.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    V4 { network: u32, prefix: u8 },
    V6 { network: u128, prefix: u8 },
}

/// A request's address, with v4-mapped v6 read as v4.
pub fn parse_address(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(unmap)
}

fn unmap(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

pub fn parse_cidr(text: &str) -> Option<Cidr> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix))
            if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (address, Some(prefix.parse::<u8>().ok()?))
        }
        Some(_) => return None,
        None => (text, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => v4_range(v4, prefix.unwrap_or(32)),
        IpAddr::V6(v6) => {
            let prefix = prefix.unwrap_or(128);
            match v6.to_ipv4_mapped() {
                Some(v4) if prefix >= 96 => v4_range(v4, prefix - 96),
                _ => v6_range(v6, prefix),
            }
        }
    }
}

fn v4_range(address: Ipv4Addr, prefix: u8) -> Option<Cidr> {
    (prefix <= 32).then(|| Cidr::V4 {
        network: u32::from(address) & v4_mask(prefix),
        prefix,
    })
}

fn v6_range(address: Ipv6Addr, prefix: u8) -> Option<Cidr> {
    (prefix <= 128).then(|| Cidr::V6 {
        network: u128::from(address) & v6_mask(prefix),
        prefix,
    })
}

/// `u32::MAX << 32` would overflow, hence the checked shift.
fn v4_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn v6_mask(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl Cidr {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (*self, address) {
            (Cidr::V4 { network, prefix }, IpAddr::V4(v4)) => {
                u32::from(v4) & v4_mask(prefix) == network
            }
            (Cidr::V6 { network, prefix }, IpAddr::V6(v6)) => {
                u128::from(v6) & v6_mask(prefix) == network
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_addresses() {
        let rows: &[(&str, &str, bool)] = &[
            ("203.0.113.0/24", "203.0.113.7", true),
            ("203.0.113.0/24", "203.0.114.7", false),
            ("203.0.113.9/24", "203.0.113.200", true),
            ("203.0.113.7", "203.0.113.7", true),
            ("203.0.113.7", "203.0.113.8", false),
            ("203.0.113.7/32", "203.0.113.7", true),
            ("0.0.0.0/0", "198.51.100.1", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("2001:db8::/32", "2001:db8:1234::5", true),
            ("2001:db8::/32", "2001:db9::5", false),
            ("2001:db8::1", "2001:db8::1", true),
            ("::/0", "2001:db8::1", true),
            ("203.0.113.0/24", "::ffff:203.0.113.7", true),
            ("::ffff:203.0.113.0/120", "203.0.113.7", true),
            ("::ffff:203.0.113.0/120", "203.0.112.7", false),
        ];
        for &(range, address, expected) in rows {
            let cidr = parse_cidr(range).unwrap_or_else(|| panic!("{range} refused"));
            let address = parse_address(address).unwrap_or_else(|| panic!("{address} refused"));
            assert_eq!(cidr.contains(address), expected, "{range} {address}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_range() {
        for text in [
            "",
            "203.0.113.0/33",
            "2001:db8::/129",
            "203.0.113.0/",
            "203.0.113.0/+8",
            "a.b.c.d",
            "203.0.113.0/24/8",
        ] {
            assert_eq!(parse_cidr(text), None, "{text}");
        }
        assert_eq!(parse_address("203.0.113.0/24"), None);
    }
}
