//! Runs `object_key_sensor(<url>, <prefix>)` once in `dag.test()` and prints what it found,
//! so that a test can run it with the store configured by environment variables.
//!
//! Usage: `object_key_probe <url> <prefix: true|false>`; prints `state=<state>`, then
//! `keys=<k1,k2>` or `error=<message>`.

use std::time::Duration;

use taskflow::prelude::*;
use taskflow::sensors::object_key_sensor;
use taskflow::{SensorMode, SensorSettings};

fn main() -> taskflow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_default();
    let prefix = args.next().is_some_and(|flag| flag == "true");
    // A few checks a second apart: enough for a key that is there.
    let settings = SensorSettings::DEFAULT
        .with_poke_interval(Duration::from_secs(1))
        .with_timeout(Duration::from_secs(3))
        .with_mode(SensorMode::Reschedule);
    let report = Dag::build("object_key_probe", || {
        object_key_sensor::with(TaskOptions::new().sensor(settings)).add(url.as_str(), prefix);
    })?
    .test()?;
    let state = report.state("object_key_sensor");
    println!("state={state}");
    match report.xcom::<Vec<String>>("object_key_sensor") {
        Ok(keys) => println!("keys={}", keys.join(",")),
        Err(_) => println!(
            "error={}",
            report.error("object_key_sensor").unwrap_or_default()
        ),
    }
    Ok(())
}
