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

use crate::scenario::{typed, FieldPath, NodeSpec, Scenario};
use crate::sim::registry::{self, ExternalModel};
use crate::sim::{Node, NodeFactory};
use crate::{Error, ErrorKind};
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
    /// `model = "python:..."` or `"c:..."`: built by the resolver of its prefix ([`registry`]).
    External(ExternalModel),
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

/// Check a node's `model` and `params`; errors carry the field path under `node[i]`.
/// `base_dir` is the scenario's directory, if known ([`Scenario::base_dir`]): outside models are checked
/// against it (a relative `library`, a `python:` module beside the file).
pub(crate) fn parse_params(
    spec: &NodeSpec,
    node: &FieldPath,
    base_dir: Option<&std::path::Path>,
) -> Result<ModelSpec, (FieldPath, String)> {
    let (model, params) = (spec.model.as_str(), &spec.params);
    let base = node.key("params");
    if let Some((prefix, target)) = model.split_once(':') {
        if !registry::PREFIXES.contains(&prefix) {
            return Err((
                node.key("model"),
                format!(
                    "unknown model prefix {prefix:?} in {model:?} (expected one of: {}, or a built-in model: {})",
                    registry::PREFIXES
                        .iter()
                        .map(|p| format!("{p}:..."))
                        .collect::<Vec<_>>()
                        .join(", "),
                    MODELS.join(", ")
                ),
            ));
        }
        let m = ExternalModel {
            node: spec.id.clone(),
            prefix: prefix.to_string(),
            target: target.to_string(),
            params: params.clone(),
            library: spec.library.clone(),
            base_dir: base_dir.map(std::path::Path::to_path_buf),
        };
        if let Some(r) = registry::resolver(prefix) {
            r.check_library(&m).map_err(|msg| (node.key("library"), msg))?;
            r.check(&m).map_err(|msg| (node.key("model"), msg))?;
        }
        return Ok(ModelSpec::External(m));
    }
    if spec.library.is_some() {
        return Err((
            node.key("library"),
            format!("library is only for models of a shared library (`c:<symbol>`), not {model:?}"),
        ));
    }
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
            format!(
                "unknown model {other:?} (expected one of: {}, or python:pkg.module:Class, c:<symbol>)",
                MODELS.join(", ")
            ),
        )),
    }
}

/// One factory per node of the scenario, in node order: the node's binding
/// ([`Scenario::set_node`]) if it has one, else its model's.
pub(crate) fn factories(scenario: &Scenario) -> crate::Result<Vec<Arc<dyn NodeFactory>>> {
    scenario
        .models()
        .iter()
        .zip(&scenario.spec().nodes)
        .map(|(m, node)| -> crate::Result<Arc<dyn NodeFactory>> {
            if let Some(f) = scenario.binding(&node.id) {
                return Ok(f);
            }
            Ok(match m {
                ModelSpec::Echo(p) => {
                    let p = p.clone();
                    Arc::new(move || Box::new(echo::Echo::new(p.clone())) as Box<dyn Node>)
                }
                ModelSpec::Queue(p) => {
                    let p = p.clone();
                    Arc::new(move || Box::new(queue::Queue::new(p.clone())) as Box<dyn Node>)
                }
                ModelSpec::Kv(p) => {
                    let cfg = Arc::new(kv::KvConfig::new(p, scenario));
                    Arc::new(move || Box::new(kv::Kv::new(cfg.clone())) as Box<dyn Node>)
                }
                ModelSpec::External(m) => {
                    let Some(r) = registry::resolver(&m.prefix) else {
                        return Err(Error::new(
                            ErrorKind::Node,
                            format!(
                                "node {:?}: model {:?} cannot be built in this process: nothing is registered for `{}:` \
                                 models (Python nodes need the toron Python module, C nodes the C library)",
                                m.node,
                                m.model(),
                                m.prefix
                            ),
                        ));
                    };
                    let mut m = m.clone();
                    m.base_dir = scenario.base_dir().map(std::path::Path::to_path_buf);
                    r.factory(&m)?
                }
            })
        })
        .collect()
}
