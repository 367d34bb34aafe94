//! External commands: argv with extra environment, in their own process group, output captured (bounded in
//! memory, whole on disk); a stop flag (timeout or cancel) kills the whole group.

use crate::{Error, ErrorKind, Result};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Output kept in memory per stream; the whole stream goes to the log file.
pub const CAPTURE_LIMIT: usize = 64 * 1024;

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandOutput {
    /// The exit code, `None` when ended by a signal.
    pub exit_code: Option<i32>,
    /// The first [`CAPTURE_LIMIT`] bytes of stdout (lossy UTF-8).
    pub stdout: String,
    /// The first [`CAPTURE_LIMIT`] bytes of stderr.
    pub stderr: String,
    /// Whether the stop flag killed it.
    pub killed: bool,
}

fn capture(
    mut stream: impl Read + Send + 'static,
    file: Option<std::path::PathBuf>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut out = file.and_then(|p| std::fs::File::create(p).ok());
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = CAPTURE_LIMIT.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                    if let Some(f) = out.as_mut() {
                        let _ = f.write_all(&buf[..n]);
                    }
                }
            }
        }
        kept
    })
}

fn kill_group(pid: u32) {
    #[cfg(unix)]
    {
        if let Some(p) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) {
            // ESRCH (the group is already gone) is fine.
            let _ = rustix::process::kill_process_group(p, rustix::process::Signal::KILL);
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Run `argv` in `cwd` with `env` added, until it exits or `stop` is set (then its whole process group is
/// killed). `logs` is a path prefix: `<logs>.stdout` and `<logs>.stderr` receive the whole streams.
pub(crate) fn run_command(
    argv: &[String],
    env: &BTreeMap<String, String>,
    cwd: &Path,
    stop: &AtomicBool,
    logs: Option<&Path>,
) -> Result<CommandOutput> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "empty argv (expected a program)"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(env)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| {
        Error::new(ErrorKind::Run, format!("cannot start {program:?}: {e}")).with_file(cwd.join(program))
    })?;
    let pid = child.id();
    // `<base>.stdout`: appended, not `with_extension`, which would cut names that contain a dot.
    let log = |ext: &str| {
        logs.map(|p| {
            let mut name = p.as_os_str().to_os_string();
            name.push(".");
            name.push(ext);
            std::path::PathBuf::from(name)
        })
    };
    let out = child.stdout.take().map(|s| capture(s, log("stdout")));
    let err = child.stderr.take().map(|s| capture(s, log("stderr")));
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        if stop.load(Ordering::SeqCst) {
            killed = true;
            kill_group(pid);
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Whatever the command left running in its group does not outlive it (and would hold the pipes open).
    kill_group(pid);
    let text = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(CommandOutput {
        exit_code: status.and_then(|s| s.code()),
        stdout: text(out),
        stderr: text(err),
        killed,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn output_exit_code_and_env() {
        let stop = AtomicBool::new(false);
        let env = BTreeMap::from([("TORON_X".to_string(), "42".to_string())]);
        let argv: Vec<String> = ["sh", "-c", "echo out $TORON_X; echo err >&2; exit 3"]
            .map(String::from)
            .into();
        let o = run_command(&argv, &env, Path::new("."), &stop, None).unwrap();
        assert_eq!(o.exit_code, Some(3));
        assert_eq!(o.stdout, "out 42\n");
        assert_eq!(o.stderr, "err\n");
        assert!(!o.killed);
    }

    #[test]
    fn a_missing_program_is_a_run_error() {
        let stop = AtomicBool::new(false);
        let e = run_command(
            &["/no/such/program".into()],
            &BTreeMap::new(),
            Path::new("."),
            &stop,
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Run);
    }

    #[test]
    fn stop_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("grandchild.pid");
        // The shell starts a grandchild that would outlive it, records its pid, then waits.
        let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let pf = pidfile.clone();
        let setter = std::thread::spawn(move || {
            while !pf.exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            s2.store(true, Ordering::SeqCst);
        });
        let argv: Vec<String> = ["sh", "-c", script.as_str()].map(String::from).into();
        let logs = dir.path().join("cmd");
        let o = run_command(&argv, &BTreeMap::new(), dir.path(), &stop, Some(&logs)).unwrap();
        setter.join().unwrap();
        assert!(o.killed);
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        // The grandchild is gone (kill(pid, 0) fails), not just the shell.
        let alive = || rustix::process::test_kill_process(rustix::process::Pid::from_raw(pid).unwrap()).is_ok();
        for _ in 0..200 {
            if !alive() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(), "grandchild {pid} survived");
        assert!(std::path::PathBuf::from(format!("{}.stdout", logs.display())).exists());
    }
}
