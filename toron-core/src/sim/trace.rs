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
    /// A line a node wrote with [`super::Ctx::log`].
    Log { node: u32, text: &'a str },
}

impl TraceRecord<'_> {
    /// Append this record's bytes to `out`. Inlined at each call site, where the variant is known, so the
    /// fixed-size records are a few stores into the buffer.
    #[inline(always)]
    fn encode(&self, time: Time, out: &mut HashBuf) {
        match self {
            TraceRecord::Deliver { msg, dropped } => {
                // kind ‖ time ‖ msg_id ‖ in_reply_to ‖ src:u32 ‖ dst:u32 (33 bytes), then the body.
                let mut head = [0u8; 33];
                head[0] = if *dropped { 2 } else { 1 };
                head[1..9].copy_from_slice(&time.to_le_bytes());
                head[9..17].copy_from_slice(&msg.msg_id.to_le_bytes());
                head[17..25].copy_from_slice(&msg.in_reply_to.to_le_bytes());
                head[25..29].copy_from_slice(&msg.src.0.to_le_bytes());
                head[29..33].copy_from_slice(&msg.dst.0.to_le_bytes());
                encode_body(&head, &msg.body, out);
            }
            TraceRecord::Timer { node, timer, tag } => {
                let mut r = [0u8; 29];
                r[0] = 3;
                r[1..9].copy_from_slice(&time.to_le_bytes());
                r[9..13].copy_from_slice(&node.to_le_bytes());
                r[13..21].copy_from_slice(&timer.to_le_bytes());
                r[21..29].copy_from_slice(&tag.to_le_bytes());
                out.put(r);
            }
            TraceRecord::Arrival => out.put(kind_time(4, time)),
            TraceRecord::Client { client, check } => {
                let mut r = [0u8; 13];
                r[..9].copy_from_slice(&kind_time(if *check { 6 } else { 5 }, time));
                r[9..13].copy_from_slice(&client.to_le_bytes());
                out.put(r);
            }
            TraceRecord::Fault {
                index,
                kind,
                start,
                node,
            } => {
                let mut r = [0u8; 18];
                r[..9].copy_from_slice(&kind_time(if *start { 7 } else { 8 }, time));
                r[9..13].copy_from_slice(&index.to_le_bytes());
                r[13] = *kind;
                r[14..18].copy_from_slice(&node.to_le_bytes());
                out.put(r);
            }
            TraceRecord::Deadline => out.put(kind_time(9, time)),
            TraceRecord::Log { node, text } => {
                // kind ‖ time ‖ node:u32 ‖ len:u64 (21 bytes), then the UTF-8 text.
                let mut r = [0u8; 21];
                r[..9].copy_from_slice(&kind_time(10, time));
                r[9..13].copy_from_slice(&node.to_le_bytes());
                r[13..21].copy_from_slice(&(text.len() as u64).to_le_bytes());
                out.put(r);
                out.put_long(text.as_bytes());
            }
        }
    }
}

#[inline(always)]
fn kind_time(kind: u8, time: Time) -> [u8; 9] {
    let mut r = [0u8; 9];
    r[0] = kind;
    r[1..9].copy_from_slice(&time.to_le_bytes());
    r
}

/// `head ‖ tag:u8 ‖ fields` for the fixed-size bodies (one copy into the buffer), `head ‖ tag ‖ prefix ‖
/// entries` for the variable ones.
#[inline(always)]
fn encode_body(head: &[u8; 33], body: &Body, out: &mut HashBuf) {
    #[inline(always)]
    fn with<const N: usize>(head: &[u8; 33], tag: u8, fields: [u64; N], out: &mut HashBuf) {
        // N <= 3: at most 33 + 1 + 24 = 58 bytes, within one `put`.
        let mut r = [0u8; 58];
        r[..33].copy_from_slice(head);
        r[33] = tag;
        for (i, x) in fields.iter().enumerate() {
            r[34 + 8 * i..42 + 8 * i].copy_from_slice(&x.to_le_bytes());
        }
        out.put_slice(&r[..34 + 8 * N]);
    }
    match body {
        Body::Request(op) => match op {
            Op::Echo => with(head, 1, [], out),
            Op::Get { key } => with(head, 2, [*key], out),
            Op::Put { key, value } => with(head, 3, [*key, *value], out),
        },
        Body::Reply(r) => match r {
            Reply::Ok => with(head, 10, [], out),
            Reply::Value(None) => with(head, 11, [], out),
            Reply::Value(Some(v)) => with(head, 12, [*v], out),
            Reply::NotPrimary => with(head, 13, [], out),
            Reply::Error => with(head, 14, [], out),
        },
        Body::Replicate { key, value, seq } => with(head, 20, [*key, *value, *seq], out),
        Body::ReplicateAck { seq } => with(head, 21, [*seq], out),
        Body::Heartbeat { epoch } => with(head, 22, [*epoch], out),
        Body::Join => with(head, 23, [], out),
        Body::StateTransfer { entries, epoch } => {
            with(head, 24, [*epoch, entries.len() as u64], out);
            for (k, v) in entries.iter() {
                let mut r = [0u8; 16];
                r[..8].copy_from_slice(&k.to_le_bytes());
                r[8..].copy_from_slice(&v.to_le_bytes());
                out.put(r);
            }
        }
        Body::Custom(bytes) => {
            with(head, 30, [bytes.len() as u64], out);
            out.put_long(bytes);
        }
    }
}

/// What the hasher is fed in. blake3 hashes 8 (AVX2) or 16 (AVX-512) chunks of 1 KiB at once only when
/// one `update` gets them whole and at a chunk-aligned offset; fed 32 KiB plus the last record's tail, its
/// chunk counter loses that alignment and most of the input goes through one chunk at a time. So the
/// buffer is hashed in blocks of exactly [`BLOCK`] bytes (a power of two), and the bytes past the block
/// carried over. The digest is the same: blake3 is streaming, whatever the split of its input.
const BLOCK: usize = 64 * 1024;
/// Room past a block for the record that crosses it (every `put` is at most this long).
const SLACK: usize = 64;

pub(crate) struct HashBuf {
    hasher: blake3::Hasher,
    buf: Box<[u8; BLOCK + SLACK]>,
    /// Bytes in `buf`, always below [`BLOCK`] between calls.
    len: usize,
}

std::thread_local! {
    /// The buffer of this thread's last finished simulation, reused by its next one: a run of many small
    /// simulations would otherwise allocate and zero 64 KiB for each (its contents never matter: `len` says
    /// what is valid).
    static SPARE: std::cell::Cell<Option<Box<[u8; BLOCK + SLACK]>>> = const { std::cell::Cell::new(None) };
}

impl HashBuf {
    fn new() -> Self {
        let buf = SPARE.with(std::cell::Cell::take).unwrap_or_else(|| {
            vec![0u8; BLOCK + SLACK]
                .into_boxed_slice()
                .try_into()
                .expect("the length is BLOCK + SLACK")
        });
        HashBuf {
            hasher: blake3::Hasher::new(),
            buf,
            len: 0,
        }
    }

    /// Append a fixed-size piece of at most [`SLACK`] bytes.
    #[inline(always)]
    fn put<const N: usize>(&mut self, bytes: [u8; N]) {
        const { assert!(N <= SLACK) };
        self.put_slice(&bytes);
    }

    /// Append at most [`SLACK`] bytes.
    #[inline(always)]
    fn put_slice(&mut self, bytes: &[u8]) {
        debug_assert!(bytes.len() <= SLACK && self.len < BLOCK);
        let end = self.len + bytes.len();
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        if end >= BLOCK {
            self.flush_block();
        }
    }

    /// Append any number of bytes.
    fn put_long(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let n = bytes.len().min(SLACK);
            self.put_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
    }

    #[cold]
    #[inline(never)]
    fn flush_block(&mut self) {
        self.hasher.update(&self.buf[..BLOCK]);
        self.buf.copy_within(BLOCK..self.len, 0);
        self.len -= BLOCK;
    }

    /// The digest; the buffer goes back to this thread's spare.
    fn finalize(self) -> blake3::Hash {
        let HashBuf { mut hasher, buf, len } = self;
        hasher.update(&buf[..len]);
        SPARE.with(|s| s.set(Some(buf)));
        hasher.finalize()
    }
}

/// Where the JSON Lines trace goes, with the node names it prints.
pub(crate) type JsonlTarget = (Box<dyn Write + Send>, std::sync::Arc<[String]>);

/// The streaming hasher and the optional JSON Lines writer.
pub(crate) struct Trace {
    out: HashBuf,
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
        let mut out = HashBuf::new();
        out.put_long(HEADER);
        // The seed is an input of the run: two seeds never share a digest, even when nothing is random.
        out.put(seed.to_le_bytes());
        Trace {
            out,
            jsonl: jsonl.map(|(w, names)| JsonlWriter {
                out: std::io::BufWriter::with_capacity(1 << 16, w),
                names,
                index: 0,
                error: None,
            }),
        }
    }

    #[inline(always)]
    pub(crate) fn record(&mut self, time: Time, rec: TraceRecord<'_>) {
        rec.encode(time, &mut self.out);
        if let Some(w) = &mut self.jsonl {
            w.write(time, &rec);
        }
    }

    /// Hash the final counters and return the hex digest, flushing the JSON Lines file.
    pub(crate) fn finish(mut self, summary: &[u64]) -> std::io::Result<String> {
        self.out.put([0xff]);
        for x in summary {
            self.out.put(x.to_le_bytes());
        }
        let digest = self.out.finalize();
        if let Some(mut w) = self.jsonl.take() {
            if let Some(e) = w.error.take() {
                return Err(e);
            }
            w.out.flush()?;
        }
        Ok(digest.to_hex().to_string())
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
            TraceRecord::Log { node, text } => {
                json!({"i": i, "t": time, "type": "log", "node": self.name(*node), "text": text})
            }
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
