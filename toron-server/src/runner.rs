//! `toron runner`: a remote runner of a `toron serve --runners 0`. It registers, claims queued runs under a
//! lease (heartbeats keep it), runs each with toron-core's runner (the code an in-process run uses) in a
//! temporary directory, streams its events to the server as they happen, uploads the run's archive objects,
//! manifest and logs, and finishes it; then the temporary directory goes. The server's data directory is
//! the one source of truth: a runner keeps nothing.
//!
//! Plain HTTP (ureq, no TLS built in): reach the server on its cluster Service, or through a TLS sidecar.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use toron_core::runner::{Manifest, Run, RunHandle, RunOptions};

/// How a runner is set up (`toron runner` flags).
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The server's base URL (`http://host:port`).
    pub server: String,
    /// The bearer token (a `runner` token of the server).
    pub token: String,
    /// Runs run at once.
    pub jobs: usize,
    /// The name it registers with.
    pub name: String,
    /// The project checkout to run manifests from (`None`: the directory the server names).
    pub project: Option<PathBuf>,
    /// Where runs run (a directory per run, removed after).
    pub work: PathBuf,
    /// How often an idle runner asks for a run.
    pub poll: Duration,
    /// Written once registered, removed on exit: a readiness probe looks for it.
    pub ready_file: Option<PathBuf>,
    /// The nice increment of runs (see [`RunOptions::nice`]).
    pub run_nice: i32,
    /// The worker command of determinism cases with `processes > 1` (`None`: `TORON_WORKER`).
    pub worker: Option<Vec<String>>,
}

/// An HTTP answer: status and body.
type Answer = (u16, String);

struct Client {
    agent: ureq::Agent,
    base: String,
    auth: String,
}

impl Client {
    fn new(server: &str, token: &str) -> Result<Client, String> {
        let base = server.trim_end_matches('/').to_string();
        if base.starts_with("https://") {
            return Err(format!(
                "--server {server}: toron runner speaks plain HTTP (no TLS is built in): reach the server over \
                 http:// (its cluster Service), or through a TLS-terminating sidecar"
            ));
        }
        if !base.starts_with("http://") {
            return Err(format!(
                "--server {server:?}: expected a URL such as http://toron-api:8700"
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Ok(Client {
            agent,
            base,
            auth: format!("Bearer {token}"),
        })
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        content_type: &str,
        runner: Option<&str>,
    ) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base);
        let fail = |e: ureq::Error| format!("{method} {url}: {e}");
        let mut resp = match method {
            "PUT" => {
                let mut r = self
                    .agent
                    .put(&url)
                    .header("Authorization", &self.auth)
                    .header("Content-Type", content_type);
                if let Some(id) = runner {
                    r = r.header("X-Toron-Runner", id);
                }
                r.send(body).map_err(fail)?
            }
            _ => self
                .agent
                .post(&url)
                .header("Authorization", &self.auth)
                .header("Content-Type", content_type)
                .send(body)
                .map_err(fail)?,
        };
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        Ok((status, text))
    }

    fn post(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let (status, text) = self.send("POST", path, body.to_string().as_bytes(), "application/json", None)?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

/// The error message of an API error body.
fn message(body: &Value) -> String {
    body.pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.to_string())
}

/// Retry `f` while it fails to reach the server (connection refused, a restart), at most `tries` times, or
/// until `stop`; an HTTP answer (any status) ends the retries.
fn retry<T>(stop: &AtomicBool, tries: u32, mut f: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let mut wait = Duration::from_millis(100);
    let mut last = String::new();
    for _ in 0..tries.max(1) {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) => last = e,
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
    Err(last)
}

/// [`retry`], also while the server answers 429 (rate limited) or 5xx (busy, restarting).
fn retry_http<T>(
    stop: &AtomicBool,
    tries: u32,
    mut f: impl FnMut() -> Result<(u16, T), String>,
) -> Result<(u16, T), String> {
    let mut wait = Duration::from_millis(100);
    let mut last = Err(String::new());
    for _ in 0..tries.max(1) {
        last = retry(stop, tries, &mut f);
        match &last {
            Ok((status, _)) if *status == 429 || *status >= 500 => {}
            _ => return last,
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
    last
}

struct Active {
    handle: Option<Arc<RunHandle>>,
    /// Cancelled by the server before its handle existed: cancelled as soon as it starts.
    cancel: bool,
    /// The server no longer leases it to us: stop it, upload nothing.
    abandoned: Arc<AtomicBool>,
}

struct Shared {
    client: Client,
    config: RunnerConfig,
    id: Mutex<String>,
    active: Mutex<BTreeMap<String, Active>>,
    stop: Arc<AtomicBool>,
    /// The server forgot this runner (it restarted): register again.
    forgotten: AtomicBool,
}

impl Shared {
    fn id(&self) -> String {
        self.id.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn active(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Active>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn register(shared: &Shared) -> Result<(String, f64), String> {
    let body = json!({ "name": shared.config.name, "jobs": shared.config.jobs, "version": toron_core::VERSION });
    // The server may come up after its runners (a Deployment starts them together): wait for it, bounded.
    let (status, answer) = retry_http(&shared.stop, 60, || shared.client.post("/v1/runners/register", &body))?;
    if status != 201 {
        return Err(format!(
            "the server refused to register this runner ({status}): {}",
            message(&answer)
        ));
    }
    let id = answer["id"].as_str().unwrap_or_default().to_string();
    let heartbeat = answer["heartbeat_seconds"].as_f64().unwrap_or(10.0);
    Ok((id, heartbeat))
}

/// Run as a runner until `stop` is set (or SIGINT / SIGTERM arrive): runs in flight are then cancelled,
/// recorded and uploaded before it returns.
pub fn run_runner(config: RunnerConfig, stop: Arc<AtomicBool>) -> Result<(), String> {
    let client = Client::new(&config.server, &config.token)?;
    std::fs::create_dir_all(&config.work)
        .map_err(|e| format!("--work {}: cannot create the directory: {e}", config.work.display()))?;
    let shared = Arc::new(Shared {
        client,
        config,
        id: Mutex::new(String::new()),
        active: Mutex::new(BTreeMap::new()),
        stop: stop.clone(),
        forgotten: AtomicBool::new(false),
    });
    watch_signals(stop.clone());
    let (id, heartbeat) = register(&shared)?;
    *shared.id.lock().unwrap_or_else(|p| p.into_inner()) = id.clone();
    if let Some(f) = &shared.config.ready_file {
        std::fs::write(f, format!("{id}\n")).map_err(|e| format!("--ready-file {}: {e}", f.display()))?;
    }
    {
        use std::io::Write;
        println!("toron-runner: registered as {id} with {}", shared.config.server);
        let _ = std::io::stdout().flush();
    }
    let beat = {
        let s = shared.clone();
        std::thread::Builder::new()
            .name("toron-runner-heartbeat".into())
            .spawn(move || heartbeats(&s, Duration::from_secs_f64(heartbeat.clamp(0.05, 60.0))))
            .map_err(|e| format!("cannot start the heartbeat thread: {e}"))?
    };
    let mut workers = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        if shared.forgotten.swap(false, Ordering::SeqCst) {
            match register(&shared) {
                Ok((id, _)) => {
                    eprintln!("toron-runner: the server forgot this runner: registered again as {id}");
                    *shared.id.lock().unwrap_or_else(|p| p.into_inner()) = id;
                }
                Err(e) => eprintln!("toron-runner: {e}"),
            }
        }
        let free = shared.active().len() < shared.config.jobs;
        let claimed = if free { claim(&shared) } else { None };
        match claimed {
            Some(run) => {
                let s = shared.clone();
                let name = format!("toron-runner-{}", run["run"].as_str().unwrap_or("run"));
                match std::thread::Builder::new().name(name).spawn(move || execute(&s, run)) {
                    Ok(t) => workers.push(t),
                    Err(e) => eprintln!("toron-runner: cannot start a run's thread: {e}"),
                }
            }
            None => sleep_unless(&stop, shared.config.poll),
        }
        workers.retain(|t| !t.is_finished());
    }
    // Stopping: cancel what runs; each run still records itself and uploads (bounded by the server's answers).
    for a in shared.active().values() {
        if let Some(h) = &a.handle {
            h.cancel();
        }
    }
    for t in workers {
        let _ = t.join();
    }
    let _ = beat.join();
    if let Some(f) = &shared.config.ready_file {
        let _ = std::fs::remove_file(f);
    }
    Ok(())
}

fn watch_signals(stop: Arc<AtomicBool>) {
    #[cfg(unix)]
    {
        let _ = std::thread::Builder::new()
            .name("toron-runner-signals".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    return;
                };
                rt.block_on(async move {
                    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
                    let term_fut = async {
                        match term.as_mut() {
                            Some(t) => {
                                t.recv().await;
                            }
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        () = term_fut => {}
                    }
                    stop.store(true, Ordering::SeqCst);
                });
            });
    }
    #[cfg(not(unix))]
    let _ = stop;
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20).min(end.saturating_duration_since(Instant::now())));
    }
}

fn claim(shared: &Shared) -> Option<Value> {
    let id = shared.id();
    match shared.client.post(&format!("/v1/runners/{id}/claim"), &json!({})) {
        Ok((200, body)) => {
            let run = body.get("run").cloned().filter(|r| !r.is_null())?;
            let run_id = run["run"].as_str().unwrap_or_default().to_string();
            shared.active().insert(
                run_id.clone(),
                Active {
                    handle: None,
                    cancel: false,
                    abandoned: Arc::new(AtomicBool::new(false)),
                },
            );
            eprintln!("toron-runner: claimed run {run_id}");
            Some(run)
        }
        Ok((404, _)) => {
            shared.forgotten.store(true, Ordering::SeqCst);
            None
        }
        Ok((status, body)) => {
            eprintln!("toron-runner: the claim was refused ({status}): {}", message(&body));
            None
        }
        Err(e) => {
            eprintln!("toron-runner: {e}");
            None
        }
    }
}

/// Heartbeats, long-polled: each asks the server to hold its answer for up to `every` unless one of this
/// runner's runs is cancelled meanwhile, so a cancel arrives within a round trip, not at the next beat.
fn heartbeats(shared: &Shared, every: Duration) {
    let mut quick = true;
    while !shared.stop.load(Ordering::SeqCst) || !shared.active().is_empty() {
        let stopping = shared.stop.load(Ordering::SeqCst);
        if stopping {
            // Still beating for the runs that finish on the way out, at the same pace, unheld (the runner
            // leaves as soon as they are shipped).
            std::thread::sleep(every.min(Duration::from_millis(500)));
        } else if !quick {
            // A beat's pause, cut short by a run claimed meanwhile: its held heartbeat starts at once.
            let known: Vec<String> = shared.active().keys().cloned().collect();
            let claimed = || shared.active().keys().any(|k| !known.contains(k));
            let end = Instant::now() + every;
            while !shared.stop.load(Ordering::SeqCst) && Instant::now() < end && !claimed() {
                std::thread::sleep(Duration::from_millis(20).min(end.saturating_duration_since(Instant::now())));
            }
        }
        let running: Vec<String> = shared.active().keys().cloned().collect();
        let id = shared.id();
        // Held only while something runs: an idle runner has nothing to cancel.
        let wait = if stopping || running.is_empty() {
            0.0
        } else {
            every.as_secs_f64()
        };
        let sent = Instant::now();
        let answer = shared.client.post(
            &format!("/v1/runners/{id}/heartbeat"),
            &json!({ "running": running, "wait_seconds": wait }),
        );
        // The next beat at once after a held answer (it already waited); after an unheld or failed one, a
        // beat's pause (no busy loop against a server that is down).
        // A quick answer with cancels is news the server had (it holds the next beat, told): beat again too.
        quick = wait > 0.0
            && match &answer {
                Ok((200, ack)) => {
                    sent.elapsed() >= every / 2 || ack["cancel"].as_array().is_some_and(|a| !a.is_empty())
                }
                _ => false,
            };
        match answer {
            Ok((200, ack)) => {
                let ids = |k: &str| -> Vec<String> {
                    ack[k]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                        .unwrap_or_default()
                };
                let mut active = shared.active();
                for run in ids("cancel") {
                    if let Some(a) = active.get_mut(&run) {
                        if !a.cancel {
                            eprintln!("toron-runner: run {run} was cancelled");
                        }
                        a.cancel = true;
                        if let Some(h) = &a.handle {
                            h.cancel();
                        }
                    }
                }
                for run in ids("abandon") {
                    if let Some(a) = active.get(&run) {
                        eprintln!("toron-runner: run {run} is no longer leased to this runner: abandoning it");
                        a.abandoned.store(true, Ordering::SeqCst);
                        if let Some(h) = &a.handle {
                            h.cancel();
                        }
                    }
                }
            }
            Ok((404, _)) => shared.forgotten.store(true, Ordering::SeqCst),
            Ok((status, body)) => eprintln!("toron-runner: the heartbeat was refused ({status}): {}", message(&body)),
            Err(e) => eprintln!("toron-runner: heartbeat: {e}"),
        }
    }
}

/// Run one claimed run and ship it; whatever happens, the server hears the end of it.
fn execute(shared: &Shared, claim: Value) {
    let run = claim["run"].as_str().unwrap_or_default().to_string();
    let dir = shared.config.work.join(&run);
    let outcome = execute_in(shared, &claim, &run, &dir);
    let abandoned = shared
        .active()
        .get(&run)
        .is_some_and(|a| a.abandoned.load(Ordering::SeqCst));
    if !abandoned {
        let body = match &outcome {
            Ok(tag) => json!({ "runner": shared.id(), "tag": tag }),
            Err(e) => json!({ "runner": shared.id(), "error": e }),
        };
        match retry_http(&shared.stop, 20, || {
            shared.client.post(&format!("/v1/test-runs/{run}/finish"), &body)
        }) {
            Ok((200, answer)) => eprintln!(
                "toron-runner: run {run} finished: {}",
                answer["state"].as_str().unwrap_or("?")
            ),
            Ok((status, answer)) => {
                eprintln!(
                    "toron-runner: run {run}: the finish was refused ({status}): {}",
                    message(&answer)
                )
            }
            Err(e) => eprintln!("toron-runner: run {run}: {e}"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    shared.active().remove(&run);
}

/// The run in `dir`: returns the run's tag in its archive there, once its events and files are on the server.
fn execute_in(shared: &Shared, claim: &Value, run: &str, dir: &Path) -> Result<String, String> {
    let source = &claim["manifest"];
    let text = source["text"].as_str().ok_or("the claim has no manifest text")?;
    let root = match &shared.config.project {
        Some(p) => p.clone(),
        None => PathBuf::from(source["root"].as_str().unwrap_or(".")),
    };
    if !root.is_dir() {
        return Err(format!(
            "the manifest's directory {} is not on this runner: give toron runner --project DIR (a checkout of \
             the project)",
            root.display()
        ));
    }
    let mut manifest = Manifest::from_str(text, &root).map_err(|e| format!("the manifest: {e}"))?;
    let _ = std::fs::remove_dir_all(dir);
    let archive = dir.join("archive");
    manifest.project.archive = archive.clone();
    manifest.project.reports = dir.join("reports");
    manifest.project.warroom = dir.join("warroom");
    // The server records the run in its own warroom when it files the run.
    manifest.warroom.open_on = None;
    let strings = |k: &str| -> Vec<String> {
        claim[k]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let options = RunOptions {
        profile: claim["profile"].as_str().map(str::to_string),
        suites: strings("suites"),
        seed: claim["seed"].as_u64(),
        jobs: claim["jobs"].as_u64().map(|j| j as usize),
        check: true,
        archive: Some(archive.clone()),
        datasets: claim["dataset"].as_str().map(str::to_string).into_iter().collect(),
        worker: shared.config.worker.clone(),
        nice: shared.config.run_nice,
        ..Default::default()
    };
    let handle = Arc::new(Run::start(&manifest, options).map_err(|e| e.to_string())?);
    let abandoned = {
        let mut active = shared.active();
        let a = active.entry(run.to_string()).or_insert_with(|| Active {
            handle: None,
            cancel: false,
            abandoned: Arc::new(AtomicBool::new(false)),
        });
        if a.cancel {
            handle.cancel();
        }
        a.handle = Some(handle.clone());
        a.abandoned.clone()
    };
    let tag = handle.id().to_string();
    // Events as they come, in batches (those that came while a batch was on its way go in the next).
    let mut events = handle.events(0);
    // Events not yet taken by the server: sent again with the next batch (the server skips seqs it has), so
    // a refused or lost batch loses nothing.
    let mut pending: Vec<toron_core::runner::Event> = Vec::new();
    let mut ended = false;
    let mut tries_after_end = 0;
    loop {
        if !ended {
            match events.next() {
                Some(first) => {
                    pending.push(first);
                    pending.extend(events.ready(1024));
                }
                None => ended = true,
            }
        }
        if pending.is_empty() || abandoned.load(Ordering::SeqCst) {
            if ended {
                break;
            }
            pending.clear();
            continue;
        }
        let body = json!({
            "runner": shared.id(),
            "events": pending.iter().map(|e| json!({"seq": e.seq, "type": e.kind, "time": e.time, "data": e.data})).collect::<Vec<_>>(),
        });
        match retry_http(&shared.stop, 30, || {
            shared.client.post(&format!("/v1/test-runs/{run}/events"), &body)
        }) {
            Ok((200, _)) => pending.clear(),
            Ok((409, answer)) => {
                eprintln!("toron-runner: run {run}: {}", message(&answer));
                abandoned.store(true, Ordering::SeqCst);
                handle.cancel();
            }
            Ok((status, answer)) => {
                eprintln!(
                    "toron-runner: run {run}: events refused ({status}): {}",
                    message(&answer)
                )
            }
            Err(e) => eprintln!("toron-runner: run {run}: {e}"),
        }
        if ended && !pending.is_empty() {
            tries_after_end += 1;
            if tries_after_end >= 10 {
                return Err(format!("{} event(s) could not be sent to the server", pending.len()));
            }
            sleep_unless(&shared.stop, Duration::from_millis(200));
        }
    }
    let result = handle.wait_shared().map_err(|e| e.to_string())?;
    if abandoned.load(Ordering::SeqCst) {
        return Err("abandoned".to_string());
    }
    upload(shared, run, &archive, &result.id)?;
    Ok(tag)
}

/// Upload the run's archive objects (packs and loose objects), its manifest and its captured logs.
fn upload(shared: &Shared, run: &str, archive: &Path, tag: &str) -> Result<(), String> {
    let mut files = Vec::new();
    walk(&archive.join("objects"), "objects", &mut files);
    walk(&archive.join("logs").join(tag), &format!("logs/{tag}"), &mut files);
    let manifest = archive
        .join("runs")
        .join(tag)
        .join(toron_core::snapshot::archive::MANIFEST_FILE);
    files.push((format!("runs/{tag}/manifest.json"), manifest));
    let id = shared.id();
    for (rel, path) in files {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: cannot read it to upload: {e}", path.display()))?;
        let url = format!("/v1/test-runs/{run}/objects/{rel}");
        let (status, text) = retry_http(&shared.stop, 20, || {
            shared
                .client
                .send("PUT", &url, &bytes, "application/octet-stream", Some(&id))
        })?;
        if status != 204 {
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            return Err(format!("uploading {rel} was refused ({status}): {}", message(&body)));
        }
    }
    Ok(())
}

/// Files under `dir` as (relative path under `prefix`, path), skipping hidden (temporary) files.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let rel = format!("{prefix}/{name}");
        if path.is_dir() {
            walk(&path, &rel, out);
        } else {
            out.push((rel, path));
        }
    }
}

/// The host name, as a runner name (letters, digits, `-`, `_`, `.`).
pub fn default_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .unwrap_or_default();
    let name: String = host
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    if name.is_empty() {
        "runner".to_string()
    } else {
        name
    }
}
