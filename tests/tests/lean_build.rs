//! What a project depending on taskflow with default features compiles: few crates, no
//! object store or HTTP stack, one `syn`, no tokio features the library does not use.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The output of `cargo <args>` on the library's manifest; fails the test if cargo fails or
/// takes more than two minutes.
fn cargo_on_the_library(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../taskflow/Cargo.toml");
    let child = Command::new(cargo)
        .args(args)
        .args(["--offline", "--manifest-path", manifest])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo starts");
    let pid = child.id();
    let (done, outcome) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let Ok(output) = outcome.recv_timeout(Duration::from_secs(120)) else {
        let _ = Command::new("kill").arg(pid.to_string()).status();
        panic!("cargo {args:?} took more than two minutes");
    };
    let output = output.expect("cargo ran");
    assert!(
        output.status.success(),
        "cargo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("cargo writes UTF-8")
}

#[test]
fn a_default_build_compiles_at_most_40_crates_without_an_object_store_or_a_second_syn() {
    let tree = cargo_on_the_library(&["tree", "-e", "normal,build", "--prefix", "none"]);
    let mut crates: Vec<(String, String)> = tree
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?.to_owned(), words.next()?.to_owned()))
        })
        .collect();
    crates.sort();
    crates.dedup();
    let names: Vec<&str> = crates.iter().map(|(name, _)| name.as_str()).collect();
    // The project that depends on taskflow is the 40th.
    assert!(crates.len() < 40, "{} crates: {names:?}", crates.len());
    for heavy in [
        "object_store",
        "reqwest",
        "url",
        "futures-util",
        "ring",
        "rustls",
        // The schedule feature's, in the library and in the macros' compile-time checks.
        "croner",
        "chrono-tz",
        "humantime",
    ] {
        assert!(
            !names.contains(&heavy),
            "{heavy} is built by default: {names:?}"
        );
    }
    let syns = names.iter().filter(|&&name| name == "syn").count();
    assert_eq!(syns, 1, "{crates:?}");
}

#[test]
fn the_library_asks_tokio_for_no_macros_and_keeps_the_object_store_optional() {
    let metadata = cargo_on_the_library(&["metadata", "--no-deps", "--format-version", "1"]);
    let metadata: serde_json::Value = serde_json::from_str(&metadata).expect("cargo metadata");
    let library = metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == "taskflow"))
        .expect("the taskflow package");
    let dependency = |name: &str| {
        library["dependencies"]
            .as_array()
            .and_then(|deps| {
                deps.iter()
                    .find(|d| d["name"] == name && d["kind"].is_null())
            })
            .unwrap_or_else(|| panic!("taskflow depends on {name}"))
    };
    let tokio_features = dependency("tokio")["features"].to_string();
    assert!(!tokio_features.contains("macros"), "{tokio_features}");
    for optional in ["object_store", "url", "futures-util", "glob"] {
        assert_eq!(dependency(optional)["optional"], true, "{optional}");
    }
    let default = library["features"]["default"].to_string();
    assert!(
        !default.contains("object-store") && !default.contains("aws"),
        "{default}"
    );
}
