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

use crate::scenario::{typed, FieldPath, LoadSpec, Scenario};
use crate::sim::registry::Model;
use crate::sim::{Node, NodeFactory};
use serde_json::Value;
use std::sync::Arc;

/// Register the built-in models with the kernel's table ([`crate::sim::registry`]), in the order messages
/// list them.
pub(crate) fn register(add: &mut dyn FnMut(&'static str, crate::sim::registry::CheckParams)) {
    add("echo", check_echo);
    add("queue", check_queue);
    add("kv", check_kv);
}

type Checked = Result<Arc<dyn Model>, (FieldPath, String)>;

fn check_echo(params: &Value, base: &FieldPath) -> Checked {
    let p: echo::EchoParams = typed(params, base)?;
    Ok(Arc::new(p))
}

fn check_queue(params: &Value, base: &FieldPath) -> Checked {
    let p: queue::QueueParams = typed(params, base)?;
    if p.servers == 0 {
        return Err((base.key("servers"), "servers is 0 (expected a positive integer)".into()));
    }
    p.service.validate().map_err(|m| (base.key("service"), m))?;
    Ok(Arc::new(p))
}

fn check_kv(params: &Value, base: &FieldPath) -> Checked {
    let p: kv::KvParams = typed(params, base)?;
    if p.failover_timeout.0 == 0 || p.heartbeat.0 == 0 {
        return Err((
            base.key("heartbeat"),
            "heartbeat and failover_timeout must be positive".into(),
        ));
    }
    Ok(Arc::new(p))
}

impl Model for echo::EchoParams {
    fn factory(&self, _scenario: &Scenario) -> crate::Result<Arc<dyn NodeFactory>> {
        let p = self.clone();
        Ok(Arc::new(move || Box::new(echo::Echo::new(p.clone())) as Box<dyn Node>))
    }
}

impl Model for queue::QueueParams {
    fn factory(&self, _scenario: &Scenario) -> crate::Result<Arc<dyn NodeFactory>> {
        let p = self.clone();
        Ok(Arc::new(move || {
            Box::new(queue::Queue::new(p.clone())) as Box<dyn Node>
        }))
    }
}

impl Model for kv::KvParams {
    fn references(&self) -> Vec<(&'static str, &str)> {
        vec![("peer", self.peer.as_str())]
    }

    fn speaks_kv(&self, _load: &LoadSpec) -> bool {
        true
    }

    fn factory(&self, scenario: &Scenario) -> crate::Result<Arc<dyn NodeFactory>> {
        let cfg = Arc::new(kv::KvConfig::new(self, scenario));
        Ok(Arc::new(move || Box::new(kv::Kv::new(cfg.clone())) as Box<dyn Node>))
    }
}
