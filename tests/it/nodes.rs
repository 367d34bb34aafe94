//! The node interface seen from outside the core: nodes bound in code, the resolver registry of `python:` and
//! `c:` models, failures, logs and durable state across a crash. (The Python and C adapters are tested on
//! their own surfaces; these are the kernel's promises they rely on.)

use serde_json::json;
use std::sync::{Arc, Mutex};
use toron_core::scenario::{Format, Scenario};
use toron_core::sim::registry::{self, ExternalModel, Resolver};
use toron_core::sim::{self, Body, Ctx, Message, Node, NodeFactory, Op, Reply, TimerId};
use toron_core::{Error, ErrorKind};

fn echo_scenario(model: &str) -> Scenario {
    let text = format!(
        r#"
name = "echo"
seed = 1
stop = {{ requests = 500 }}
[[node]]
id = "server"
model = "{model}"
[network]
latency = {{ dist = "constant", value = "5ms" }}
[load]
mode = "closed"
clients = 4
target = "server"
"#
    );
    Scenario::from_str(&text, Format::Toml).expect("a valid scenario")
}

/// The built-in echo's behaviour, written against the public interface only.
#[derive(Default)]
struct MyEcho {
    answered: u64,
    log_each: bool,
}

impl Node for MyEcho {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        if msg.body == Body::Request(Op::Echo) {
            self.answered += 1;
            if self.log_each {
                ctx.log(format!("answer {}", self.answered));
            }
            ctx.reply(msg, Body::Reply(Reply::Ok));
        }
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_>, _timer: TimerId, _tag: u64) {}
    fn output(&self, _end: u64) -> Option<serde_json::Value> {
        Some(json!({ "answered": self.answered }))
    }
}

#[test]
fn a_node_bound_in_code_behaves_like_the_model_it_replaces() {
    let builtin = sim::simulate(&echo_scenario("echo"), None).unwrap();
    let mut s = echo_scenario("echo");
    s.set_node("server", Arc::new(|| Box::new(MyEcho::default()) as Box<dyn Node>))
        .unwrap();
    let bound = sim::simulate(&s, None).unwrap();
    assert_eq!(bound.digest, builtin.digest);
    assert_eq!(bound.output, builtin.output);
    // Clones keep the binding; the scenario's identity does not change.
    assert_eq!(sim::simulate(&s.clone(), None).unwrap().digest, builtin.digest);
    assert_eq!(s.id(), echo_scenario("echo").id());
    assert!(s.has_bindings());

    let err = s
        .set_node("nope", Arc::new(|| Box::new(MyEcho::default()) as Box<dyn Node>))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Scenario);
    assert!(
        err.message().contains("no node \"nope\" (expected one of: server)"),
        "{err}"
    );
}

#[test]
fn log_lines_go_into_the_trace_and_its_digest() {
    let quiet = sim::simulate(&echo_scenario("echo"), None).unwrap();
    let mut s = echo_scenario("echo");
    s.set_node(
        "server",
        Arc::new(|| {
            Box::new(MyEcho {
                log_each: true,
                ..Default::default()
            }) as Box<dyn Node>
        }),
    )
    .unwrap();
    let dir = crate::scratch::Scratch::new("nodes-log");
    let path = dir.join("trace.jsonl");
    let logged = sim::simulate_with(
        &s,
        &sim::SimOptions {
            trace: Some(path.clone()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_ne!(logged.digest, quiet.digest, "a log line is part of the digest");
    assert_eq!(sim::simulate(&s, None).unwrap().digest, logged.digest);
    let trace = std::fs::read_to_string(&path).unwrap();
    let first = trace
        .lines()
        .find(|l| l.contains("\"type\":\"log\""))
        .expect("a log record");
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    assert_eq!(v["node"], "server");
    assert_eq!(v["text"], "answer 1");
}

/// Fails at its third message, as an adapter reports an exception.
struct Failing(u32);
impl Node for Failing {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        self.0 += 1;
        ctx.reply(msg, Body::Reply(Reply::Ok));
        if self.0 == 3 {
            let at = ctx.now();
            ctx.fail(Error::new(
                ErrorKind::Node,
                format!("node \"server\": on_message raised at {at} ns"),
            ));
        }
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_>, _timer: TimerId, _tag: u64) {}
}

#[test]
fn a_failing_node_stops_the_simulation_with_its_error() {
    let mut s = echo_scenario("echo");
    s.set_node("server", Arc::new(|| Box::new(Failing(0)) as Box<dyn Node>))
        .unwrap();
    let err = sim::simulate(&s, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Node);
    // The third request reaches the server at 5 ms (four clients start at once).
    assert_eq!(err.message(), "node \"server\": on_message raised at 5000000 ns");
    // A factory that fails fails the run before it starts.
    struct Refuses;
    impl NodeFactory for Refuses {
        fn create(&self) -> toron_core::Result<Box<dyn Node>> {
            Err(Error::new(ErrorKind::Node, "node \"server\": the constructor raised"))
        }
    }
    s.set_node("server", Arc::new(Refuses)).unwrap();
    assert_eq!(
        sim::simulate(&s, None).unwrap_err().message(),
        "node \"server\": the constructor raised"
    );
    // A sweep reports it too, never a panic.
    assert_eq!(sim::sweep(&s, &[1, 2], Some(2)).unwrap_err().kind(), ErrorKind::Node);
}

/// Counts its messages; `kept` survives a crash through the factory, `lost` does not.
struct Durable {
    store: Arc<Mutex<u64>>,
    kept: u64,
    lost: u64,
}
impl Node for Durable {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        self.kept += 1;
        self.lost += 1;
        ctx.reply(msg, Body::Reply(Reply::Ok));
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_>, _timer: TimerId, _tag: u64) {}
    fn on_crash(&mut self) {
        *self.store.lock().unwrap() = self.kept;
    }
    fn output(&self, _end: u64) -> Option<serde_json::Value> {
        Some(json!({ "kept": self.kept, "lost": self.lost }))
    }
}

#[test]
fn on_crash_hands_durable_state_to_the_next_instance() {
    let text = r#"
name = "durable"
seed = 1
stop = { time = "1s" }
[[node]]
id = "server"
model = "echo"
[network]
latency = { dist = "constant", value = "5ms" }
[load]
mode = "closed"
clients = 1
target = "server"
timeout = "50ms"
[[fault]]
kind = "crash"
node = "server"
at = "500ms"
[[fault]]
kind = "restart"
node = "server"
at = "600ms"
"#;
    let mut s = Scenario::from_str(text, Format::Toml).unwrap();
    let store = Arc::new(Mutex::new(0u64));
    let shared = store.clone();
    s.set_node(
        "server",
        Arc::new(move || {
            Box::new(Durable {
                kept: *shared.lock().unwrap(),
                store: shared.clone(),
                lost: 0,
            }) as Box<dyn Node>
        }),
    )
    .unwrap();
    let out = sim::simulate(&s, None).unwrap();
    let kept = out.output["server"]["kept"].as_u64().unwrap();
    let lost = out.output["server"]["lost"].as_u64().unwrap();
    assert!(*store.lock().unwrap() > 0, "on_crash ran");
    assert_eq!(
        kept,
        *store.lock().unwrap() + lost,
        "kept counts both lives, lost only the second"
    );
}

#[test]
fn outside_models_are_checked_by_their_resolver_and_built_by_it() {
    // Nothing registered for `c:` in this process: the scenario loads, simulating names what is missing.
    let s = echo_scenario("c:echo_node");
    let err = sim::simulate(&s, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Node);
    assert!(err.message().contains("nothing is registered for `c:` models"), "{err}");

    // A resolver for `c:` (standing in for the C library's): checks at load, builds at simulate.
    struct Table;
    impl Resolver for Table {
        fn check(&self, m: &ExternalModel) -> Result<(), String> {
            match m.target.as_str() {
                "my_echo" => Ok(()),
                other => Err(format!("no symbol {other:?} in the library (expected my_echo)")),
            }
        }
        fn factory(&self, m: &ExternalModel) -> toron_core::Result<Arc<dyn NodeFactory>> {
            assert_eq!((m.node.as_str(), m.model()), ("server", "c:my_echo".to_string()));
            Ok(Arc::new(|| Box::new(MyEcho::default()) as Box<dyn Node>))
        }
    }
    registry::register("c", Arc::new(Table));
    let builtin = sim::simulate(&echo_scenario("echo"), None).unwrap();
    assert_eq!(
        sim::simulate(&echo_scenario("c:my_echo"), None).unwrap().digest,
        builtin.digest
    );
    let text = "name = \"x\"\nstop = { time = \"1s\" }\n[[node]]\nid = \"a\"\nmodel = \"c:missing\"\n";
    let err = Scenario::from_str(text, Format::Toml).unwrap_err();
    assert_eq!(err.field(), Some("node[0].model"));
    assert_eq!(err.line(), Some(5));
    assert!(err.message().contains("no symbol \"missing\""), "{err}");
}

#[test]
fn model_prefixes_and_library_are_validated() {
    let text = "name = \"x\"\nstop = { time = \"1s\" }\n[[node]]\nid = \"a\"\nmodel = \"rust:thing\"\n";
    let err = Scenario::from_str(text, Format::Toml).unwrap_err();
    assert_eq!(err.field(), Some("node[0].model"));
    assert!(err.message().contains("unknown model prefix \"rust\""), "{err}");
    let text =
        "name = \"x\"\nstop = { time = \"1s\" }\n[[node]]\nid = \"a\"\nmodel = \"echo\"\nlibrary = \"libx.so\"\n";
    let err = Scenario::from_str(text, Format::Toml).unwrap_err();
    assert_eq!(err.field(), Some("node[0].library"));
    // A python: node loads where no Python is (to validate or canonicalise it) and keeps its library field.
    let text = "name = \"x\"\nstop = { time = \"1s\" }\n[[node]]\nid = \"a\"\nmodel = \"python:pkg.mod:Cart\"\n";
    let s = Scenario::from_str(text, Format::Toml).unwrap();
    assert_eq!(s.to_value()["node"][0]["model"], "python:pkg.mod:Cart");
}

/// The echo vectors (tests/vectors/c_nodes.json for the C and C++ echo nodes, nodes.json for the Python one)
/// are the built-in echo's digest, and a Rust node written against the public interface gives it too: the
/// same digest from the Rust surface as from the Python and C ones.
#[test]
fn the_echo_vectors_are_the_builtin_echo_and_a_rust_echo_node() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(root.join("tests/vectors").join(name)).unwrap()).unwrap()
    };
    let c = read("c_nodes.json");
    let python = read("nodes.json");
    let case = &c["echo"];
    let path = root.join(case["scenario"].as_str().unwrap());
    let seed = case["seed"].as_u64();
    let digest = case["digest"].as_str().unwrap();
    let builtin = sim::simulate(&Scenario::from_path(&path).unwrap(), seed).unwrap();
    assert_eq!(builtin.digest, digest);
    let mut s = Scenario::from_path(&path).unwrap();
    s.set_node("server", Arc::new(|| Box::new(MyEcho::default()) as Box<dyn Node>))
        .unwrap();
    let rust = sim::simulate(&s, seed).unwrap();
    assert_eq!(rust.digest, digest);
    assert_eq!(rust.output, builtin.output);
    let cases = python["cases"].as_array().unwrap();
    assert!(cases
        .iter()
        .any(|p| p["name"] == "python-echo" && p["digest"] == digest));
}

/// A key-value node of the tests: answers the load's get and put from a map, which a crash loses.
#[derive(Default)]
struct ForgetfulKv(std::collections::BTreeMap<u64, u64>);

impl Node for ForgetfulKv {
    fn on_start(&mut self, _ctx: &mut Ctx<'_>) {}
    fn on_message(&mut self, ctx: &mut Ctx<'_>, msg: &Message) {
        match msg.body {
            Body::Request(Op::Get { key }) => {
                let v = self.0.get(&key).copied();
                ctx.reply(msg, Body::Reply(Reply::Value(v)));
            }
            Body::Request(Op::Put { key, value }) => {
                self.0.insert(key, value);
                ctx.reply(msg, Body::Reply(Reply::Ok));
            }
            _ => {
                ctx.reply(msg, Body::Reply(Reply::Error));
            }
        }
    }
    fn on_timer(&mut self, _ctx: &mut Ctx<'_>, _timer: TimerId, _tag: u64) {}
}

fn outside_kv(reads: Option<f64>) -> std::result::Result<Scenario, Error> {
    let reads = reads.map_or(String::new(), |r| format!("reads = {r}\n"));
    let text = format!(
        r#"
name = "outside-kv"
seed = 1
stop = {{ time = "2s" }}
[[node]]
id = "kv"
model = "python:kvnode:Kv"
[network]
latency = {{ dist = "constant", value = "1ms" }}
[load]
mode = "closed"
clients = 2
target = "kv"
timeout = "50ms"
{reads}
[[fault]]
kind = "crash"
node = "kv"
at = "1s"
[[fault]]
kind = "restart"
node = "kv"
at = "1.1s"
"#
    );
    Scenario::from_str(&text, Format::Toml)
}

#[test]
fn reads_make_an_outside_node_a_key_value_target_whose_lost_writes_are_found() {
    let mut s = outside_kv(Some(0.5)).unwrap();
    s.set_node("kv", Arc::new(|| Box::new(ForgetfulKv::default()) as Box<dyn Node>))
        .unwrap();
    let o = sim::simulate(&s, None).unwrap();
    assert!(o.stats.requests_ok > 100, "{:?}", o.stats);
    assert!(
        o.violations.iter().any(|v| v.invariant == "acknowledged_write_lost"),
        "the crash lost acknowledged writes: {:?}",
        o.violations
    );
    // Without reads the load sends echo requests, which this node refuses.
    let mut s = outside_kv(None).unwrap();
    s.set_node("kv", Arc::new(|| Box::new(ForgetfulKv::default()) as Box<dyn Node>))
        .unwrap();
    let o = sim::simulate(&s, None).unwrap();
    assert_eq!(o.stats.requests_ok, 0);
    assert!(o.violations.is_empty());
    // reads on a built-in model other than kv is still refused, naming the field.
    let text = "name = \"x\"\nstop = { time = \"1s\" }\n[[node]]\nid = \"a\"\nmodel = \"echo\"\n[load]\nmode = \
                \"closed\"\nclients = 1\ntarget = \"a\"\nreads = 0.5\n";
    let err = Scenario::from_str(text, Format::Toml).unwrap_err();
    assert_eq!(err.field(), Some("load.reads"), "{err}");
}

#[test]
fn a_scenario_file_has_a_base_dir_that_a_copy_may_keep() {
    let dir = std::env::temp_dir().join(format!("toron-base-dir-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("copy")).unwrap();
    let json = dir.join("copy").join("echo.json");
    std::fs::write(&json, echo_scenario("echo").to_value().to_string()).unwrap();
    assert_eq!(
        Scenario::from_path(&json).unwrap().base_dir(),
        Some(dir.join("copy").as_path())
    );
    let copy = Scenario::from_path_relative_to(&json, &dir).unwrap();
    assert_eq!(copy.base_dir(), Some(dir.as_path()));
    assert_eq!(copy.file(), Some(json.as_path()));
    assert_eq!(copy.id(), echo_scenario("echo").id());
    assert_eq!(echo_scenario("echo").base_dir(), None);
    std::fs::remove_dir_all(&dir).unwrap();
}
