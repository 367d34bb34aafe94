//! The kinds of PII and secrets the scrubber finds.

use crate::{Error, ErrorKind, Result};
use std::fmt;

/// A kind of finding. The order of the variants is the order of [`Kind::ALL`] and, when two detectors find
/// exactly the same bytes, the more specific kind (earlier in this list's priority, see
/// [`Kind::specificity`]) wins.
///
/// ```
/// use toron_core::pii::Kind;
/// assert_eq!(Kind::AwsKey.name(), "aws_key");
/// assert_eq!(Kind::AwsKey.tag(), "AWS_KEY");
/// assert_eq!(Kind::parse("private_key"), Some(Kind::PrivateKey));
/// assert_eq!(Kind::ALL.len(), 11);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// An e-mail address (RFC 5321 mailbox with a dotted domain and an alphabetic top-level domain).
    Email,
    /// A phone number: NANP forms (`(415) 867-5309`, `+1 415 867 5309`) or E.164 international (`+44 20 7946 0958`).
    Phone,
    /// A payment card number (Visa, Mastercard, Amex, Discover) passing the Luhn check.
    Card,
    /// A US social security number outside the never-issued ranges.
    Ssn,
    /// An IBAN with its country's length and a valid mod-97 check.
    Iban,
    /// An IPv4 address (the address; a `:port` after it is kept).
    Ipv4,
    /// An IPv6 address (the address; brackets and a `:port` are kept).
    Ipv6,
    /// A JSON Web Token: header, payload and signature.
    Jwt,
    /// An AWS access key id (`AKIA...`, `ASIA...`).
    AwsKey,
    /// A PEM private key block, BEGIN line to END line.
    PrivateKey,
    /// A provider token (`ghp_...`, `sk_live_...`, `xoxb-...`) or a secret value under a secret-like key.
    Token,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 11] = [
        Kind::Email,
        Kind::Phone,
        Kind::Card,
        Kind::Ssn,
        Kind::Iban,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Jwt,
        Kind::AwsKey,
        Kind::PrivateKey,
        Kind::Token,
    ];

    /// The lower-case name used in policies, logs and findings: `email`, ..., `aws_key`, `private_key`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Card => "card",
            Kind::Ssn => "ssn",
            Kind::Iban => "iban",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Jwt => "jwt",
            Kind::AwsKey => "aws_key",
            Kind::PrivateKey => "private_key",
            Kind::Token => "token",
        }
    }

    /// The upper-case tag of placeholders: `EMAIL`, ..., `AWS_KEY`, `PRIVATE_KEY`.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Email => "EMAIL",
            Kind::Phone => "PHONE",
            Kind::Card => "CARD",
            Kind::Ssn => "SSN",
            Kind::Iban => "IBAN",
            Kind::Ipv4 => "IPV4",
            Kind::Ipv6 => "IPV6",
            Kind::Jwt => "JWT",
            Kind::AwsKey => "AWS_KEY",
            Kind::PrivateKey => "PRIVATE_KEY",
            Kind::Token => "TOKEN",
        }
    }

    /// The kind named `name` (as [`Kind::name`] writes it), if any.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// How specific a detector is, higher first: when two findings cover exactly the same bytes the more
    /// specific one is kept (a JWT after `Bearer` is a `jwt`, not a generic `token`).
    pub fn specificity(self) -> u8 {
        match self {
            Kind::PrivateKey => 10,
            Kind::Jwt => 9,
            Kind::AwsKey => 8,
            Kind::Card => 7,
            Kind::Iban => 6,
            Kind::Ssn => 5,
            Kind::Email => 4,
            Kind::Ipv6 => 3,
            Kind::Ipv4 => 3,
            Kind::Phone => 2,
            Kind::Token => 1,
        }
    }

    /// The valid names, comma-separated, for error messages.
    pub(crate) fn names() -> String {
        Kind::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
    }

    /// Parse `name`, or an `ErrorKind::Pii` error naming `field` and listing the valid kinds.
    pub(crate) fn parse_field(name: &str, field: &str) -> Result<Kind> {
        Kind::parse(name).ok_or_else(|| {
            Error::new(
                ErrorKind::Pii,
                format!("unknown kind {name:?} (expected one of: {})", Kind::names()),
            )
            .with_field(field)
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(k));
            assert_eq!(k.tag(), k.name().to_ascii_uppercase());
        }
        assert_eq!(Kind::parse("EMAIL"), None);
        let e = Kind::parse_field("mail", "kinds[2]").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Pii);
        assert!(e
            .to_string()
            .starts_with("field kinds[2]: unknown kind \"mail\" (expected one of: email, phone"));
    }
}
