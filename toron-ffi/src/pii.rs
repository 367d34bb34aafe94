//! The PII scrubber: `toron_pii_scrub_text` and `toron_pii_scrub_json`.
//!
//! Options come in as JSON text and findings go out as JSON text, so a C caller needs no JSON library to
//! compare them (`toron_canonical_json` then `strcmp`).

use crate::canon::{about, canonical_text, json_arg};
use crate::error::{FfiError, FfiResult};
use crate::handle::{borrow_str, check_out, give_string};
use crate::panic::boundary;
use crate::status::toron_status;
use serde_json::{json, Value};
use std::ffi::c_char;
use std::path::PathBuf;
use toron_core::pii::{self, Finding, Key, Policy, Scrubber};

/// What `options_json` says.
struct Options {
    scrubber: Scrubber,
    strict: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> FfiError {
    FfiError::from(toron_core::Error::new(toron_core::ErrorKind::InvalidArgument, message).with_field(field))
}

fn strings(v: &Value, field: &str) -> FfiResult<Vec<String>> {
    let items = v
        .as_array()
        .ok_or_else(|| invalid(field, "expected an array of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str()
                .map(str::to_owned)
                .ok_or_else(|| invalid(&format!("{field}[{i}]"), "expected a string"))
        })
        .collect()
}

fn text_field(v: &Value, field: &str) -> FfiResult<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| invalid(field, "expected a string"))
}

/// Read `options_json` (NULL: the defaults) and build the scrubber.
///
/// # Safety
///
/// `options_json` is NULL or a NUL-terminated string.
unsafe fn options_arg(options_json: *const c_char) -> FfiResult<Options> {
    let value = if options_json.is_null() {
        json!({})
    } else {
        // SAFETY: the caller's guarantee.
        unsafe { json_arg(options_json, "options_json") }?
    };
    let obj = value
        .as_object()
        .ok_or_else(|| invalid("options_json", "expected a JSON object"))?;
    let (mut kinds, mut allow, mut key, mut key_env, mut archive, mut strict) =
        (Vec::new(), Vec::new(), None, None, PathBuf::from(".toron"), false);
    for (name, v) in obj {
        match name.as_str() {
            "kinds" => kinds = strings(v, "kinds")?,
            "allow" => allow = strings(v, "allow")?,
            "key" => key = Some(Key::from_text(&text_field(v, "key")?)),
            "key_env" => key_env = Some(text_field(v, "key_env")?),
            "archive" => archive = PathBuf::from(text_field(v, "archive")?),
            "strict" => strict = v.as_bool().ok_or_else(|| invalid("strict", "expected true or false"))?,
            other => {
                return Err(invalid(
                    other,
                    format!("unknown option {other:?} (expected kinds, allow, key, key_env, archive or strict)"),
                ))
            }
        }
    }
    let policy = Policy::new(&kinds, &allow).map_err(|e| about("options_json", e))?;
    let key = Key::resolve(key, key_env.as_deref(), &archive)?;
    Ok(Options {
        scrubber: Scrubber::new(&policy, key)?,
        strict,
    })
}

fn findings_text(findings: &[Finding]) -> FfiResult<String> {
    let list: Vec<Value> = findings
        .iter()
        .map(|f| json!({"kind": f.kind.name(), "location": f.location.to_string(), "placeholder": f.placeholder}))
        .collect();
    canonical_text(&Value::Array(list))
}

/// Write both outputs (the findings only when wanted), after everything that can fail.
///
/// # Safety
///
/// `out` is non-NULL and writable; `findings_out` is NULL or writable.
unsafe fn give_both(
    out: *mut *mut c_char,
    text: String,
    findings_out: *mut *mut c_char,
    findings: &[Finding],
) -> FfiResult<()> {
    let findings = if findings_out.is_null() {
        None
    } else {
        Some(findings_text(findings)?)
    };
    let text = std::ffi::CString::new(text).map_err(|_| {
        FfiError::new(
            toron_status::TORON_PANIC,
            "internal error: output text contains a NUL byte",
        )
    })?;
    if let Some(f) = findings {
        // SAFETY: `findings_out` is non-NULL and writable (the caller's guarantee).
        unsafe { give_string(findings_out, f) }?;
    }
    // SAFETY: `out` is non-NULL and writable (the caller's guarantee).
    unsafe { out.write(text.into_raw()) };
    Ok(())
}

/// Scrub the text `text`: every email, phone number, payment card, SSN, IBAN, IPv4 / IPv6 address, JWT,
/// AWS access key id, PEM private key and secret token is replaced by a stable placeholder such as
/// `<EMAIL:1f3a9c2b>` (the same value gives the same placeholder under the same key). Writes the scrubbed
/// text to `*scrubbed_out` and, unless `findings_json_out` is NULL, the findings to `*findings_json_out`: a
/// canonical JSON array of `{"kind", "location", "placeholder"}` objects in order of position, `location`
/// being `"line:column"` (1-based, the column in characters). Both strings are owned by the caller: free
/// them with `toron_string_free`. The findings never hold the values.
///
/// `options_json` is NULL for the defaults, or a JSON object with any of:
/// - `"kinds"`: the kinds to look for, `["email", "card"]` (default all: `email`, `phone`, `card`, `ssn`,
///   `iban`, `ipv4`, `ipv6`, `jwt`, `aws_key`, `private_key`, `token`);
/// - `"allow"`: glob patterns (`*`, `?`) of test values that are not reported, `["*@example.com"]`;
/// - `"key"`: the passphrase the placeholders are keyed with; without it, the environment variable named
///   by `"key_env"` (default `TORON_PII_KEY`), else the per-archive key of `"archive"` (default `.toron`,
///   created on first use);
/// - `"strict"`: `true` to fail with `TORON_PII_ERROR` (naming each finding's kind and location) when
///   anything is found.
///
/// Fails with `TORON_PII_ERROR` for an unknown kind (`toron_last_error_field()` is e.g. `kinds[2]`) or in
/// strict mode, `TORON_INVALID_ARGUMENT` for an unknown or bad option, `TORON_JSON_ERROR` when
/// `options_json` is not JSON, `TORON_IO_ERROR` when the archive key cannot be read or made,
/// `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`. Nothing is written on failure.
#[no_mangle]
pub unsafe extern "C" fn toron_pii_scrub_text(
    text: *const c_char,
    options_json: *const c_char,
    scrubbed_out: *mut *mut c_char,
    findings_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(scrubbed_out, "scrubbed_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let text = unsafe { borrow_str(text, "text") }?;
        // SAFETY: as above.
        let options = unsafe { options_arg(options_json) }?;
        let out = options.scrubber.scrub_text(text);
        if options.strict {
            pii::check_strict(&out.findings)?;
        }
        // SAFETY: `scrubbed_out` was checked non-NULL; both are writable (the header's pointer rules).
        unsafe { give_both(scrubbed_out, out.text, findings_json_out, &out.findings) }
    })
}

/// Scrub the JSON document `json` as `toron_pii_scrub_text` scrubs text, with object keys as context
/// (`{"password": "..."}`, `{"ssn": "123456789"}`, a number under `"card_number"`), and write the scrubbed
/// document as canonical JSON to `*scrubbed_json_out`. Findings are as for `toron_pii_scrub_text`, with the
/// JSON pointer of the string, number or key holding each value as `location` (`"/user/email"`).
///
/// Takes the same options, and fails as `toron_pii_scrub_text`, and with `TORON_JSON_ERROR` when `json` is
/// not JSON (`toron_last_error_line()` / `_column()` say where).
#[no_mangle]
pub unsafe extern "C" fn toron_pii_scrub_json(
    json: *const c_char,
    options_json: *const c_char,
    scrubbed_json_out: *mut *mut c_char,
    findings_json_out: *mut *mut c_char,
) -> toron_status {
    boundary(|| {
        check_out(scrubbed_json_out, "scrubbed_json_out")?;
        // SAFETY: the header's pointer rules, passed on.
        let doc = unsafe { json_arg(json, "json") }?;
        // SAFETY: as above.
        let options = unsafe { options_arg(options_json) }?;
        let (out, findings) = options.scrubber.scrub_value(&doc);
        if options.strict {
            pii::check_strict(&findings)?;
        }
        let text = canonical_text(&out)?;
        // SAFETY: `scrubbed_json_out` was checked non-NULL; both are writable (the header's pointer rules).
        unsafe { give_both(scrubbed_json_out, text, findings_json_out, &findings) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{toron_last_error_field, toron_last_error_message};
    use crate::handle::toron_string_free;
    use std::ffi::{CStr, CString};
    use std::ptr;

    fn text(p: *const c_char) -> String {
        // SAFETY: non-NULL NUL-terminated strings from the library.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn scrub_text_and_json() {
        let input = CString::new("mail bob@corp.io card 4111 1111 1111 1111").unwrap();
        let options = CString::new(r#"{"key": "c test"}"#).unwrap();
        let (mut out, mut findings) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: NUL-terminated strings and writable locals; outputs freed once.
        unsafe {
            assert_eq!(
                toron_pii_scrub_text(input.as_ptr(), options.as_ptr(), &mut out, &mut findings),
                toron_status::TORON_OK
            );
            assert!(text(out).starts_with("mail <EMAIL:"));
            let f: Value = serde_json::from_str(&text(findings)).unwrap();
            assert_eq!(f[1]["kind"], "card");
            assert_eq!(f[1]["location"], "1:23");
            toron_string_free(out);
            toron_string_free(findings);
            let doc = CString::new(r#"{"user": {"password": "hunter2hunter2"}}"#).unwrap();
            assert_eq!(
                toron_pii_scrub_json(doc.as_ptr(), options.as_ptr(), &mut out, ptr::null_mut()),
                toron_status::TORON_OK
            );
            assert!(text(out).starts_with(r#"{"user":{"password":"<TOKEN:"#));
            toron_string_free(out);
        }
    }

    #[test]
    fn errors_leave_outputs_alone() {
        let sentinel = 0x57 as *mut c_char;
        let (mut out, mut findings) = (sentinel, sentinel);
        let input = CString::new("bob@corp.io").unwrap();
        // SAFETY: NUL-terminated strings and writable locals.
        unsafe {
            let bad = CString::new(r#"{"kinds": ["email", "mail"], "key": "k"}"#).unwrap();
            assert_eq!(
                toron_pii_scrub_text(input.as_ptr(), bad.as_ptr(), &mut out, &mut findings),
                toron_status::TORON_PII_ERROR
            );
            assert_eq!(text(toron_last_error_field()), "kinds[1]");
            let strict = CString::new(r#"{"strict": true, "key": "k"}"#).unwrap();
            assert_eq!(
                toron_pii_scrub_text(input.as_ptr(), strict.as_ptr(), &mut out, &mut findings),
                toron_status::TORON_PII_ERROR
            );
            assert!(text(toron_last_error_message()).contains("email at 1:1"));
            let unknown = CString::new(r#"{"kinz": []}"#).unwrap();
            assert_eq!(
                toron_pii_scrub_text(input.as_ptr(), unknown.as_ptr(), &mut out, &mut findings),
                toron_status::TORON_INVALID_ARGUMENT
            );
            assert_eq!(
                toron_pii_scrub_text(ptr::null(), ptr::null(), &mut out, &mut findings),
                toron_status::TORON_NULL_ARGUMENT
            );
            assert_eq!(
                toron_pii_scrub_text(input.as_ptr(), ptr::null(), ptr::null_mut(), &mut findings),
                toron_status::TORON_NULL_ARGUMENT
            );
            let not_json = CString::new("{").unwrap();
            assert_eq!(
                toron_pii_scrub_json(not_json.as_ptr(), ptr::null(), &mut out, &mut findings),
                toron_status::TORON_JSON_ERROR
            );
            assert_eq!((out, findings), (sentinel, sentinel));
        }
    }
}
