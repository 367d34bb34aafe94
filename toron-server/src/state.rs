//! The server's state: its data directory, manifests, callers, the runner pool (an admission [`Queue`]) and
//! the runs this process is running, each with the feed its event streams read.

use crate::auth::{Identity, TicketKey, Tokens};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::feed::Feed;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use toron_core::runner::{Manifest, Queue, RunHandle};

/// Where a server keeps what it keeps, under `--data`.
#[derive(Debug, Clone)]
pub struct DataDirs {
    /// The run archive (`<data>/archive`).
    pub archive: PathBuf,
    /// Reports (`<data>/reports`).
    pub reports: PathBuf,
    /// The warroom (`<data>/warroom`).
    pub warroom: PathBuf,
    /// The server's own records: who started each run, triage labels (`<data>/server`).
    pub server: PathBuf,
}

impl DataDirs {
    fn new(data: &Path) -> DataDirs {
        DataDirs {
            archive: data.join("archive"),
            reports: data.join("reports"),
            warroom: data.join("warroom"),
            server: data.join("server"),
        }
    }
}

/// A run this process is running.
#[derive(Debug)]
pub struct LiveRun {
    /// Its handle (cancel, state).
    pub handle: Arc<RunHandle>,
    /// Its events, for streams.
    pub feed: Arc<Feed>,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests answered, by status class (index 1-5 for 1xx-5xx).
    pub responses: [AtomicU64; 6],
    /// Event streams open now.
    pub streams: AtomicU64,
    /// Events sent on streams.
    pub events_sent: AtomicU64,
    /// The largest delay, in microseconds, between an event reaching a live run's feed and its stream
    /// handing it to the connection.
    pub max_lag_us: AtomicU64,
    /// The sum of those delays, for the mean.
    pub lag_sum_us: AtomicU64,
    /// How many delays were measured: events sent live from a feed (a replay from the events file, of a
    /// run that ended or runs elsewhere, has no delay to measure).
    pub lag_samples: AtomicU64,
}

/// The server.
#[derive(Debug)]
pub struct App {
    /// Its settings.
    pub config: Config,
    /// Its data directories.
    pub dirs: DataDirs,
    /// The manifests runs start from, by project name, the default first.
    pub manifests: Vec<(String, Manifest)>,
    /// Callers.
    pub tokens: Tokens,
    /// Signs stream tickets.
    pub tickets: TicketKey,
    /// Per-token rate limits.
    pub limiter: governor::DefaultKeyedRateLimiter<String>,
    /// The runner pool (in-process runs).
    pub queue: Queue,
    /// The remote runners, their queue and leases (`--runners 0`; `None`: runs run in-process).
    pub remote: Option<crate::remote::Remote>,
    /// Runs of this process not yet finished.
    pub live: Mutex<BTreeMap<String, Arc<LiveRun>>>,
    /// The feeds of remote runners' runs not yet finished (filled as their events are appended).
    pub remote_feeds: Mutex<BTreeMap<String, Arc<Feed>>>,
    /// `/metrics` counters.
    pub counters: Counters,
    /// When the server started.
    pub started: std::time::Instant,
}

/// What the server records of a run beside the archive: who started it, with what request, and the triage
/// labels of its failed cases (`<data>/server/runs/<id>.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RunRecord {
    /// The token name that started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
    /// The request it was started with.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub request: Value,
    /// Triage labels by case (`suite/name`).
    #[serde(default)]
    pub triage: BTreeMap<String, Triage>,
}

/// A failed case's triage label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Triage {
    /// `product-bug`, `test-issue` or `environment`.
    pub label: String,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Who labelled it.
    pub by: String,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// The triage labels a case may get.
pub const TRIAGE_LABELS: [&str; 3] = ["product-bug", "test-issue", "environment"];

impl App {
    /// Set up a server from its config: read manifests and tokens, make the data directory. Errors say what
    /// is wrong with which flag or file.
    pub fn new(config: Config) -> Result<App, String> {
        let mut tokens = match &config.tokens {
            Some(path) => Tokens::from_file(path)?,
            None => Tokens::default(),
        };
        if let Ok(value) = std::env::var(crate::auth::TOKENS_ENV) {
            tokens.extend(Tokens::from_env_value(&value)?)?;
        }
        if config.insecure_localhost {
            if !config.addr.ip().is_loopback() {
                return Err(format!(
                    "--insecure-localhost serves without tokens, so only on a loopback address (got {}; use \
                     127.0.0.1 or ::1, or give tokens)",
                    config.addr
                ));
            }
        } else if tokens.is_empty() {
            return Err(format!(
                "no tokens: give --tokens FILE or {} (name:role:token,...), or --insecure-localhost to serve \
                 without authentication on a loopback address",
                crate::auth::TOKENS_ENV
            ));
        }
        if config.manifests.is_empty() {
            return Err("no manifest: give --manifest FILE (default testops.toml)".to_string());
        }
        let dirs = DataDirs::new(&config.data);
        for d in [&dirs.archive, &dirs.reports, &dirs.warroom, &dirs.server.join("runs")] {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: cannot create the directory: {e}", d.display()))?;
        }
        let mut manifests: Vec<(String, Manifest)> = Vec::new();
        for path in &config.manifests {
            let mut m = Manifest::from_path(path).map_err(|e| e.to_string())?;
            // The server's data directory holds the runs, reports and warroom of every manifest it serves.
            m.project.archive = absolute(&dirs.archive);
            m.project.reports = absolute(&dirs.reports);
            m.project.warroom = absolute(&dirs.warroom);
            let name = m.project.name.clone();
            if manifests.iter().any(|(n, _)| *n == name) {
                return Err(format!(
                    "{}: a manifest with the project name {name:?} is already served (names pick the manifest \
                     of a run)",
                    path.display()
                ));
            }
            manifests.push((name, m));
        }
        let burst =
            std::num::NonZeroU32::new(config.rate_limit.saturating_mul(2).max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        let rate = std::num::NonZeroU32::new(config.rate_limit.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        let limiter = governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst));
        let remote = (config.runners == 0).then(|| crate::remote::Remote::new(config.lease, config.schedule_warning));
        // Uploads of runs that were in flight when the server last stopped: those runs are interrupted.
        let _ = std::fs::remove_dir_all(dirs.server.join("uploads"));
        Ok(App {
            queue: Queue::new(config.runners, config.schedule_warning),
            remote,
            tickets: TicketKey::random()?,
            config,
            dirs,
            manifests,
            tokens,
            limiter,
            live: Mutex::new(BTreeMap::new()),
            remote_feeds: Mutex::new(BTreeMap::new()),
            counters: Counters::default(),
            started: std::time::Instant::now(),
        })
    }

    /// The manifest named `name` (`None`: the default).
    pub fn manifest(&self, name: Option<&str>) -> ApiResult<&Manifest> {
        match name {
            None => Ok(&self.manifests[0].1),
            Some(n) => self
                .manifests
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, m)| m)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.manifests.iter().map(|(k, _)| k.as_str()).collect();
                    ApiError::invalid(
                        "manifest",
                        format!(
                            "no manifest named {n:?} is served (expected one of: {})",
                            known.join(", ")
                        ),
                    )
                }),
        }
    }

    /// A live run of this process.
    pub fn live(&self, id: &str) -> Option<Arc<LiveRun>> {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }

    /// The feed of a run still going: this process's, or a remote runner's.
    pub fn feed(&self, id: &str) -> Option<Arc<Feed>> {
        self.live(id).map(|l| l.feed.clone()).or_else(|| {
            let feeds = self.remote_feeds.lock().unwrap_or_else(|p| p.into_inner());
            feeds.get(id).cloned()
        })
    }

    /// Identify a caller by bearer token (`None` with `--insecure-localhost`: everyone is `localhost`).
    pub fn identify(&self, bearer: Option<&str>) -> Option<Identity> {
        if self.config.insecure_localhost && bearer.is_none() {
            return Some(Identity {
                name: "localhost".to_string(),
                role: crate::auth::Role::Maintainer,
            });
        }
        bearer.and_then(|t| self.tokens.identify(t))
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dirs.server.join("runs").join(format!("{id}.json"))
    }

    /// The server's record of a run (empty for runs it did not start).
    pub fn record(&self, id: &str) -> RunRecord {
        std::fs::read(self.record_path(id))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Write a run's record (atomically: a crash leaves the old one or the new one).
    pub fn write_record(&self, id: &str, record: &RunRecord) -> ApiResult<()> {
        let path = self.record_path(id);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(record).map_err(|e| ApiError::internal(e.to_string()))?;
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| ApiError::internal(format!("{}: cannot write the run's record: {e}", path.display())))
    }

    /// Count a response of `status`.
    pub fn count_response(&self, status: u16) {
        let class = usize::from(status / 100).min(5);
        self.counters.responses[class].fetch_add(1, Ordering::Relaxed);
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// A run id as the archive makes them (`run-2.5.0-20261202T070405Z`, maybe with a suffix): checked before it
/// names a file.
pub fn check_run_id(id: &str) -> ApiResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "{id:?} is not a run id (expected run-<version>-<UTC timestamp>, as POST /v1/test-runs returns)"
        ))
        .with_field("id"))
    }
}
