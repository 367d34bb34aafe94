//! `toron-server`: the operations guide's TestOps API (`POST /v1/test-runs`, `GET /v1/test-runs/{id}/events`,
//! `POST /v1/snapshots/compare`, `GET /v1/reports/{id}`, `POST /v1/warroom/incidents`, and what a dashboard
//! needs), its runners and the live dashboard, over `toron-core`'s runner, reports, snapshots and warroom. Runs
//! run in the server's process (`--runners N`), or with `--runners 0` on remote runners (`toron runner`,
//! [`runner`]) that claim them under a lease and ship their results back ([`remote`], [`leases`]). Everything
//! it keeps is under its data directory, so a restart loses nothing.
//!
//! Started by `toron serve` (the Python command line, which calls [`main_with_args`]) or the `toron-server`
//! binary; in a program:
//!
//! ```no_run
//! let config = toron_server::Config::new("/var/lib/toron");
//! let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
//! toron_server::serve_blocking(config, stop, |addr| println!("listening on {addr}"))?;
//! # Ok::<(), String>(())
//! ```

#![forbid(unsafe_code)]
#![allow(
    clippy::result_large_err,
    reason = "ApiError is built once per refused request and sent; boxing it would only add an allocation"
)]

pub mod api;
pub mod auth;
mod cli;
pub mod config;
mod dashboard;
pub mod error;
pub mod feed;
pub mod leases;
pub mod remote;
pub mod runner;
pub mod state;

pub use cli::main_with_args;
pub use config::Config;
pub use state::App;

use axum::serve::ListenerExt as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a stopping server waits for its runs to record their cancellation and its streams to end.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serve until `stop` is set (or SIGINT / SIGTERM arrive): bind, call `listening` with the bound address
/// (port 0 picks a free one), answer requests. On stop, runs in flight are cancelled and recorded so, then
/// the server returns.
pub fn serve_blocking(config: Config, stop: Arc<AtomicBool>, listening: impl FnOnce(SocketAddr)) -> Result<(), String> {
    let app = Arc::new(App::new(config)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("toron-server")
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(app.config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", app.config.addr))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        std::fs::write(app.dirs.server.join("address"), format!("http://{addr}\n"))
            .map_err(|e| format!("{}: cannot write the server's address: {e}", app.dirs.server.display()))?;
        listening(addr);
        let (tx, rx) = tokio::sync::watch::channel(false);
        let app_stop = app.clone();
        let graceful = async move {
            wait_for_stop(stop).await;
            // Runs in flight end `cancelled` (their streams with them) instead of `interrupted`.
            let live: Vec<_> = app_stop
                .live
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .cloned()
                .collect();
            for l in &live {
                l.handle.cancel();
            }
            // Remote runs too: their runners hear it at once and ship them cancelled, while the server
            // still answers (bounded; those not shipped in time are recorded cancelled without results).
            if let Some(remote) = &app_stop.remote {
                if remote.stop(&app_stop) > 0 {
                    remote.settle(&app_stop, SHUTDOWN_GRACE).await;
                }
            }
            let _ = tx.send(true);
        };
        if app.remote.is_some() {
            // Leases expire and unclaimed runs warn on this clock.
            let (app_tick, mut stopped) = (app.clone(), rx.clone());
            let every = (app.config.lease / 10).clamp(Duration::from_millis(50), Duration::from_millis(500));
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stopped.wait_for(|s| *s) => return,
                        () = tokio::time::sleep(every) => {}
                    }
                    let a = app_tick.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        if let Some(r) = &a.remote {
                            r.tick(&a);
                        }
                    })
                    .await;
                }
            });
        }
        // TCP_NODELAY on every connection: an event stream writes small frames, and with Nagle's algorithm each
        // write after the first waits for the client's delayed ACK (tens of ms on loopback), which every
        // stream of a run pays in turn (benches/README.md: server-side lag mean 30-45 ms -> 12-15 ms).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let server = axum::serve(listener, api::router(app.clone())).with_graceful_shutdown(graceful);
        let mut rx2 = rx.clone();
        tokio::select! {
            r = server => r.map_err(|e| format!("the server failed: {e}"))?,
            () = async move {
                let _ = rx2.wait_for(|s| *s).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => eprintln!("toron-server: connections still open after {} s; stopping", SHUTDOWN_GRACE.as_secs()),
        }
        // Wait (bounded) for cancelled runs to record themselves.
        let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
        while !app.live.lock().unwrap_or_else(|p| p.into_inner()).is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(rx);
        Ok(())
    })
}

async fn wait_for_stop(stop: Arc<AtomicBool>) {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        #[cfg(unix)]
        let term_fut = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let term_fut = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            () = term_fut => return,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}
