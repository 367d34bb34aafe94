//! The command line of `toron serve` / `toron-server serve` and `toron runner` / `toron-server runner`: one
//! parser, so the two cannot drift.

use crate::config::{Config, DEFAULT_ADDR};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(name = "toron-server", version = toron_core::VERSION, about = "Toron's TestOps API, runners and dashboard")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API and the dashboard, running runs in-process (or, with --runners 0, on remote runners).
    Serve(ServeArgs),
    /// Run runs of a `serve --runners 0` server: claim queued runs under a lease, run them here, ship their
    /// events, archive objects and logs back.
    Runner(RunnerArgs),
    /// Simulate a scenario file and print the outcome as JSON: the worker command of determinism cases
    /// with `processes > 1` (the same output as `toron simulate --json`).
    #[command(hide = true)]
    Simulate {
        /// The scenario (TOML, or JSON for .json).
        scenario: PathBuf,
        /// The seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Print the outcome as JSON (the only output there is; accepted for the worker protocol).
        #[arg(long)]
        json: bool,
        /// The directory the scenario's relative paths (`c:` libraries, `python:` modules) are relative to,
        /// instead of the file's: the runner's copy of a scenario keeps its original's directory.
        #[arg(long)]
        base_dir: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on (port 0: any free port; the address is printed and written to
    /// <data>/server/address).
    #[arg(long, default_value = DEFAULT_ADDR)]
    addr: std::net::SocketAddr,
    /// The data directory: run archive, reports, warroom and the server's state.
    #[arg(long, default_value = ".toron-server")]
    data: PathBuf,
    /// Runs run at once in this process; 0: none, remote runners (`toron runner`) claim them.
    #[arg(long, default_value_t = 1)]
    runners: usize,
    /// With --runners 0: a claimed run's lease, renewed by its runner's heartbeats; a runner silent this long
    /// is lost and its runs end errored (interrupted).
    #[arg(long, default_value_t = 30.0, value_parser = seconds)]
    lease_seconds: f64,
    /// A run still scheduled after this long gets a run.waiting event and a warning on its page (again
    /// every as long); the same setting as --schedule-warning, in seconds.
    #[arg(long, value_parser = seconds)]
    schedule_deadline_seconds: Option<f64>,
    /// The largest file a remote runner may upload (an archive pack, a log), in bytes.
    #[arg(long, default_value_t = 256 << 20)]
    upload_limit: usize,
    /// A manifest runs start from (repeatable; the first is the default). Default: testops.toml.
    #[arg(long = "manifest")]
    manifests: Vec<PathBuf>,
    /// The tokens file (TOML: [[token]] name, role, token); TORON_TOKENS (name:role:token,...) adds to it.
    #[arg(long)]
    tokens: Option<PathBuf>,
    /// Serve without tokens (every caller is the maintainer `localhost`): only on a loopback address.
    #[arg(long)]
    insecure_localhost: bool,
    /// The largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    body_limit: usize,
    /// Requests per second per token (bursts of twice as many).
    #[arg(long, default_value_t = 50)]
    rate_limit: u32,
    /// Warn (event run.waiting) when a run is still scheduled after this long.
    #[arg(long, default_value = "60s", value_parser = duration)]
    schedule_warning: std::time::Duration,
    /// How often idle event streams send a keep-alive comment.
    #[arg(long, default_value = "15s", value_parser = duration)]
    keep_alive: std::time::Duration,
    /// Lower the CPU priority of runs by this nice increment (0-19; 0: leave it), so that requests and event
    /// streams are served first when the cores are busy (Linux; the commands of a run inherit it). 19, the
    /// lowest: 500 live streams met their 50 ms p99 in 14 of 20 rounds at 19, 5 of 10 at 10 (benches/README.md).
    #[arg(long, default_value_t = 19, value_parser = clap::value_parser!(i32).range(0..=19))]
    run_nice: i32,
}

#[derive(clap::Args, Debug)]
struct RunnerArgs {
    /// The server's URL (http://host:port; plain HTTP).
    #[arg(long)]
    server: String,
    /// A file holding the bearer token of a `runner` token of the server.
    #[arg(long)]
    token_file: PathBuf,
    /// Runs run at once by this runner.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    jobs: u64,
    /// The name it registers with (default: the host name).
    #[arg(long)]
    name: Option<String>,
    /// The project checkout manifests run from (default: the directory the server names).
    #[arg(long)]
    project: Option<PathBuf>,
    /// Where runs run, a directory each, removed after (default: the system's temporary directory).
    #[arg(long)]
    work: Option<PathBuf>,
    /// How often an idle runner asks for a run, in seconds.
    #[arg(long, default_value_t = 1.0, value_parser = seconds)]
    poll_seconds: f64,
    /// A file written once registered and removed on exit, for a readiness probe.
    #[arg(long)]
    ready_file: Option<PathBuf>,
    /// Lower the CPU priority of runs by this nice increment (0-19; 0: leave it), so that heartbeats and
    /// uploads go first when the cores are busy (Linux; the commands of a run inherit it).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i32).range(0..=19))]
    run_nice: i32,
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86_400.0 => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds (expected more than 0, at most 86400)"
        )),
    }
}

fn duration(text: &str) -> Result<std::time::Duration, String> {
    toron_core::scenario::Duration::parse(text).map(|d| std::time::Duration::from_nanos(d.nanos()))
}

/// Run the command line with `args` (the first is the program name); returns the exit code. `stop` ends
/// the server when set (the Python command line sets it on Ctrl-C). `worker` is the command that simulates
/// in a separate process for determinism cases (`None`: `TORON_WORKER`, which `toron serve` sets).
pub fn main_with_args(args: Vec<String>, stop: Arc<AtomicBool>, worker: Option<Vec<String>>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Simulate {
            scenario,
            seed,
            json: _,
            base_dir,
        } => {
            use toron_core::scenario::Scenario;
            let loaded = match &base_dir {
                Some(dir) => Scenario::from_path_relative_to(&scenario, dir),
                None => Scenario::from_path(&scenario),
            };
            let outcome = loaded.and_then(|s| toron_core::sim::simulate(&s, seed));
            match outcome {
                Ok(o) => {
                    println!("{}", o.to_json());
                    0
                }
                Err(e) => {
                    eprintln!("toron-server: error: {e}");
                    1
                }
            }
        }
        Command::Runner(a) => {
            let token = match std::fs::read_to_string(&a.token_file) {
                Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
                Ok(_) => {
                    eprintln!(
                        "toron-server: error: --token-file {}: the file is empty",
                        a.token_file.display()
                    );
                    return 1;
                }
                Err(e) => {
                    eprintln!(
                        "toron-server: error: --token-file {}: cannot read it: {e}",
                        a.token_file.display()
                    );
                    return 1;
                }
            };
            let worker = if std::env::var_os(toron_core::runner::WORKER_ENV).is_none() {
                worker
            } else {
                None
            };
            let config = crate::runner::RunnerConfig {
                server: a.server,
                token,
                jobs: a.jobs as usize,
                name: a.name.unwrap_or_else(crate::runner::default_name),
                project: a.project,
                work: a
                    .work
                    .unwrap_or_else(|| std::env::temp_dir().join(format!("toron-runner-{}", std::process::id()))),
                poll: std::time::Duration::from_secs_f64(a.poll_seconds),
                ready_file: a.ready_file,
                run_nice: a.run_nice,
                worker,
            };
            match crate::runner::run_runner(config, stop) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("toron-server: error: {e}");
                    1
                }
            }
        }
        Command::Serve(a) => {
            let mut config = Config::new(a.data);
            config.addr = a.addr;
            config.runners = a.runners;
            if !a.manifests.is_empty() {
                config.manifests = a.manifests;
            }
            config.tokens = a.tokens;
            config.insecure_localhost = a.insecure_localhost;
            config.body_limit = a.body_limit;
            config.rate_limit = a.rate_limit;
            config.schedule_warning = a.schedule_warning;
            if let Some(s) = a.schedule_deadline_seconds {
                config.schedule_warning = std::time::Duration::from_secs_f64(s);
            }
            config.lease = std::time::Duration::from_secs_f64(a.lease_seconds);
            config.upload_limit = a.upload_limit;
            config.keep_alive = a.keep_alive;
            config.run_nice = a.run_nice;
            if std::env::var_os(toron_core::runner::WORKER_ENV).is_none() {
                config.worker = worker;
            }
            let result = crate::serve_blocking(config, stop, |addr| {
                use std::io::Write;
                println!("toron-server: listening on http://{addr}");
                let _ = std::io::stdout().flush();
            });
            match result {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("toron-server: error: {e}");
                    1
                }
            }
        }
    }
}
