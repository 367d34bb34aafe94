//! Where the scrubber's time goes: each kind alone, all kinds, and the stream, over a corpus file.
//! `cargo run --release -p toron-core --example pii_prof -- CORPUS [KIND...]`
use std::time::Instant;
use toron_core::pii::{Key, Kind, Policy, Scrubber};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let text = std::fs::read_to_string(&args[1]).expect("corpus");
    let mb = text.len() as f64 / 1e6;
    let only: Vec<String> = args[2..].to_vec();
    let time = |name: &str, kinds: Vec<Kind>| {
        let s = Scrubber::new(
            &Policy {
                kinds,
                ..Policy::default()
            },
            Key::from_text("k"),
        )
        .unwrap();
        let t = Instant::now();
        let out = s.scrub_text(&text);
        let dt = t.elapsed().as_secs_f64();
        println!(
            "{name:12} {:8.1} MB/s {:7.3}s findings {}",
            mb / dt,
            dt,
            out.findings.len()
        );
        out
    };
    if only.is_empty() || only.iter().any(|o| o == "each") {
        for k in Kind::ALL {
            time(k.name(), vec![k]);
        }
    }
    let all = time("all", Kind::ALL.to_vec());
    let s = Scrubber::new(&Policy::default(), Key::from_text("k")).unwrap();
    let t = Instant::now();
    let mut out = Vec::with_capacity(text.len());
    let mut n = 0;
    s.scrub_stream(text.as_bytes(), &mut out, &mut |_| n += 1).unwrap();
    let dt = t.elapsed().as_secs_f64();
    println!("{:12} {:8.1} MB/s {:7.3}s findings {n}", "stream", mb / dt, dt);
    assert_eq!(out, all.text.as_bytes(), "stream and text differ");
    if let Ok(p) = std::env::var("PROF_DUMP") {
        let mut d = String::new();
        for f in &all.findings {
            d.push_str(&format!("{} {} {:?} {}\n", f.kind, f.location, f.span, f.placeholder));
        }
        std::fs::write(p, d).unwrap();
    }
}
