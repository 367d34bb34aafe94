//! Linearizability checking of client histories, as Jepsen's Knossos and Porcupine do it.
//!
//! A [`History`] (read from JSON or Jepsen EDN, see [`history`]) is paired into calls, split into partitions
//! (one per key for `kv`: linearizability is compositional, so each key is checked alone), and each partition
//! is searched for a linearization with the WGL algorithm and memoisation (`linear.rs`). `fail` calls did not
//! happen and are dropped; `info` calls (and invocations never completed) may have happened at any time after
//! their invocation, or never.
//!
//! The search is bounded by a step budget per partition: when it runs out the verdict is `unknown`
//! (`linearizable: None`), never a guess. A non-linearizable history comes with a [`Counterexample`]: the
//! shortest non-linearizable prefix of the failing partition, then minimised by dropping operations while the
//! rest stays non-linearizable and every value read is still written by an operation left in it (so the window
//! never shows a read of a value from nowhere).
//!
//! ```
//! use toron_core::check::{check, History, ModelKind};
//!
//! // A stale read: 2 was written (and acknowledged) before the read began, yet the read returned 1.
//! let h = History::parse(r#"[
//!   {"process": 0, "type": "invoke", "f": "write", "value": 1},
//!   {"process": 0, "type": "ok",     "f": "write", "value": 1},
//!   {"process": 0, "type": "invoke", "f": "write", "value": 2},
//!   {"process": 0, "type": "ok",     "f": "write", "value": 2},
//!   {"process": 1, "type": "invoke", "f": "read"},
//!   {"process": 1, "type": "ok",     "f": "read",  "value": 1}
//! ]"#)?;
//! let v = check(&h, ModelKind::Register, None)?;
//! assert_eq!(v.linearizable, Some(false));
//! assert_eq!(v.counterexample.as_ref().unwrap().ops.len(), 3);
//! println!("{}", v.text());
//! # Ok::<(), toron_core::Error>(())
//! ```

pub mod history;
pub(crate) mod linear;
pub mod models;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use history::{Call, History, HistoryFormat, Op, OpType};
use linear::{Found, Limit, SCall};
pub use models::ModelKind;
use models::{MOp, PCall, Partition, QueueModel, RegisterModel, SetModel};

use crate::{Error, ErrorKind, Result};
use std::sync::atomic::{AtomicBool, Ordering};

/// The default step budget per partition: about a second of search on one core, and a memo table that stays
/// within a few hundred MB on histories of a few thousand operations.
pub const DEFAULT_BUDGET: u64 = 5_000_000;

/// At most this many re-checks are spent minimising a counterexample.
const MINIMISE_CHECKS: usize = 200;

/// The checker's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// `Some(true)`: linearizable; `Some(false)`: not; `None`: unknown (the budget ran out).
    pub linearizable: Option<bool>,
    /// The model's name.
    pub model: String,
    /// Op records in the history (invocations and completions).
    pub ops: usize,
    /// Partitions checked (keys for `kv`, else 1).
    pub partitions: usize,
    /// Model steps the search tried, over all partitions (not counting the counterexample's minimisation).
    pub steps: u64,
    /// The step budget per partition.
    pub budget: u64,
    /// When unknown: the key (for `kv`) of the first partition whose search ran out of budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_key: Option<Value>,
    /// When not linearizable: the operations that cannot be ordered.
    pub counterexample: Option<Counterexample>,
}

/// A window of operations that no order can explain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The key of the partition (`kv` only).
    pub key: Option<Value>,
    /// The operations, by invocation order.
    pub ops: Vec<WindowOp>,
}

/// One operation of a counterexample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowOp {
    /// The process.
    pub process: u64,
    /// The function.
    pub f: String,
    /// The argument (for `kv`, the `v` of a `[k v]` tuple).
    pub value: Option<Value>,
    /// The result of an `ok` call.
    pub result: Option<Value>,
    /// `ok`, or `info` when it is indeterminate here (an `info` call, or one still running at the window's end).
    pub r#type: OpType,
    /// The `index` of the invocation.
    pub invoke_index: u64,
    /// The `index` of the completion, when it completed inside the window.
    pub complete_index: Option<u64>,
}

/// Check `history` against `model`. `budget` bounds the model steps per partition ([`DEFAULT_BUDGET`] when
/// `None`). Errors: a history that does not pair up, or an op the model has no meaning for.
pub fn check(history: &History, model: ModelKind, budget: Option<u64>) -> Result<Verdict> {
    check_with(history, model, budget, None)
}

/// [`check`] with a cancel flag (Ctrl-C in Python and on the command line), looked at every few thousand steps
/// of every partition's search: once it is set the check ends with [`ErrorKind::Cancelled`], never a verdict.
pub fn check_with(
    history: &History,
    model: ModelKind,
    budget: Option<u64>,
    cancel: Option<&AtomicBool>,
) -> Result<Verdict> {
    let limit = Limit {
        budget: budget.unwrap_or(DEFAULT_BUDGET),
        cancel,
    };
    let budget = limit.budget;
    let calls = history.calls()?;
    let parts = models::partition(model, &calls)?;
    // Partitions are independent: checked in parallel, results kept in partition order.
    let results: Vec<(Found, u64)> = parts
        .par_iter()
        .map(|p| {
            let mut steps = 0;
            let found = run(model, &scalls(&p.calls), limit, &mut steps);
            (found, steps)
        })
        .collect();
    let steps = results.iter().map(|r| r.1).sum();
    cancelled(cancel, steps)?;
    let failed = results.iter().position(|r| r.0 == Found::NotLinearizable);
    let unknown = results.iter().position(|r| r.0 == Found::Unknown);
    let linearizable = match (failed, unknown) {
        (Some(_), _) => Some(false),
        (None, Some(_)) => None,
        (None, None) => Some(true),
    };
    let counterexample = failed.map(|i| counterexample(model, &parts[i], &calls, limit));
    cancelled(cancel, steps)?;
    Ok(Verdict {
        linearizable,
        model: model.name().to_string(),
        ops: history.ops.len(),
        partitions: parts.len(),
        steps,
        budget,
        unknown_key: if failed.is_none() {
            unknown.and_then(|i| parts[i].key.clone())
        } else {
            None
        },
        counterexample,
    })
}

fn scalls(calls: &[PCall]) -> Vec<SCall<'_>> {
    calls
        .iter()
        .map(|c| SCall {
            op: &c.op,
            invoke: c.invoke,
            complete: c.complete,
        })
        .collect()
}

fn cancelled(cancel: Option<&AtomicBool>, steps: u64) -> Result<()> {
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(Error::new(
            ErrorKind::Cancelled,
            format!("the linearizability check was cancelled after {steps} steps"),
        ));
    }
    Ok(())
}

fn run(model: ModelKind, calls: &[SCall<'_>], limit: Limit<'_>, steps: &mut u64) -> Found {
    match model {
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => {
            linear::search::<RegisterModel>(calls, limit, steps)
        }
        ModelKind::Set => linear::search::<SetModel>(calls, limit, steps),
        ModelKind::Queue => linear::search::<QueueModel>(calls, limit, steps),
    }
}

/// One call of a candidate window: the partition call and the op it stands for there.
#[derive(Clone)]
struct Item {
    at: usize,
    op: MOp,
    complete: Option<usize>,
}

fn prefix(calls: &[PCall], cut: usize) -> Vec<Item> {
    calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.invoke < cut)
        .filter_map(|(at, c)| match c.complete {
            Some(t) if t < cut => Some(Item {
                at,
                op: c.op.clone(),
                complete: Some(t),
            }),
            _ => c.op.indeterminate().map(|op| Item { at, op, complete: None }),
        })
        .collect()
}

fn verdict_of(model: ModelKind, calls: &[PCall], items: &[Item], limit: Limit<'_>) -> Found {
    let s: Vec<SCall<'_>> = items
        .iter()
        .map(|it| SCall {
            op: &it.op,
            invoke: calls[it.at].invoke,
            complete: it.complete,
        })
        .collect();
    let mut steps = 0;
    run(model, &s, limit, &mut steps)
}

fn produced(items: &[Item]) -> Vec<u32> {
    let mut produced: Vec<u32> = items.iter().filter_map(|it| it.op.produces()).collect();
    produced.sort_unstable();
    produced.dedup();
    produced
}

/// Every value an op of the window saw that some op of the partition wrote is written by an op of the window
/// too: dropping a write must not leave a read of a value from nowhere (a value no op wrote stays as it was).
fn explained(items: &[Item], written: &[u32]) -> bool {
    let here = produced(items);
    items.iter().all(|it| {
        it.op
            .observes()
            .iter()
            .all(|v| written.binary_search(v).is_err() || here.binary_search(v).is_ok())
    })
}

fn counterexample(model: ModelKind, part: &Partition, calls: &[Call], limit: Limit<'_>) -> Counterexample {
    let pc = &part.calls;
    let all = prefix(pc, usize::MAX);
    let written = produced(&all);
    let mut items = all;
    // The shortest non-linearizable prefix, cut just after a completion (prefixes only grow worse).
    let mut cuts: Vec<usize> = pc.iter().filter_map(|c| c.complete).collect();
    cuts.sort_unstable();
    let (mut lo, mut hi) = (0usize, cuts.len());
    let mut checks = 0;
    let mut gave_up = false;
    while lo < hi {
        let mid = (lo + hi) / 2;
        checks += 1;
        match verdict_of(model, pc, &prefix(pc, cuts[mid] + 1), limit) {
            Found::NotLinearizable => hi = mid,
            Found::Linearizable => lo = mid + 1,
            Found::Unknown => {
                gave_up = true;
                break;
            }
        }
    }
    if !gave_up && lo < cuts.len() {
        items = prefix(pc, cuts[lo] + 1);
    }
    // Drop chunks, then single ops, while the rest stays non-linearizable and explained.
    let mut chunk = (items.len() / 2).max(1);
    while !gave_up && checks < MINIMISE_CHECKS {
        let mut removed = false;
        let mut i = 0;
        while i < items.len() && checks < MINIMISE_CHECKS && items.len() > 1 {
            let end = (i + chunk).min(items.len());
            let mut candidate = items[..i].to_vec();
            candidate.extend_from_slice(&items[end..]);
            if explained(&candidate, &written) {
                checks += 1;
                match verdict_of(model, pc, &candidate, limit) {
                    Found::NotLinearizable => {
                        items = candidate;
                        removed = true;
                        continue;
                    }
                    Found::Unknown => {
                        gave_up = true;
                        break;
                    }
                    Found::Linearizable => {}
                }
            }
            i = end;
        }
        if chunk == 1 && !removed {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    let ops = items
        .iter()
        .map(|it| {
            let p = &pc[it.at];
            let call = &calls[p.call];
            WindowOp {
                process: call.process,
                f: call.f.clone(),
                value: p.value.clone(),
                result: if it.complete.is_some() { p.result.clone() } else { None },
                r#type: if it.complete.is_some() {
                    OpType::Ok
                } else {
                    OpType::Info
                },
                invoke_index: call.indices.0,
                complete_index: if it.complete.is_some() { call.indices.1 } else { None },
            }
        })
        .collect();
    Counterexample {
        key: part.key.clone(),
        ops,
    }
}

impl Verdict {
    /// The verdict's JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// A rendering for people: the verdict line, then the counterexample one operation per line.
    pub fn text(&self) -> String {
        let about = format!(
            "{}, {} ops, {} partition{}, {} steps",
            self.model,
            self.ops,
            self.partitions,
            if self.partitions == 1 { "" } else { "s" },
            self.steps
        );
        let mut out = match self.linearizable {
            Some(true) => format!("linearizable ({about})\n"),
            None => format!(
                "unknown ({about}): the search of {} ran out of its budget of {} steps; raise the budget\n",
                self.unknown_key
                    .as_ref()
                    .map_or_else(|| "the history".to_string(), |k| format!("key {k}")),
                self.budget
            ),
            Some(false) => format!("NOT linearizable ({about})\n"),
        };
        if let Some(c) = &self.counterexample {
            out.push_str(&c.text());
        }
        out
    }
}

impl Counterexample {
    /// The window, one operation per line with its index span, so overlaps show.
    pub fn text(&self) -> String {
        let on_key = self.key.as_ref().map_or_else(String::new, |k| format!(" on key {k}"));
        let mut out = match self.ops.len() {
            1 => format!("this operation{on_key} cannot take effect in any order:\n"),
            n => format!("these {n} operations{on_key} cannot be ordered:\n"),
        };
        let width = self
            .ops
            .iter()
            .filter_map(|o| o.complete_index)
            .chain(self.ops.iter().map(|o| o.invoke_index))
            .max()
            .unwrap_or(0)
            .to_string()
            .len();
        for o in &self.ops {
            let span = match o.complete_index {
                Some(c) => format!("{:>width$}..{:<width$}", o.invoke_index, c),
                None => format!("{:>width$}..{:<width$}", o.invoke_index, "?"),
            };
            let mut what = o.f.clone();
            if let Some(v) = &o.value {
                what.push_str(&format!(" {v}"));
            }
            if let Some(r) = &o.result {
                if o.value.as_ref() != Some(r) {
                    what.push_str(&format!(" -> {r}"));
                }
            } else if o.r#type == OpType::Ok && o.value.is_none() {
                what.push_str(" -> null");
            }
            out.push_str(&format!(
                "  op {span}  process {:<3} {what}  {}\n",
                o.process,
                o.r#type.name()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests;
