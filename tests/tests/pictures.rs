//! Pictures of a run checked by the real tools that draw them: Graphviz renders the DOT of
//! a DAG and of a run, and headless Chromium loads the HTML page of a run; the tests read
//! the DOM it built and the pixels of its screenshot. Without `dot` or `chromium` they fail,
//! naming the Debian package to install.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use taskflow::RunReport;
use taskflow::prelude::*;
use taskflow_tests::tools::{self, Ran};

const MINUTE: Duration = Duration::from_secs(60);

#[task]
async fn extract(ctx: &Context) -> u32 {
    ctx.sleep(4 * MINUTE).await;
    3
}

/// Fails its first try, succeeds its second, ten minutes later.
#[task(retries = 1, retry_delay = "10m")]
async fn flaky(ctx: &Context, rows: u32) -> Result<u32, TaskError> {
    ctx.sleep(5 * MINUTE).await;
    if ctx.try_number() == 1 {
        return Err(TaskError::msg("the warehouse is busy"));
    }
    Ok(rows)
}

#[task]
async fn broken(ctx: &Context, rows: u32) -> Result<u32, TaskError> {
    ctx.sleep(3 * MINUTE).await;
    Err(TaskError::msg(format!(
        "<script>document.body.remove()</script> cannot load {rows} rows"
    )))
}

#[task]
fn publish(rows: u32) -> u32 {
    rows
}

#[task]
async fn optional(ctx: &Context) -> Result<(), TaskError> {
    ctx.sleep(2 * MINUTE).await;
    Err(TaskError::skip("nothing to do <today> & \"tomorrow\""))
}

/// True at its third check, ten minutes (two reschedules) after the run starts.
#[sensor(poke_interval = "5m", mode = "reschedule")]
fn landed() -> bool {
    static CHECKS: AtomicU32 = AtomicU32::new(0);
    CHECKS.fetch_add(1, Ordering::SeqCst) == 2
}

#[task]
async fn load(ctx: &Context, rows: u32) -> u32 {
    ctx.sleep(2 * MINUTE).await;
    rows
}

/// In the order the DAG adds them: `load(flaky(..))` adds `load` before `landed`.
const TASK_IDS: [&str; 7] = [
    "extract", "flaky", "load", "landed", "broken", "publish", "optional",
];

/// The DAG and the report of its one run (shared: the sensor counts its checks).
fn run() -> &'static (Dag, RunReport) {
    static RUN: OnceLock<(Dag, RunReport)> = OnceLock::new();
    RUN.get_or_init(|| {
        let dag = Dag::build("pictures", || {
            let rows = extract();
            let loaded = load(flaky(rows));
            landed() >> loaded;
            publish(broken(rows));
            optional();
        })
        .unwrap();
        let report = dag.test_with(quiet()).unwrap();
        (dag, report)
    })
}

/// `dag.test()`'s options without its log: the tests read the report.
fn quiet() -> RunOptions {
    RunOptions::new().log(false)
}

/// Airflow's colour of each state, as the pictures use them.
fn airflow_colour(state: &str) -> [u8; 3] {
    match state {
        "success" => [0x00, 0x80, 0x00],
        "failed" => [0xff, 0x00, 0x00],
        "upstream_failed" => [0xff, 0xa5, 0x00],
        "skipped" => [0xff, 0x69, 0xb4],
        "up_for_retry" => [0xff, 0xd7, 0x00],
        "up_for_reschedule" => [0x40, 0xe0, 0xd0],
        other => panic!("no colour for {other}"),
    }
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

fn graphviz() -> PathBuf {
    tools::find(&["dot"], "GRAPHVIZ_DOT", "graphviz")
}

fn chromium() -> PathBuf {
    tools::find(
        &["chromium", "chromium-browser", "google-chrome"],
        "CHROMIUM",
        "chromium",
    )
}

/// `dot -Tsvg` of `dot`, as text.
fn rendered(dot: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let Ran { stdout, .. } = tools::run(&graphviz(), &["-Tsvg".into()], dot.as_bytes(), dir.path());
    String::from_utf8(stdout).unwrap()
}

#[test]
fn the_run_is_the_one_the_pictures_are_checked_against() {
    let (_, report) = run();
    let states: Vec<_> = TASK_IDS.iter().map(|id| report.state(id)).collect();
    use TaskState::*;
    assert_eq!(
        states,
        [
            Success,
            Success,
            Success,
            Success,
            Failed,
            UpstreamFailed,
            Skipped
        ]
    );
    assert_eq!(report.try_number("flaky"), 2);
    // Virtual time: the sleeps and the retry delay, and the microseconds of real work.
    let took = report.duration();
    assert!(
        took >= 26 * MINUTE && took < 26 * MINUTE + Duration::from_secs(1),
        "{report}"
    );
}

#[test]
fn graphviz_renders_the_dot_of_a_dag_with_every_task_and_dependency() {
    let svg = rendered(&run().0.to_dot());
    assert!(svg.contains("<title>pictures</title>"), "{svg}");
    for id in TASK_IDS {
        assert!(
            svg.contains(&format!("<title>{id}</title>")),
            "{id}:\n{svg}"
        );
    }
    // Graphviz titles an edge `from&#45;&gt;to`.
    for (from, to) in [("extract", "flaky"), ("flaky", "load"), ("landed", "load")] {
        let edge = format!("<title>{from}&#45;&gt;{to}</title>");
        assert!(svg.contains(&edge), "{edge}:\n{svg}");
    }
    assert_eq!(svg.matches("class=\"edge\"").count(), 5, "{svg}");
}

#[test]
fn graphviz_renders_the_dot_of_a_run_filling_each_task_with_its_state_colour() {
    let (_, report) = run();
    let svg = rendered(&report.to_dot());
    // Each node is a `<g class="node">` with its title, then its shape filled.
    for id in TASK_IDS {
        let at = svg
            .find(&format!("<title>{id}</title>"))
            .unwrap_or_else(|| panic!("no node {id}:\n{svg}"));
        let node = &svg[at..at + svg[at..].find("</g>").unwrap()];
        let fill = format!(
            "fill=\"{}\"",
            hex(airflow_colour(report.state(id).as_str()))
        );
        assert!(node.contains(&fill), "{id} should be {fill}:\n{node}");
    }
}

/// The attributes of each `<rect class="try">` of a dumped DOM.
fn tries(dom: &str) -> Vec<HashMap<String, String>> {
    dom.split("<rect class=\"try\"")
        .skip(1)
        .map(|rest| {
            let tag = &rest[..rest.find('>').unwrap()];
            let mut attributes = HashMap::new();
            for pair in tag.split("\" ") {
                if let Some((name, value)) = pair.trim().split_once("=\"") {
                    attributes.insert(name.to_owned(), value.trim_end_matches('"').to_owned());
                }
            }
            attributes
        })
        .collect()
}

/// The bar of try `number` of `task_id`.
fn bar<'a>(
    bars: &'a [HashMap<String, String>],
    task_id: &str,
    number: u32,
) -> &'a HashMap<String, String> {
    bars.iter()
        .find(|bar| bar["data-task"] == task_id && bar["data-try"] == number.to_string())
        .unwrap_or_else(|| panic!("no bar for try {number} of {task_id}: {bars:?}"))
}

fn number(bar: &HashMap<String, String>, name: &str) -> f64 {
    bar[name].parse().unwrap()
}

/// Headless Chromium's flags: no sandbox (root in a container), nothing from the profile
/// or the GPU, a fixed window and scale, so that the page lays out the same every time.
fn chromium_args(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--force-device-scale-factor=1",
        "--window-size=1200,900",
    ]
    .map(String::from)
    .into_iter()
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// The page of the run, written to a temporary directory; its `file://` URL.
fn page(dir: &Path) -> String {
    let path = dir.join("run.html");
    run().1.write_html(&path).unwrap();
    format!("file://{}", path.display())
}

/// Where the Gantt chart's top left corner is on the page: the page's fixed header and
/// heading above it, its side padding left of it.
const GANTT_ORIGIN: (f64, f64) = (16.0, 92.0);

#[test]
fn chromium_builds_the_page_of_a_run_with_its_rows_bars_and_escaped_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = chromium_args(&dir.path().join("profile"));
    args.extend(["--dump-dom".to_owned(), page(dir.path())]);
    let Ran { stdout, .. } = tools::run(&chromium(), &args, b"", dir.path());
    let dom = String::from_utf8(stdout).unwrap();

    assert!(dom.contains("<h1>pictures</h1>"), "{dom}");
    for id in TASK_IDS {
        assert!(
            dom.contains(&format!("<tr><td>{id}</td>")),
            "no row for {id}:\n{dom}"
        );
        assert!(
            dom.contains(&format!("<g class=\"task\" data-task=\"{id}\"")),
            "no graph node for {id}:\n{dom}"
        );
    }
    // The errors are text, not markup: the page has no script and its body is all there.
    assert!(!dom.contains("<script"), "{dom}");
    assert!(dom.contains("&lt;script&gt;document.body.remove()&lt;/script&gt; cannot load 3 rows"));
    assert!(
        dom.contains("nothing to do &lt;today&gt; &amp; \"tomorrow\""),
        "{dom}"
    );

    let bars = tries(&dom);
    assert_eq!(bar(&bars, "flaky", 1)["data-state"], "up_for_retry");
    assert_eq!(bar(&bars, "flaky", 2)["data-state"], "success");
    assert_eq!(bar(&bars, "broken", 1)["data-state"], "failed");
    assert_eq!(bar(&bars, "optional", 1)["data-state"], "skipped");
    assert!(
        !bars.iter().any(|bar| bar["data-task"] == "publish"),
        "publish never ran: {bars:?}"
    );
    // Across 900 px for the run's 26 minutes, after a 200 px label column.
    let x = |minutes: f64| 200.0 + minutes / 26.0 * 900.0;
    let close = |bar: &HashMap<String, String>, name: &str, at: f64| {
        assert!(
            (number(bar, name) - at).abs() < 0.01,
            "{name} should be {at}: {bar:?}"
        );
    };
    // `flaky` ran 4-9 and, after its 10-minute retry delay, 19-24: a gap between its bars.
    let (first, second) = (bar(&bars, "flaky", 1), bar(&bars, "flaky", 2));
    close(first, "x", x(4.0));
    close(first, "width", x(9.0) - x(4.0));
    close(second, "x", x(19.0));
    close(second, "width", x(24.0) - x(19.0));
    close(second, "y", number(first, "y"));
    // The sensor's checks at 0, 5 and 10 minutes, each a bar of its own.
    let checks: Vec<_> = bars
        .iter()
        .filter(|bar| bar["data-task"] == "landed")
        .collect();
    let outcomes: Vec<&str> = checks
        .iter()
        .map(|bar| bar["data-state"].as_str())
        .collect();
    assert_eq!(
        outcomes,
        ["up_for_reschedule", "up_for_reschedule", "success"]
    );
    for (check, minutes) in checks.iter().zip([0.0, 5.0, 10.0]) {
        close(check, "x", x(minutes));
    }

    // The graph's layers are the longest paths from a root: `load` waits for `flaky`, which
    // waits for `extract`, so it is in the third column although `landed` is a root.
    assert!(
        dom.contains(
            "data-task=\"load\" data-state=\"success\"><title>load: success</title><rect x=\"428\""
        ),
        "{dom}"
    );
}

#[test]
fn chromium_paints_each_gantt_bar_in_its_tries_outcome_colour() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    let url = page(dir.path());
    let mut dump = chromium_args(&profile);
    dump.extend(["--dump-dom".to_owned(), url.clone()]);
    let dom = String::from_utf8(tools::run(&chromium(), &dump, b"", dir.path()).stdout).unwrap();
    let bars = tries(&dom);

    let shot = dir.path().join("shot.png");
    let mut args = chromium_args(&profile);
    args.extend([format!("--screenshot={}", shot.display()), url]);
    tools::run(&chromium(), &args, b"", dir.path());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1200, 900));
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let channels = frame.color_type.samples();
    let pixel = |x: f64, y: f64| {
        let at = (y as usize * frame.width as usize + x as usize) * channels;
        [pixels[at], pixels[at + 1], pixels[at + 2]]
    };

    let centre = |bar: &HashMap<String, String>| {
        (
            GANTT_ORIGIN.0 + number(bar, "x") + number(bar, "width") / 2.0,
            GANTT_ORIGIN.1 + number(bar, "y") + number(bar, "height") / 2.0,
        )
    };
    // Every bar, each try and each check of the sensor, in the colour of how the report
    // says it ended.
    let history: Vec<(String, String)> = TASK_IDS
        .iter()
        .flat_map(|id| {
            let tries = run().1.task(id).unwrap().history;
            tries
                .into_iter()
                .map(|try_| (id.to_string(), try_.state.as_str().to_owned()))
        })
        .collect();
    assert_eq!(bars.len(), 9, "{bars:?}");
    assert_eq!(bars.len(), history.len(), "{bars:?}");
    for (bar, (task_id, state)) in bars.iter().zip(&history) {
        assert_eq!((&bar["data-task"], &bar["data-state"]), (task_id, state));
        let (x, y) = centre(bar);
        let expected = airflow_colour(state);
        let seen = pixel(x, y);
        let close = seen.iter().zip(expected).all(|(&a, b)| a.abs_diff(b) <= 6);
        assert!(
            close,
            "try {} of {} at ({x}, {y}) is {} on the screen, not {} ({})",
            bar["data-try"],
            bar["data-task"],
            hex(seen),
            hex(expected),
            bar["data-state"]
        );
    }
    // Between the two tries of `flaky`, its retry delay: the chart's light background.
    let (first, second) = (bar(&bars, "flaky", 1), bar(&bars, "flaky", 2));
    let gap_x =
        GANTT_ORIGIN.0 + (number(first, "x") + number(first, "width") + number(second, "x")) / 2.0;
    let gap = pixel(gap_x, centre(first).1);
    assert!(
        gap.iter().all(|&channel| channel >= 0xe0),
        "the retry delay is {}",
        hex(gap)
    );
}

#[task]
fn step() {}

/// A chain of `length` tasks `step`, `step__1`, ...
fn chain(length: usize) -> Dag {
    Dag::build("chain", || {
        let tasks: Vec<TaskRef> = (0..length).map(|_| step().task()).collect();
        for pair in tasks.windows(2) {
            pair[0] >> pair[1];
        }
    })
    .unwrap()
}

#[test]
fn the_page_of_a_twenty_thousand_task_run_is_built_fast_and_capped_to_stay_small() {
    let report = chain(20_000).test_with(quiet()).unwrap();
    let started = Instant::now();
    let page = report.to_html();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(page.len() < 4_000_000, "{} bytes", page.len());
    assert!(page.contains("the graph has 20000 tasks, more than the 1000 drawn"));
    assert!(page.contains("the chart shows the first 2000 tasks; 18000 more are in the table"));
    assert_eq!(page.matches("<rect class=\"try\"").count(), 2_000);
    assert!(page.contains("<p class=\"note\">and 10000 more tasks</p>"));
    assert_eq!(page.matches("<tr><td>").count(), 10_000);
}

#[test]
fn a_thousand_task_chain_is_drawn_a_layer_per_task() {
    let page = chain(1_000).test_with(quiet()).unwrap().to_html();
    assert_eq!(page.matches("<g class=\"task\"").count(), 1_000);
    assert_eq!(page.matches("marker-end=\"url(#arrow)\"").count(), 999);
    // The last task, in the 1000th layer: 8 px of margin and 999 columns of 210 px.
    assert!(page.contains("data-task=\"step__999\" data-state=\"success\"><title>step__999: success</title><rect x=\"209798\" y=\"8\""));
}

#[test]
fn a_missing_tool_fails_the_test_naming_the_package_to_install() {
    let missing = std::panic::catch_unwind(|| {
        tools::find(
            &["taskflow-no-such-tool"],
            "TASKFLOW_NO_SUCH_TOOL",
            "no-such-package",
        )
    })
    .unwrap_err();
    let message = missing.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("install the Debian package `no-such-package`")
            && message.contains("apt-get install no-such-package"),
        "{message}"
    );
}

#[test]
fn a_sensor_checking_every_second_for_half_an_hour_draws_hundreds_of_bars_not_thousands() {
    #[sensor(poke_interval = "1s", timeout = "30m", mode = "reschedule", soft_fail)]
    fn never() -> bool {
        false
    }
    let report = Dag::build("patient", || {
        never();
    })
    .unwrap()
    .test_with(quiet())
    .unwrap();
    let checks = report.task("never").unwrap().history;
    assert_eq!(
        checks.len(),
        1_025,
        "the latest 1,024 waits and the last check"
    );
    let page = report.to_html();
    let bars = tries(&page);
    // 1,025 checks a second apart across the last 1,025 of 1,800 seconds drawn on 900 px:
    // one bar in four at most fits beside the one before it.
    assert!(bars.len() > 100 && bars.len() < 300, "{}", bars.len());
    let last = bars.last().unwrap();
    assert_eq!(last["data-state"], "skipped", "the outcome is drawn");
    // Each bar but the last starts where the one before it ends, or after.
    let lefts: Vec<f64> = bars.iter().map(|bar| number(bar, "x")).collect();
    let before_last = &lefts[..lefts.len() - 1];
    assert!(
        before_last.windows(2).all(|pair| pair[1] >= pair[0] + 2.0),
        "{lefts:?}"
    );
    assert!(page.len() < 100_000, "{} bytes", page.len());
}

#[test]
fn past_twenty_thousand_bars_each_task_shows_only_its_outcome() {
    #[sensor(poke_interval = "1s", timeout = "8m", mode = "reschedule", soft_fail)]
    fn never() -> bool {
        false
    }
    let report = Dag::build("crowded", || {
        for _ in 0..100 {
            never();
        }
    })
    .unwrap()
    .test_with(quiet())
    .unwrap();
    let page = report.to_html();
    let bars = tries(&page);
    // 480 checks on 900 px: every other one fits beside the one before it, so 20,000 bars
    // fill 83 rows and the 17 left get one bar each.
    assert!(
        bars.len() >= 20_000 && bars.len() < 20_000 + 100,
        "{}",
        bars.len()
    );
    let last_row: Vec<_> = bars
        .iter()
        .filter(|bar| bar["data-task"] == "never__99")
        .collect();
    assert_eq!(last_row.len(), 1, "{last_row:?}");
    assert_eq!(last_row[0]["data-state"], "skipped");
    assert!(page.contains("<p class=\"note\">past 20000 bars, a task shows only its last try</p>"));
}
