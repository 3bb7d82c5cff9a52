//! External programs the tests check the library's output with (Graphviz, Chromium): found
//! on `PATH` or the test fails naming the package to install, and bounded in time.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// How long one run of a tool may take before it is killed and the test fails.
pub const TOOL_LIMIT: Duration = Duration::from_secs(60);

/// The first of `names` found on `PATH` (or `override_var`'s value, if set), or a panic
/// that says which Debian package to install.
///
/// # Panics
/// When none of `names` is on `PATH`.
pub fn find(names: &[&str], override_var: &str, package: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(override_var).filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "none of {names:?} is on PATH: install the Debian package `{package}` \
         (`apt-get install {package}`, as .ci/run does) or set {override_var}"
    );
}

/// What a finished tool run left.
#[derive(Debug)]
pub struct Ran {
    /// Its standard output.
    pub stdout: Vec<u8>,
    /// Its standard error, as text.
    pub stderr: String,
}

/// Runs `program` with `args` in `dir`, `stdin` as its input, and returns its output; a
/// panic if it cannot start, exits with an error, or runs past [`TOOL_LIMIT`] (it is
/// killed then). Output goes through files in `dir`, so a chatty tool cannot block on a
/// full pipe.
///
/// # Panics
/// When the program cannot start, fails or times out.
pub fn run(program: &Path, args: &[String], stdin: &[u8], dir: &Path) -> Ran {
    let what = format!("{} {}", program.display(), args.join(" "));
    let (input, output, errors) = (dir.join("stdin"), dir.join("stdout"), dir.join("stderr"));
    std::fs::write(&input, stdin).unwrap();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::from(File::open(&input).unwrap()))
        .stdout(Stdio::from(File::create(&output).unwrap()))
        .stderr(Stdio::from(File::create(&errors).unwrap()))
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start `{what}`: {error}"));
    let status = match child.wait_timeout(TOOL_LIMIT).unwrap() {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` ran past {TOOL_LIMIT:?} and was killed");
        }
    };
    let ran = Ran {
        stdout: std::fs::read(&output).unwrap(),
        stderr: String::from_utf8_lossy(&std::fs::read(&errors).unwrap()).into_owned(),
    };
    assert!(
        status.success(),
        "`{what}` failed ({status}):\n{}",
        ran.stderr
    );
    ran
}
