//! Structural diff on generated ~1 MB and ~4 MB JSON documents (about 1 % of leaves changed, records inserted,
//! deleted and moved) and text diff on a generated ~10 MB text (about 1 % of lines changed).
//!
//! Also the canonical encoding (digest) and the strict parser on the ~1 MB document.
//!
//! Run: `cargo bench --bench diff`.

use std::hint::black_box;
use std::process::Command;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use toron_core::diff::text::{text_diff, TextAlgorithm, TextOptions};
use toron_core::diff::{apply_patch, diff, DiffOptions};

/// xorshift64: deterministic fixtures without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A document of `records` records (about 190 bytes each) and a copy with ~1 % of leaves changed and a few
/// records inserted, deleted and moved.
fn documents(records: usize) -> (Value, Value) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let items: Vec<Value> = (0..records)
        .map(|i| {
            json!({
                "id": i,
                "name": format!("item-{i}-{}", rng.below(1_000_000)),
                "price": (rng.below(100_000) as f64) / 100.0,
                "tags": ["a", "b", format!("t{}", rng.below(50))],
                "stock": {"warehouse": rng.below(10) as u32, "count": rng.below(1000)},
                "active": rng.below(2) == 0,
            })
        })
        .collect();
    let old = json!({"meta": {"version": 1, "generated": "fixture"}, "items": items});
    let mut new = old.clone();
    let items = new["items"].as_array_mut().unwrap_or_else(|| unreachable!());
    // ~1 % of the ~9 leaves per record changed.
    for _ in 0..(records * 9 / 100) {
        let k = rng.below(items.len() as u64) as usize;
        match rng.below(3) {
            0 => items[k]["price"] = json!((rng.below(100_000) as f64) / 100.0 + 0.5),
            1 => items[k]["stock"]["count"] = json!(rng.below(1000) + 1000),
            _ => items[k]["active"] = json!(rng.below(2) == 0),
        }
    }
    for n in 0..(records / 200).max(1) {
        let at = rng.below(items.len() as u64) as usize;
        items.insert(
            at,
            json!({"id": records + n, "name": "new", "price": 1.0, "tags": [], "stock": {}, "active": true}),
        );
        let at = rng.below(items.len() as u64) as usize;
        items.remove(at);
        let from = rng.below(items.len() as u64) as usize;
        let x = items.remove(from);
        let to = rng.below(items.len() as u64) as usize;
        items.insert(to, x);
    }
    (old, new)
}

/// A text of about `bytes` bytes in lines of ~50 bytes, and a copy with ~1 % of lines changed.
fn texts(bytes: usize) -> (Vec<u8>, Vec<u8>) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut old = Vec::with_capacity(bytes);
    let mut new = Vec::with_capacity(bytes);
    let mut i = 0u64;
    while old.len() < bytes {
        let line = format!(
            "{i:08} the quick brown fox {} jumps over {}\n",
            rng.below(1 << 20),
            rng.below(1 << 20)
        );
        old.extend_from_slice(line.as_bytes());
        match rng.below(300) {
            0 => {}
            1 => new.extend_from_slice(format!("{i:08} changed {}\n", rng.next()).as_bytes()),
            2 => {
                new.extend_from_slice(line.as_bytes());
                new.extend_from_slice(b"an inserted line\n");
            }
            _ => new.extend_from_slice(line.as_bytes()),
        }
        i += 1;
    }
    (old, new)
}

fn structural(c: &mut Criterion) {
    let mut group = c.benchmark_group("structural");
    group.sample_size(10);
    for records in [8_000usize, 32_000] {
        let (old, new) = documents(records);
        let size = serde_json::to_vec(&old).map(|v| v.len()).unwrap_or(0);
        let options = DiffOptions::default();
        let d = diff(&old, &new, &options).expect("diff");
        assert_eq!(apply_patch(&old, &d.patch()).ok().as_ref(), Some(&new));
        eprintln!(
            "structural: document {size} bytes, {} operations ({})",
            d.ops().len(),
            d.summary()
        );
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("diff", size), &(&old, &new), |b, (o, n)| {
            b.iter(|| diff(black_box(o), black_box(n), &options).ok().map(|d| d.ops().len()))
        });
        let keyed = DiffOptions::from_json(&json!({"keys": {"/items": "id"}})).expect("options");
        group.bench_with_input(BenchmarkId::new("diff-keyed", size), &(&old, &new), |b, (o, n)| {
            b.iter(|| diff(black_box(o), black_box(n), &keyed).ok().map(|d| d.ops().len()))
        });
        let patch = d.patch();
        group.bench_with_input(BenchmarkId::new("apply_patch", size), &(&old, &patch), |b, (o, p)| {
            b.iter(|| apply_patch(black_box(o), black_box(p)).is_ok())
        });
    }
    group.finish();
}

fn text(c: &mut Criterion) {
    let mut group = c.benchmark_group("text");
    group.sample_size(10);
    let (old, new) = texts(10 << 20);
    group.throughput(Throughput::Bytes(old.len() as u64));
    // The peer: GNU `diff -u` on the same two files, in the same run (skipped when `diff` is missing).
    let dir = std::env::temp_dir().join(format!("toron-bench-text-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_ok()
        && std::fs::write(dir.join("old.txt"), &old).is_ok()
        && std::fs::write(dir.join("new.txt"), &new).is_ok()
        && Command::new("diff").arg("--version").output().is_ok()
    {
        group.bench_function(BenchmarkId::new("gnu-diff-u", old.len()), |b| {
            b.iter(|| {
                Command::new("diff")
                    .current_dir(&dir)
                    .args(["-u", "old.txt", "new.txt"])
                    .output()
                    .map(|o| o.stdout.len())
            })
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
    for alg in [TextAlgorithm::Myers, TextAlgorithm::Histogram, TextAlgorithm::Patience] {
        let options = TextOptions { algorithm: alg };
        group.bench_with_input(
            BenchmarkId::new(format!("{alg:?}"), old.len()),
            &(&old, &new),
            |b, (o, n)| {
                b.iter(|| {
                    text_diff(black_box(o), black_box(n), &options)
                        .unified_bytes(3, "a", "b")
                        .len()
                })
            },
        );
    }
    group.finish();
}

fn canonical(c: &mut Criterion) {
    let mut group = c.benchmark_group("canonical");
    group.sample_size(10);
    let (old, _) = documents(8_000);
    let text = serde_json::to_string(&old).unwrap_or_default();
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_with_input(BenchmarkId::new("digest", text.len()), &old, |b, v| {
        b.iter(|| toron_core::canon::digest(black_box(v)).ok())
    });
    group.bench_with_input(BenchmarkId::new("serde_json-from_str", text.len()), &text, |b, t| {
        b.iter(|| serde_json::from_str::<Value>(black_box(t)).is_ok())
    });
    group.bench_with_input(BenchmarkId::new("parse_json", text.len()), &text, |b, t| {
        b.iter(|| toron_core::canon::parse_json(black_box(t)).is_ok())
    });
    group.finish();
}

criterion_group!(benches, structural, text, canonical);
criterion_main!(benches);
