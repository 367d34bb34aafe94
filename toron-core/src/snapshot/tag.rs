//! Run tags: `run-<semver>-<UTC timestamp>`, e.g. `run-2.5.0-20261124T101530Z`.
//!
//! The timestamp has second precision. Two runs that start in the same second (in one process or in several)
//! still get distinct tags: the archive creates the run's directory with an exclusive `create_dir`, and when
//! the name is taken it tries `<tag>-1`, `<tag>-2`, ... in order, so the first free name wins. The suffix
//! also orders runs started within one second.
//!
//! The wall clock is read in exactly one place, [`UtcTime::now`]; everything else takes a [`UtcTime`], so
//! tests pass a fixed time. The time only names a run and fills its `created` field: it never reaches a digest
//! or a golden file.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Error, ErrorKind, Result};

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime {
    secs: i64,
}

impl UtcTime {
    /// The time `secs` seconds after 1970-01-01T00:00:00Z.
    ///
    /// ```
    /// use toron_core::snapshot::UtcTime;
    /// assert_eq!(UtcTime::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
    /// ```
    pub fn from_unix(secs: i64) -> Self {
        UtcTime { secs }
    }

    /// The system clock, now. The only read of the wall clock in the snapshot module.
    pub fn now() -> Self {
        let secs = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        UtcTime { secs }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.secs
    }

    fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // rem is in 0..86400, so these fit in u32.
        let rem = rem as u32;
        (y, m, d, rem / 3600, rem / 60 % 60, rem % 60)
    }

    /// The compact form used in tags: `20261124T101530Z`.
    ///
    /// ```
    /// use toron_core::snapshot::UtcTime;
    /// assert_eq!(UtcTime::from_unix(1_795_515_330).compact(), "20261124T101530Z");
    /// ```
    pub fn compact(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
    }

    /// RFC 3339 form, used in run manifests: `2026-11-24T10:15:30Z`.
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        if !(0..=9999).contains(&y) {
            return format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
        }
        // Every event of a run carries one: digits by hand, not through `format!` (a tenth of an event's cost).
        let digits = |n: u32, width: usize, out: &mut [u8]| {
            let mut n = n;
            for b in out[..width].iter_mut().rev() {
                *b = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        let mut b = *b"0000-00-00T00:00:00Z";
        digits(y as u32, 4, &mut b[0..]);
        digits(mo, 2, &mut b[5..]);
        digits(d, 2, &mut b[8..]);
        digits(h, 2, &mut b[11..]);
        digits(mi, 2, &mut b[14..]);
        digits(s, 2, &mut b[17..]);
        String::from_utf8_lossy(&b).into_owned()
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Check that `version` can be part of a tag (and so of a directory name): non-empty, made of ASCII letters,
/// digits, `.`, `-` and `+` (the characters of a semantic version).
pub(crate) fn check_version(version: &str) -> Result<()> {
    let ok = !version.is_empty()
        && version.len() <= 64
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("engine version {version:?} cannot name a run (expected a semantic version such as 2.5.0)"),
        )
        .with_field("engine_version"))
    }
}

/// The base tag for a run of `version` started at `time`: `run-<version>-<compact time>`.
pub(crate) fn base_tag(version: &str, time: UtcTime) -> String {
    format!("run-{version}-{}", time.compact())
}

/// The `n`-th candidate tag: the base tag, then `<base>-1`, `<base>-2`, ...
pub(crate) fn candidate(base: &str, n: u32) -> String {
    if n == 0 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

/// The collision suffix of a tag (0 for none): the digits after the last `-` that follows the timestamp's `Z`.
pub(crate) fn sequence(tag: &str) -> u32 {
    match tag.rsplit_once('-') {
        Some((head, digits))
            if head.ends_with('Z') && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            digits.parse().unwrap_or(0)
        }
        _ => 0,
    }
}

/// Whether `tag` is safe as a single directory name (no separators, no `.`/`..`, not hidden, not empty).
pub(crate) fn is_safe_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 200
        && !tag.starts_with('.')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(UtcTime::from_unix(0).compact(), "19700101T000000Z");
        assert_eq!(UtcTime::from_unix(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(UtcTime::from_unix(1_795_515_330).rfc3339(), "2026-11-24T10:15:30Z");
        assert_eq!(UtcTime::from_unix(-1).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(UtcTime::from_unix(253_402_300_799).rfc3339(), "9999-12-31T23:59:59Z");
        assert_eq!(UtcTime::from_unix(253_402_300_800).rfc3339(), "10000-01-01T00:00:00Z");
        // The digits written by hand agree with `format!` across the years.
        for secs in (-62_167_219_200_i64..253_402_300_800).step_by(7_777_777) {
            let t = UtcTime::from_unix(secs);
            let (y, mo, d, h, mi, s) = t.civil();
            assert_eq!(
                t.rfc3339(),
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
                "{secs}"
            );
        }
    }

    #[test]
    fn tags_and_sequences() {
        let base = base_tag("2.5.0", UtcTime::from_unix(1_795_515_330));
        assert_eq!(base, "run-2.5.0-20261124T101530Z");
        assert_eq!(candidate(&base, 0), base);
        assert_eq!(candidate(&base, 2), "run-2.5.0-20261124T101530Z-2");
        assert_eq!(sequence(&base), 0);
        assert_eq!(sequence("run-2.5.0-20261124T101530Z-12"), 12);
        assert_eq!(sequence("run-2.5.0-rc.1-20261124T101530Z"), 0);
    }

    #[test]
    fn versions_are_checked() {
        assert!(check_version("2.5.0").is_ok());
        assert!(check_version("2.5.0-rc.1+build.7").is_ok());
        for bad in ["", "../x", "2.5 0", "a/b"] {
            let e = check_version(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
        }
        assert!(is_safe_tag("run-2.5.0-20261124T101530Z-1"));
        assert!(!is_safe_tag(".."));
        assert!(!is_safe_tag("a/b"));
    }
}
