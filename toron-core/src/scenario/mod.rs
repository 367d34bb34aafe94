//! The scenario: nodes, network, load and fault plan, read from TOML or JSON (the same structure) or built
//! in code, and validated with errors that name the file, line and field and say what was expected.
//!
//! ```
//! use toron_core::scenario::{Format, Scenario};
//! let err = Scenario::from_str("name = \"x\"\nstop = { time = \"1s\" }\n[[node]]\nid = \"a\"\nmodel = \"echoo\"\n", Format::Toml)
//!     .unwrap_err();
//! assert_eq!(err.line(), Some(5));
//! assert_eq!(err.field(), Some("node[0].model"));
//! ```

pub(crate) mod locate;
pub mod units;

use crate::sim::registry::{self, Model};
use crate::sim::NodeFactory;
use crate::{Error, ErrorKind, Result};
use locate::Locations;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
pub use units::{Dist, Duration, Positive, Probability, Rate, SignedDuration};

/// The text format of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML (`.toml`).
    Toml,
    /// JSON (`.json`).
    Json,
}

impl Format {
    /// `"toml"` or `"json"` (case-insensitive).
    pub fn parse(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "toml" => Ok(Format::Toml),
            "json" => Ok(Format::Json),
            other => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown scenario format {other:?} (expected \"toml\" or \"json\")"),
            )),
        }
    }
}

/// When a simulation stops: the first of these limits reached (at least one is required).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    /// Stop once this many load requests have completed (answered, failed or timed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Stop at this virtual time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Duration>,
    /// Stop after this many processed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// One node: an id, a model and the model's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique id, used by links, load targets and faults.
    pub id: String,
    /// The model: `echo`, `queue` or `kv`.
    pub model: String,
    /// The model's parameters (checked by the model).
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub params: Value,
    /// The shared library a `c:<symbol>` model is found in: a relative path with a `/` is relative to the
    /// scenario's directory ([`Scenario::base_dir`]), a bare name is looked up as `dlopen` does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}
fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.is_empty())
}

/// Per-link overrides: messages from `from` to `to` (a node id, `"client"` for the load clients, or `"*"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Sender (node id, `client` or `*`).
    pub from: String,
    /// Receiver (node id, `client` or `*`).
    pub to: String,
    /// Latency on this link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<Dist>,
    /// Loss probability on this link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Probability>,
    /// Duplication probability on this link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Probability>,
}

/// The simulated network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Default latency of every link.
    #[serde(default = "zero_latency")]
    pub latency: Dist,
    /// Probability that a message is lost.
    #[serde(default)]
    pub loss: Probability,
    /// Probability that a message is delivered twice (the copy with its own latency).
    #[serde(default)]
    pub duplicate: Probability,
    /// Probability that a message is held back by an extra uniform delay in `[0, reorder_window]`.
    #[serde(default)]
    pub reorder: Probability,
    /// The largest extra delay of a reordered message.
    #[serde(default = "default_reorder_window")]
    pub reorder_window: Duration,
    /// Per-link overrides, the last matching one wins.
    #[serde(default, rename = "link", skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkSpec>,
}

fn zero_latency() -> Dist {
    Dist::constant(Duration(0))
}
fn default_reorder_window() -> Duration {
    Duration(10_000_000)
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: zero_latency(),
            loss: Probability(0.0),
            duplicate: Probability(0.0),
            reorder: Probability(0.0),
            reorder_window: default_reorder_window(),
            links: Vec::new(),
        }
    }
}

/// Open or closed loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoadMode {
    /// Requests arrive at a rate whatever the replies do.
    Open,
    /// `clients` clients each wait for a reply (or a timeout), think, then send the next request.
    Closed,
}

/// Arrival process of an open loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Exponential inter-arrival times (a Poisson process).
    #[default]
    Poisson,
    /// Evenly spaced arrivals.
    Constant,
}

/// One or several target node ids (`"server"` or `["primary", "backup"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Targets {
    /// One node.
    One(String),
    /// Several nodes; clients start with the first and move to the next after a timeout or a redirect.
    Many(Vec<String>),
}

impl Targets {
    /// The ids, in order.
    pub fn ids(&self) -> Vec<&str> {
        match self {
            Targets::One(s) => vec![s.as_str()],
            Targets::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// `open` or `closed`.
    pub mode: LoadMode,
    /// The node (or nodes) requests go to.
    pub target: Targets,
    /// Open loop: `poisson` or `constant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<Arrivals>,
    /// Open loop: requests per second, e.g. `"0.9/s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// Closed loop: the number of clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<u32>,
    /// Closed loop: think time between a reply and the next request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<Dist>,
    /// A request not answered within this time counts as timed out (default 1s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// Key-value targets: the fraction of requests that are reads (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reads: Option<Probability>,
}

/// The kinds of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The node stops; its state is lost; messages to it are dropped.
    Crash,
    /// The node starts again from a fresh state (a running node is crashed first).
    Restart,
    /// The network splits into `groups`; messages between groups are dropped.
    Partition,
    /// Every partition heals.
    Heal,
    /// Extra loss probability `loss` for `duration`.
    LossBurst,
    /// The node's clock reads `skew` off virtual time.
    ClockSkew,
    /// The node's timers (its service times) take `factor` times longer.
    Slow,
}

impl FaultKind {
    /// The name a scenario writes it by (`crash`, `loss_burst`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Restart => "restart",
            FaultKind::Partition => "partition",
            FaultKind::Heal => "heal",
            FaultKind::LossBurst => "loss_burst",
            FaultKind::ClockSkew => "clock_skew",
            FaultKind::Slow => "slow",
        }
    }
}

/// One injected fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// When it is injected (virtual time).
    pub at: Duration,
    /// What it does.
    pub kind: FaultKind,
    /// The node (crash, restart, clock_skew, slow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// How long it lasts (partition, loss_burst, clock_skew, slow); none = until the end or a `heal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<Duration>,
    /// Partition groups of node ids (`client` names the load clients); unlisted nodes form one more group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<Vec<String>>>,
    /// Loss burst: the loss probability during the burst.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Probability>,
    /// Clock skew: the offset of the node's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skew: Option<SignedDuration>,
    /// Slow: the slowdown factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<Positive>,
}

/// Checks made on the whole run, beside the models' own invariants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvariantsSpec {
    /// Record the load's client operations as a history and check it for linearizability against this model
    /// (`kv` for kv targets: each key a register); a violation `linearizable` carries the counterexample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linearizable: Option<String>,
}

impl InvariantsSpec {
    fn is_empty(&self) -> bool {
        self.linearizable.is_none()
    }
}

/// What a set of seeds is expected to show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Marks (set by `ctx.mark`, and `fault.<kind>` for each injected fault) that at least one seed of a
    /// sweep must reach: a mark no seed reached means the sweep never tested that situation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sometimes: Vec<String>,
}

impl ExpectSpec {
    fn is_empty(&self) -> bool {
        self.sometimes.is_empty()
    }
}

/// The scenario as written (what `to_dict` returns and `from_dict` takes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// A name for reports.
    pub name: String,
    /// The seed, used when the caller gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// When to stop.
    pub stop: Stop,
    /// The nodes.
    #[serde(rename = "node")]
    pub nodes: Vec<NodeSpec>,
    /// The network.
    #[serde(default)]
    pub network: NetworkSpec,
    /// The workload, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSpec>,
    /// The fault plan.
    #[serde(default, rename = "fault", skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSpec>,
    /// Checks on the whole run (`[invariants]`).
    #[serde(default, skip_serializing_if = "InvariantsSpec::is_empty")]
    pub invariants: InvariantsSpec,
    /// Expectations over seeds (`[expect]`).
    #[serde(default, skip_serializing_if = "ExpectSpec::is_empty")]
    pub expect: ExpectSpec,
}

/// The name load clients go by in links and partition groups.
pub const CLIENT: &str = "client";

/// A validated scenario, ready to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    spec: ScenarioSpec,
    models: Vec<Arc<dyn Model>>,
    file: Option<PathBuf>,
    /// [`Scenario::base_dir`].
    base_dir: Option<PathBuf>,
    /// [`Scenario::id`], computed once: runs ask for it per case, and cases share a scenario.
    id: String,
    /// Nodes bound to a factory in code ([`Scenario::set_node`]), by node id.
    bindings: Bindings,
}

/// Factories bound to nodes in code: not part of the scenario's text or identity (they are objects of the
/// process), so a scenario sent elsewhere (a sweep on a cluster) must name its models instead.
#[derive(Clone, Default)]
struct Bindings(BTreeMap<String, Arc<dyn NodeFactory>>);

impl std::fmt::Debug for Bindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Where a document's errors point: its file and the pointer → line table (made from JSON text on first
/// use). Shared by the files parsed the scenario's way (scenarios, data set schemas), each with its error kind.
pub(crate) struct Source<'a> {
    pub(crate) kind: ErrorKind,
    pub(crate) file: Option<&'a Path>,
    pub(crate) text: Option<(&'a str, Format)>,
    pub(crate) locations: Option<Locations>,
}

impl Source<'_> {
    pub(crate) fn locate(&mut self, pointer: &str) -> Option<(usize, usize)> {
        if self.locations.is_none() {
            if let Some((text, Format::Json)) = self.text {
                self.locations = Some(locate::json_locations(text));
            }
        }
        self.locations.as_ref()?.find(pointer)
    }

    pub(crate) fn error(&mut self, path: &FieldPath, message: impl Into<String>) -> Error {
        let pointer = path.pointer();
        let mut err = Error::new(self.kind, message).with_path(pointer.clone());
        if !path.0.is_empty() {
            err = err.with_field(path.dotted());
        }
        if let Some(file) = self.file {
            err = err.with_file(file);
        }
        if let Some((l, c)) = self.locate(&pointer) {
            err = err.with_line(l, Some(c));
        }
        err
    }
}

/// A field path: `fault[0].node` for people, `/fault/0/node` as a pointer.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldPath(Vec<Seg>);

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub(crate) fn key(&self, k: &str) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub(crate) fn index(&self, i: usize) -> FieldPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    pub(crate) fn pointer(&self) -> String {
        self.0
            .iter()
            .map(|s| match s {
                Seg::Key(k) => format!("/{}", locate::escape(k)),
                Seg::Index(i) => format!("/{i}"),
            })
            .collect()
    }
    pub(crate) fn dotted(&self) -> String {
        let mut out = String::new();
        for s in &self.0 {
            match s {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
    fn from_serde(path: &serde_path_to_error::Path) -> FieldPath {
        use serde_path_to_error::Segment;
        FieldPath(
            path.iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                    Segment::Unknown => None,
                })
                .collect(),
        )
    }
}

/// Deserialize `value` into `T`, mapping a serde error to a located scenario error under `base`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    value: &Value,
    base: &FieldPath,
) -> std::result::Result<T, (FieldPath, String)> {
    serde_path_to_error::deserialize(value).map_err(|e: serde_path_to_error::Error<serde_json::Error>| {
        let mut path = base.clone();
        path.0.extend(FieldPath::from_serde(e.path()).0);
        let mut msg = e.inner().to_string();
        // serde_json appends " at line 0 column 0" for value-based errors: it means nothing here.
        if let Some(i) = msg.find(" at line ") {
            msg.truncate(i);
        }
        // An unknown key is located at itself (in an inline table too), not at the table that holds it.
        if let Some(key) = msg
            .strip_prefix("unknown field `")
            .and_then(|r| r.split_once('`'))
            .map(|(k, _)| k)
        {
            if !matches!(path.0.last(), Some(Seg::Key(k)) if k == key) {
                path.0.push(Seg::Key(key.to_string()));
            }
        }
        (path, msg)
    })
}

impl Scenario {
    /// Read a scenario file; the format follows the extension (`.json` is JSON, anything else TOML).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(&e, path))?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Toml,
        };
        let base = path
            .parent()
            .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
        let mut s = Self::parse(&text, format, Some(path), base)?;
        s.file = Some(path.to_path_buf());
        Ok(s)
    }

    /// Read a scenario file whose relative paths (a `c:` node's `library`, the modules of `python:` nodes)
    /// are relative to `base_dir` instead of the file's directory: a copy written elsewhere (the scenario a
    /// runner hands to a worker process) keeps its original's directory.
    pub fn from_path_relative_to(path: impl AsRef<Path>, base_dir: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(&e, path))?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Toml,
        };
        let mut s = Self::parse(&text, format, Some(path), Some(base_dir.as_ref()))?;
        s.file = Some(path.to_path_buf());
        Ok(s)
    }

    /// Parse a scenario from text.
    #[allow(clippy::should_implement_trait, reason = "takes a format argument, unlike FromStr")]
    pub fn from_str(text: &str, format: Format) -> Result<Self> {
        Self::parse(text, format, None, None)
    }

    /// Build a scenario from a JSON-like value (the structure of the file).
    pub fn from_value(value: &Value) -> Result<Self> {
        let mut source = Source {
            kind: ErrorKind::Scenario,
            file: None,
            text: None,
            locations: None,
        };
        Self::build(value, &mut source, None)
    }

    /// [`Scenario::from_value`], with `base_dir` as the directory of its relative paths (a `c:` node's
    /// `library`, `python:` modules): a scenario from a run archive keeps the directory of its file.
    pub fn from_value_relative_to(value: &Value, base_dir: impl AsRef<Path>) -> Result<Self> {
        let mut source = Source {
            kind: ErrorKind::Scenario,
            file: None,
            text: None,
            locations: None,
        };
        Self::build(value, &mut source, Some(base_dir.as_ref()))
    }

    /// Build a scenario from a spec made in code.
    pub fn from_spec(spec: ScenarioSpec) -> Result<Self> {
        let value = serde_json::to_value(&spec).map_err(|e| Error::new(ErrorKind::Scenario, e.to_string()))?;
        Self::from_value(&value)
    }

    fn parse(text: &str, format: Format, file: Option<&Path>, base_dir: Option<&Path>) -> Result<Self> {
        let with_file = |e: Error| match file {
            Some(f) => e.with_file(f),
            None => e,
        };
        let (value, locations) = match format {
            Format::Toml => {
                let (v, l) = locate::toml_to_json(text).map_err(with_file)?;
                (v, Some(l))
            }
            Format::Json => (locate::parse_json(text).map_err(with_file)?, None),
        };
        let mut source = Source {
            kind: ErrorKind::Scenario,
            file,
            text: Some((text, format)),
            locations,
        };
        Self::build(&value, &mut source, base_dir)
    }

    fn build(value: &Value, source: &mut Source<'_>, base_dir: Option<&Path>) -> Result<Self> {
        let root = FieldPath::default();
        let spec: ScenarioSpec = typed(value, &root).map_err(|(p, m)| source.error(&p, m))?;
        let models = validate(&spec, base_dir).map_err(|(p, m)| source.error(&p, m))?;
        // serde_json's map is ordered by key, so this text is stable.
        let text = serde_json::to_string(&spec).unwrap_or_default();
        Ok(Scenario {
            id: blake3::hash(text.as_bytes()).to_hex().to_string(),
            spec,
            models,
            file: source.file.map(Path::to_path_buf),
            base_dir: base_dir.map(Path::to_path_buf),
            bindings: Bindings::default(),
        })
    }

    /// Run node `id` with `factory` instead of its model (a Python object, a C function table): every
    /// simulation of this scenario (and of its clones) uses it. Fails when the scenario has no such node.
    pub fn set_node(&mut self, id: &str, factory: Arc<dyn NodeFactory>) -> Result<()> {
        if self.node_index(id).is_none() {
            let ids: Vec<&str> = self.spec.nodes.iter().map(|n| n.id.as_str()).collect();
            return Err(Error::new(
                ErrorKind::Scenario,
                format!(
                    "scenario {:?} has no node {id:?} (expected one of: {})",
                    self.spec.name,
                    ids.join(", ")
                ),
            ));
        }
        self.bindings.0.insert(id.to_string(), factory);
        Ok(())
    }

    /// The factory bound to node `id` with [`Scenario::set_node`], if any.
    pub fn binding(&self, id: &str) -> Option<Arc<dyn NodeFactory>> {
        self.bindings.0.get(id).cloned()
    }

    /// Whether some node is bound in code (such a scenario cannot travel as its text alone).
    pub fn has_bindings(&self) -> bool {
        !self.bindings.0.is_empty()
    }

    /// The scenario as written.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The validated model of each node, in node order.
    pub fn models(&self) -> &[Arc<dyn Model>] {
        &self.models
    }

    /// The file it was read from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The directory a `c:` node's relative `library` and the modules of `python:` nodes are found in: the
    /// file's directory ([`Scenario::from_path`]) or the one given ([`Scenario::from_path_relative_to`],
    /// [`Scenario::from_value_relative_to`]);
    /// `None` for a scenario made from text or a value (relative libraries are then looked up from the
    /// current directory when the simulation starts).
    pub fn base_dir(&self) -> Option<&Path> {
        self.base_dir.as_deref()
    }

    /// The structure as a JSON value (round-trips through [`Scenario::from_value`]).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(&self.spec).unwrap_or(Value::Null)
    }

    /// The scenario's identity: blake3 of its canonical JSON structure (the file's formatting does not count).
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// Index of the node with this id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.spec.nodes.iter().position(|n| n.id == id)
    }
}

type Invalid = (FieldPath, String);

fn validate(spec: &ScenarioSpec, base_dir: Option<&Path>) -> std::result::Result<Vec<Arc<dyn Model>>, Invalid> {
    let root = FieldPath::default();
    if spec.stop.requests.is_none() && spec.stop.time.is_none() && spec.stop.events.is_none() {
        return Err((
            root.key("stop"),
            "no limit given (expected at least one of requests, time, events)".into(),
        ));
    }
    if spec.nodes.is_empty() {
        return Err((root.key("node"), "no nodes (expected at least one [[node]])".into()));
    }
    let mut ids = BTreeSet::new();
    for (i, n) in spec.nodes.iter().enumerate() {
        let p = root.key("node").index(i).key("id");
        if n.id.is_empty() || n.id == CLIENT || n.id == "*" {
            return Err((
                p,
                format!(
                    "invalid node id {:?} (expected a non-empty name other than \"client\" and \"*\")",
                    n.id
                ),
            ));
        }
        if !ids.insert(n.id.as_str()) {
            return Err((p, format!("duplicate node id {:?} (expected unique ids)", n.id)));
        }
    }
    let known = |id: &str| ids.contains(id);
    let expected_ids = || ids.iter().copied().collect::<Vec<_>>().join(", ");
    let unknown = |path: FieldPath, id: &str| -> Invalid {
        (
            path,
            format!("unknown node {id:?} (expected one of: {})", expected_ids()),
        )
    };

    let mut models = Vec::with_capacity(spec.nodes.len());
    for (i, n) in spec.nodes.iter().enumerate() {
        let p = root.key("node").index(i);
        let m = registry::check(n, &p, base_dir)?;
        for (field, id) in m.references() {
            if !known(id) {
                return Err(unknown(p.key("params").key(field), id));
            }
        }
        models.push(m);
    }

    let net = root.key("network");
    spec.network.latency.validate().map_err(|m| (net.key("latency"), m))?;
    for (i, l) in spec.network.links.iter().enumerate() {
        let p = net.key("link").index(i);
        for (field, id) in [("from", &l.from), ("to", &l.to)] {
            if id != "*" && id != CLIENT && !known(id) {
                return Err(unknown(p.key(field), id));
            }
        }
        if let Some(d) = &l.latency {
            d.validate().map_err(|m| (p.key("latency"), m))?;
        }
    }

    match &spec.load {
        Some(load) => validate_load(load, spec, &models, &known, &unknown)?,
        None => {
            if spec.stop.requests.is_some() {
                return Err((
                    root.key("stop").key("requests"),
                    "a request limit needs a [load] section".into(),
                ));
            }
        }
    }

    for (i, f) in spec.faults.iter().enumerate() {
        validate_fault(f, &root.key("fault").index(i), &known, &unknown)?;
    }
    validate_checks(spec, &models)?;
    Ok(models)
}

/// `[invariants]` and `[expect]`.
fn validate_checks(spec: &ScenarioSpec, models: &[Arc<dyn Model>]) -> std::result::Result<(), Invalid> {
    let root = FieldPath::default();
    if let Some(name) = &spec.invariants.linearizable {
        let p = root.key("invariants").key("linearizable");
        let model = crate::check::ModelKind::parse(name).map_err(|e| (p.clone(), e.message().to_string()))?;
        let kv_load = spec.load.as_ref().is_some_and(|l| {
            l.target.ids().iter().all(|t| {
                spec.nodes
                    .iter()
                    .position(|n| n.id == *t)
                    .is_some_and(|i| models[i].speaks_kv(l))
            })
        });
        if !kv_load {
            return Err((
                p,
                "needs a [load] on kv nodes (the history it checks is the load's reads and writes of keys)".into(),
            ));
        }
        if model != crate::check::ModelKind::Kv {
            return Err((
                p,
                format!(
                    "{name:?} does not fit a kv load (expected \"kv\": the load reads and writes many keys, each a register)"
                ),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for (i, mark) in spec.expect.sometimes.iter().enumerate() {
        let p = root.key("expect").key("sometimes").index(i);
        if mark.trim().is_empty() {
            return Err((
                p,
                "empty mark (expected a mark name such as \"kv.failover\" or \"fault.crash\")".into(),
            ));
        }
        if !seen.insert(mark.as_str()) {
            return Err((p, format!("mark {mark:?} is listed twice (expected each mark once)")));
        }
    }
    Ok(())
}

fn validate_load(
    load: &LoadSpec,
    spec: &ScenarioSpec,
    models: &[Arc<dyn Model>],
    known: &dyn Fn(&str) -> bool,
    unknown: &dyn Fn(FieldPath, &str) -> Invalid,
) -> std::result::Result<(), Invalid> {
    let p = FieldPath::default().key("load");
    let targets = load.target.ids();
    if targets.is_empty() {
        return Err((
            p.key("target"),
            "no target (expected a node id or a list of node ids)".into(),
        ));
    }
    for (i, t) in targets.iter().enumerate() {
        let tp = match load.target {
            Targets::One(_) => p.key("target"),
            Targets::Many(_) => p.key("target").index(i),
        };
        if !known(t) {
            return Err(unknown(tp, t));
        }
    }
    let kv_targets = targets
        .iter()
        .filter(|t| {
            spec.nodes
                .iter()
                .position(|n| n.id == **t)
                .is_some_and(|i| models[i].speaks_kv(load))
        })
        .count();
    if kv_targets != 0 && kv_targets != targets.len() {
        return Err((
            p.key("target"),
            "targets mix kv and non-kv models (expected all of one kind)".into(),
        ));
    }
    if load.reads.is_some() && kv_targets == 0 {
        return Err((
            p.key("reads"),
            "reads applies only to kv targets (model = \"kv\", or python:/c: nodes, which it makes key-value \
             targets)"
                .into(),
        ));
    }
    let forbid = |field: &str, present: bool, mode: &str| -> std::result::Result<(), Invalid> {
        if present {
            Err((p.key(field), format!("{field} does not apply to mode = \"{mode}\"")))
        } else {
            Ok(())
        }
    };
    match load.mode {
        LoadMode::Open => {
            if load.rate.is_none() {
                return Err((
                    p.key("rate"),
                    "open loop needs a rate (expected e.g. rate = \"100/s\")".into(),
                ));
            }
            forbid("clients", load.clients.is_some(), "open")?;
            forbid("think", load.think.is_some(), "open")?;
        }
        LoadMode::Closed => {
            match load.clients {
                None => {
                    return Err((
                        p.key("clients"),
                        "closed loop needs clients (expected a positive integer)".into(),
                    ))
                }
                Some(0) => return Err((p.key("clients"), "clients is 0 (expected a positive integer)".into())),
                Some(_) => {}
            }
            forbid("rate", load.rate.is_some(), "closed")?;
            forbid("arrivals", load.arrivals.is_some(), "closed")?;
            if let Some(t) = &load.think {
                t.validate().map_err(|m| (p.key("think"), m))?;
            }
        }
    }
    if load.timeout == Some(Duration(0)) {
        return Err((p.key("timeout"), "timeout is 0 (expected a positive duration)".into()));
    }
    Ok(())
}

fn validate_fault(
    f: &FaultSpec,
    p: &FieldPath,
    known: &dyn Fn(&str) -> bool,
    unknown: &dyn Fn(FieldPath, &str) -> Invalid,
) -> std::result::Result<(), Invalid> {
    let kind = f.kind.name();
    let needs_node = matches!(
        f.kind,
        FaultKind::Crash | FaultKind::Restart | FaultKind::ClockSkew | FaultKind::Slow
    );
    let allowed: &[&str] = match f.kind {
        FaultKind::Crash | FaultKind::Restart => &["node"],
        FaultKind::Partition => &["groups", "duration"],
        FaultKind::Heal => &[],
        FaultKind::LossBurst => &["loss", "duration"],
        FaultKind::ClockSkew => &["node", "skew", "duration"],
        FaultKind::Slow => &["node", "factor", "duration"],
    };
    let present = [
        ("node", f.node.is_some()),
        ("duration", f.duration.is_some()),
        ("groups", f.groups.is_some()),
        ("loss", f.loss.is_some()),
        ("skew", f.skew.is_some()),
        ("factor", f.factor.is_some()),
    ];
    for (field, is) in present {
        if is && !allowed.contains(&field) {
            return Err((
                p.key(field),
                format!(
                    "{field} does not apply to kind = \"{kind}\" (expected only: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    let required: &[(&str, bool)] = &[
        ("node", needs_node && f.node.is_none()),
        ("groups", f.kind == FaultKind::Partition && f.groups.is_none()),
        ("loss", f.kind == FaultKind::LossBurst && f.loss.is_none()),
        ("skew", f.kind == FaultKind::ClockSkew && f.skew.is_none()),
        ("factor", f.kind == FaultKind::Slow && f.factor.is_none()),
    ];
    for (field, missing) in required {
        if *missing {
            return Err((p.key(field), format!("kind = \"{kind}\" needs {field}")));
        }
    }
    if let Some(node) = &f.node {
        if !known(node) {
            return Err(unknown(p.key("node"), node));
        }
    }
    if let Some(groups) = &f.groups {
        let mut seen = BTreeSet::new();
        for (gi, g) in groups.iter().enumerate() {
            for (ni, id) in g.iter().enumerate() {
                let np = p.key("groups").index(gi).index(ni);
                if id != CLIENT && !known(id) {
                    return Err(unknown(np, id));
                }
                if !seen.insert(id.as_str()) {
                    return Err((
                        np,
                        format!("{id:?} is in two groups (expected each node in at most one)"),
                    ));
                }
            }
        }
        if groups.len() < 2 && seen.is_empty() {
            return Err((
                p.key("groups"),
                "no groups (expected at least one non-empty group)".into(),
            ));
        }
    }
    if f.duration == Some(Duration(0)) {
        return Err((p.key("duration"), "duration is 0 (expected a positive duration)".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MM1: &str = r#"
name = "mm1"
seed = 42
stop = { requests = 1000 }

[[node]]
id = "server"
model = "queue"
params = { servers = 1, service = { dist = "exponential", mean = "1s" } }

[network]
latency = { dist = "constant", value = "0s" }
loss = 0.0

[load]
mode = "open"
target = "server"
arrivals = "poisson"
rate = "0.9/s"
"#;

    fn err(text: &str) -> Error {
        Scenario::from_str(text, Format::Toml).unwrap_err()
    }

    #[test]
    fn parses_and_round_trips() {
        let s = Scenario::from_str(MM1, Format::Toml).unwrap();
        assert_eq!(s.spec().nodes[0].id, "server");
        let v = s.to_value();
        let again = Scenario::from_value(&v).unwrap();
        assert_eq!(again.spec(), s.spec());
        let json = serde_json::to_string_pretty(&v).unwrap();
        let from_json = Scenario::from_str(&json, Format::Json).unwrap();
        assert_eq!(from_json.spec(), s.spec());
        assert_eq!(from_json.id(), s.id());
    }

    #[test]
    fn a_typo_inside_an_inline_table_is_located_at_the_key() {
        let text = "name = \"t\"\nstop = { requests = 10 }\n\n[[node]]\nid = \"server\"\nmodel = \"echo\"\n\n\
                    [network]\nlatency = { dist = \"constant\", valu = \"1ms\" }\n";
        let e = Scenario::from_str(text, Format::Toml).unwrap_err();
        assert_eq!((e.line(), e.column()), (Some(9), Some(32)), "{e}");
        assert_eq!(e.field(), Some("network.latency.valu"), "{e}");
        assert!(e.message().starts_with("unknown field `valu`, expected"), "{e}");
    }

    #[test]
    fn unknown_field_names_line_and_field() {
        let e = err(&MM1.replace("loss = 0.0", "loss = 0.0\nlatencyy = 1"));
        assert_eq!(e.kind(), ErrorKind::Scenario);
        assert!(e.message().contains("unknown field `latencyy`"), "{e}");
        assert!(e.field().unwrap().ends_with("latencyy"), "the key itself: {e}");
        assert_eq!(e.line(), Some(14), "{e}");
        assert!(e.field().unwrap().starts_with("network"), "{e}");
    }

    #[test]
    fn wrong_type_and_bad_values() {
        let e = err(&MM1.replace("rate = \"0.9/s\"", "rate = 5"));
        assert_eq!(e.field(), Some("load.rate"), "{e}");
        assert_eq!(e.line(), Some(19), "{e}");
        let e = err(&MM1.replace("loss = 0.0", "loss = -0.5"));
        assert_eq!(e.field(), Some("network.loss"), "{e}");
        assert!(e.message().contains("from 0 to 1"), "{e}");
        let e = err(&MM1.replace("loss = 0.0", "loss = nan"));
        assert_eq!(e.line(), Some(13), "{e}");
        let e = err(&MM1.replace("mean = \"1s\"", "mean = \"-1s\""));
        assert!(e.field().unwrap().starts_with("node[0].params.service"), "{e}");
        assert_eq!(e.line(), Some(9), "{e}");
    }

    #[test]
    fn dangling_ids_are_named() {
        let e = err(&MM1.replace("target = \"server\"", "target = \"srv\""));
        assert_eq!(e.field(), Some("load.target"));
        assert!(
            e.message().contains("unknown node \"srv\" (expected one of: server)"),
            "{e}"
        );
        let e = err(&format!(
            "{MM1}\n[[fault]]\nat = \"1s\"\nkind = \"crash\"\nnode = \"nope\"\n"
        ));
        assert_eq!(e.field(), Some("fault[0].node"));
        assert_eq!(e.line(), Some(24), "{e}");
        let e = err(&format!("{MM1}\n[[fault]]\nat = \"1s\"\nkind = \"crash\"\n"));
        assert!(e.message().contains("needs node"), "{e}");
        let e = err(&format!(
            "{MM1}\n[[fault]]\nat = \"1s\"\nkind = \"explode\"\nnode = \"server\"\n"
        ));
        assert_eq!(e.field(), Some("fault[0].kind"), "{e}");
    }

    #[test]
    fn json_errors_have_lines_too() {
        let e = Scenario::from_str("{\n \"name\": \"x\",\n \"stop\": {\"time\": \"1s\"},\n \"node\": [{\"id\": \"a\", \"model\": \"queue\", \"params\": {\"servers\": 0, \"service\": {\"dist\": \"constant\", \"value\": \"1s\"}}}]\n}", Format::Json)
            .unwrap_err();
        assert_eq!(e.line(), Some(4), "{e}");
        let e = Scenario::from_str("{\n \"name\": \"x\",,\n}", Format::Json).unwrap_err();
        assert_eq!(e.line(), Some(2), "{e}");
    }

    #[test]
    fn stop_needs_a_limit() {
        let e = err("name = \"x\"\nstop = {}\n[[node]]\nid = \"a\"\nmodel = \"echo\"\n");
        assert_eq!(e.field(), Some("stop"));
    }
}
