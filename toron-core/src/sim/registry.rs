//! Node models written outside toron-core: a scenario names them `prefix:target` (`python:pkg.mod:Cart`,
//! `c:echo_node`), and the surface that can build them (the Python module, the C library) registers a
//! [`Resolver`] for its prefix. The scenario checks such a node through its resolver when it is loaded, and
//! the kernel asks the resolver for the node's factory when a simulation starts. A node can also be bound to
//! a factory directly ([`crate::scenario::Scenario::set_node`]), which wins over its model.

use super::node::NodeFactory;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// The prefixes a scenario may use, registered or not: a scenario with `python:` nodes loads in a process
/// without Python (to validate, canonicalise or diff it) and fails only when it is simulated there.
pub const PREFIXES: &[&str] = &["python", "c"];

/// A node of an outside model, as the scenario declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalModel {
    /// The node's id.
    pub node: String,
    /// The prefix (`python`, `c`).
    pub prefix: String,
    /// What follows the prefix: `pkg.module:Class`, a C symbol.
    pub target: String,
    /// The node's `params`, unchecked (the model checks them).
    pub params: Value,
    /// The node's `library` (a shared library for `c:` models), as written.
    pub library: Option<String>,
    /// The scenario's directory ([`crate::scenario::Scenario::base_dir`]), which a relative `library` is
    /// resolved against; `None` when the scenario has none (read from text or a value).
    pub base_dir: Option<PathBuf>,
}

impl ExternalModel {
    /// The model as the scenario writes it (`python:pkg.mod:Cart`).
    pub fn model(&self) -> String {
        format!("{}:{}", self.prefix, self.target)
    }
}

/// Builds the nodes of one prefix.
pub trait Resolver: Send + Sync {
    /// Check the node when its scenario is loaded (the module imports, the symbol exists); the message says
    /// what is wrong and what was expected, and is reported at the node's `model` field.
    fn check(&self, _model: &ExternalModel) -> Result<(), String> {
        Ok(())
    }
    /// Check the node's `library` when its scenario is loaded (it opens); called before [`Resolver::check`],
    /// its message is reported at the node's `library` field.
    fn check_library(&self, _model: &ExternalModel) -> Result<(), String> {
        Ok(())
    }
    /// The node's factory, when a simulation starts.
    fn factory(&self, model: &ExternalModel) -> crate::Result<Arc<dyn NodeFactory>>;
}

type Registry = BTreeMap<String, Arc<dyn Resolver>>;
static RESOLVERS: RwLock<Registry> = RwLock::new(BTreeMap::new());

/// Register (or replace) the resolver of `prefix`; the prefix must be one of [`PREFIXES`].
pub fn register(prefix: &str, resolver: Arc<dyn Resolver>) {
    debug_assert!(PREFIXES.contains(&prefix), "unknown prefix {prefix:?}");
    let mut map = RESOLVERS.write().unwrap_or_else(|e| e.into_inner());
    map.insert(prefix.to_string(), resolver);
}

/// The resolver registered for `prefix`, if any.
pub fn resolver(prefix: &str) -> Option<Arc<dyn Resolver>> {
    let map = RESOLVERS.read().unwrap_or_else(|e| e.into_inner());
    map.get(prefix).cloned()
}
