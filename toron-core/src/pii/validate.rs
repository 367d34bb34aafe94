//! The checks that tell a real value from a look-alike: Luhn (cards), ISO 7064 mod 97 (IBANs), the issued
//! SSN ranges, NANP numbering rules, and Shannon entropy (secrets under a key).

/// The Luhn check over ASCII digits (any other byte fails).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The card brand's rules on prefix and length: Visa (4; 13, 16, 19), Mastercard (51-55, 2221-2720; 16),
/// Amex (34, 37; 15), Discover (6011, 644-649, 65; 16-19).
pub(crate) fn card_brand_ok(digits: &[u8]) -> bool {
    let n = digits.len();
    let prefix = |k: usize| -> u32 {
        digits[..k.min(n)]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    if n < 13 {
        return false;
    }
    match digits[0] {
        b'4' => matches!(n, 13 | 16 | 19),
        b'5' => n == 16 && (51..=55).contains(&prefix(2)),
        b'2' => n == 16 && (2221..=2720).contains(&prefix(4)),
        b'3' => n == 15 && matches!(prefix(2), 34 | 37),
        b'6' => (16..=19).contains(&n) && (prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65),
        _ => false,
    }
}

/// A card number (digits only): brand rules and Luhn.
pub(crate) fn card(digits: &[u8]) -> bool {
    card_brand_ok(digits) && luhn(digits)
}

/// An SSN's nine digits: area not 000, 666 or 9xx; group not 00; serial not 0000.
pub(crate) fn ssn(digits: &[u8]) -> bool {
    if digits.len() != 9 || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let area = &digits[..3];
    area != b"000" && area != b"666" && area[0] != b'9' && &digits[3..5] != b"00" && &digits[5..] != b"0000"
}

/// NANP: a 10-digit number whose area code and exchange start with 2-9 and whose area code is not N11.
pub(crate) fn nanp(digits: &[u8]) -> bool {
    digits.len() == 10
        && digits.iter().all(u8::is_ascii_digit)
        && digits[0] >= b'2'
        && digits[3] >= b'2'
        && !(digits[1] == b'1' && digits[2] == b'1')
}

/// IBAN lengths by country (the SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The IBAN length of the country `cc` (two upper-case letters), if it issues IBANs.
pub(crate) fn iban_length(cc: &[u8]) -> Option<usize> {
    IBAN_LENGTHS.iter().find(|(c, _)| c.as_slice() == cc).map(|(_, n)| *n)
}

/// ISO 7064 mod 97-10 over an IBAN's characters (upper-case letters and digits, no spaces): the first four
/// moved to the end, letters as 10-35, the number mod 97 must be 1.
pub(crate) fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    for &c in iban[4..].iter().chain(&iban[..4]) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// Shannon entropy of the bytes, in bits per byte.
pub(crate) fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_brands() {
        for good in [
            "4111111111111111",
            "5500005555555559",
            "2223000048400011",
            "378282246310005",
            "6011111111111117",
            "4222222222222",
        ] {
            assert!(card(good.as_bytes()), "{good}");
        }
        for bad in [
            "4111111111111112",
            "1234567812345670",
            "5600005555555557",
            "2721000000000004",
        ] {
            assert!(!card(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn ssn_ranges() {
        assert!(ssn(b"123456789"));
        for bad in [
            "000123456",
            "666123456",
            "900123456",
            "123006789",
            "123450000",
            "12345678",
        ] {
            assert!(!ssn(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn iban_check() {
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(!iban_mod97(b"GB82WEST12345698765433"));
        assert_eq!(iban_length(b"GB"), Some(22));
        assert_eq!(iban_length(b"US"), None);
    }

    #[test]
    fn nanp_rules() {
        assert!(nanp(b"4158675309"));
        assert!(!nanp(b"1158675309"));
        assert!(!nanp(b"4151675309"));
        assert!(!nanp(b"4118675309"));
    }

    #[test]
    fn entropy_bits() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
