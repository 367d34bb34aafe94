//! The `toron-server` binary: `toron-server serve [flags]` (the same flags as `toron serve`).

/// The allocator of `toron serve` (the Python module's), so that both servers behave alike: see Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Runs of this binary simulate `c:` nodes too, as `toron serve` does (the Python module registers it).
    toron::node::register_c_resolver();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // This binary is its own worker for determinism cases that simulate in separate processes.
    let worker = std::env::current_exe().ok().map(|exe| vec![exe.display().to_string()]);
    std::process::exit(toron_server::main_with_args(std::env::args().collect(), stop, worker));
}
