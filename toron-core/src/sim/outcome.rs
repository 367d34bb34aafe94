//! What a simulation returns: seed, engine version, trace digest, counters, latency summary, violations,
//! coverage marks and the models' output document.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counters of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Events processed (deliveries, timers, arrivals, client wake-ups, faults).
    pub events: u64,
    /// Messages handed to the network (duplicates not counted).
    pub messages_sent: u64,
    /// Messages delivered to a running node or client.
    pub messages_delivered: u64,
    /// Messages lost: by loss, a partition, or a crashed receiver.
    pub messages_dropped: u64,
    /// Extra copies made by duplication.
    pub messages_duplicated: u64,
    /// Virtual time at the end, in nanoseconds.
    pub virtual_time_ns: u64,
    /// Load requests sent.
    pub requests_sent: u64,
    /// Load requests answered successfully within the timeout.
    pub requests_ok: u64,
    /// Load requests answered with an error (including redirects).
    pub requests_error: u64,
    /// Load requests not answered within the timeout.
    pub requests_timeout: u64,
    /// Successful requests per second of virtual time.
    pub throughput: f64,
    /// Why the run stopped: `requests`, `time`, `events` or `idle` (nothing left to do).
    pub stopped_by: String,
}

/// Latency of answered requests, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Number of latencies recorded.
    pub count: u64,
    /// Smallest (exact).
    pub min: f64,
    /// Mean (exact).
    pub mean: f64,
    /// Median (HDR histogram, 3 significant digits, clamped to [min, max]).
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest (exact).
    pub max: f64,
}

/// An invariant that did not hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Virtual time, in seconds.
    pub time: f64,
    /// Virtual time, in nanoseconds.
    pub time_ns: u64,
    /// The node that reported it (or `client` for the load's checker).
    pub node: String,
    /// The invariant's name.
    pub invariant: String,
    /// What happened.
    pub message: String,
}

/// The result of one simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The scenario's name.
    pub scenario: String,
    /// The seed used (from the call, the scenario, `SIM_SEED`, or 0).
    pub seed: u64,
    /// The engine version that produced it.
    pub engine: String,
    /// The trace digest: blake3 of the trace, 64 hex chars.
    pub digest: String,
    /// Counters.
    pub stats: Stats,
    /// Latency summary of the load's requests.
    pub latency: LatencySummary,
    /// Invariant violations, in time order.
    pub violations: Vec<Violation>,
    /// Marks reached (`ctx.mark`, and `fault.<kind>` per injected fault), with their counts.
    pub coverage: BTreeMap<String, u64>,
    /// The output document: per node id, what the model reports.
    pub output: serde_json::Value,
    /// The load's client operations, when recorded (`[invariants] linearizable`, or asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::check::History>,
    /// The linearizability verdict of `history`, when the scenario asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linearizable: Option<crate::check::Verdict>,
}

impl Outcome {
    /// The outcome as a JSON value (keys sorted).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The outcome as JSON text (keys sorted).
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// A one-line summary for people.
    pub fn summary(&self) -> String {
        format!(
            "{} seed={} digest={} events={} requests ok={} err={} timeout={} p50={:.6}s p99={:.6}s violations={}",
            self.scenario,
            self.seed,
            &self.digest[..16.min(self.digest.len())],
            self.stats.events,
            self.stats.requests_ok,
            self.stats.requests_error,
            self.stats.requests_timeout,
            self.latency.p50,
            self.latency.p99,
            self.violations.len()
        )
    }
}
