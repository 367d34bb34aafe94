//! Who is calling: bearer tokens with names and roles, compared in constant time, and the short-lived signed
//! tickets that let a browser's `EventSource` (which cannot send headers) open an event stream without the
//! token ever being in a URL.
//!
//! Tokens come from a TOML file (`--tokens FILE`):
//!
//! ```toml
//! [[token]]
//! name = "ci"           # shown in the request log, never the token
//! role = "operator"     # viewer | operator | maintainer | runner
//! token = "s3cr3t..."   # or blake3 = "<64 hex digits>", the BLAKE3 hash of the token
//! ```
//!
//! or from the `TORON_TOKENS` environment variable: `name:role:token` entries separated by commas.

use crate::error::ApiError;
use axum::http::StatusCode;
use serde::Deserialize;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable with tokens (`name:role:token,...`).
pub const TOKENS_ENV: &str = "TORON_TOKENS";

/// What a caller may do; each role from `viewer` on may do what the roles before it may. `runner` is apart
/// (and first, so that every `require(Viewer)` refuses it): a remote runner's token may register, claim,
/// heartbeat, send events, upload and finish runs, and nothing else, not even read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A remote runner (`toron runner`): the runners' protocol only.
    Runner,
    /// Read runs, events, reports, incidents, history.
    Viewer,
    /// Also start and cancel runs, compare snapshots, open and update incidents, triage cases.
    Operator,
    /// Also everything that changes what the server keeps beyond runs (reserved: golden rollbacks).
    Maintainer,
}

impl Role {
    /// `runner`, `viewer`, `operator`, `maintainer`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Runner => "runner",
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Maintainer => "maintainer",
        }
    }

    fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "maintainer" => Some(Role::Maintainer),
            "runner" => Some(Role::Runner),
            _ => None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

impl Identity {
    /// Refuse with 403 unless the caller is a runner (or a maintainer, who may do anything: a loopback
    /// `--insecure-localhost` setup runs its runners so).
    pub fn require_runner(&self, action: &str) -> Result<(), ApiError> {
        if matches!(self.role, Role::Runner | Role::Maintainer) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "{} has the role {}, which may not {action} (it needs runner)",
                    self.name,
                    self.role.name()
                ),
            ))
        }
    }

    /// Refuse with 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role, action: &str) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "{} has the role {}, which may not {action} (it needs {} or above)",
                    self.name,
                    self.role.name(),
                    role.name()
                ),
            ))
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    name: String,
    role: Role,
    hash: blake3::Hash,
}

/// The tokens the server accepts.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    tokens: Vec<Token>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    role: String,
    token: Option<String>,
    blake3: Option<String>,
}

/// The shortest token accepted: shorter ones can be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

impl Tokens {
    /// No tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Read a tokens file; errors name the file, the entry and what was expected.
    pub fn from_file(path: &Path) -> Result<Tokens, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the tokens file: {e}", path.display()))?;
        Tokens::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parse the TOML of a tokens file.
    pub fn from_toml(text: &str) -> Result<Tokens, String> {
        let file: TokenFile = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let mut tokens = Tokens::default();
        for (i, t) in file.token.into_iter().enumerate() {
            let at = format!("token[{i}] ({:?})", t.name);
            let hash = match (t.token, t.blake3) {
                (Some(secret), None) => {
                    check_secret(&secret).map_err(|e| format!("{at}: token: {e}"))?;
                    blake3::hash(secret.as_bytes())
                }
                (None, Some(hex)) => blake3::Hash::from_hex(hex.trim())
                    .map_err(|_| format!("{at}: blake3: {hex:?} is not a BLAKE3 hash (expected 64 hex digits)"))?,
                _ => return Err(format!("{at}: give exactly one of token or blake3")),
            };
            tokens.push(&at, t.name, &t.role, hash)?;
        }
        Ok(tokens)
    }

    /// Parse `name:role:token,...` (the [`TOKENS_ENV`] variable).
    pub fn from_env_value(value: &str) -> Result<Tokens, String> {
        let mut tokens = Tokens::default();
        for (i, entry) in value.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let at = format!("{TOKENS_ENV} entry {}", i + 1);
            let mut parts = entry.splitn(3, ':');
            let (Some(name), Some(role), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!("{at}: expected name:role:token"));
            };
            check_secret(secret).map_err(|e| format!("{at} ({name:?}): {e}"))?;
            tokens.push(&at, name.to_string(), role, blake3::hash(secret.as_bytes()))?;
        }
        Ok(tokens)
    }

    fn push(&mut self, at: &str, name: String, role: &str, hash: blake3::Hash) -> Result<(), String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) {
            return Err(format!("{at}: name {name:?} (expected letters, digits, - _ . @)"));
        }
        let role = Role::parse(role)
            .ok_or_else(|| format!("{at}: role {role:?} (expected viewer, operator, maintainer or runner)"))?;
        if self.tokens.iter().any(|t| t.name == name) {
            return Err(format!("{at}: the name {name:?} is used twice"));
        }
        self.tokens.push(Token { name, role, hash });
        Ok(())
    }

    /// Add the tokens of `other`.
    pub fn extend(&mut self, other: Tokens) -> Result<(), String> {
        for t in other.tokens {
            if self.tokens.iter().any(|o| o.name == t.name) {
                return Err(format!("the token name {:?} is given twice", t.name));
            }
            self.tokens.push(t);
        }
        Ok(())
    }

    /// The caller a presented token belongs to. Every known token is compared (BLAKE3 hashes, whose equality
    /// is constant-time), so the time taken says nothing about which one, or how much of one, matched.
    pub fn identify(&self, presented: &str) -> Option<Identity> {
        let hash = blake3::hash(presented.as_bytes());
        let mut found = None;
        for t in &self.tokens {
            if t.hash == hash {
                found = Some(Identity {
                    name: t.name.clone(),
                    role: t.role,
                });
            }
        }
        found
    }
}

fn check_secret(secret: &str) -> Result<(), String> {
    if secret.len() < MIN_TOKEN_LEN {
        return Err(format!(
            "is {} characters long (expected at least {MIN_TOKEN_LEN})",
            secret.len()
        ));
    }
    if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains white space (expected printable characters only)".to_string());
    }
    Ok(())
}

/// Signs stream tickets: `<name>.<role>.<expiry unix seconds>.<nonce>.<MAC>`, the nonce 16 random bytes in hex
/// (two tickets issued in the same second differ, so one seen in a log says nothing about another), the MAC a keyed BLAKE3 hash under a key
/// made when the server starts (a restart invalidates tickets, which live seconds anyway).
#[derive(Debug, Clone)]
pub struct TicketKey {
    key: [u8; 32],
}

/// How long a stream ticket is valid: long enough to open the stream, too short to be worth stealing from a
/// proxy's log (the connection, once open, stays open).
pub const TICKET_LIFETIME: Duration = Duration::from_secs(60);

impl TicketKey {
    /// A fresh random key.
    pub fn random() -> Result<TicketKey, String> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| format!("cannot get random bytes for the ticket key: {e}"))?;
        Ok(TicketKey { key })
    }

    fn mac(&self, body: &str) -> blake3::Hash {
        blake3::keyed_hash(&self.key, body.as_bytes())
    }

    /// A ticket for `who`, valid [`TICKET_LIFETIME`] from now; with its expiry (unix seconds).
    pub fn issue(&self, who: &Identity) -> (String, u64) {
        let expires = unix_now() + TICKET_LIFETIME.as_secs();
        let mut nonce = [0u8; 16];
        // A failed read of random bytes leaves the nonce zero: the ticket is still signed and expires.
        let _ = getrandom::fill(&mut nonce);
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let body = format!("{}.{}.{expires}.{nonce}", who.name, who.role.name());
        let ticket = format!("{body}.{}", self.mac(&body).to_hex());
        (ticket, expires)
    }

    /// The caller of a ticket, if it is genuine and not expired.
    pub fn verify(&self, ticket: &str) -> Result<Identity, &'static str> {
        let (body, mac) = ticket.rsplit_once('.').ok_or("the ticket is malformed")?;
        let mac = blake3::Hash::from_hex(mac).map_err(|_| "the ticket is malformed")?;
        // Constant-time comparison (blake3::Hash's PartialEq).
        if self.mac(body) != mac {
            return Err("the ticket's signature does not match (it was not issued by this server process)");
        }
        let mut parts = body.rsplitn(4, '.');
        let (Some(nonce), Some(expires), Some(role), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("the ticket is malformed");
        };
        if nonce.len() != 32 || !nonce.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("the ticket is malformed");
        }
        let expires: u64 = expires.parse().map_err(|_| "the ticket is malformed")?;
        if unix_now() > expires {
            return Err("the ticket has expired (tickets live 60 s: ask for a new one)");
        }
        Ok(Identity {
            name: name.to_string(),
            role: Role::parse(role).ok_or("the ticket is malformed")?,
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_from_a_file_and_the_environment() {
        let t = Tokens::from_toml(
            r#"
            [[token]]
            name = "ci"
            role = "operator"
            token = "0123456789abcdef-ci"
            [[token]]
            name = "grafana"
            role = "viewer"
            blake3 = "e1b1f6e5a4b7f0ff2b7dc6ccd9bd0cfc27e4a9f7f06a9d7b9b1a54b0e1b1f6e5"
            "#,
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        let ci = t.identify("0123456789abcdef-ci").unwrap();
        assert_eq!((ci.name.as_str(), ci.role), ("ci", Role::Operator));
        assert_eq!(t.identify("0123456789abcdef-c"), None);
        let env = Tokens::from_env_value("ops:maintainer:abcdefghijklmnopq, v:viewer:qrstuvwxyz0123456").unwrap();
        assert_eq!(env.identify("qrstuvwxyz0123456").map(|i| i.role), Some(Role::Viewer));
    }

    #[test]
    fn bad_token_entries_name_the_entry_and_what_was_expected() {
        let e = Tokens::from_toml("[[token]]\nname = \"ci\"\nrole = \"admin\"\ntoken = \"0123456789abcdef\"\n")
            .unwrap_err();
        assert_eq!(
            e,
            "token[0] (\"ci\"): role \"admin\" (expected viewer, operator, maintainer or runner)"
        );
        let e = Tokens::from_toml("[[token]]\nname = \"ci\"\nrole = \"viewer\"\ntoken = \"short\"\n").unwrap_err();
        assert!(e.contains("token: is 5 characters long (expected at least 16)"), "{e}");
        let e = Tokens::from_env_value("ci:viewer").unwrap_err();
        assert_eq!(e, "TORON_TOKENS entry 1: expected name:role:token");
        let e = Tokens::from_toml("[[token]]\nname = \"ci\"\nrole = \"viewer\"\ntokn = \"0123456789abcdefg\"\n")
            .unwrap_err();
        assert!(e.contains("unknown field `tokn`"), "{e}");
    }

    #[test]
    fn roles_are_ordered() {
        let viewer = Identity {
            name: "v".into(),
            role: Role::Viewer,
        };
        let e = viewer.require(Role::Operator, "start runs").unwrap_err();
        assert_eq!(e.status, 403);
        assert_eq!(
            e.message,
            "v has the role viewer, which may not start runs (it needs operator or above)"
        );
        assert!(viewer.require(Role::Viewer, "read").is_ok());
        let runner = Identity {
            name: "r".into(),
            role: Role::Runner,
        };
        assert!(runner.require(Role::Viewer, "read").is_err(), "a runner reads nothing");
        assert!(runner.require_runner("claim runs").is_ok());
        assert_eq!(
            viewer.require_runner("claim runs").unwrap_err().message,
            "v has the role viewer, which may not claim runs (it needs runner)"
        );
        let t = Tokens::from_env_value("r1:runner:runner-token-0123456789").unwrap();
        assert_eq!(
            t.identify("runner-token-0123456789").map(|i| i.role),
            Some(Role::Runner)
        );
    }

    #[test]
    fn tickets_are_signed_and_expire() {
        let key = TicketKey::random().unwrap();
        let who = Identity {
            name: "ci".into(),
            role: Role::Operator,
        };
        let (ticket, _) = key.issue(&who);
        assert_eq!(key.verify(&ticket), Ok(who.clone()));
        let forged = ticket.replacen("operator", "maintainer", 1);
        assert!(key.verify(&forged).is_err());
        assert!(
            TicketKey::random().unwrap().verify(&ticket).is_err(),
            "another server's key"
        );
        let (again, _) = key.issue(&who);
        assert_ne!(ticket, again, "each ticket has its own nonce");
        assert_eq!(key.verify(&again), Ok(who.clone()));
        let no_nonce = format!("ci.operator.{}", unix_now() + 30);
        assert_eq!(
            key.verify(&format!("{no_nonce}.{}", key.mac(&no_nonce).to_hex()))
                .unwrap_err(),
            "the ticket is malformed"
        );
        let body = format!("ci.operator.{}.{}", unix_now() - 1, "0".repeat(32));
        let expired = format!("{body}.{}", key.mac(&body).to_hex());
        assert_eq!(
            key.verify(&expired).unwrap_err(),
            "the ticket has expired (tickets live 60 s: ask for a new one)"
        );
    }
}
