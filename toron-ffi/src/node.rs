//! Nodes written in C: a `toron_node_vtable` of callbacks bound to a scenario node
//! (`toron_scenario_set_node`) or found in a shared library by a `c:<symbol>` model, and the `toron_ctx_*`
//! functions the callbacks act through.
//!
//! Ownership and lifetime. A C node owns its state through `userdata`: toron never reads or frees it except
//! through `destroy`. The same `userdata` serves every simulation of the scenario and every incarnation of the
//! node: `on_start` is called when each simulation starts (reset the state there), `on_restart` (or
//! `on_start` when it is NULL) after each restart. A callback returns 0 for success; any other value stops the
//! simulation with `TORON_NODE_ERROR`, the last error naming the node, the callback, the status and the
//! virtual time. Callbacks run on the simulating thread: a scenario with a C node swept on several threads
//! calls them concurrently, so such a node must be thread-safe or swept with `threads = 1`.

use crate::error::{FfiError, FfiResult};
use crate::handle::{borrow, borrow_str};
use crate::panic::{boundary, or_default};
use crate::scenario::toron_scenario;
use crate::status::toron_status;
use libloading::Library;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use toron_core::sim::registry::{self, ExternalModel, Resolver};
use toron_core::sim::{Body, Ctx, Message, Node, NodeFactory, NodeId, Op, Reply, TimerId};
use toron_core::{Error, ErrorKind};

/// What a node may do during one callback: send, reply, timers, time, randomness, output, marks,
/// violations, logs. Opaque; given to each callback and valid only until it returns.
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_ctx {
    ctx: *mut c_void,
    msg: *const Message,
    output: *mut Option<Value>,
    callback: &'static str,
}

/// The callbacks of a node written in C. Every callback may be NULL (nothing to do) and returns 0 for
/// success, anything else to stop the simulation with `TORON_NODE_ERROR`.
///
/// - `on_start(ctx, userdata)`: the node starts, at the start of each simulation (reset the state here);
/// - `on_message(ctx, userdata, src, body, len)`: a message of `len` bytes from node `src` (NUL-terminated
///   too, so a JSON text may be read as a string; valid during the call only). A load client's request comes
///   as `{"type":"echo"}`, `{"type":"get","key":K}` or `{"type":"put","key":K,"value":V}`; answer it with
///   `toron_ctx_reply`;
/// - `on_timer(ctx, userdata, timer, tag)`: a timer set with `toron_ctx_set_timer` fired;
/// - `on_restart(ctx, userdata)`: the node restarts after a crash (NULL: `on_start` is called instead);
/// - `destroy(userdata)`: called once when the scenario that owns the binding is freed (or the binding is
///   replaced); never for `c:<symbol>` models, whose library owns its `userdata`;
/// - `userdata`: for `c:<symbol>` models, the pointer given to the callbacks (`toron_scenario_set_node` takes
///   its own `userdata` argument instead and ignores this field).
#[repr(C)]
#[derive(Clone, Copy)]
#[allow(non_camel_case_types, reason = "C type name")]
pub struct toron_node_vtable {
    /// The node starts (each simulation).
    pub on_start: Option<unsafe extern "C" fn(ctx: *mut toron_ctx, userdata: *mut c_void) -> c_int>,
    /// A message arrived.
    pub on_message: Option<
        unsafe extern "C" fn(
            ctx: *mut toron_ctx,
            userdata: *mut c_void,
            src: u32,
            body: *const c_char,
            len: usize,
        ) -> c_int,
    >,
    /// A timer fired.
    pub on_timer:
        Option<unsafe extern "C" fn(ctx: *mut toron_ctx, userdata: *mut c_void, timer: u64, tag: u64) -> c_int>,
    /// The node restarts after a crash.
    pub on_restart: Option<unsafe extern "C" fn(ctx: *mut toron_ctx, userdata: *mut c_void) -> c_int>,
    /// Frees `userdata`.
    pub destroy: Option<unsafe extern "C" fn(userdata: *mut c_void)>,
    /// The `userdata` of a `c:<symbol>` model.
    pub userdata: *mut c_void,
}

/// One binding: the callbacks, their userdata, and the library they live in (kept loaded).
struct Shared {
    vtable: toron_node_vtable,
    userdata: *mut c_void,
    /// Whether dropping the binding calls `destroy` (bindings of `toron_scenario_set_node` once bound).
    armed: AtomicBool,
    _library: Option<Arc<Library>>,
}

// SAFETY: the pointers are the C node's; the header tells the node that its callbacks may run on any thread.
unsafe impl Send for Shared {}
// SAFETY: as for Send.
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.armed.load(Ordering::SeqCst) {
            if let Some(destroy) = self.vtable.destroy {
                // SAFETY: the C node's destructor for its own userdata, called once (this drop).
                unsafe { destroy(self.userdata) };
            }
        }
    }
}

struct CFactory(Arc<Shared>);

impl NodeFactory for CFactory {
    fn create(&self) -> toron_core::Result<Box<dyn Node>> {
        Ok(Box::new(CNode {
            shared: self.0.clone(),
            output: None,
        }))
    }
}

/// One incarnation of a C node; `output` is what it last gave `toron_ctx_set_output`.
struct CNode {
    shared: Arc<Shared>,
    output: Option<Value>,
}

impl CNode {
    /// Run `call` with a `toron_ctx`, turning a nonzero status into the simulation's node error.
    fn call(
        &mut self,
        ctx: &mut Ctx<'_>,
        callback: &'static str,
        msg: Option<&Message>,
        call: impl FnOnce(*mut toron_ctx, *mut c_void) -> c_int,
    ) {
        let mut c = toron_ctx {
            ctx: (ctx as *mut Ctx<'_>).cast(),
            msg: msg.map_or(std::ptr::null(), |m| m as *const Message),
            output: &mut self.output,
            callback,
        };
        let status = call(&mut c, self.shared.userdata);
        if status != 0 {
            let (name, at) = (ctx.name(ctx.id()).to_string(), ctx.now());
            ctx.fail(Error::new(
                ErrorKind::Node,
                format!("node {name:?}: {callback} returned status {status} at {at} ns"),
            ));
        }
    }
}

impl Node for CNode {
    fn on_start(&mut self, ctx: &mut Ctx<'_>) {
        let v = self.shared.vtable;
        let (name, f) = match (ctx.incarnation(), v.on_restart) {
            (n, Some(f)) if n > 0 => ("on_restart", f),
            _ => match v.on_start {
                Some(f) => ("on_start", f),
                None => return,
            },
        };
        // SAFETY: the C node's callback, called with a live context and its own userdata.
        self.call(ctx, name, None, |c, u| unsafe { f(c, u) });
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        let Some(f) = self.shared.vtable.on_message else {
            return;
        };
        let mut bytes = body_to_bytes(&msg.body);
        let len = bytes.len();
        bytes.push(0);
        let src = msg.src.0;
        // SAFETY: as in on_start; `bytes` outlives the call and is NUL-terminated after `len` bytes.
        self.call(ctx, "on_message", Some(msg), |c, u| unsafe {
            f(c, u, src, bytes.as_ptr().cast(), len)
        });
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_>, timer: TimerId, tag: u64) {
        let Some(f) = self.shared.vtable.on_timer else {
            return;
        };
        // SAFETY: as in on_start.
        self.call(ctx, "on_timer", None, |c, u| unsafe { f(c, u, timer.0, tag) });
    }

    fn output(&self, _end: u64) -> Option<Value> {
        self.output.clone()
    }
}

/// A message body as the C node reads it: typed bodies as small JSON texts, custom bodies as sent.
fn body_to_bytes(body: &Body) -> Vec<u8> {
    let v = match body {
        Body::Custom(b) => return b.to_vec(),
        Body::Request(Op::Echo) => json!({"type": "echo"}),
        Body::Request(Op::Get { key }) => json!({"type": "get", "key": key}),
        Body::Request(Op::Put { key, value }) => json!({"type": "put", "key": key, "value": value}),
        Body::Reply(Reply::Ok) => json!({"type": "ok"}),
        Body::Reply(Reply::Value(v)) => json!({"type": "value", "value": v}),
        Body::Reply(Reply::NotPrimary) => json!({"type": "not_primary"}),
        Body::Reply(Reply::Error) => json!({"type": "error"}),
        Body::Replicate { key, value, seq } => json!({"type": "replicate", "key": key, "value": value, "seq": seq}),
        Body::ReplicateAck { seq } => json!({"type": "replicate_ack", "seq": seq}),
        Body::Heartbeat { epoch } => json!({"type": "heartbeat", "epoch": epoch}),
        Body::Join => json!({"type": "join"}),
        Body::StateTransfer { entries, epoch } => {
            json!({"type": "state_transfer", "entries": entries.to_vec(), "epoch": epoch})
        }
    };
    v.to_string().into_bytes()
}

/// The body a C node sends: a request or reply of the load's (`{"type":"ok"}`, `{"type":"value","value":3}`,
/// ...) becomes typed, so load clients count it; anything else travels as the bytes given.
fn body_from_bytes(bytes: &[u8]) -> Body {
    typed(bytes).unwrap_or_else(|| Body::Custom(Arc::from(bytes)))
}

fn typed(bytes: &[u8]) -> Option<Body> {
    let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(bytes) else {
        return None;
    };
    let u = |k: &str| m.get(k).and_then(Value::as_u64);
    let body = match (m.get("type")?.as_str()?, m.len()) {
        ("ok", 1) => Body::Reply(Reply::Ok),
        ("not_primary", 1) => Body::Reply(Reply::NotPrimary),
        ("error", 1) => Body::Reply(Reply::Error),
        ("value", 2) if m.get("value") == Some(&Value::Null) => Body::Reply(Reply::Value(None)),
        ("value", 2) => Body::Reply(Reply::Value(Some(u("value")?))),
        ("echo", 1) => Body::Request(Op::Echo),
        ("get", 2) => Body::Request(Op::Get { key: u("key")? }),
        ("put", 3) => Body::Request(Op::Put {
            key: u("key")?,
            value: u("value")?,
        }),
        _ => return None,
    };
    Some(body)
}

/// The context of a callback, checked.
///
/// # Safety
///
/// `ctx` is NULL or the context given to a callback that has not returned.
unsafe fn context<'a>(ctx: *mut toron_ctx) -> FfiResult<&'a mut toron_ctx> {
    // SAFETY: the caller's guarantee.
    unsafe { ctx.as_mut() }.ok_or_else(|| FfiError::null("ctx"))
}

impl toron_ctx {
    fn sim(&mut self) -> &mut Ctx<'_> {
        // SAFETY: `ctx` points to the Ctx of the running callback (set in CNode::call), alive while it runs.
        unsafe { &mut *self.ctx.cast::<Ctx<'_>>() }
    }
}

/// The bytes `body[0..len]`; NULL only with `len` 0.
///
/// # Safety
///
/// `body` is NULL or `len` readable bytes.
unsafe fn bytes<'a>(body: *const c_char, len: usize) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-NULL (checked by borrow) and `len` readable bytes (the caller's guarantee).
    Ok(unsafe { std::slice::from_raw_parts((borrow(body, "body")? as *const c_char).cast::<u8>(), len) })
}

fn write_id(out: *mut u64, id: u64) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable (the header's pointer rules).
        unsafe { out.write(id) };
    }
}

/// Send `body[0..len]` to node `dst` (an id from `toron_ctx_node`); a load request or reply in JSON
/// (`{"type":"ok"}`, `{"type":"value","value":3}`, ...) is sent typed, anything else as the bytes. Writes the
/// new message's id to `*msg_id_out` unless it is NULL. Fails with `TORON_INVALID_ARGUMENT` for an unknown
/// `dst`, `TORON_NULL_ARGUMENT` (a NULL `body` is allowed with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_send(
    ctx: *mut toron_ctx,
    dst: u32,
    body: *const c_char,
    len: usize,
    msg_id_out: *mut u64,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, bytes) = unsafe { (context(ctx)?, bytes(body, len)?) };
        let sim = c.sim();
        let known = sim.node(sim.name(NodeId(dst))).is_some() || sim.name(NodeId(dst)) == "client";
        if !known {
            return Err(FfiError::new(
                toron_status::TORON_INVALID_ARGUMENT,
                format!("toron_ctx_send: no node {dst} (expected an id from toron_ctx_node)"),
            ));
        }
        write_id(msg_id_out, sim.send(NodeId(dst), body_from_bytes(bytes)));
        Ok(())
    })
}

/// Answer the message being handled (in `on_message` only) with `body[0..len]`, converted as by
/// `toron_ctx_send`: `{"type":"ok"}` answers a load client's request. Fails with `TORON_INVALID_ARGUMENT`
/// outside `on_message`, `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_reply(
    ctx: *mut toron_ctx,
    body: *const c_char,
    len: usize,
    msg_id_out: *mut u64,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, bytes) = unsafe { (context(ctx)?, bytes(body, len)?) };
        // SAFETY: `msg` is NULL or the message of the running on_message.
        let Some(msg) = (unsafe { c.msg.as_ref() }) else {
            return Err(FfiError::new(
                toron_status::TORON_INVALID_ARGUMENT,
                format!("toron_ctx_reply called in {} (expected in on_message)", c.callback),
            ));
        };
        write_id(msg_id_out, c.sim().reply(msg, body_from_bytes(bytes)));
        Ok(())
    })
}

/// Call the node's `on_timer` with `tag` after `delay_ns` nanoseconds of virtual time; writes the timer's id
/// (for `toron_ctx_cancel_timer`) to `*timer_out` unless it is NULL. Fails with `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_set_timer(
    ctx: *mut toron_ctx,
    tag: u64,
    delay_ns: u64,
    timer_out: *mut u64,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let c = unsafe { context(ctx) }?;
        write_id(timer_out, c.sim().set_timer(delay_ns, tag).0);
        Ok(())
    })
}

/// Cancel a timer that has not fired (a fired or unknown one is ignored). Fails with `TORON_NULL_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_cancel_timer(ctx: *mut toron_ctx, timer: u64) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        unsafe { context(ctx) }?.sim().cancel_timer(TimerId(timer));
        Ok(())
    })
}

/// The node's clock in nanoseconds of virtual time (with any injected skew); 0 when `ctx` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_now(ctx: *mut toron_ctx) -> u64 {
    // SAFETY: the header's pointer rules.
    or_default(0, || unsafe { context(ctx) }.map_or(0, |c| c.sim().now()))
}

/// The next number of the node's own random stream (deterministic per seed); 0 when `ctx` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_random(ctx: *mut toron_ctx) -> u64 {
    // SAFETY: the header's pointer rules.
    or_default(0, || unsafe { context(ctx) }.map_or(0, |c| c.sim().rng().next_u64()))
}

/// This node's id; 0 when `ctx` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_id(ctx: *mut toron_ctx) -> u32 {
    // SAFETY: the header's pointer rules.
    or_default(0, || unsafe { context(ctx) }.map_or(0, |c| c.sim().id().0))
}

/// How many times this node has restarted (0 on the first start); 0 when `ctx` is NULL.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_incarnation(ctx: *mut toron_ctx) -> u32 {
    // SAFETY: the header's pointer rules.
    or_default(0, || unsafe { context(ctx) }.map_or(0, |c| c.sim().incarnation()))
}

/// Write the id of the scenario node `name` to `*out`. Fails with `TORON_INVALID_ARGUMENT` when there is no
/// such node, `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_node(ctx: *mut toron_ctx, name: *const c_char, out: *mut u32) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, name) = unsafe { (context(ctx)?, borrow_str(name, "name")?) };
        crate::handle::check_out(out, "out")?;
        let id = c.sim().node(name).ok_or_else(|| {
            FfiError::new(
                toron_status::TORON_INVALID_ARGUMENT,
                format!("toron_ctx_node: no node {name:?} in the scenario"),
            )
        })?;
        // SAFETY: checked non-NULL, writable (the header's pointer rules).
        unsafe { out.write(id.0) };
        Ok(())
    })
}

/// Set the node's contribution to the outcome's `output` (under its id) to the JSON text `json`; the last
/// one given by the node's current incarnation wins. Fails with `TORON_JSON_ERROR` when `json` is not JSON,
/// `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_set_output(ctx: *mut toron_ctx, json: *const c_char) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, text) = unsafe { (context(ctx)?, borrow_str(json, "json")?) };
        let v: Value = serde_json::from_str(text).map_err(|e| {
            FfiError::new(
                toron_status::TORON_JSON_ERROR,
                format!("toron_ctx_set_output: json is not JSON: {e}"),
            )
        })?;
        // SAFETY: `output` points to the running node's output slot (set in CNode::call).
        unsafe { *c.output = Some(v) };
        Ok(())
    })
}

/// Mark `mark` as reached (counted in the outcome's `coverage`, for `[expect] sometimes`). Fails with
/// `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_mark(ctx: *mut toron_ctx, mark: *const c_char) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, mark) = unsafe { (context(ctx)?, borrow_str(mark, "mark")?) };
        c.sim().mark(mark);
        Ok(())
    })
}

/// Report that the invariant `invariant` does not hold, with `message`. Fails with `TORON_NULL_ARGUMENT` or
/// `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_violation(
    ctx: *mut toron_ctx,
    invariant: *const c_char,
    message: *const c_char,
) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, invariant, message) = unsafe {
            (
                context(ctx)?,
                borrow_str(invariant, "invariant")?,
                borrow_str(message, "message")?,
            )
        };
        c.sim().violation(invariant, message);
        Ok(())
    })
}

/// Write `text` into the trace (a `log` record, part of the digest). Fails with `TORON_NULL_ARGUMENT` or
/// `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_log(ctx: *mut toron_ctx, text: *const c_char) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, text) = unsafe { (context(ctx)?, borrow_str(text, "text")?) };
        c.sim().log(text);
        Ok(())
    })
}

/// Stop the simulation with `TORON_NODE_ERROR` once the callback returns, the last error naming the node, the
/// callback, the virtual time and `message` (the first failure wins). Fails with `TORON_NULL_ARGUMENT` or
/// `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_ctx_fail(ctx: *mut toron_ctx, message: *const c_char) -> toron_status {
    boundary(|| {
        // SAFETY: the header's pointer rules.
        let (c, message) = unsafe { (context(ctx)?, borrow_str(message, "message")?) };
        let callback = c.callback;
        let sim = c.sim();
        let (name, at) = (sim.name(sim.id()).to_string(), sim.now());
        sim.fail(Error::new(
            ErrorKind::Node,
            format!("node {name:?}: {callback} failed at {at} ns: {message}"),
        ));
        Ok(())
    })
}

/// Bind node `id` of `scenario` to the C callbacks of `vtable` (copied) with `userdata`: the node then runs
/// them instead of its model, in every simulation of the scenario.
///
/// On success the scenario owns `userdata`: `vtable->destroy(userdata)` (if not NULL) is called once, when
/// the scenario is freed or the node is bound again. On failure nothing is kept and the caller still owns
/// `userdata`. Fails with `TORON_SCENARIO_ERROR` when the scenario has no node `id` (the last error lists
/// them), `TORON_NULL_ARGUMENT` or `TORON_INVALID_UTF8`.
#[no_mangle]
pub unsafe extern "C" fn toron_scenario_set_node(
    scenario: *mut toron_scenario,
    id: *const c_char,
    vtable: *const toron_node_vtable,
    userdata: *mut c_void,
) -> toron_status {
    boundary(|| {
        register_c_resolver();
        // SAFETY: the header's pointer rules.
        let scenario = unsafe { scenario.as_mut() }.ok_or_else(|| FfiError::null("scenario"))?;
        // SAFETY: as above.
        let (id, vtable) = unsafe { (borrow_str(id, "id")?, *borrow(vtable, "vtable")?) };
        let shared = Arc::new(Shared {
            vtable,
            userdata,
            armed: AtomicBool::new(false),
            _library: None,
        });
        scenario.inner.set_node(id, Arc::new(CFactory(shared.clone())))?;
        shared.armed.store(true, Ordering::SeqCst);
        Ok(())
    })
}

/// Register the resolver of `c:<symbol>` models in `toron_core::sim::registry`, once per process: the C
/// library does it at the first `toron_scenario_*` or `toron_manifest_*` call, and the Python module at import
/// (it links this crate as an rlib, so `toron run` simulates C nodes too).
///
/// A node library calls the `toron_ctx_*` functions by name, so they must be in the process's global symbol
/// scope when it is opened: a C program linked with `-ltoron` has them there; the Python module, which Python
/// opened with `RTLD_LOCAL`, puts itself there at import (`python/toron/__init__.py`).
pub fn register_c_resolver() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| registry::register("c", Arc::new(CResolver)));
}

/// Loaded libraries, by path: kept open for the process's life, so a vtable read from one stays valid.
static LIBRARIES: Mutex<BTreeMap<PathBuf, Arc<Library>>> = Mutex::new(BTreeMap::new());

/// Finds `c:<symbol>` models: the symbol is `const toron_node_vtable *symbol(void)` in the node's `library`.
struct CResolver;

impl CResolver {
    fn path(m: &ExternalModel) -> Result<PathBuf, String> {
        let Some(lib) = &m.library else {
            return Err(format!(
                "model {:?} has no library (expected library = \"libmynode.so\", the shared library defining {})",
                m.model(),
                m.target
            ));
        };
        Ok(match &m.base_dir {
            Some(dir) if Path::new(lib).is_relative() && lib.contains('/') => dir.join(lib),
            _ => PathBuf::from(lib),
        })
    }

    fn open(path: &Path) -> Result<Arc<Library>, String> {
        let mut libs = LIBRARIES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lib) = libs.get(path) {
            return Ok(lib.clone());
        }
        // SAFETY: loading a library runs its initialisers; naming it in a scenario is consent to that.
        let lib = unsafe { Library::new(path) }.map_err(|e| {
            format!(
                "cannot open library {:?}: {e} (expected a shared library built with -shared -fPIC)",
                path.display().to_string()
            )
        })?;
        let lib = Arc::new(lib);
        libs.insert(path.to_path_buf(), lib.clone());
        Ok(lib)
    }

    fn lookup(m: &ExternalModel) -> Result<(Arc<Library>, toron_node_vtable), String> {
        let path = Self::path(m)?;
        let lib = Self::open(&path)?;
        type Entry = unsafe extern "C" fn() -> *const toron_node_vtable;
        // SAFETY: the symbol is documented as `const toron_node_vtable *symbol(void)`.
        let vtable = unsafe {
            let entry = lib.get::<Entry>(m.target.as_bytes()).map_err(|_| {
                format!(
                    "no symbol {:?} in library {:?} (expected a function `const toron_node_vtable *{}(void)`)",
                    m.target,
                    path.display().to_string(),
                    m.target
                )
            })?;
            entry().as_ref().copied()
        };
        let vtable = vtable.ok_or_else(|| {
            format!(
                "{}() in {:?} returned NULL (expected a vtable)",
                m.target,
                path.display().to_string()
            )
        })?;
        Ok((lib, vtable))
    }
}

impl CResolver {
    /// A relative `library` of a scenario without a directory (read from text or a value): where it is
    /// depends on the current directory when the simulation starts, so it is checked then.
    fn unplaced(m: &ExternalModel) -> bool {
        m.base_dir.is_none()
            && m.library
                .as_deref()
                .is_some_and(|l| l.contains('/') && Path::new(l).is_relative())
    }
}

impl Resolver for CResolver {
    fn check_library(&self, m: &ExternalModel) -> Result<(), String> {
        if Self::unplaced(m) {
            return Ok(());
        }
        Self::open(&Self::path(m)?).map(|_| ())
    }

    fn check(&self, m: &ExternalModel) -> Result<(), String> {
        if Self::unplaced(m) {
            return Ok(());
        }
        Self::lookup(m).map(|_| ())
    }

    fn factory(&self, m: &ExternalModel) -> toron_core::Result<Arc<dyn NodeFactory>> {
        let (lib, vtable) =
            Self::lookup(m).map_err(|e| Error::new(ErrorKind::Node, format!("node {:?}: {e}", m.node)))?;
        Ok(Arc::new(CFactory(Arc::new(Shared {
            userdata: vtable.userdata,
            vtable,
            armed: AtomicBool::new(false),
            _library: Some(lib),
        }))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_bodies_round_trip_and_others_stay_bytes() {
        for body in [
            Body::Request(Op::Echo),
            Body::Request(Op::Get { key: 3 }),
            Body::Request(Op::Put { key: 3, value: 4 }),
            Body::Reply(Reply::Ok),
            Body::Reply(Reply::Value(Some(7))),
            Body::Reply(Reply::Value(None)),
            Body::Reply(Reply::NotPrimary),
            Body::Reply(Reply::Error),
        ] {
            assert_eq!(body_from_bytes(&body_to_bytes(&body)), body);
        }
        for raw in [
            &b"hello"[..],
            br#"{"type":"ok","x":1}"#,
            br#"{"type":"value","value":"x"}"#,
            b"[1]",
        ] {
            assert_eq!(body_from_bytes(raw), Body::Custom(Arc::from(raw)));
        }
        assert_eq!(body_to_bytes(&Body::Reply(Reply::Ok)), br#"{"type":"ok"}"#);
    }
}
