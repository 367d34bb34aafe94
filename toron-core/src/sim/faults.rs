//! The fault plan: faults from the scenario resolved to node indices, applied at their time as events.

use crate::scenario::{FaultKind, FaultSpec, Scenario, CLIENT};

/// A stable code per kind, part of the trace format.
pub(crate) fn kind_code(kind: FaultKind) -> u8 {
    match kind {
        FaultKind::Crash => 1,
        FaultKind::Restart => 2,
        FaultKind::Partition => 3,
        FaultKind::Heal => 4,
        FaultKind::LossBurst => 5,
        FaultKind::ClockSkew => 6,
        FaultKind::Slow => 7,
    }
}

/// The name of a kind code (for the JSON Lines trace).
pub(crate) fn kind_name(code: u8) -> &'static str {
    let kind = match code {
        1 => FaultKind::Crash,
        2 => FaultKind::Restart,
        3 => FaultKind::Partition,
        4 => FaultKind::Heal,
        5 => FaultKind::LossBurst,
        6 => FaultKind::ClockSkew,
        7 => FaultKind::Slow,
        _ => return "unknown",
    };
    kind.name()
}

/// One fault, with ids resolved.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub(crate) at: u64,
    pub(crate) kind: FaultKind,
    /// Node index, or `u32::MAX` when the fault is not about one node.
    pub(crate) node: u32,
    pub(crate) duration: Option<u64>,
    /// Partition: group number per endpoint (nodes, then the clients' shared endpoint).
    pub(crate) groups: Vec<u16>,
    pub(crate) loss: f64,
    pub(crate) skew: i64,
    pub(crate) factor: f64,
}

/// Resolve the scenario's fault plan. Node ids were validated when the scenario was built.
pub(crate) fn plan(scenario: &Scenario) -> Vec<Fault> {
    let spec = scenario.spec();
    let n = spec.nodes.len();
    spec.faults
        .iter()
        .map(|f: &FaultSpec| {
            let node = f
                .node
                .as_deref()
                .and_then(|id| scenario.node_index(id))
                .map_or(u32::MAX, |i| i as u32);
            let mut groups = Vec::new();
            if let Some(gs) = &f.groups {
                // Unlisted endpoints share group 0; listed groups are numbered from 1.
                groups = vec![0u16; n + 1];
                for (gi, g) in gs.iter().enumerate() {
                    for id in g {
                        let idx = if id == CLIENT {
                            n
                        } else {
                            scenario.node_index(id).unwrap_or(n)
                        };
                        groups[idx] = (gi + 1) as u16;
                    }
                }
            }
            Fault {
                at: f.at.0,
                kind: f.kind,
                node,
                duration: f.duration.map(|d| d.0),
                groups,
                loss: f.loss.map_or(0.0, |p| p.0),
                skew: f.skew.map_or(0, |s| s.0),
                factor: f.factor.map_or(1.0, |x| x.0),
            }
        })
        .collect()
}
