//! `toron_manifest`: a validated test-operations manifest (`testops.toml`), the input of `toron_run_start`.

use crate::handle::{borrow_str, check_out, give, take};
use crate::panic::{boundary, or_default};
use crate::status::toron_status;
use std::ffi::c_char;
use toron_core::runner::Manifest;

/// A validated test-operations manifest (`testops.toml`): project settings, profiles, suites of cases and
/// gates. Opaque: create it with `toron_manifest_from_path`, free it with `toron_manifest_free`. It is
/// immutable, so several runs may be started from it, from several threads at once; a run keeps its own
/// copy, so the manifest may be freed while its runs go on.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_manifest {
    pub(crate) inner: Manifest,
}

/// Read and validate the manifest file at `path` (TOML). Relative paths inside it (scenario files, the
/// archive, reports, snapshots, the working directory of command cases) are relative to the directory of
/// `path`. Everything is checked here (unknown fields, case kinds, suites named by profiles, gate rules,
/// scenario files), so a bad manifest fails before anything runs.
///
/// On success writes a new manifest to `*out` (free it with `toron_manifest_free`). Fails with
/// `TORON_MANIFEST_ERROR` when the manifest is invalid (the last error names the file, line and field, e.g.
/// `"testops.toml:9:1: field suite[0].case[0].flavour: unknown field ..."`; see `toron_last_error_file()`,
/// `_line()`, `_field()`), `TORON_SCENARIO_ERROR` when a scenario file it names is invalid,
/// `TORON_IO_ERROR` when a file cannot be read, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_manifest_from_path(path: *const c_char, out: *mut *mut toron_manifest) -> toron_status {
    boundary(|| {
        // The manifest's scenarios may have `c:` nodes.
        crate::node::register_c_resolver();
        // SAFETY: `path` is NULL or a NUL-terminated string (the header's pointer rules).
        let path = unsafe { borrow_str(path, "path") }?;
        check_out(out, "out")?;
        let inner = Manifest::from_path(path)?;
        // SAFETY: `out` was checked non-NULL and is writable (the header's pointer rules).
        unsafe { give(out, toron_manifest { inner }) };
        Ok(())
    })
}

/// Free a manifest. `toron_manifest_free(NULL)` does nothing. Runs started from it are not affected.
#[no_mangle]
pub unsafe extern "C" fn toron_manifest_free(manifest: *mut toron_manifest) {
    // SAFETY: `manifest` is NULL or came from `toron_manifest_from_path` and is freed once.
    or_default((), || unsafe { take(manifest) })
}
