//! The `toron-server` binary simulates `c:` nodes, as `toron serve` does: the echo node of the C API,
//! built here as a node library, gives the digest of `tests/vectors/c_nodes.json` through the binary's
//! `simulate` (what its runs and its determinism workers call).

use std::path::Path;
use std::process::Command;

#[cfg(target_os = "linux")]
#[test]
fn the_binary_simulates_a_c_node_library_to_the_vectors_digest() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo.join("tests/vectors/c_nodes.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("build")).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let built = Command::new(&cc)
        .args(["-std=c11", "-shared", "-fPIC", "-DTORON_ECHO_NODE_LIBRARY"])
        .arg(format!("-I{}", repo.join("include").display()))
        .arg(repo.join("examples/c/echo_node.c"))
        .arg("-o")
        .arg(dir.path().join("build/libecho_node.so"))
        .status()
        .unwrap_or_else(|e| panic!("{cc}: {e}"));
    assert!(built.success(), "{cc} could not build the echo node library");
    // examples/nodes/echo_c.toml names the library relative to its own directory.
    let scenario = dir.path().join("echo_c.toml");
    std::fs::copy(repo.join("examples/nodes/echo_c.toml"), &scenario).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_toron-server"))
        .arg("simulate")
        .arg(&scenario)
        .args(["--seed", "1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["digest"], vectors["echo"]["digest"]);
}
