//! How a server is set up: where it listens, where it keeps its data, which manifests it runs, who may call
//! it, and its limits. `toron serve` and `toron-server serve` fill it from their flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The default address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8700";

/// A server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The data directory: the run archive (`archive/`), reports (`reports/`), the warroom (`warroom/`) and
    /// the server's own state (`server/`). Everything a restart needs is here.
    pub data: PathBuf,
    /// Runs run at once by this process; 0: none, runs go to remote runners (`toron runner`).
    pub runners: usize,
    /// With remote runners: how long a claimed run's lease lasts without a heartbeat of its runner.
    pub lease: Duration,
    /// The largest file a remote runner may upload (an archive pack, a log), in bytes.
    pub upload_limit: usize,
    /// The manifests runs may be started from (the first is the default); each is named by its
    /// `[project] name`.
    pub manifests: Vec<PathBuf>,
    /// A tokens file (see [`crate::auth`]); tokens from `TORON_TOKENS` are added.
    pub tokens: Option<PathBuf>,
    /// Accept every request as the maintainer `localhost`, without tokens: only on a loopback address.
    pub insecure_localhost: bool,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// Requests per second per token (bursts of twice as many).
    pub rate_limit: u32,
    /// A run still scheduled after this long gets a `run.waiting` event and a warning on its page (again every
    /// as long): the embedded queue's warning, and with remote runners the schedule deadline.
    pub schedule_warning: Duration,
    /// How often an idle event stream sends a keep-alive comment.
    pub keep_alive: Duration,
    /// The worker command of determinism cases with `processes > 1` (`None`: `TORON_WORKER`).
    pub worker: Option<Vec<String>>,
    /// The nice increment of in-process runs (see [`toron_core::runner::RunOptions::nice`]): serving requests
    /// and event streams goes first when the cores are busy.
    pub run_nice: i32,
}

impl Config {
    /// The defaults, for a data directory.
    pub fn new(data: impl Into<PathBuf>) -> Config {
        Config {
            addr: DEFAULT_ADDR
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8700))),
            data: data.into(),
            runners: 1,
            lease: Duration::from_secs(30),
            upload_limit: 256 << 20,
            manifests: vec![PathBuf::from(toron_core::runner::MANIFEST_FILE)],
            tokens: None,
            insecure_localhost: false,
            body_limit: 1 << 20,
            rate_limit: 50,
            schedule_warning: Duration::from_secs(60),
            keep_alive: Duration::from_secs(15),
            worker: None,
            run_nice: 19,
        }
    }
}
