//! Helpers shared by the end-to-end test files: running the binary, checking a failed run, and
//! finding temporary files a run left behind.
#![allow(dead_code)] // each test file uses a different subset

use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// The `stancekit` binary built for these tests.
pub fn stancekit() -> Command {
    Command::cargo_bin("stancekit").unwrap()
}

/// Checks a failed run: exit code 2, no panic, every needle in standard error. Returns it.
pub fn check_failure(output: &Output, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "expected exit 2; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
    stderr
}

/// Runs `stancekit ARGS`, which must fail as [`check_failure`] says.
pub fn fails_with<S: AsRef<OsStr>>(args: &[S], needles: &[&str]) -> String {
    check_failure(&stancekit().args(args).output().unwrap(), needles)
}

/// Names of temporary files (ours end in `.tmp`) left in `dir`.
pub fn temporary_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.starts_with(".stancekit-"))
        .collect()
}
