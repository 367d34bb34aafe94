//! Nodes written in Python: `toron.Node` subclasses run by the kernel like built-in models.
//!
//! A node is plugged in by its model (`model = "python:pkg.module:Cart"`, `params` as keyword arguments of
//! the constructor: the [`PythonResolver`] registered for `python:` at import checks and builds it) or in
//! code (`Scenario.from_dict(..., nodes={"cart": Cart()})`: the instance is a prototype, and every start and
//! restart runs on a `copy.deepcopy` of it, so a sweep's simulations never share state and the prototype is
//! never changed).
//!
//! A callback gets a `toron.Context` that records what the node does (send, reply, timers, marks, logs,
//! violations) and draws from a copy of the node's random stream; when the callback returns, the actions are
//! applied to the kernel's context in order and the stream is written back. The trace is the same as if they
//! had been applied at once (nothing else runs in between), and no pointer into the kernel is handed to Python.
//!
//! Messages a node sends are JSON-like values carried as canonical JSON (`Body::Custom`), except the client
//! protocol (`{"type": "ok"}`, `{"type": "value", "value": v}`, `{"type": "get", "key": k}`, ...), which maps to
//! the kernel's typed bodies so load clients, latency and histories see a Python node as a built-in one.
//!
//! A crash keeps the attributes the class lists in `durable` (deep copies, as if on disk); the next
//! instance gets them in `on_restart(ctx, state)`, whose default sets them and calls `on_start`. The copies
//! live in a thread-local map per factory: one simulation runs on one thread, so the simulations of a sweep
//! never see each other's, and a start with incarnation 0 discards what an earlier run left.
//!
//! An exception (in the constructor, a callback or `on_crash`) stops the simulation with `toron.NodeError`
//! naming the node, the callback, the virtual time and the traceback; the details also go to a side table
//! that `errors.rs` reads to set the exception's attributes.

use crate::{convert, errors};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyString, PyType};
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use toron_core::rng::Stream;
use toron_core::sim::registry::{ExternalModel, Resolver};
use toron_core::sim::{Body, Ctx, Message, Node, NodeFactory, NodeId, Op, Reply, Time, TimerId};
use toron_core::{Error as CoreError, ErrorKind};

/// The name load clients have in messages (`Message.src`).
const CLIENT: &str = "client";

// ---------------------------------------------------------------------------------------------------------
// Failures: the details of a NodeError, for its attributes.

/// What `toron.NodeError` carries besides its message.
#[derive(Clone)]
pub(crate) struct Failure {
    pub(crate) node: String,
    pub(crate) callback: String,
    pub(crate) time_ns: Option<u64>,
    pub(crate) traceback: Option<String>,
}

/// Recent failures by message: the core's error carries text only, and the exception is built on another
/// thread (the caller's) than the one that failed. Bounded: failures never turned into exceptions (a Rust
/// caller) do not pile up.
static FAILURES: Mutex<VecDeque<(String, Failure)>> = Mutex::new(VecDeque::new());
const FAILURES_KEPT: usize = 64;

fn remember(message: &str, failure: Failure) {
    let mut list = FAILURES.lock().unwrap_or_else(PoisonError::into_inner);
    if list.len() >= FAILURES_KEPT {
        list.pop_front();
    }
    list.push_back((message.to_string(), failure));
}

/// The details of the failure with this message, if a Python node reported it.
pub(crate) fn failure_for(message: &str) -> Option<Failure> {
    let list = FAILURES.lock().unwrap_or_else(PoisonError::into_inner);
    list.iter().rev().find(|(m, _)| m == message).map(|(_, f)| f.clone())
}

fn node_error(failure: Failure, what: &str) -> CoreError {
    let at = match failure.time_ns {
        Some(t) => format!(" at {t} ns"),
        None => String::new(),
    };
    let mut message = format!("node {:?}: {}{at}: {what}", failure.node, failure.callback);
    if let Some(tb) = &failure.traceback {
        message.push('\n');
        message.push_str(tb.trim_end());
    }
    remember(&message, failure);
    CoreError::new(ErrorKind::Node, message)
}

/// `TypeName: message` and the formatted traceback of a Python exception.
fn describe(py: Python<'_>, err: &PyErr) -> (String, String) {
    let value = err.value(py);
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    let head = if text.is_empty() {
        type_name
    } else {
        format!("{type_name}: {text}")
    };
    let tb = py
        .import("traceback")
        .and_then(|m| m.call_method1("format_exception", (value.get_type(), value, err.traceback(py))))
        .and_then(|lines| lines.extract::<Vec<String>>())
        .map(|lines| lines.concat())
        .unwrap_or_else(|_| head.clone());
    (head, tb)
}

// ---------------------------------------------------------------------------------------------------------
// Loading classes: `python:pkg.module:Class`.

thread_local! {
    /// The directory of the scenario file being read on this thread (set by `Scenario.from_file`), for the
    /// resolver's check: the core gives `base_dir` to `factory` only.
    static LOADING_DIR: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
    /// Durable state handed from a crashed instance to the next, per factory.
    static DURABLE: RefCell<BTreeMap<u64, Result<Py<PyDict>, String>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Run `f` with `dir` as the scenario's directory for resolver checks on this thread.
pub(crate) fn loading_from<T>(dir: Option<PathBuf>, f: impl FnOnce() -> T) -> T {
    let old = LOADING_DIR.with(|d| d.replace(dir));
    let out = f();
    LOADING_DIR.with(|d| d.replace(old));
    out
}

/// `toron.Node`, the base class every Python node derives from.
fn node_base(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("toron")?.getattr("Node")
}

fn import_module<'py>(py: Python<'py>, module: &str, dir: Option<&PathBuf>) -> Result<Bound<'py, PyModule>, String> {
    let sys_path = py
        .import("sys")
        .and_then(|s| s.getattr("path"))
        .map_err(|e| e.to_string())?;
    // The scenario's directory is importable while importing, so a scenario beside its node module works.
    let mut inserted = None;
    if let Some(dir) = dir {
        let entry = dir.to_string_lossy().into_owned();
        let present = sys_path.contains(entry.as_str()).unwrap_or(true);
        if !present && sys_path.call_method1("insert", (0, entry.as_str())).is_ok() {
            inserted = Some(entry);
        }
    }
    let result = py.import(module);
    if let Some(entry) = inserted {
        let _ = sys_path.call_method1("remove", (entry,));
    }
    result.map_err(|e| {
        let (head, _) = describe(py, &e);
        let head = match head.strip_prefix("ModuleNotFoundError: ") {
            Some(rest) => rest.to_string(),
            None => head,
        };
        format!("cannot import {module:?}: {head}")
    })
}

/// The class a `python:` model names, checked to be a `toron.Node` subclass.
fn load_class<'py>(py: Python<'py>, m: &ExternalModel) -> Result<Bound<'py, PyAny>, String> {
    let Some((module, class)) = m
        .target
        .rsplit_once(':')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
    else {
        return Err(format!(
            "model {:?} does not name a class (expected python:pkg.module:Class)",
            m.model()
        ));
    };
    let dir = m.base_dir.clone().or_else(|| LOADING_DIR.with(|d| d.borrow().clone()));
    let module_obj = import_module(py, module, dir.as_ref())?;
    let Ok(cls) = module_obj.getattr(class) else {
        return Err(format!("module {module:?} has no class {class:?}"));
    };
    if !cls.is_instance_of::<PyType>() {
        return Err(format!(
            "{module}:{class} is not a class (expected a toron.Node subclass)"
        ));
    }
    let base = node_base(py).map_err(|e| format!("cannot find toron.Node: {e}"))?;
    let cls_type = cls.cast::<PyType>().map_err(|e| e.to_string())?;
    if !cls_type.is_subclass(&base).unwrap_or(false) {
        return Err(format!(
            "class {class:?} of module {module:?} is not a toron.Node subclass (expected class {class}(toron.Node))"
        ));
    }
    if !matches!(m.params, Value::Null | Value::Object(_)) {
        return Err(format!(
            "params of {:?} must be a table of keyword arguments for {class}(...)",
            m.model()
        ));
    }
    Ok(cls)
}

/// The resolver of `python:` models, registered when the module is imported.
pub(crate) struct PythonResolver;

impl Resolver for PythonResolver {
    fn check(&self, model: &ExternalModel) -> Result<(), String> {
        Python::attach(|py| load_class(py, model).map(|_| ()))
    }

    fn factory(&self, model: &ExternalModel) -> toron_core::Result<Arc<dyn NodeFactory>> {
        Python::attach(|py| {
            let fail = |callback: &str, what: String| {
                node_error(
                    Failure {
                        node: model.node.clone(),
                        callback: callback.into(),
                        time_ns: None,
                        traceback: None,
                    },
                    &what,
                )
            };
            let cls = load_class(py, model).map_err(|e| fail("load", e))?;
            let params = match &model.params {
                Value::Null => PyDict::new(py),
                v => convert::from_value(py, v)
                    .and_then(|d| Ok(d.cast_into::<PyDict>()?))
                    .map_err(|e| fail("load", format!("params: {e}")))?,
            };
            Ok(Arc::new(PyNodeFactory::new(
                &model.node,
                Source::Class {
                    class: cls.unbind(),
                    params: params.unbind(),
                },
            )) as Arc<dyn NodeFactory>)
        })
    }
}

/// The factory of a node bound in code to `prototype` (`Scenario.from_dict(..., nodes=...)`).
pub(crate) fn prototype_factory(node: &str, prototype: &Bound<'_, PyAny>) -> PyResult<Arc<dyn NodeFactory>> {
    let py = prototype.py();
    if !prototype.is_instance(&node_base(py)?)? {
        let type_name = prototype
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        return Err(errors::map(CoreError::new(
            ErrorKind::Node,
            format!(
                "nodes[{node:?}] is a {type_name}, not a toron.Node (expected an instance of a toron.Node subclass)"
            ),
        )));
    }
    Ok(Arc::new(PyNodeFactory::new(
        node,
        Source::Prototype(prototype.clone().unbind()),
    )))
}

// ---------------------------------------------------------------------------------------------------------
// The factory and the node adapter.

enum Source {
    /// `class(**params)`.
    Class { class: Py<PyAny>, params: Py<PyDict> },
    /// `copy.deepcopy(prototype)`.
    Prototype(Py<PyAny>),
}

struct Shared {
    node: String,
    source: Source,
    /// Key of this factory's durable state in [`DURABLE`].
    key: u64,
}

struct PyNodeFactory(Arc<Shared>);

impl PyNodeFactory {
    fn new(node: &str, source: Source) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        PyNodeFactory(Arc::new(Shared {
            node: node.to_string(),
            source,
            key: NEXT.fetch_add(1, Ordering::Relaxed),
        }))
    }
}

impl NodeFactory for PyNodeFactory {
    fn create(&self) -> toron_core::Result<Box<dyn Node>> {
        // The object is built in `on_start`, where the virtual time of a (re)start is known for errors.
        Ok(Box::new(PyNode {
            shared: self.0.clone(),
            obj: None,
            output: None,
            names: Arc::from(Vec::new()),
            timers: BTreeMap::new(),
            tags: BTreeMap::new(),
            next_tag: 0,
            failed: false,
        }))
    }
}

struct PyNode {
    shared: Arc<Shared>,
    obj: Option<Py<PyAny>>,
    /// `ctx.output` of this instance.
    output: Option<Py<PyDict>>,
    /// The scenario's node ids, by index.
    names: Arc<[String]>,
    /// Pending timers by name: (kernel id, tag).
    timers: BTreeMap<String, (TimerId, u64)>,
    tags: BTreeMap<u64, String>,
    next_tag: u64,
    /// A callback raised: the simulation stops; nothing more is called.
    failed: bool,
}

enum Action {
    Send { dst: u32, body: Body },
    Reply { to: u32, msg_id: u64, body: Body },
    SetTimer { name: String, after: Time },
    CancelTimer(String),
    Mark(String),
    Violation { invariant: String, text: String },
    Log(String),
}

/// A callback that raised: (callback, what, traceback).
type Raised = (&'static str, String, Option<String>);

enum Call<'a> {
    Start,
    Message(&'a Message),
    Timer(String),
}

impl PyNode {
    fn fail(&mut self, ctx: &mut Ctx<'_>, callback: &str, time_ns: Option<u64>, what: String, tb: Option<String>) {
        self.failed = true;
        ctx.fail(node_error(
            Failure {
                node: self.shared.node.clone(),
                callback: callback.into(),
                time_ns,
                traceback: tb,
            },
            &what,
        ));
    }

    fn construct<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.shared.source {
            Source::Class { class, params } => class.bind(py).call((), Some(params.bind(py))),
            Source::Prototype(p) => py.import("copy")?.call_method1("deepcopy", (p.bind(py),)),
        }
    }

    fn run(&mut self, ctx: &mut Ctx<'_>, call: Call<'_>) {
        if self.failed {
            return;
        }
        let now = ctx.now();
        let incarnation = ctx.incarnation();
        let callback = match &call {
            Call::Start if incarnation > 0 => "on_restart",
            Call::Start => "on_start",
            Call::Message(_) => "on_message",
            Call::Timer(_) => "on_timer",
        };
        if matches!(call, Call::Start) && self.names.is_empty() {
            let mut names = Vec::new();
            let mut i = 0u32;
            loop {
                let name = ctx.name(NodeId(i));
                if name == CLIENT {
                    break;
                }
                names.push(name.to_string());
                i += 1;
            }
            self.names = names.into();
        }
        let rng = ctx.rng().clone();
        let result = Python::attach(|py| -> Result<(Vec<Action>, Stream), Raised> {
            let raised = |callback: &'static str, e: PyErr| {
                let (head, tb) = describe(py, &e);
                (callback, format!("raised {head}"), Some(tb))
            };
            if matches!(call, Call::Start) {
                let obj = self.construct(py).map_err(|e| raised("__init__", e))?;
                self.obj = Some(obj.unbind());
                self.output = Some(PyDict::new(py).unbind());
            }
            let (Some(obj), Some(output)) = (&self.obj, &self.output) else {
                return Err((callback, "called before the node started".into(), None));
            };
            let obj = obj.bind(py);
            let context = Bound::new(
                py,
                PyContext {
                    node: self.shared.node.clone(),
                    now,
                    incarnation,
                    rng,
                    actions: Vec::new(),
                    output: output.clone_ref(py),
                    names: self.names.clone(),
                    open: true,
                },
            )
            .map_err(|e| raised(callback, e))?;
            let outcome = match &call {
                Call::Start if incarnation == 0 => {
                    DURABLE.with(|d| d.borrow_mut().remove(&self.shared.key));
                    obj.call_method1("on_start", (&context,)).map(|_| ())
                }
                Call::Start => {
                    let state = DURABLE.with(|d| d.borrow_mut().remove(&self.shared.key));
                    let state = match state {
                        Some(Ok(s)) => s.into_bound(py),
                        Some(Err(e)) => return Err(("on_crash", e, None)),
                        None => PyDict::new(py),
                    };
                    obj.call_method1("on_restart", (&context, state)).map(|_| ())
                }
                Call::Message(m) => message_of(py, m, &self.names)
                    .and_then(|msg| {
                        let src = msg.get().src.clone();
                        obj.call_method1("on_message", (&context, src, msg))
                    })
                    .map(|_| ()),
                Call::Timer(name) => obj.call_method1("on_timer", (&context, name.as_str())).map(|_| ()),
            };
            let mut c = context.borrow_mut();
            c.open = false;
            outcome.map_err(|e| raised(callback, e))?;
            let rng = c.rng.clone();
            Ok((std::mem::take(&mut c.actions), rng))
        });
        match result {
            Err((callback, what, tb)) => self.fail(ctx, callback, Some(now), what, tb),
            Ok((actions, rng)) => {
                *ctx.rng() = rng;
                self.apply(ctx, actions);
            }
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_>, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Send { dst, body } => {
                    ctx.send(NodeId(dst), body);
                }
                Action::Reply { to, msg_id, body } => {
                    let request = Message {
                        msg_id,
                        in_reply_to: 0,
                        src: NodeId(to),
                        dst: ctx.id(),
                        body: Body::Request(Op::Echo),
                    };
                    ctx.reply(&request, body);
                }
                Action::SetTimer { name, after } => {
                    if let Some((old, tag)) = self.timers.remove(&name) {
                        ctx.cancel_timer(old);
                        self.tags.remove(&tag);
                    }
                    let tag = self.next_tag;
                    self.next_tag += 1;
                    let id = ctx.set_timer(after, tag);
                    self.tags.insert(tag, name.clone());
                    self.timers.insert(name, (id, tag));
                }
                Action::CancelTimer(name) => {
                    if let Some((id, tag)) = self.timers.remove(&name) {
                        ctx.cancel_timer(id);
                        self.tags.remove(&tag);
                    }
                }
                Action::Mark(name) => ctx.mark(&name),
                Action::Violation { invariant, text } => ctx.violation(&invariant, text),
                Action::Log(text) => ctx.log(text),
            }
        }
    }
}

impl Node for PyNode {
    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        self.run(ctx, Call::Start);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        self.run(ctx, Call::Message(msg));
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: TimerId, tag: u64) {
        let Some(name) = self.tags.remove(&tag) else {
            return;
        };
        if self.timers.get(&name).map(|(id, _)| *id) == Some(timer) {
            self.timers.remove(&name);
            self.run(ctx, Call::Timer(name));
        }
    }

    fn output(&self, _end: Time) -> Option<Value> {
        let output = self.output.as_ref()?;
        Python::attach(|py| {
            let dict = output.bind(py);
            if dict.is_empty() {
                return None;
            }
            Some(match convert::to_canonical(dict.as_any()) {
                Ok(v) => v,
                Err(e) => {
                    json!({ "error": format!("ctx.output of node {:?} is not JSON-like: {}", self.shared.node, e.value(py)) })
                }
            })
        })
    }

    fn on_crash(&mut self) {
        let Some(obj) = self.obj.take() else {
            return;
        };
        let state = Python::attach(|py| -> Result<Py<PyDict>, String> {
            let obj = obj.bind(py);
            let names = obj
                .get_type()
                .getattr("durable")
                .and_then(|d| d.extract::<Vec<String>>())
                .map_err(|e| format!("durable must be a list of attribute names: {}", describe(py, &e).0))?;
            let copy = py.import("copy").map_err(|e| e.to_string())?;
            let state = PyDict::new(py);
            for name in names {
                let value = obj
                    .getattr(name.as_str())
                    .and_then(|v| copy.call_method1("deepcopy", (v,)))
                    .map_err(|e| format!("durable attribute {name:?} cannot be kept: {}", describe(py, &e).0))?;
                state.set_item(&name, value).map_err(|e| e.to_string())?;
            }
            Ok(state.unbind())
        });
        DURABLE.with(|d| d.borrow_mut().insert(self.shared.key, state));
    }
}

// ---------------------------------------------------------------------------------------------------------
// Messages between Python and the kernel.

fn op_value(op: &Op) -> Value {
    match op {
        Op::Echo => json!({"type": "echo"}),
        Op::Get { key } => json!({"type": "get", "key": key}),
        Op::Put { key, value } => json!({"type": "put", "key": key, "value": value}),
    }
}

fn reply_value(r: &Reply) -> Value {
    match r {
        Reply::Ok => json!({"type": "ok"}),
        Reply::Value(v) => json!({"type": "value", "value": v}),
        Reply::NotPrimary => json!({"type": "not_primary"}),
        Reply::Error => json!({"type": "error"}),
    }
}

/// A kernel body as Python: the client protocol and built-in bodies as dicts, custom JSON as its value
/// (bytes that are not JSON, from a C node, as `bytes`).
fn body_to_python<'py>(py: Python<'py>, body: &Body) -> PyResult<Bound<'py, PyAny>> {
    let value = match body {
        Body::Request(op) => op_value(op),
        Body::Reply(r) => reply_value(r),
        Body::Replicate { key, value, seq } => json!({"type": "replicate", "key": key, "value": value, "seq": seq}),
        Body::ReplicateAck { seq } => json!({"type": "replicate_ack", "seq": seq}),
        Body::Heartbeat { epoch } => json!({"type": "heartbeat", "epoch": epoch}),
        Body::Join => json!({"type": "join"}),
        Body::StateTransfer { entries, epoch } => {
            json!({"type": "state_transfer", "entries": entries.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(), "epoch": epoch})
        }
        Body::Custom(bytes) => match std::str::from_utf8(bytes)
            .ok()
            .and_then(|t| toron_core::canon::parse_json(t).ok())
        {
            Some(v) => v,
            None => return Ok(PyBytes::new(py, bytes).into_any()),
        },
    };
    convert::from_value(py, &value)
}

fn message_of<'py>(py: Python<'py>, m: &Message, names: &[String]) -> PyResult<Bound<'py, PyMessage>> {
    let name = |id: NodeId| names.get(id.0 as usize).cloned().unwrap_or_else(|| CLIENT.to_string());
    Bound::new(
        py,
        PyMessage {
            src: name(m.src),
            dst: name(m.dst),
            msg_id: m.msg_id,
            in_reply_to: m.in_reply_to,
            body: body_to_python(py, &m.body)?.unbind(),
            src_id: m.src.0,
        },
    )
}

fn u64_field(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

/// The kernel's typed body for the client protocol, if `value` is exactly one of its messages.
fn typed_body(value: &Value) -> Option<Body> {
    let map = value.as_object()?;
    let kind = map.get("type")?.as_str()?;
    let keys = |expected: &[&str]| map.len() == expected.len() && expected.iter().all(|k| map.contains_key(*k));
    Some(match kind {
        "echo" if keys(&["type"]) => Body::Request(Op::Echo),
        "get" if keys(&["type", "key"]) => Body::Request(Op::Get {
            key: u64_field(map, "key")?,
        }),
        "put" if keys(&["type", "key", "value"]) => Body::Request(Op::Put {
            key: u64_field(map, "key")?,
            value: u64_field(map, "value")?,
        }),
        "ok" if keys(&["type"]) => Body::Reply(Reply::Ok),
        "error" if keys(&["type"]) => Body::Reply(Reply::Error),
        "not_primary" if keys(&["type"]) => Body::Reply(Reply::NotPrimary),
        "value" if keys(&["type", "value"]) => Body::Reply(Reply::Value(match map.get("value")? {
            Value::Null => None,
            v => Some(v.as_u64()?),
        })),
        _ => return None,
    })
}

fn body_from_python(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Body> {
    // The client protocol first: its keys and values are u64 (beyond JSON's 2^53), carried typed.
    let value = convert::to_value_as(obj, ErrorKind::InvalidArgument)
        .map_err(|e| PyTypeError::new_err(format!("{what} is not JSON-like: {}", e.value(obj.py()))))?;
    if let Some(body) = typed_body(&value) {
        return Ok(body);
    }
    let bytes = toron_core::canon::check(&value)
        .and_then(|()| toron_core::canon::canonical_bytes(&value))
        .map_err(|e| PyTypeError::new_err(format!("{what} is not JSON-like: {e}")))?;
    Ok(Body::Custom(bytes.into()))
}

// ---------------------------------------------------------------------------------------------------------
// The Python classes.

/// A message delivered to a node (`on_message(ctx, src, msg)`).
#[pyclass(frozen, module = "toron", name = "Message")]
pub(crate) struct PyMessage {
    src: String,
    dst: String,
    msg_id: u64,
    in_reply_to: u64,
    body: Py<PyAny>,
    src_id: u32,
}

#[pymethods]
impl PyMessage {
    /// The sender's node id (`"client"` for load clients).
    #[getter]
    fn src(&self) -> &str {
        &self.src
    }
    /// The receiver's node id.
    #[getter]
    fn dst(&self) -> &str {
        &self.dst
    }
    /// Unique per simulation, from 1.
    #[getter]
    fn msg_id(&self) -> u64 {
        self.msg_id
    }
    /// The `msg_id` this message answers, or 0.
    #[getter]
    fn in_reply_to(&self) -> u64 {
        self.in_reply_to
    }
    /// The body: a JSON-like value (client requests are dicts such as `{"type": "get", "key": 3}`).
    #[getter]
    fn body(&self, py: Python<'_>) -> Py<PyAny> {
        self.body.clone_ref(py)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        let body = self.body.bind(py).repr().map(|r| r.to_string()).unwrap_or_default();
        format!(
            "Message(src={}, dst={}, msg_id={}, in_reply_to={}, body={body})",
            convert::quoted(&self.src),
            convert::quoted(&self.dst),
            self.msg_id,
            self.in_reply_to
        )
    }
}

/// What a node may do during one callback. Valid only during that callback.
#[pyclass(module = "toron", name = "Context")]
pub(crate) struct PyContext {
    node: String,
    now: u64,
    incarnation: u32,
    rng: Stream,
    actions: Vec<Action>,
    output: Py<PyDict>,
    names: Arc<[String]>,
    open: bool,
}

impl PyContext {
    fn check_open(&self, what: &str) -> PyResult<()> {
        if self.open {
            Ok(())
        } else {
            Err(PyRuntimeError::new_err(format!(
                "ctx.{what}: this context belongs to a callback of node {:?} that has returned (use the ctx of the \
                 current callback)",
                self.node
            )))
        }
    }
}

fn duration_arg(after: &Bound<'_, PyAny>) -> PyResult<Time> {
    if let Ok(s) = after.cast::<PyString>() {
        let text = convert::str_of(s).ok_or_else(|| PyValueError::new_err("after is not valid Unicode"))?;
        return toron_core::scenario::Duration::parse(text)
            .map(|d| d.nanos())
            .map_err(|e| PyValueError::new_err(format!("after {text:?}: {e}")));
    }
    if after.is_instance_of::<PyInt>() && !after.is_instance_of::<PyBool>() {
        return after
            .extract::<u64>()
            .map_err(|_| PyValueError::new_err("after must be from 0 to 2^64-1 nanoseconds"));
    }
    let type_name = after.get_type().name().map(|n| n.to_string()).unwrap_or_default();
    Err(PyTypeError::new_err(format!(
        "after must be a duration string (\"250ms\") or an int of nanoseconds, not {type_name}"
    )))
}

#[pymethods]
impl PyContext {
    /// This node's id.
    #[getter]
    fn node(&self) -> &str {
        &self.node
    }

    /// The node's clock in integer nanoseconds: virtual time plus any injected clock skew.
    #[getter]
    fn now(&self) -> u64 {
        self.now
    }

    /// How many times this node has been restarted (0 on the first start).
    #[getter]
    fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// The scenario's node ids, in order.
    #[getter]
    fn nodes(&self) -> Vec<String> {
        self.names.to_vec()
    }

    /// This node's part of the outcome's output document (a dict, JSON-like values; empty: none).
    #[getter]
    fn output(&self, py: Python<'_>) -> Py<PyDict> {
        self.output.clone_ref(py)
    }

    /// Send `msg` (a JSON-like value) to node `dst`.
    fn send(&mut self, dst: &str, msg: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open("send")?;
        let Some(index) = self.names.iter().position(|n| n == dst) else {
            return Err(PyValueError::new_err(format!(
                "ctx.send: no node {dst:?} (expected one of: {}; answer load clients with ctx.reply)",
                self.names.join(", ")
            )));
        };
        let body = body_from_python(msg, &format!("ctx.send: the message to {dst:?}"))?;
        self.actions.push(Action::Send {
            dst: index as u32,
            body,
        });
        Ok(())
    }

    /// Answer `msg` with `body` (sets `in_reply_to`). A load client's request is answered with
    /// `{"type": "ok"}`, `{"type": "value", "value": v}` (v an int or None), `{"type": "error"}` or
    /// `{"type": "not_primary"}`.
    fn reply(&mut self, msg: &Bound<'_, PyMessage>, body: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open("reply")?;
        let m = msg.get();
        let converted = body_from_python(body, &format!("ctx.reply: the reply to {:?}", m.src))?;
        if m.src_id as usize >= self.names.len() && !matches!(converted, Body::Reply(_)) {
            return Err(PyTypeError::new_err(
                "ctx.reply: a reply to a load client must be {\"type\": \"ok\"}, {\"type\": \"value\", \"value\": int | None}, \
                 {\"type\": \"error\"} or {\"type\": \"not_primary\"}",
            ));
        }
        self.actions.push(Action::Reply {
            to: m.src_id,
            msg_id: m.msg_id,
            body: converted,
        });
        Ok(())
    }

    /// Call `on_timer(ctx, name)` after `after` (`"250ms"` or int nanoseconds); a pending timer of the same
    /// name is replaced.
    fn set_timer(&mut self, name: &str, after: &Bound<'_, PyAny>) -> PyResult<()> {
        self.check_open("set_timer")?;
        let after = duration_arg(after)?;
        self.actions.push(Action::SetTimer {
            name: name.to_string(),
            after,
        });
        Ok(())
    }

    /// Cancel the pending timer `name` (an unknown or fired timer is ignored).
    fn cancel_timer(&mut self, name: &str) -> PyResult<()> {
        self.check_open("cancel_timer")?;
        self.actions.push(Action::CancelTimer(name.to_string()));
        Ok(())
    }

    /// A uniform float in [0, 1) from the node's own random stream.
    fn random(&mut self) -> PyResult<f64> {
        self.check_open("random")?;
        Ok(self.rng.unit())
    }

    /// A uniform integer in [a, b] from the node's own random stream.
    fn randint(&mut self, a: i64, b: i64) -> PyResult<i64> {
        self.check_open("randint")?;
        if a > b {
            return Err(PyValueError::new_err(format!("randint({a}, {b}): a must not exceed b")));
        }
        let span = (b as i128 - a as i128 + 1) as u128;
        let draw = if span > u64::MAX as u128 {
            self.rng.next_u64()
        } else {
            self.rng.below(span as u64)
        };
        Ok((a as i128 + draw as i128) as i64)
    }

    /// A uniformly chosen element of a non-empty sequence, from the node's own random stream.
    fn choice<'py>(&mut self, seq: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.check_open("choice")?;
        let n = seq.len()?;
        if n == 0 {
            return Err(PyIndexError::new_err(
                "ctx.choice: cannot choose from an empty sequence",
            ));
        }
        let i = self.rng.below(n as u64) as usize;
        seq.get_item(i)
    }

    /// An exponential variate with the given rate (mean 1/rate), from the node's own random stream.
    fn expovariate(&mut self, rate: f64) -> PyResult<f64> {
        self.check_open("expovariate")?;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(PyValueError::new_err(format!(
                "expovariate: rate {rate} must be positive and finite"
            )));
        }
        Ok(self.rng.exponential(1.0 / rate))
    }

    /// Count a coverage mark (the outcome's `coverage`; what `[expect] sometimes` asks for).
    fn mark(&mut self, name: &str) -> PyResult<()> {
        self.check_open("mark")?;
        self.actions.push(Action::Mark(name.to_string()));
        Ok(())
    }

    /// Report that an invariant does not hold (the outcome's `violations`).
    #[pyo3(signature = (text, invariant = "node"))]
    fn violation(&mut self, text: &str, invariant: &str) -> PyResult<()> {
        self.check_open("violation")?;
        self.actions.push(Action::Violation {
            invariant: invariant.to_string(),
            text: text.to_string(),
        });
        Ok(())
    }

    /// Write a line into the trace (part of the digest).
    fn log(&mut self, text: &str) -> PyResult<()> {
        self.check_open("log")?;
        self.actions.push(Action::Log(text.to_string()));
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("Context(node={}, now={})", convert::quoted(&self.node), self.now)
    }
}

/// Add the classes to the module and register the resolvers of `python:` models and of `c:` models (the C
/// library's, `toron_ffi`: see `python/toron/__init__.py` for how node libraries find its `toron_ctx_*`).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMessage>()?;
    m.add_class::<PyContext>()?;
    toron_core::sim::registry::register("python", Arc::new(PythonResolver));
    toron_ffi::node::register_c_resolver();
    Ok(())
}
