//! Kernel throughput (events per second, single thread) on the `echo` and `queue` models, and the speed-up
//! of a seed sweep on all cores over one thread. `cargo bench -p toron-suite --bench sim`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use toron_core::scenario::{Format, Scenario};
use toron_core::sim;

fn queue(customers: u64) -> Scenario {
    let text = format!(
        r#"
name = "mm1"
stop = {{ requests = {customers} }}
[[node]]
id = "server"
model = "queue"
params = {{ servers = 1, service = {{ dist = "exponential", mean = "1s" }} }}
[load]
mode = "open"
target = "server"
rate = "0.9/s"
timeout = "1h"
"#
    );
    Scenario::from_str(&text, Format::Toml).expect("valid scenario")
}

fn echo(requests: u64) -> Scenario {
    let text = format!(
        r#"
name = "echo"
stop = {{ requests = {requests} }}
[[node]]
id = "server"
model = "echo"
[network]
latency = {{ dist = "exponential", mean = "1ms" }}
[load]
mode = "closed"
clients = 16
target = "server"
"#
    );
    Scenario::from_str(&text, Format::Toml).expect("valid scenario")
}

fn kernel(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel");
    g.sample_size(10);
    for (name, scenario) in [("queue", queue(250_000)), ("echo", echo(250_000))] {
        let events = sim::simulate(&scenario, Some(1)).expect("runs").stats.events;
        g.throughput(Throughput::Elements(events));
        g.bench_with_input(BenchmarkId::new("events", name), &scenario, |b, s| {
            b.iter(|| sim::simulate(s, Some(1)).expect("runs"))
        });
    }
    g.finish();
}

fn sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    let scenario = queue(50_000);
    let seeds: Vec<u64> = (0..16).collect();
    let events: u64 = sim::sweep(&scenario, &seeds, None)
        .expect("runs")
        .iter()
        .map(|o| o.stats.events)
        .sum();
    g.throughput(Throughput::Elements(events));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        g.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| sim::sweep(&scenario, &seeds, Some(t)).expect("runs"))
        });
    }
    g.finish();
}

criterion_group!(benches, kernel, sweep);
criterion_main!(benches);
