//! Toron's linearizability checker side by side with todc-utils' WGL checker (crates.io, the Rust peer; MIT),
//! on the 102 Jepsen etcd histories that Knossos, Porcupine and ahorn's linearizability-checker test on
//! (todc-utils ships them in its crate as `tests/linearizability/etcd/etcd_NNN.log`, with each history's
//! expected verdict in `tests/linearizability/etcd.rs`). Porcupine itself (Go) cannot be fetched here.
//!
//! For each history both checkers parse the log and check it as a compare-and-set register, best of a few
//! runs; the bench prints both verdicts against the expected one, both times, and the ratio of the totals.
//!
//! Run: `cargo bench -p toron-suite --bench check_peer` (`TODC_ETCD_DIR` to point at the logs elsewhere).

use std::time::{Duration, Instant};

use todc_utils::linearizability::WGLChecker;
use todc_utils::specifications::etcd::{history_from_log, EtcdSpecification};
use toron_core::check::{check, ModelKind};

#[path = "support/jepsen_log.rs"]
mod jepsen_log;
use jepsen_log::{etcd_dir, expected, toron_history};

const REPEAT: usize = 5;

fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut best = Duration::MAX;
    for _ in 0..REPEAT {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("REPEAT > 0"))
}

fn main() {
    let dir = match etcd_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("check_peer: {e}");
            std::process::exit(2);
        }
    };
    let cases = match expected(&dir) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => {
            eprintln!(
                "check_peer: no expected verdicts in {}",
                dir.join("../etcd.rs").display()
            );
            std::process::exit(2);
        }
        Err(e) => {
            eprintln!("check_peer: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "Jepsen etcd histories from {} (best of {REPEAT}, parse + check)",
        dir.display()
    );
    println!(
        "{:<5} {:>4} {:>8} | {:>7} {:>10} | {:>7} {:>10}",
        "log", "ops", "expected", "toron", "", "todc", ""
    );
    let (mut toron_total, mut todc_total) = (Duration::ZERO, Duration::ZERO);
    let (mut toron_right, mut todc_right, mut unknown) = (0, 0, 0);
    let mut worst = (Duration::ZERO, String::new());
    for (n, want) in &cases {
        let path = dir.join(format!("etcd_{n}.log"));
        let log = match std::fs::read_to_string(&path) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("check_peer: {}: {e}", path.display());
                std::process::exit(2);
            }
        };
        let (t_toron, verdict) = best(|| {
            let h = toron_history(&log)?;
            let ops = h.ops.len();
            check(&h, ModelKind::CasRegister, None)
                .map(|v| (ops, v.linearizable))
                .map_err(|e| e.to_string())
        });
        let (ops, got) = match verdict {
            Ok(v) => v,
            Err(e) => {
                eprintln!("check_peer: etcd_{n}: {e}");
                std::process::exit(1);
            }
        };
        let file = path.to_string_lossy().into_owned();
        let (t_todc, peer) = best(|| WGLChecker::<EtcdSpecification>::is_linearizable(history_from_log(file.clone())));
        toron_total += t_toron;
        todc_total += t_todc;
        toron_right += usize::from(got == Some(*want));
        todc_right += usize::from(peer == *want);
        unknown += usize::from(got.is_none());
        if t_toron > worst.0 {
            worst = (t_toron, n.clone());
        }
        let show = |v: Option<bool>| match v {
            Some(true) => "ok",
            Some(false) => "NOT",
            None => "unknown",
        };
        println!(
            "{n:<5} {ops:>4} {:>8} | {:>7} {:>8.3}ms | {:>7} {:>8.3}ms",
            show(Some(*want)),
            show(got),
            t_toron.as_secs_f64() * 1e3,
            show(Some(peer)),
            t_todc.as_secs_f64() * 1e3
        );
    }
    println!(
        "\n{} histories: toron right on {toron_right} ({unknown} unknown), todc-utils right on {todc_right}",
        cases.len()
    );
    println!(
        "total: toron {:.1} ms, todc-utils {:.1} ms: toron {:.1}x faster; slowest toron history etcd_{} {:.2} ms",
        toron_total.as_secs_f64() * 1e3,
        todc_total.as_secs_f64() * 1e3,
        todc_total.as_secs_f64() / toron_total.as_secs_f64().max(1e-9),
        worst.1,
        worst.0.as_secs_f64() * 1e3
    );
    println!(
        "published (not run here): Porcupine's README: \"generally 1,000x-10,000x faster\" than Knossos on these \
         histories (test_data/jepsen), no absolute times given"
    );
}
