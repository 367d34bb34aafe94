//! The binary exports the C API's `toron_ctx_*` functions to the libraries it opens: a `c:` node library
//! calls them by name, and an executable's symbols are not visible to `dlopen`ed code unless exported.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic-symbol=toron_ctx_*");
    }
}
