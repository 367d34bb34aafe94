//! Many event-stream subscribers in one native process, for `benches/server.py --native-client`.
//!
//! Why: the Python subscribers of the bench spend more CPU reading 1.5 million frames than the server spends
//! writing them, on the same two cores, so their lag figure measures them. This client reads each stream as
//! raw bytes over HTTP/1.0 (a close-delimited body), finds the frames' `id:` lines with SIMD searches
//! (memchr) in the read buffer itself, carrying only an unfinished frame over to the next read, and stamps
//! every frame of a read with the read's time, all streams on one clock.
//!
//! ```sh
//! sse_subscribers 127.0.0.1:8700 /v1/test-runs/ID/events 500 > arrivals.jsonl
//! ```
//!
//! Output: one JSON line per stream, `[[0, t], [seq, t], ...]`, `t` in seconds on the process's own
//! monotonic clock; seq 0 is when the stream's headers came in (the stream was open). The exit code is 1 when
//! a stream failed (its error on stderr).

use std::io::Write;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// One stream's arrivals: (seq, seconds since `start`).
type Arrivals = Vec<(u64, f64)>;

async fn write_all(stream: &TcpStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        stream.writable().await?;
        match stream.try_write(buf) {
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The seqs of the complete frames in `buf` (each frame starts with its `id: N` line, right after the
/// previous frame's blank line); returns how many bytes those frames take (the rest is an unfinished frame).
fn frames(buf: &[u8], out: &mut Arrivals, at: f64) -> usize {
    let Some(end) = memchr::memmem::rfind(buf, b"\n\n").map(|i| i + 2) else {
        return 0;
    };
    let complete = &buf[..end];
    let mut at_frame = |start: usize| {
        let line = &complete[start..];
        let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        if let Some(rest) = line.strip_prefix(b"id:") {
            let digits = rest.strip_prefix(b" ").unwrap_or(rest);
            if let Some(seq) = std::str::from_utf8(digits).ok().and_then(|s| s.parse().ok()) {
                out.push((seq, at));
            }
        }
    };
    at_frame(0);
    for i in memchr::memmem::find_iter(complete, b"\n\n") {
        if i + 2 < end {
            at_frame(i + 2);
        }
    }
    end
}

async fn subscribe(addr: String, path: String, start: Instant) -> Result<Arrivals, String> {
    let stream = TcpStream::connect(&addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n");
    write_all(&stream, request.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut out: Arrivals = Vec::with_capacity(4096);
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 18);
    let mut chunk = vec![0u8; 1 << 18];
    let mut in_body = false;
    loop {
        stream.readable().await.map_err(|e| format!("read: {e}"))?;
        let n = match stream.try_read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(format!("read: {e}")),
        };
        let at = start.elapsed().as_secs_f64();
        if !in_body {
            buf.extend_from_slice(&chunk[..n]);
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            if !head.starts_with("http/1.1 200") && !head.starts_with("http/1.0 200") || head.contains("chunked") {
                return Err(format!("expected a 200 close-delimited event stream, got {head:?}"));
            }
            buf.drain(..end + 4);
            in_body = true;
            out.push((0, at));
            let used = frames(&buf, &mut out, at);
            buf.drain(..used);
            continue;
        }
        if buf.is_empty() {
            // The usual case: parse the read in place and keep only its unfinished frame.
            let used = frames(&chunk[..n], &mut out, at);
            buf.extend_from_slice(&chunk[used..n]);
        } else {
            buf.extend_from_slice(&chunk[..n]);
            let used = frames(&buf, &mut out, at);
            buf.drain(..used);
        }
    }
    Ok(out)
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(addr), Some(path), Some(n)) = (args.get(1), args.get(2), args.get(3).and_then(|n| n.parse().ok())) else {
        eprintln!("usage: sse_subscribers HOST:PORT PATH STREAMS");
        return std::process::ExitCode::from(2);
    };
    let n: usize = n;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sse_subscribers: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let results = runtime.block_on(async {
        let tasks: Vec<_> = (0..n)
            .map(|_| tokio::spawn(subscribe(addr.clone(), path.clone(), start)))
            .collect();
        let mut results = Vec::with_capacity(n);
        for t in tasks {
            results.push(t.await.unwrap_or_else(|e| Err(format!("task: {e}"))));
        }
        results
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    let mut failed = false;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for r in results {
        match r {
            Ok(arrivals) => {
                let line: Vec<String> = arrivals.iter().map(|(s, t)| format!("[{s},{t:.6}]")).collect();
                let _ = writeln!(out, "[{}]", line.join(","));
            }
            Err(e) => {
                eprintln!("sse_subscribers: {e}");
                failed = true;
            }
        }
    }
    let _ = out.flush();
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
