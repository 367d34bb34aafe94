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
    let mut streamed = Vec::new();
    s.scrub_stream(text.as_bytes(), &mut out, &mut |f| {
        n += 1;
        streamed.push(f.clone());
    })
    .unwrap();
    let dt = t.elapsed().as_secs_f64();
    println!("{:12} {:8.1} MB/s {:7.3}s findings {n}", "stream", mb / dt, dt);
    if out != all.text.as_bytes() {
        // Not a failure of the profile: a stream may cut an over-long line or an open key block.
        println!("note: the stream's output differs from scrub_text's");
    }
    // PROF_DUMP=FILE: every finding of scrub_text (FILE) and of the stream (FILE.stream) and both outputs'
    // digests, to compare two builds finding for finding.
    if let Ok(p) = std::env::var("PROF_DUMP") {
        let dump = |findings: &[toron_core::pii::Finding], scrubbed: &[u8]| {
            let mut d = format!("output blake3 {}\n", blake3::hash(scrubbed).to_hex());
            for f in findings {
                d.push_str(&format!("{} {} {:?} {}\n", f.kind, f.location, f.span, f.placeholder));
            }
            d
        };
        std::fs::write(&p, dump(&all.findings, all.text.as_bytes())).unwrap();
        std::fs::write(format!("{p}.stream"), dump(&streamed, &out)).unwrap();
    }
}
