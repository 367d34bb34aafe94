//! Where a data set's write time goes, without Python: the 8-field person records of `benches/fixtures.py`
//! written (CSV and JSON Lines, to a directory) and digested (formatted and hashed, nothing written).
//! `cargo run --release -p toron-core --example fixtures_prof -- [ROWS] [REPEAT] [DIR]`
use std::time::Instant;
use toron_core::fixtures::{OutputFormat, Schema};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = args.get(1).map_or(200_000, |a| a.parse().expect("ROWS is a number"));
    let repeat: usize = args.get(2).map_or(10, |a| a.parse().expect("REPEAT is a number"));
    let dir = args
        .get(3)
        .map_or_else(|| std::env::temp_dir().join("fixtures_prof"), Into::into);
    let schema = Schema::from_value(&serde_json::json!({"version": 1, "table": [{
        "name": "people", "rows": rows, "locale": "en_US", "field": [
            {"name": "name", "kind": "name"},
            {"name": "email", "kind": "email", "from": ["name"]},
            {"name": "phone", "kind": "phone"},
            {"name": "address", "kind": "address"},
            {"name": "company", "kind": "company"},
            {"name": "birth_date", "kind": "date", "min": "1940-01-01", "max": "2006-12-31"},
            {"name": "iban", "kind": "iban"},
            {"name": "card", "kind": "card"}]}]}))
    .expect("schema");
    for format in [OutputFormat::Csv, OutputFormat::Jsonl] {
        let best = |f: &dyn Fn()| {
            (0..repeat)
                .map(|_| {
                    let t = Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min)
        };
        let write = best(&|| {
            schema.write_dir(&dir, 42, format).expect("write");
        });
        let digest = best(&|| {
            schema.digest(42, format).expect("digest");
        });
        println!(
            "{:5} write {:6.3} M rows/s   digest {:6.3} M rows/s   (best of {repeat}, {rows} rows)",
            format.name(),
            rows as f64 / write / 1e6,
            rows as f64 / digest / 1e6
        );
    }
}
