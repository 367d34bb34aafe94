//! Built-in node models, used by the shipped scenarios, the example suites and the benchmarks:
//!
//! - [`echo`]: answers each request, after an optional service time;
//! - [`queue`]: `servers` servers with a FIFO queue (with Poisson arrivals and exponential service, an
//!   M/M/c queue whose means match queueing theory);
//! - [`kv`]: a primary-backup key-value store with failover, and a buggy variant that loses acknowledged
//!   writes.

pub mod echo;
pub mod kv;
pub mod queue;

use crate::scenario::{typed, FieldPath, Scenario};
use crate::sim::{Node, NodeFactory};
use serde_json::Value;
use std::sync::Arc;

/// A node's model with its checked parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    /// `model = "echo"`.
    Echo(echo::EchoParams),
    /// `model = "queue"`.
    Queue(queue::QueueParams),
    /// `model = "kv"`.
    Kv(kv::KvParams),
}

/// The model names, for error messages.
pub const MODELS: &[&str] = &["echo", "queue", "kv"];

impl ModelSpec {
    /// Node ids the parameters refer to, as (field, id), so the scenario can check they exist.
    pub fn references(&self) -> Vec<(&'static str, &str)> {
        match self {
            ModelSpec::Kv(p) => vec![("peer", p.peer.as_str())],
            _ => Vec::new(),
        }
    }
}

/// Check `params` for `model`; errors carry the field path under `node[i]`.
pub(crate) fn parse_params(model: &str, params: &Value, node: &FieldPath) -> Result<ModelSpec, (FieldPath, String)> {
    let base = node.key("params");
    match model {
        "echo" => typed(params, &base).map(ModelSpec::Echo),
        "queue" => {
            let p: queue::QueueParams = typed(params, &base)?;
            if p.servers == 0 {
                return Err((base.key("servers"), "servers is 0 (expected a positive integer)".into()));
            }
            p.service.validate().map_err(|m| (base.key("service"), m))?;
            Ok(ModelSpec::Queue(p))
        }
        "kv" => {
            let p: kv::KvParams = typed(params, &base)?;
            if p.failover_timeout.0 == 0 || p.heartbeat.0 == 0 {
                return Err((
                    base.key("heartbeat"),
                    "heartbeat and failover_timeout must be positive".into(),
                ));
            }
            Ok(ModelSpec::Kv(p))
        }
        other => Err((
            node.key("model"),
            format!("unknown model {other:?} (expected one of: {})", MODELS.join(", ")),
        )),
    }
}

/// One factory per node of the scenario, in node order.
pub(crate) fn factories(scenario: &Scenario) -> Vec<Box<dyn NodeFactory>> {
    scenario
        .models()
        .iter()
        .map(|m| -> Box<dyn NodeFactory> {
            match m {
                ModelSpec::Echo(p) => {
                    let p = p.clone();
                    Box::new(move || Box::new(echo::Echo::new(p.clone())) as Box<dyn Node>)
                }
                ModelSpec::Queue(p) => {
                    let p = p.clone();
                    Box::new(move || Box::new(queue::Queue::new(p.clone())) as Box<dyn Node>)
                }
                ModelSpec::Kv(p) => {
                    let cfg = Arc::new(kv::KvConfig::new(p, scenario));
                    Box::new(move || Box::new(kv::Kv::new(cfg.clone())) as Box<dyn Node>)
                }
            }
        })
        .collect()
}
