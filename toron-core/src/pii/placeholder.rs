//! Stable placeholders: `<KIND:hhhhhhhh>`, the first [`PLACEHOLDER_HEX`] hex digits of a keyed blake3 hash of
//! the kind's name and the value, and the [`Key`] that makes them unguessable from outside.

use super::Kind;
use crate::{Error, ErrorKind, Result};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Hex digits of the hash in a placeholder: 8 (32 bits; 6 would collide among a hundred thousand values).
pub const PLACEHOLDER_HEX: usize = 8;

/// The environment variable [`Key::resolve`] reads by default.
pub const KEY_ENV: &str = "TORON_PII_KEY";

/// The file of the per-archive key, inside the archive root.
pub const KEY_FILE: &str = "pii.key";

/// The context string of [`Key::from_text`]'s key derivation.
const DERIVE_CONTEXT: &str = "toron pii key v1";

/// The 32-byte key of the placeholders' keyed hash. The same key gives the same placeholder for the same
/// value in every process; without the key, a placeholder cannot be checked against guessed values.
///
/// ```
/// use toron_core::pii::Key;
/// let a = Key::from_text("team secret");
/// assert_eq!(a, Key::from_text("team secret"));
/// assert_ne!(a, Key::from_text("other"));
/// assert_eq!(Key::from_bytes([7; 32]).as_bytes(), &[7; 32]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 32]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key itself.
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A key of exactly these bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Key {
        Key(bytes)
    }

    /// A key derived from a passphrase (`blake3::derive_key("toron pii key v1", text)`).
    pub fn from_text(text: &str) -> Key {
        Key(blake3::derive_key(DERIVE_CONTEXT, text.as_bytes()))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key from the environment variable `var` (its text, through [`Key::from_text`]), `None` when it is
    /// unset or empty. An error (`ErrorKind::Pii`) when it is set but not Unicode.
    pub fn from_env(var: &str) -> Result<Option<Key>> {
        match std::env::var(var) {
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) => Ok(Some(Key::from_text(&v))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::new(
                ErrorKind::Pii,
                format!("the environment variable {var} is not valid Unicode (expected a passphrase)"),
            )),
        }
    }

    /// The per-archive key in `<archive_root>/pii.key`: created once (32 random bytes, mode 0600, the
    /// directory made if missing), then read by every later call. Two processes creating it at once agree:
    /// each writes a temporary file and hard-links it into place (which never replaces an existing file),
    /// then both read whatever is there.
    pub fn for_archive(archive_root: &Path) -> Result<Key> {
        let path = archive_root.join(KEY_FILE);
        if let Some(key) = read_key_file(&path)? {
            return Ok(key);
        }
        std::fs::create_dir_all(archive_root).map_err(|e| Error::io(&e, archive_root))?;
        let tmp = temp_path(archive_root);
        let bytes = random_bytes();
        let written = (|| -> std::io::Result<()> {
            let mut f = create_private(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => Ok(()),
                // Another process made it first: theirs is the key.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(e),
            }
        })();
        let _ = std::fs::remove_file(&tmp);
        written.map_err(|e| Error::io(&e, &path))?;
        read_key_file(&path)?.ok_or_else(|| {
            Error::new(
                ErrorKind::Pii,
                "the per-archive key file vanished while it was being created",
            )
            .with_file(&path)
        })
    }

    /// The key to use: `explicit` if given, else the environment variable `env_var` (default
    /// [`KEY_ENV`], `TORON_PII_KEY`) if set, else the per-archive key of `archive_root`.
    pub fn resolve(explicit: Option<Key>, env_var: Option<&str>, archive_root: &Path) -> Result<Key> {
        if let Some(k) = explicit {
            return Ok(k);
        }
        if let Some(k) = Key::from_env(env_var.unwrap_or(KEY_ENV))? {
            return Ok(k);
        }
        Key::for_archive(archive_root)
    }
}

fn read_key_file(path: &Path) -> Result<Option<Key>> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                Error::new(
                    ErrorKind::Pii,
                    format!("the per-archive key file holds {} bytes (expected 32)", bytes.len()),
                )
                .with_file(path)
            })?;
            Ok(Some(Key(arr)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&e, path)),
    }
}

fn temp_path(dir: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    dir.join(format!(
        ".{KEY_FILE}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A new file readable and writable by its owner only.
pub(crate) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// 32 random bytes: from `/dev/urandom` where there is one, else blake3 of process-unique data (process id,
/// time, a stack address's worth of entropy from a fresh `RandomState`).
fn random_bytes() -> [u8; 32] {
    use std::io::Read as _;
    let mut out = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(&mut out).is_ok() {
            return out;
        }
    }
    use std::hash::{BuildHasher, Hasher};
    let mut h = blake3::Hasher::new();
    h.update(&std::process::id().to_le_bytes());
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.update(&d.as_nanos().to_le_bytes());
    }
    for _ in 0..4 {
        let mut s = std::collections::hash_map::RandomState::new().build_hasher();
        s.write_u8(0);
        h.update(&s.finish().to_le_bytes());
    }
    *h.finalize().as_bytes()
}

/// The form of a value that is hashed: equal values written differently get one placeholder (an e-mail in
/// any case, a card or phone with any grouping, an IBAN with or without spaces, an IPv6 in any notation).
pub(crate) fn normalize(kind: Kind, value: &[u8]) -> Vec<u8> {
    match kind {
        Kind::Email => value.to_ascii_lowercase(),
        Kind::Card | Kind::Ssn => value.iter().copied().filter(u8::is_ascii_digit).collect(),
        Kind::Phone => {
            let digits: Vec<u8> = value.iter().copied().filter(u8::is_ascii_digit).collect();
            if digits.len() == 10 && !value.starts_with(b"+") {
                // A NANP number without its country code is the same number as with +1.
                let mut d = Vec::with_capacity(11);
                d.push(b'1');
                d.extend_from_slice(&digits);
                d
            } else {
                digits
            }
        }
        Kind::Iban => value
            .iter()
            .filter(|b| b.is_ascii_alphanumeric())
            .map(u8::to_ascii_uppercase)
            .collect(),
        Kind::Ipv6 => std::str::from_utf8(value)
            .ok()
            .and_then(|s| s.parse::<std::net::Ipv6Addr>().ok())
            .map(|a| a.to_string().into_bytes())
            .unwrap_or_else(|| value.to_vec()),
        _ => value.to_vec(),
    }
}

/// The placeholder of `value` (the found bytes) of `kind` under `key`: `<KIND:hhhhhhhh>`, where the hex is
/// the start of `blake3::keyed_hash(key, kind name ‖ 0x00 ‖ normalized value)`.
pub(crate) fn placeholder(key: &Key, kind: Kind, value: &[u8]) -> String {
    let norm = normalize(kind, value);
    let mut input = Vec::with_capacity(kind.name().len() + 1 + norm.len());
    input.extend_from_slice(kind.name().as_bytes());
    input.push(0);
    input.extend_from_slice(&norm);
    let hash = blake3::keyed_hash(key.as_bytes(), &input);
    let hex = hash.to_hex();
    format!("<{}:{}>", kind.tag(), &hex.as_str()[..PLACEHOLDER_HEX])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_stable_and_keyed() {
        let k = Key::from_text("k");
        let a = placeholder(&k, Kind::Email, b"alice@example.com");
        assert_eq!(a, placeholder(&k, Kind::Email, b"Alice@Example.com"));
        assert!(
            a.starts_with("<EMAIL:") && a.len() == "<EMAIL:>".len() + PLACEHOLDER_HEX,
            "{a}"
        );
        assert_ne!(
            a,
            placeholder(&Key::from_text("other"), Kind::Email, b"alice@example.com")
        );
        assert_ne!(
            placeholder(&k, Kind::Token, b"x"),
            placeholder(&k, Kind::Jwt, b"x").replace("JWT", "TOKEN")
        );
        assert_eq!(
            placeholder(&k, Kind::Card, b"4111 1111 1111 1111"),
            placeholder(&k, Kind::Card, b"4111-1111-1111-1111")
        );
        assert_eq!(
            placeholder(&k, Kind::Phone, b"(415) 867-5309"),
            placeholder(&k, Kind::Phone, b"+1 415 867 5309")
        );
        assert_eq!(format!("{k:?}"), "Key(..)");
    }

    #[test]
    fn archive_key_is_created_once_private_and_shared() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(".toron");
        let keys: Vec<Key> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|_| s.spawn(|| Key::for_archive(&root).unwrap())).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(Key::for_archive(&root).unwrap(), keys[0]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(root.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from(KEY_FILE)]);
        assert_eq!(
            Key::resolve(Some(Key::from_text("x")), Some("TORON_PII_TEST_UNSET_VAR"), &root).unwrap(),
            Key::from_text("x")
        );
        assert_eq!(
            Key::resolve(None, Some("TORON_PII_TEST_UNSET_VAR"), &root).unwrap(),
            keys[0]
        );
        std::fs::write(root.join(KEY_FILE), b"short").unwrap();
        assert_eq!(Key::for_archive(&root).unwrap_err().kind(), ErrorKind::Pii);
    }
}
