//! Node models written outside toron-core: a scenario names them `prefix:target` (`python:pkg.mod:Cart`,
//! `c:echo_node`), and the surface that can build them (the Python module, the C library) registers a
//! [`Resolver`] for its prefix. The scenario checks such a node through its resolver when it is loaded, and
//! the kernel asks the resolver for the node's factory when a simulation starts. A node can also be bound to
//! a factory directly ([`crate::scenario::Scenario::set_node`]), which wins over its model.

use super::node::NodeFactory;
use crate::scenario::{FieldPath, LoadSpec, NodeSpec, Scenario};
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

/// A node's model with its parameters checked, built-in or outside: what the scenario and the kernel ask of
/// it. The scenario validates each node through the registry (`check`) and keeps these; it knows no model by name, so
/// models depend on the scenario's vocabulary and never the other way.
pub trait Model: Send + Sync + std::fmt::Debug {
    /// Node ids the parameters refer to, as (field under `params`, id), so the scenario can check they exist.
    fn references(&self) -> Vec<(&'static str, &str)> {
        Vec::new()
    }
    /// Whether the load talks to nodes of this model as to a key-value store (gets and puts of keys, reads
    /// checked against acknowledged writes): the built-in `kv`, and outside models when the load gives
    /// `reads` (their protocol is theirs to choose; `reads` is how a scenario says it is the key-value one).
    fn speaks_kv(&self, load: &LoadSpec) -> bool {
        let _ = load;
        false
    }
    /// The outside model (`python:`, `c:`), for those.
    fn external(&self) -> Option<&ExternalModel> {
        None
    }
    /// The factory of the node, when a simulation of `scenario` starts.
    fn factory(&self, scenario: &Scenario) -> crate::Result<Arc<dyn NodeFactory>>;
}

/// A built-in model's check of its `params` (the field path of `params`, for errors).
pub(crate) type CheckParams = fn(&Value, &FieldPath) -> Result<Arc<dyn Model>, (FieldPath, String)>;

/// The built-in models, in the order messages list them; filled once, by [`crate::models::register`], the first
/// time a model is looked up (the kernel's table, which the models register with).
static BUILTINS: std::sync::OnceLock<Vec<(&'static str, CheckParams)>> = std::sync::OnceLock::new();

fn builtins() -> &'static [(&'static str, CheckParams)] {
    BUILTINS.get_or_init(|| {
        let mut table = Vec::new();
        crate::models::register(&mut |name, check| table.push((name, check)));
        table
    })
}

/// The built-in model names, for messages.
pub fn builtin_names() -> Vec<&'static str> {
    builtins().iter().map(|(n, _)| *n).collect()
}

/// Check a node's `model` and `params` against the registry; errors carry the field path under `node`.
/// `base_dir` is the scenario's directory, if known: outside models are checked against it (a relative
/// `library`, a `python:` module beside the file).
pub(crate) fn check(
    spec: &NodeSpec,
    node: &FieldPath,
    base_dir: Option<&std::path::Path>,
) -> Result<Arc<dyn Model>, (FieldPath, String)> {
    let (model, params) = (spec.model.as_str(), &spec.params);
    let names = || builtin_names().join(", ");
    if let Some((prefix, target)) = model.split_once(':') {
        if !PREFIXES.contains(&prefix) {
            return Err((
                node.key("model"),
                format!(
                    "unknown model prefix {prefix:?} in {model:?} (expected one of: {}, or a built-in model: {})",
                    PREFIXES
                        .iter()
                        .map(|p| format!("{p}:..."))
                        .collect::<Vec<_>>()
                        .join(", "),
                    names()
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
        if let Some(r) = resolver(prefix) {
            r.check_library(&m).map_err(|msg| (node.key("library"), msg))?;
            r.check(&m).map_err(|msg| (node.key("model"), msg))?;
        }
        return Ok(Arc::new(m));
    }
    if spec.library.is_some() {
        return Err((
            node.key("library"),
            format!("library is only for models of a shared library (`c:<symbol>`), not {model:?}"),
        ));
    }
    match builtins().iter().find(|(n, _)| *n == model) {
        Some((_, check)) => check(params, &node.key("params")),
        None => Err((
            node.key("model"),
            format!(
                "unknown model {model:?} (expected one of: {}, or python:pkg.module:Class, c:<symbol>)",
                names()
            ),
        )),
    }
}

impl Model for ExternalModel {
    /// Their protocol is theirs to choose; a scenario says it is the key-value one by giving the load `reads`.
    fn speaks_kv(&self, load: &LoadSpec) -> bool {
        load.reads.is_some()
    }

    fn external(&self) -> Option<&ExternalModel> {
        Some(self)
    }

    fn factory(&self, scenario: &Scenario) -> crate::Result<Arc<dyn NodeFactory>> {
        let Some(r) = resolver(&self.prefix) else {
            return Err(crate::Error::new(
                crate::ErrorKind::Node,
                format!(
                    "node {:?}: model {:?} cannot be built in this process: nothing is registered for `{}:` \
                     models (Python nodes need the toron Python module, C nodes the C library)",
                    self.node,
                    self.model(),
                    self.prefix
                ),
            ));
        };
        let mut m = self.clone();
        m.base_dir = scenario.base_dir().map(std::path::Path::to_path_buf);
        r.factory(&m)
    }
}

/// One factory per node of the scenario, in node order: the node's binding
/// ([`Scenario::set_node`]) if it has one, else its model's.
pub(crate) fn factories(scenario: &Scenario) -> crate::Result<Vec<Arc<dyn NodeFactory>>> {
    scenario
        .models()
        .iter()
        .zip(&scenario.spec().nodes)
        .map(|(m, node)| match scenario.binding(&node.id) {
            Some(f) => Ok(f),
            None => m.factory(scenario),
        })
        .collect()
}
