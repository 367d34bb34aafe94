//! Runs on remote runners (`toron serve --runners 0`): the server records each run in its archive at once
//! (state `scheduled`, its liveness lock held by the server, its event log), queues it, and leases it to the
//! `toron runner` that claims it ([`crate::leases`]). The runner runs it with toron-core's runner, the same
//! code as an in-process run, in a temporary directory, streams its events back (idempotent by seq), uploads
//! its archive objects, run manifest and logs, and finishes it: the server then files those objects under
//! the server's run id, records the run in its warroom and renders the reports from its own archive, so the
//! data directory stays the one source of truth and holds the same run an in-process run leaves.
//!
//! A run whose lease expires (the runner died) ends `errored (interrupted)`; a run that nobody claims within
//! the schedule deadline gets `run.waiting` events and a warning on its page; a run in flight when the server
//! dies shows `errored (interrupted)` after the restart, since the server held its liveness lock.

use crate::error::{ApiError, ApiResult};
use crate::feed::{Feed, FeedEvent, Progress};
use crate::leases::{Expired, LeaseError, Leases};
use crate::state::{check_run_id, App};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use toron_core::runner::{events_path, Event, Manifest, RunIncident, RunOverview, RunResult, RunState};
use toron_core::snapshot::archive::{Archive, ObjectId, RunManifest};
use toron_core::snapshot::UtcTime;

/// What a runner gets when it claims a run: everything it needs to run it as the server would.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaimedRun {
    /// The server's run id: events, objects and the finish name it.
    pub run: String,
    /// The lease: heartbeat well within it (a third is the runner's default).
    pub lease_seconds: f64,
    /// The manifest to run.
    pub manifest: ManifestSource,
    /// The profile.
    pub profile: Option<String>,
    /// Suites instead of a profile.
    pub suites: Vec<String>,
    /// The run-level seed.
    pub seed: Option<u64>,
    /// The synthetic data set generated for every case.
    pub dataset: Option<String>,
    /// Cases run in parallel (default: the manifest's).
    pub jobs: Option<usize>,
}

/// A manifest as the server read it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ManifestSource {
    /// Its `[project] name`.
    pub name: String,
    /// Its file on the server.
    pub file: Option<String>,
    /// The directory its relative paths (scenarios, goldens, commands' working directory) are under, on the
    /// server: a runner uses its own checkout there, or the one `toron runner --project DIR` names.
    pub root: String,
    /// Its text.
    pub text: String,
}

/// One event as a runner sends it (the core's event, without the run id: the server's id replaces it).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingEvent {
    /// The runner's seq: 1, 2, 3... with no gaps. Events already received are skipped.
    #[schema(minimum = 1)]
    pub seq: u64,
    /// The event's run id on the runner (ignored).
    #[serde(default)]
    pub run: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// When (RFC 3339 UTC).
    pub time: String,
    /// Its payload.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: Value,
}

/// How a runner ends a run.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRun {
    /// The run's tag in the runner's archive (the uploaded `runs/<tag>/manifest.json`).
    pub tag: Option<String>,
    /// The runner could not run it: why (the run ends `errored` with this error).
    pub error: Option<String>,
}

#[derive(Debug)]
struct RemoteRun {
    created: String,
    claim: ClaimedRun,
    /// profile, suites, seed, seed_source: the manifest metadata of an unfinished run.
    meta: Value,
    /// The last seq written to the run's events file.
    seq: u64,
    /// The last runner seq received.
    runner_seq: u64,
    progress: Progress,
    /// The run's liveness lock, held while it is unfinished.
    liveness: Option<std::fs::File>,
    cancel: bool,
    /// A heartbeat answer told its runner of the cancel (a held heartbeat returns early only for news).
    told: bool,
    /// The runner's `gate.evaluated` (time, payload), held back: the server evaluates the gates again over
    /// its own archive, where `last-go` and run-id baselines are (the runner's archive has no earlier run).
    gate: Option<(String, Value)>,
}

#[derive(Debug)]
struct Inner {
    leases: Leases,
    runs: BTreeMap<String, RemoteRun>,
}

/// The remote runners' side of a server.
#[derive(Debug)]
pub struct Remote {
    /// Warn when a run is still scheduled after this long (and again every as long).
    pub deadline: Duration,
    inner: Mutex<Inner>,
    /// Bumped when a claimed run is cancelled or the server stops: wakes the heartbeats held open
    /// (long-polled), so a runner hears of a cancel at once instead of at its next heartbeat.
    changed: tokio::sync::watch::Sender<u64>,
    /// The server is stopping: its runs end `cancelled`, and runners are told so.
    stopping: std::sync::atomic::AtomicBool,
}

/// The answer to a heartbeat.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HeartbeatAck {
    /// Runs the runner holds that were cancelled: stop them, then finish them (state `cancelled`).
    pub cancel: Vec<String>,
    /// Runs the runner says it runs that it no longer holds (their lease expired): abandon them.
    pub abandon: Vec<String>,
    /// The lease, in seconds.
    pub lease_seconds: f64,
}

fn now_wall() -> String {
    UtcTime::now().rfc3339()
}

fn lease_error(e: LeaseError) -> ApiError {
    let status = match e {
        LeaseError::UnknownRunner(_) => StatusCode::NOT_FOUND,
        LeaseError::NotYours(_) => StatusCode::FORBIDDEN,
        LeaseError::NotLeased { .. } => StatusCode::CONFLICT,
    };
    let kind = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::FORBIDDEN => "forbidden",
        _ => "conflict",
    };
    ApiError::new(status, kind, e.to_string())
}

impl Remote {
    /// Remote runs with leases of `lease` and a schedule deadline of `deadline`.
    pub fn new(lease: Duration, deadline: Duration) -> Remote {
        Remote {
            deadline,
            inner: Mutex::new(Inner {
                leases: Leases::new(lease),
                runs: BTreeMap::new(),
            }),
            changed: tokio::sync::watch::Sender::new(0),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lease duration.
    pub fn lease(&self) -> Duration {
        self.lock().leases.lease()
    }

    /// (queued, leased, live runners).
    pub fn stats(&self) -> (usize, usize, usize) {
        let st = self.lock();
        (st.leases.queued(), st.leases.leased(), st.leases.live_runners())
    }

    /// The runners for `GET /v1/runners`: (id, name, state, heartbeat, runs, jobs, registered).
    pub fn runners(&self) -> Vec<crate::api::meta::Runner> {
        let st = self.lock();
        st.leases
            .runners()
            .map(|r| crate::api::meta::Runner {
                name: r.id.clone(),
                kind: "remote".to_string(),
                state: if r.lost {
                    "lost"
                } else if r.runs.is_empty() {
                    "idle"
                } else {
                    "busy"
                }
                .to_string(),
                heartbeat: r.heartbeat.clone(),
                runs: r.runs.iter().cloned().collect(),
                jobs: r.jobs,
                registered: Some(r.registered.clone()),
                token: Some(r.token.clone()),
            })
            .collect()
    }

    /// How far a remote run is, with its warning (`None`: not a remote run of this server).
    pub fn progress(&self, run: &str) -> Option<Progress> {
        self.lock().runs.get(run).map(|r| r.progress.clone())
    }

    /// Register a runner of token `token`; returns its id.
    pub fn register(&self, token: &str, name: &str, jobs: usize) -> String {
        self.lock()
            .leases
            .register(token, name, jobs, Instant::now(), &now_wall())
    }

    /// Wakes when a claimed run is cancelled or the server stops (subscribe before looking, so nothing is
    /// missed between the look and the wait).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Whether the server is stopping.
    pub fn stopping(&self) -> bool {
        self.stopping.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn wake(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The runs runner `id` holds that were cancelled (without renewing anything: a held heartbeat looks
    /// again when woken), and whether one of them is news to the runner.
    pub fn cancels_for(&self, id: &str) -> (Vec<String>, bool) {
        let mut st = self.lock();
        let held: Vec<String> = st
            .leases
            .runners()
            .filter(|r| r.id == id)
            .flat_map(|r| r.runs.iter().cloned())
            .collect();
        cancels(&mut st, &held)
    }

    /// A heartbeat of runner `id`, which says it runs `running`.
    pub fn heartbeat(&self, id: &str, token: &str, running: &[String]) -> ApiResult<HeartbeatAck> {
        self.beat(id, token, running).map(|(ack, _)| ack)
    }

    /// [`Remote::heartbeat`], and whether a cancel in it is news to the runner (a held heartbeat answers at
    /// once only then: cancels it was told of are repeated, not waited for).
    pub fn beat(&self, id: &str, token: &str, running: &[String]) -> ApiResult<(HeartbeatAck, bool)> {
        let mut st = self.lock();
        let held = st
            .leases
            .heartbeat(id, token, Instant::now(), &now_wall())
            .map_err(lease_error)?;
        let (cancel, news) = cancels(&mut st, &held);
        let abandon = running.iter().filter(|r| !held.contains(r)).cloned().collect();
        Ok((
            HeartbeatAck {
                cancel,
                abandon,
                lease_seconds: st.leases.lease().as_secs_f64(),
            },
            news,
        ))
    }

    /// The next queued run for runner `id`, leased to it.
    pub fn claim(&self, app: &App, id: &str, token: &str) -> ApiResult<Option<ClaimedRun>> {
        if self.stopping() {
            return Ok(None);
        }
        let mut st = self.lock();
        let Some(run) = st
            .leases
            .claim(id, token, Instant::now(), &now_wall())
            .map_err(lease_error)?
        else {
            return Ok(None);
        };
        let lease = st.leases.lease().as_secs_f64();
        let Some(r) = st.runs.get_mut(&run) else {
            return Err(ApiError::internal(format!(
                "run {run} was queued without its record (a bug)"
            )));
        };
        r.claim.lease_seconds = lease;
        let claim = r.claim.clone();
        let seq = next_seq(r);
        append_event(app, &run, seq, "run.claimed", json!({ "runner": id }));
        Ok(Some(claim))
    }

    /// Record and queue a run of `manifest` (named `name`): validated as an in-process run is, recorded
    /// `scheduled` with its `run.scheduled` event. Returns its id.
    pub fn start(&self, app: &App, manifest: &Manifest, req: &crate::api::runs::StartRun) -> ApiResult<String> {
        if self.stopping() {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "stopping",
                "the server is stopping: start the run again once it is back",
            ));
        }
        let datasets: Vec<String> = req.dataset.clone().into_iter().collect();
        if let Some(d) = datasets.first() {
            if !manifest.datasets.iter().any(|x| &x.name == d) {
                let known: Vec<&str> = manifest.datasets.iter().map(|x| x.name.as_str()).collect();
                return Err(ApiError::invalid(
                    "dataset",
                    format!(
                        "no data set named {d:?} in the manifest (expected one of its [[dataset]] names: {})",
                        if known.is_empty() {
                            "it has none".to_string()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            }
        }
        let suites = req.suites.clone().unwrap_or_default();
        let selected: Vec<String> = manifest
            .select(req.profile.as_deref(), &suites)
            .map_err(|e| {
                let mut e = ApiError::from_core(&e);
                e.field = e.field.map(|f| match f.as_str() {
                    "profile" => f,
                    f if f.starts_with("suite") => "suites".to_string(),
                    _ => f,
                });
                e
            })?
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let file = manifest.file().map(Path::to_path_buf);
        let text = match &file {
            Some(f) => std::fs::read_to_string(f)
                .map_err(|e| ApiError::internal(format!("{}: cannot read the manifest: {e}", f.display())))?,
            None => return Err(ApiError::internal("the manifest has no file to hand to a runner")),
        };
        let archive = Archive::open(&app.dirs.archive);
        let writer = archive.new_run_at(toron_core::VERSION, Value::Null, UtcTime::now())?;
        let id = writer.tag().to_string();
        let created = writer.manifest().created.clone();
        drop(writer);
        let liveness = hold_liveness(&app.dirs.archive, &id)?;
        let seed_source = if req.seed.is_some() { "option" } else { "scenario" };
        let meta = json!({ "profile": req.profile, "suites": selected, "seed": req.seed, "seed_source": seed_source });
        let mut run = RemoteRun {
            created: created.clone(),
            claim: ClaimedRun {
                run: id.clone(),
                lease_seconds: 0.0,
                manifest: ManifestSource {
                    name: manifest.project.name.clone(),
                    file: file.as_ref().map(|f| f.display().to_string()),
                    root: manifest.root().display().to_string(),
                    text,
                },
                profile: req.profile.clone(),
                suites,
                seed: req.seed,
                dataset: req.dataset.clone(),
                jobs: req.jobs,
            },
            meta: meta.clone(),
            seq: 0,
            runner_seq: 0,
            progress: Progress::default(),
            liveness: Some(liveness),
            cancel: false,
            told: false,
            gate: None,
        };
        write_state(app, &id, &created, &meta, RunState::Scheduled, None)?;
        let seq = next_seq(&mut run);
        append_event(
            app,
            &id,
            seq,
            "run.scheduled",
            json!({ "profile": req.profile, "suites": meta["suites"], "engine": toron_core::VERSION,
                    "seed": req.seed, "seed_source": seed_source, "runner": "remote" }),
        );
        let mut st = self.lock();
        st.leases.enqueue(&id, Instant::now());
        st.runs.insert(id.clone(), run);
        Ok(id)
    }

    /// Cancel a remote run: a queued one ends `cancelled` now; a claimed one is cancelled by its runner, told
    /// at once through its held heartbeat (or at its next one). `false`: not a remote run of this server.
    pub fn cancel(&self, app: &App, run: &str) -> bool {
        let mut st = self.lock();
        if !st.leases.tracks(run) {
            return false;
        }
        if st.leases.is_queued(run) {
            st.leases.release(run);
            if let Some(r) = st.runs.remove(run) {
                drop(st);
                end_without_result(app, run, r, RunState::Cancelled, None, None);
            }
        } else if let Some(r) = st.runs.get_mut(run) {
            r.cancel = true;
            drop(st);
            self.wake();
        }
        true
    }

    /// The server is stopping (SIGTERM, SIGINT): a deliberate stop, so its runs end `cancelled`, as
    /// in-process runs do. Queued runs end now; claimed runs are cancelled and their runners told at once
    /// (held heartbeats wake); [`Remote::settle`] then waits for them. Returns how many runs are claimed.
    pub fn stop(&self, app: &App) -> usize {
        self.stopping.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut st = self.lock();
        let runs: Vec<String> = st.runs.keys().cloned().collect();
        let mut queued = Vec::new();
        let mut claimed = 0;
        for run in runs {
            if st.leases.is_queued(&run) {
                st.leases.release(&run);
                if let Some(r) = st.runs.remove(&run) {
                    queued.push((run, r));
                }
            } else if let Some(r) = st.runs.get_mut(&run) {
                r.cancel = true;
                claimed += 1;
            }
        }
        drop(st);
        self.wake();
        for (run, r) in queued {
            end_without_result(app, &run, r, RunState::Cancelled, None, None);
        }
        claimed
    }

    /// After [`Remote::stop`]: wait (at most `grace`) for the runners to ship their cancelled runs, then
    /// end those still out `cancelled` without their results (their runners did not answer in time; what
    /// they send later is refused).
    pub async fn settle(&self, app: &App, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while !self.lock().runs.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut st = self.lock();
        let left: Vec<String> = st.runs.keys().cloned().collect();
        let mut ended = Vec::new();
        for run in left {
            let runner = st.leases.lease_of(&run).map(|l| l.runner.clone());
            st.leases.release(&run);
            if let Some(r) = st.runs.remove(&run) {
                ended.push((run, r, runner));
            }
        }
        drop(st);
        for (run, r, runner) in ended {
            eprintln!(
                "toron-server: run {run}: its runner did not ship it within {} s of the stop: recorded cancelled",
                grace.as_secs()
            );
            end_without_result(app, &run, r, RunState::Cancelled, None, runner.as_deref());
        }
    }

    /// Take a batch of a run's events from its runner; returns the last runner seq received.
    pub fn ingest(&self, app: &App, run: &str, id: &str, token: &str, events: &[IncomingEvent]) -> ApiResult<u64> {
        let mut st = self.lock();
        st.leases
            .check(run, id, token, Instant::now(), &now_wall())
            .map_err(lease_error)?;
        let Some(r) = st.runs.get_mut(run) else {
            return Err(lease_error(LeaseError::NotLeased {
                run: run.to_string(),
                runner: id.to_string(),
            }));
        };
        let mut out: Vec<Event> = Vec::new();
        let mut started = false;
        for (i, e) in events.iter().enumerate() {
            if e.seq <= r.runner_seq {
                continue; // sent again after a lost answer
            }
            if e.seq != r.runner_seq + 1 {
                return Err(ApiError::invalid(
                    format!("events[{i}].seq"),
                    format!(
                        "is {} but the server has events up to {} (expected {}: events come in order, without gaps)",
                        e.seq,
                        r.runner_seq,
                        r.runner_seq + 1
                    ),
                ));
            }
            r.runner_seq = e.seq;
            // The server wrote its own `run.scheduled`, and writes `run.finished` once the run is archived.
            if e.kind == "run.scheduled" || e.kind == "run.finished" {
                continue;
            }
            // Written when the run is filed, with the server's verdict (see `RemoteRun::gate`).
            if e.kind == "gate.evaluated" {
                r.gate = Some((e.time.clone(), e.data.clone()));
                continue;
            }
            started |= e.kind == "run.started";
            r.seq += 1;
            let ev = Event {
                seq: r.seq,
                run: run.to_string(),
                kind: e.kind.clone(),
                time: e.time.clone(),
                data: e.data.clone(),
            };
            see(&mut r.progress, &ev);
            out.push(ev);
        }
        let last = r.runner_seq;
        let (created, meta) = (r.created.clone(), r.meta.clone());
        drop(st);
        append_events(app, run, &out)?;
        if started {
            write_state(app, run, &created, &meta, RunState::Running, None)?;
        }
        Ok(last)
    }

    /// Store an uploaded file of a run (`objects/...`, `runs/<tag>/manifest.json`, `logs/<tag>/...`) until the
    /// run finishes.
    pub fn put_object(&self, app: &App, run: &str, id: &str, token: &str, path: &str, bytes: &[u8]) -> ApiResult<()> {
        let rel = check_upload_path(path)?;
        self.lock()
            .leases
            .check(run, id, token, Instant::now(), &now_wall())
            .map_err(lease_error)?;
        let dest = uploads_dir(app, run).join(rel);
        let dir = dest.parent().unwrap_or(&dest).to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| ApiError::internal(format!("{}: cannot create the directory: {e}", dir.display())))?;
        let tmp = dir.join(format!(
            ".upload.{}.tmp",
            dest.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        ));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &dest))
            .map_err(|e| ApiError::internal(format!("{}: cannot store the upload: {e}", dest.display())))
    }

    /// The runner's end of a run: file its uploads under the server's id, record it in the warroom, render
    /// its reports, write `run.finished`. Returns the run's final state.
    pub fn finish(&self, app: &App, run: &str, id: &str, token: &str, req: &FinishRun) -> ApiResult<RunState> {
        if let Some(tag) = &req.tag {
            check_run_id(tag).map_err(|_| ApiError::invalid("tag", format!("{tag:?} is not a run tag")))?;
        }
        let mut st = self.lock();
        st.leases
            .check(run, id, token, Instant::now(), &now_wall())
            .map_err(lease_error)?;
        st.leases.release(run);
        let Some(mut r) = st.runs.remove(run) else {
            return Err(ApiError::internal(format!(
                "run {run} was leased without its record (a bug)"
            )));
        };
        drop(st);
        let uploads = uploads_dir(app, run);
        let outcome = match (&req.error, &req.tag) {
            (Some(e), _) => Err(format!("the runner could not run it: {e}")),
            (None, None) => Err("the runner finished it without a tag or an error".to_string()),
            (None, Some(tag)) => file_run(app, run, &mut r, id, tag, &uploads),
        };
        let _ = std::fs::remove_dir_all(&uploads);
        match outcome {
            Ok(result) => {
                release_liveness(app, run, r.liveness);
                Ok(result.state)
            }
            Err(e) => {
                end_without_result(app, run, r, RunState::Errored, Some(&e), Some(id));
                Ok(RunState::Errored)
            }
        }
    }

    /// Expire leases and warn about runs nobody claims: called by the server every few hundred ms.
    pub fn tick(&self, app: &App) {
        let now = Instant::now();
        let mut st = self.lock();
        let expired: Vec<Expired> = st.leases.expire(now);
        let overdue = st.leases.overdue(now, self.deadline);
        let (live, registered) = (st.leases.live_runners(), st.leases.runners().count());
        let queued = st.leases.queued();
        let mut ended = Vec::new();
        for e in expired {
            if let Some(r) = st.runs.remove(&e.run) {
                ended.push((e, r));
            }
        }
        let mut warnings = Vec::new();
        for (run, waited) in overdue {
            if let Some(r) = st.runs.get_mut(&run) {
                let reason = format!(
                    "still scheduled after {:.0} s: no runner has claimed it ({live} live runner(s) of {registered} \
                     registered, {queued} run(s) queued; start `toron runner --server URL --token-file F`, or \
                     check `kubectl get pods -l app=runner`)",
                    waited.as_secs_f64()
                );
                let seq = next_seq(r);
                let data = json!({ "waited": waited.as_secs_f64(), "runners": live, "registered": registered,
                                   "queued": queued, "reason": reason });
                r.progress.warning = Some(reason);
                warnings.push((run, seq, data));
            }
        }
        drop(st);
        for (run, seq, data) in warnings {
            append_event(app, &run, seq, "run.waiting", data);
            eprintln!("toron-server: run {run} is still scheduled: no runner has claimed it");
        }
        for (e, r) in ended {
            eprintln!(
                "toron-server: runner {} stopped heartbeating: run {} is interrupted",
                e.runner, e.run
            );
            end_without_result(
                app,
                &e.run,
                r,
                RunState::Errored,
                Some(toron_core::runner::INTERRUPTED),
                Some(&e.runner),
            );
        }
    }
}

/// Of the runs `held`, those cancelled, each marked told; and whether one had not been told yet.
fn cancels(st: &mut Inner, held: &[String]) -> (Vec<String>, bool) {
    let mut news = false;
    let mut out = Vec::new();
    for run in held {
        if let Some(r) = st.runs.get_mut(run).filter(|r| r.cancel) {
            news |= !r.told;
            r.told = true;
            out.push(run.clone());
        }
    }
    (out, news)
}

fn next_seq(r: &mut RemoteRun) -> u64 {
    r.seq += 1;
    r.seq
}

fn see(p: &mut Progress, e: &Event) {
    p.see(e);
}

/// End a run that has no result (cancelled while queued, interrupted, or its results unusable): its manifest
/// says so, `run.finished` says so, its liveness lock goes.
fn end_without_result(
    app: &App,
    run: &str,
    mut r: RemoteRun,
    state: RunState,
    error: Option<&str>,
    runner: Option<&str>,
) {
    // Events first: whoever sees the run ended has all its events (the runner's verdict among them: the
    // server has no result to evaluate its own).
    if let Some((time, data)) = r.gate.take() {
        let seq = next_seq(&mut r);
        append_event_at(app, run, seq, "gate.evaluated", data, time);
    }
    if error == Some(toron_core::runner::INTERRUPTED) {
        let seq = next_seq(&mut r);
        append_event(app, run, seq, "runner.lost", json!({ "runner": runner }));
    }
    let seq = next_seq(&mut r);
    append_event(
        app,
        run,
        seq,
        "run.finished",
        json!({ "state": state.name(), "verdict": "none", "error": error, "duration": 0.0, "report": null,
                "runner": runner }),
    );
    if let Err(e) = write_state(app, run, &r.created, &r.meta, state, error) {
        eprintln!("toron-server: run {run}: {e}");
    }
    release_liveness(app, run, r.liveness.take());
    // What an interrupted runner had uploaded is of no use now.
    let _ = std::fs::remove_dir_all(uploads_dir(app, run));
}

/// Write the manifest of an unfinished (or resultless) run: what `toron runs` and the API read of it.
fn write_state(
    app: &App,
    run: &str,
    created: &str,
    meta: &Value,
    state: RunState,
    error: Option<&str>,
) -> ApiResult<()> {
    let mut meta = meta.clone();
    if let Value::Object(m) = &mut meta {
        m.insert("state".into(), json!(state.name()));
        m.insert("error".into(), json!(error));
        m.insert("pid".into(), json!(std::process::id()));
    }
    let m = RunManifest::new(run, toron_core::VERSION, created, meta);
    Archive::open(&app.dirs.archive).write_manifest(run, &m)?;
    Ok(())
}

fn append_event(app: &App, run: &str, seq: u64, kind: &str, data: Value) {
    append_event_at(app, run, seq, kind, data, now_wall());
}

fn append_event_at(app: &App, run: &str, seq: u64, kind: &str, data: Value, time: String) {
    let e = Event {
        seq,
        run: run.to_string(),
        kind: kind.to_string(),
        time,
        data,
    };
    if let Err(e) = append_events(app, run, std::slice::from_ref(&e)) {
        eprintln!("toron-server: {e}");
    }
}

/// Append a remote run's events to its events file (the one source of truth), then to its feed, which its
/// live streams read: the feed is made on the run's first append (from the file, so it starts at seq 1 even
/// after a restart of the server) and dropped once `run.finished` is in.
fn append_events(app: &App, run: &str, events: &[Event]) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let lines: String = events.iter().map(|e| format!("{}\n", e.to_json())).collect();
    let path = events_path(&app.dirs.archive, run);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(lines.as_bytes()))
        .map_err(|e| ApiError::internal(format!("{}: cannot append to the event log: {e}", path.display())))?;
    let now = Instant::now();
    let mut feeds = app.remote_feeds.lock().unwrap_or_else(|p| p.into_inner());
    let feed = match feeds.get(run) {
        Some(f) => f.clone(),
        None => {
            let f = Feed::manual();
            let held = toron_core::runner::read_events(&path).unwrap_or_default();
            f.push_ordered(held.iter().map(|e| FeedEvent::from_event(e, None)));
            feeds.insert(run.to_string(), f.clone());
            f
        }
    };
    feed.push_ordered(events.iter().map(|e| FeedEvent::from_event(e, Some(now))));
    if feed.finished() {
        feeds.remove(run);
    }
    Ok(())
}

fn liveness_path(archive: &Path, run: &str) -> PathBuf {
    archive.join("events").join(format!("{run}.lock"))
}

/// The run's liveness lock, as toron-core's runner takes it (`<archive>/events/<id>.lock`, flock): while the
/// server holds it, the run is alive; when the server dies, the operating system lets it go.
fn hold_liveness(archive: &Path, run: &str) -> ApiResult<std::fs::File> {
    let path = liveness_path(archive, run);
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)
            .map_err(|e| ApiError::internal(format!("{}: cannot create the directory: {e}", d.display())))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ApiError::internal(format!("{}: cannot open the run's liveness file: {e}", path.display())))?;
    file.try_lock()
        .map_err(|e| ApiError::internal(format!("{}: cannot lock the run's liveness file: {e}", path.display())))?;
    Ok(file)
}

fn release_liveness(app: &App, run: &str, file: Option<std::fs::File>) {
    // Remove first, then unlock: nobody sees an unlocked liveness file of a live run.
    let _ = std::fs::remove_file(liveness_path(&app.dirs.archive, run));
    drop(file);
}

fn uploads_dir(app: &App, run: &str) -> PathBuf {
    app.dirs.server.join("uploads").join(run)
}

/// An upload's path, checked: `objects/...`, `runs/...` or `logs/...`, each part letters, digits, `-`, `_`,
/// `.`, never `..`, never hidden, never absolute.
pub fn check_upload_path(path: &str) -> ApiResult<PathBuf> {
    let bad = |why: &str| ApiError::invalid("path", format!("{path:?}: {why}"));
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 || !["objects", "runs", "logs"].contains(&parts[0]) {
        return Err(bad("expected objects/..., runs/<tag>/manifest.json or logs/<tag>/..."));
    }
    if parts.len() > 12 || path.len() > 512 {
        return Err(bad("is too deep or too long"));
    }
    for p in &parts {
        if p.is_empty() || *p == "." || *p == ".." || p.starts_with('.') {
            return Err(bad(
                "has an empty, `.`, `..` or hidden part (expected a relative path inside the run)",
            ));
        }
        if !p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err(bad("has a character other than letters, digits, `-`, `_` and `.`"));
        }
    }
    if parts[0] == "runs" && (parts.len() != 3 || parts[2] != toron_core::snapshot::archive::MANIFEST_FILE) {
        return Err(bad("expected runs/<tag>/manifest.json"));
    }
    Ok(parts.iter().collect())
}

/// File a runner's run under the server's id `run`: its packs and loose objects into the archive, its logs
/// under `logs/<run>/`, its result with the server's id, paths and warroom incident, its manifest, its
/// reports. Returns the result.
fn file_run(
    app: &App,
    run: &str,
    r: &mut RemoteRun,
    runner: &str,
    tag: &str,
    uploads: &Path,
) -> Result<RunResult, String> {
    let created = r.created.clone();
    let created = created.as_str();
    let archive_root = &app.dirs.archive;
    let manifest_file = uploads
        .join("runs")
        .join(tag)
        .join(toron_core::snapshot::archive::MANIFEST_FILE);
    let text = std::fs::read(&manifest_file).map_err(|e| format!("runs/{tag}/manifest.json was not uploaded ({e})"))?;
    let mut manifest: RunManifest =
        serde_json::from_slice(&text).map_err(|e| format!("runs/{tag}/manifest.json is not a run manifest: {e}"))?;
    if manifest.tag != tag {
        return Err(format!("runs/{tag}/manifest.json names the run {:?}", manifest.tag));
    }
    // Objects: packs under names of the server's run, loose objects where they belong (content-addressed:
    // one already there is the same object).
    let pack_dir = archive_root.join("objects").join("pack");
    std::fs::create_dir_all(&pack_dir).map_err(|e| format!("{}: {e}", pack_dir.display()))?;
    let mut packs: Vec<PathBuf> = list(&uploads.join("objects").join("pack"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .collect();
    packs.sort();
    let mut n = 0u64;
    for p in packs {
        let dest = loop {
            let name = if n == 0 {
                format!("{run}.pack")
            } else {
                format!("{run}.{n}.pack")
            };
            n += 1;
            let d = pack_dir.join(name);
            if !d.exists() {
                break d;
            }
        };
        std::fs::rename(&p, &dest).map_err(|e| format!("{}: cannot file the pack: {e}", dest.display()))?;
    }
    for fan in list(&uploads.join("objects")) {
        let Some(name) = fan.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name == "pack" || !fan.is_dir() {
            continue;
        }
        for obj in list(&fan) {
            let dest = archive_root
                .join("objects")
                .join(name)
                .join(obj.file_name().unwrap_or_default());
            if dest.exists() {
                continue;
            }
            if let Some(d) = dest.parent() {
                std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            }
            std::fs::rename(&obj, &dest).map_err(|e| format!("{}: cannot file the object: {e}", dest.display()))?;
        }
    }
    let logs = uploads.join("logs").join(tag);
    if logs.is_dir() {
        let dest = archive_root.join("logs").join(run);
        if let Some(d) = dest.parent() {
            std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&logs, &dest).map_err(|e| format!("{}: cannot file the logs: {e}", dest.display()))?;
    }
    // The result, read back from the archive (so its objects verify), under the server's id and paths.
    let archive = Archive::open(archive_root);
    let result_id = manifest
        .meta
        .get("result")
        .and_then(Value::as_str)
        .ok_or("the run manifest names no result object (the run did not finish on the runner)")?;
    let id = ObjectId::parse(result_id).map_err(|e| e.to_string())?;
    let value = archive.get(&id).map_err(|e| format!("the run's result object: {e}"))?;
    let mut result: RunResult =
        serde_json::from_value(value).map_err(|e| format!("the run's result object is not a run result: {e}"))?;
    for c in manifest.cases.values() {
        if !archive.contains(&c.object) {
            return Err(format!("case output {} was not uploaded", c.object));
        }
    }
    result.id = run.to_string();
    result.started = created.to_string();
    result.archive = archive_root.clone();
    result.report_dir = Some(toron_core::report::run_dir(&app.dirs.reports, run));
    let served = app
        .manifests
        .iter()
        .find(|(_, m)| m.project.name == manifest_name(app, run));
    // The verdict again, over the server's archive: baseline rules (`last-go`, a run id) compare with the
    // server's runs, as the run's in-process verdict would. The runner's stands only without a manifest.
    let (gate_time, runner_verdict) = r.gate.take().unzip();
    if let Some((_, m)) = served {
        result.verdict = toron_core::runner::evaluate_gates(&archive, m, run, result.profile.as_deref(), &result.kpis);
        if matches!(result.state, RunState::Passed | RunState::Failed) {
            result.state = if result.verdict.go {
                RunState::Passed
            } else {
                RunState::Failed
            };
        }
    }
    if gate_time.is_some() || served.is_some() {
        let data = match served {
            Some(_) => serde_json::to_value(&result.verdict).unwrap_or(Value::Null),
            None => runner_verdict.unwrap_or(Value::Null),
        };
        let seq = next_seq(r);
        append_event_at(
            app,
            run,
            seq,
            "gate.evaluated",
            data,
            gate_time.unwrap_or_else(now_wall),
        );
    }
    let incident = served.and_then(|(_, m)| record_in_warroom(app, m, &result));
    result.incident = None;
    if let Some((i, kind, data)) = incident {
        // Before the manifest says the run has ended: whoever sees it ended finds the incident's event too.
        result.incident = Some(i);
        let seq = next_seq(r);
        append_event(app, run, seq, kind, data);
    }
    let value = serde_json::to_value(&result).map_err(|e| e.to_string())?;
    let rid = archive.put(&value).map_err(|e| e.to_string())?;
    let mut meta = serde_json::to_value(RunOverview::from(&result)).map_err(|e| e.to_string())?;
    if let Value::Object(m) = &mut meta {
        m.insert("result".into(), json!(rid.as_str()));
        if let Some(pii) = manifest.meta.get("pii") {
            m.insert("pii".into(), pii.clone());
        }
    }
    // The reports before the manifest that says the run has ended (as an in-process run does): whoever sees
    // it ended finds them.
    toron_core::report::write_reports(&result, &app.dirs.reports).map_err(|e| format!("the reports: {e}"))?;
    toron_core::report::determinism::write(&result, &app.dirs.reports).map_err(|e| format!("the reports: {e}"))?;
    manifest.tag = run.to_string();
    manifest.created = created.to_string();
    manifest.meta = meta;
    // The last event before the manifest says the run has ended: whoever sees it ended has all its events.
    let seq = next_seq(r);
    append_event(
        app,
        run,
        seq,
        "run.finished",
        json!({ "state": result.state.name(), "verdict": result.verdict.verdict, "error": result.error,
                "duration": result.duration, "report": result.report_dir, "runner": runner }),
    );
    archive.write_manifest(run, &manifest).map_err(|e| e.to_string())?;
    if let Err(e) = toron_core::runner::write_index(archive_root, &app.dirs.reports) {
        // The run itself is complete; `toron report --all` re-renders the index.
        eprintln!("toron-server: reports/index.html: {e}");
    }
    Ok(result)
}

/// The `[project] name` of the manifest a run was started from (the server's record of its request).
fn manifest_name(app: &App, run: &str) -> String {
    let record = app.record(run);
    record
        .request
        .get("manifest")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| app.manifests[0].0.clone())
}

/// What toron-core's run does at its end in the warroom, done by the server for a remote run (the runner's
/// own warroom is off): a NO-GO opens or joins an incident, a GO marks its profile's incidents green.
fn record_in_warroom(app: &App, m: &Manifest, result: &RunResult) -> Option<(RunIncident, &'static str, Value)> {
    use toron_core::warroom::{OpenOn, Warroom, WarroomPolicy, DB_FILE};
    if result.state == RunState::Cancelled || result.verdict.verdict == "none" {
        return None;
    }
    let dir = &app.dirs.warroom;
    let marks_green = result.verdict.go && dir.join(DB_FILE).is_file();
    if m.warroom.open_on.is_none() && !marks_green {
        return None;
    }
    let policy = WarroomPolicy {
        open_on: OpenOn::NoGo,
        auto_resolve: m.warroom.auto_resolve,
        dedup_key: m.warroom.dedup_key.clone(),
    };
    let recorded = Warroom::open(dir).and_then(|w| {
        let opened = w.record_run(result, &policy)?;
        let incidents = w.incidents(None)?;
        let postmortems = incidents
            .iter()
            .map(|i| (i.id.clone(), dir.join("postmortems").join(format!("{}.md", i.id))))
            .filter(|(_, p)| p.is_file())
            .map(|(id, p)| (id, p.display().to_string()))
            .collect();
        toron_core::report::write_incidents(&incidents, &postmortems, &app.dirs.reports)?;
        Ok(opened)
    });
    match recorded {
        Ok(Some(opened)) => {
            let i = &opened.incident;
            let kind = if opened.created {
                "incident.opened"
            } else {
                "incident.joined"
            };
            Some((
                RunIncident {
                    id: i.id.clone(),
                    created: opened.created,
                    severity: i.severity.name().to_string(),
                },
                kind,
                json!({ "incident": i.id, "severity": i.severity.name(), "title": i.title }),
            ))
        }
        Ok(None) => None,
        Err(e) => {
            eprintln!("toron-server: run {}: the warroom: {e}", result.id);
            None
        }
    }
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_paths_stay_inside_the_run() {
        assert_eq!(
            check_upload_path("objects/pack/run-2.5.0-20261203T000000Z.pack").unwrap(),
            PathBuf::from("objects/pack/run-2.5.0-20261203T000000Z.pack")
        );
        assert!(check_upload_path("runs/run-2.5.0-20261203T000000Z/manifest.json").is_ok());
        assert!(check_upload_path("logs/run-1/quick/hello.stdout").is_ok());
        for bad in [
            "../etc/passwd",
            "objects/../../x",
            "objects//x",
            "/objects/x",
            "objects/.hidden",
            "reports/x",
            "objects",
            "runs/run-1/head.json",
            "logs/a b",
        ] {
            let e = check_upload_path(bad).unwrap_err();
            assert_eq!((e.status, e.field.as_deref()), (422, Some("path")), "{bad}");
            assert!(e.message.starts_with(&format!("{bad:?}")), "{}", e.message);
        }
    }
}
