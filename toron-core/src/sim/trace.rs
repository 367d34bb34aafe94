//! The trace: every processed event, hashed with blake3 as it happens (memory does not grow with the run),
//! and optionally written in full as JSON Lines.
//!
//! Trace format version 1 (the bytes hashed): the header `toron-trace/1\n` and the seed (u64), then per event a record
//! `kind:u8 ‖ time:u64 ‖ fields…` (all integers little-endian, described at each `record_*` call site in
//! [`TraceRecord::encode`]), then a final record with the run's counters. Changing any of this changes
//! digests and needs a minor version bump.

use super::node::{Body, Message, Op, Reply, Time};
use std::io::Write;

const HEADER: &[u8] = b"toron-trace/1\n";
const FLUSH_AT: usize = 32 * 1024;

/// One processed event, as hashed and as written to the JSON Lines trace.
#[derive(Debug)]
pub(crate) enum TraceRecord<'a> {
    /// A message delivered (or dropped at a crashed receiver).
    Deliver { msg: &'a Message, dropped: bool },
    /// A node timer fired.
    Timer { node: u32, timer: u64, tag: u64 },
    /// The open-loop generator issues its next request.
    Arrival,
    /// A closed-loop client wakes up (think time over, or a timeout check).
    Client { client: u32, check: bool },
    /// A fault was injected (`start`) or its duration ended.
    Fault {
        index: u32,
        kind: u8,
        start: bool,
        node: u32,
    },
    /// The request-limit deadline.
    Deadline,
}

impl TraceRecord<'_> {
    fn encode(&self, time: Time, out: &mut Vec<u8>) {
        // Fixed-size records are built on the stack and copied once.
        let mut rec = Rec::default();
        match self {
            TraceRecord::Deliver { msg, dropped } => {
                rec.u8(if *dropped { 2 } else { 1 })
                    .u64(time)
                    .u64(msg.msg_id)
                    .u64(msg.in_reply_to)
                    .u32(msg.src.0)
                    .u32(msg.dst.0);
                out.extend_from_slice(rec.bytes());
                encode_body(&msg.body, out);
                return;
            }
            TraceRecord::Timer { node, timer, tag } => {
                rec.u8(3).u64(time).u32(*node).u64(*timer).u64(*tag);
            }
            TraceRecord::Arrival => {
                rec.u8(4).u64(time);
            }
            TraceRecord::Client { client, check } => {
                rec.u8(if *check { 6 } else { 5 }).u64(time).u32(*client);
            }
            TraceRecord::Fault {
                index,
                kind,
                start,
                node,
            } => {
                rec.u8(if *start { 7 } else { 8 })
                    .u64(time)
                    .u32(*index)
                    .u8(*kind)
                    .u32(*node);
            }
            TraceRecord::Deadline => {
                rec.u8(9).u64(time);
            }
        }
        out.extend_from_slice(rec.bytes());
    }
}

/// A small stack buffer for one record (little-endian fields).
struct Rec {
    buf: [u8; 48],
    len: usize,
}

impl Default for Rec {
    fn default() -> Self {
        Rec { buf: [0; 48], len: 0 }
    }
}

impl Rec {
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N]) -> &mut Self {
        self.buf[self.len..self.len + N].copy_from_slice(&b);
        self.len += N;
        self
    }
    #[inline(always)]
    fn u8(&mut self, x: u8) -> &mut Self {
        self.put([x])
    }
    #[inline(always)]
    fn u32(&mut self, x: u32) -> &mut Self {
        self.put(x.to_le_bytes())
    }
    #[inline(always)]
    fn u64(&mut self, x: u64) -> &mut Self {
        self.put(x.to_le_bytes())
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn encode_body(body: &Body, out: &mut Vec<u8>) {
    let put = |out: &mut Vec<u8>, x: u64| out.extend_from_slice(&x.to_le_bytes());
    match body {
        Body::Request(op) => match op {
            Op::Echo => out.push(1),
            Op::Get { key } => {
                out.push(2);
                put(out, *key);
            }
            Op::Put { key, value } => {
                out.push(3);
                put(out, *key);
                put(out, *value);
            }
        },
        Body::Reply(r) => match r {
            Reply::Ok => out.push(10),
            Reply::Value(None) => out.push(11),
            Reply::Value(Some(v)) => {
                out.push(12);
                put(out, *v);
            }
            Reply::NotPrimary => out.push(13),
            Reply::Error => out.push(14),
        },
        Body::Replicate { key, value, seq } => {
            out.push(20);
            put(out, *key);
            put(out, *value);
            put(out, *seq);
        }
        Body::ReplicateAck { seq } => {
            out.push(21);
            put(out, *seq);
        }
        Body::Heartbeat { epoch } => {
            out.push(22);
            put(out, *epoch);
        }
        Body::Join => out.push(23),
        Body::StateTransfer { entries, epoch } => {
            out.push(24);
            put(out, *epoch);
            put(out, entries.len() as u64);
            for (k, v) in entries.iter() {
                put(out, *k);
                put(out, *v);
            }
        }
        Body::Custom(bytes) => {
            out.push(30);
            put(out, bytes.len() as u64);
            out.extend_from_slice(bytes);
        }
    }
}

/// Where the JSON Lines trace goes, with the node names it prints.
pub(crate) type JsonlTarget = (Box<dyn Write + Send>, std::sync::Arc<[String]>);

/// The streaming hasher and the optional JSON Lines writer.
pub(crate) struct Trace {
    hasher: blake3::Hasher,
    buf: Vec<u8>,
    jsonl: Option<JsonlWriter>,
}

pub(crate) struct JsonlWriter {
    out: std::io::BufWriter<Box<dyn Write + Send>>,
    names: std::sync::Arc<[String]>,
    index: u64,
    error: Option<std::io::Error>,
}

impl Trace {
    pub(crate) fn new(seed: u64, jsonl: Option<JsonlTarget>) -> Self {
        let mut buf = Vec::with_capacity(FLUSH_AT + 256);
        buf.extend_from_slice(HEADER);
        // The seed is an input of the run: two seeds never share a digest, even when nothing is random.
        buf.extend_from_slice(&seed.to_le_bytes());
        Trace {
            hasher: blake3::Hasher::new(),
            buf,
            jsonl: jsonl.map(|(w, names)| JsonlWriter {
                out: std::io::BufWriter::with_capacity(1 << 16, w),
                names,
                index: 0,
                error: None,
            }),
        }
    }

    #[inline]
    pub(crate) fn record(&mut self, time: Time, rec: TraceRecord<'_>) {
        rec.encode(time, &mut self.buf);
        if self.buf.len() >= FLUSH_AT {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
        if let Some(w) = &mut self.jsonl {
            w.write(time, &rec);
        }
    }

    /// Hash the final counters and return the hex digest, flushing the JSON Lines file.
    pub(crate) fn finish(mut self, summary: &[u64]) -> std::io::Result<String> {
        self.buf.push(0xff);
        for x in summary {
            self.buf.extend_from_slice(&x.to_le_bytes());
        }
        self.hasher.update(&self.buf);
        if let Some(mut w) = self.jsonl.take() {
            if let Some(e) = w.error.take() {
                return Err(e);
            }
            w.out.flush()?;
        }
        Ok(self.hasher.finalize().to_hex().to_string())
    }
}

impl JsonlWriter {
    fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map(String::as_str).unwrap_or("client")
    }

    fn write(&mut self, time: Time, rec: &TraceRecord<'_>) {
        if self.error.is_some() {
            return;
        }
        use serde_json::json;
        let i = self.index;
        self.index += 1;
        let v = match rec {
            TraceRecord::Deliver { msg, dropped } => json!({
                "i": i, "t": time, "type": if *dropped { "drop" } else { "deliver" },
                "src": self.name(msg.src.0), "dst": self.name(msg.dst.0),
                "src_index": msg.src.0, "dst_index": msg.dst.0,
                "msg_id": msg.msg_id, "in_reply_to": msg.in_reply_to, "body": body_json(&msg.body),
            }),
            TraceRecord::Timer { node, timer, tag } => {
                json!({"i": i, "t": time, "type": "timer", "node": self.name(*node), "timer": timer, "tag": tag})
            }
            TraceRecord::Arrival => json!({"i": i, "t": time, "type": "arrival"}),
            TraceRecord::Client { client, check } => {
                json!({"i": i, "t": time, "type": if *check { "client_check" } else { "client_next" }, "client": client})
            }
            TraceRecord::Fault {
                index,
                kind,
                start,
                node,
            } => json!({
                "i": i, "t": time, "type": if *start { "fault" } else { "fault_end" }, "fault": index,
                "kind": super::faults::kind_name(*kind), "node": if *node == u32::MAX { serde_json::Value::Null } else { self.name(*node).into() },
            }),
            TraceRecord::Deadline => json!({"i": i, "t": time, "type": "deadline"}),
        };
        let res = serde_json::to_writer(&mut self.out, &v)
            .map_err(std::io::Error::other)
            .and_then(|_| self.out.write_all(b"\n"));
        if let Err(e) = res {
            self.error = Some(e);
        }
    }
}

fn body_json(body: &Body) -> serde_json::Value {
    use serde_json::json;
    match body {
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
            json!({"type": "state_transfer", "epoch": epoch, "entries": entries.len()})
        }
        Body::Custom(bytes) => json!({"type": "custom", "bytes": bytes.len()}),
    }
}
