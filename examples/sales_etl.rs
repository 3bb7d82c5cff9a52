//! An ETL over a small CSV of orders: `extract` reads `examples/data/orders.csv`, `pivot`
//! sums the amounts into a region x month table with row and column totals (pandas'
//! `pivot_table(index="region", columns="month", values="amount", aggfunc="sum",
//! margins=True)`), `summarize` counts the orders, and `load` prints the table and writes it
//! as CSV. It shows a `&Context` parameter, a task failing with a `TaskError` (a bad row names
//! its line), a literal argument (the minimum amount), a value shared by two tasks without a
//! copy (`&[Order]`), and the run report.
//!
//! Run it with `cargo run --example sales_etl`, or `cargo run --example sales_etl -- out.csv`
//! to choose the output file (default: `target/sales_pivot.csv`). With `--pictures` it also
//! writes the run's HTML page, `target/sales_etl.html`, and its graph in DOT,
//! `target/sales_etl.dot`.
//!
//! Its `main` also speaks Airflow's command line (`taskflow::cli`), with the runs kept in
//! `$TASKFLOW_HOME/taskflow.db` (or `--store PATH`):
//!
//! ```text
//! cargo run --example sales_etl -- dags list
//! cargo run --example sales_etl -- dags test sales_etl 2026-01-05
//! cargo run --example sales_etl -- dags list-runs sales_etl -o json
//! cargo run --example sales_etl -- tasks states-for-dag-run sales_etl manual__2026-01-05T00:00:00+00:00
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use taskflow::prelude::*;
use taskflow_examples::orders::{Order, Pivot, money};

/// Orders below this amount, in cents, are left out of the pivot table.
const MIN_AMOUNT: u64 = 20_00;

/// The CSV shipped with the examples, found wherever the example runs from.
fn orders_csv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/orders.csv")
}

/// A path relative to the current directory if it is under it, for shorter messages.
fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

/// What `summarize` found in all orders, before the minimum amount filter.
#[derive(Debug, Clone, PartialEq)]
struct Summary {
    orders: usize,
    total: u64,
}

/// Reads the orders. A `&Context` parameter is injected by the executor, not wired.
#[task]
fn extract(ctx: &Context, input: PathBuf) -> Result<Vec<Order>, TaskError> {
    println!(
        "extract: run {} of {}, logical date {}",
        ctx.run_id(),
        ctx.dag_id(),
        ctx.logical_date().date_naive()
    );
    let file = shown(&input);
    let text = fs::read_to_string(&input)
        .map_err(|e| TaskError::msg(format!("cannot read {file}: {e}")))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim() == "order_id,date,region,product,amount" => {}
        other => {
            return Err(TaskError::msg(format!(
                "{file}, line 1: expected the header `order_id,date,region,product,amount`, \
                 found `{}`",
                other.map_or("", |(_, header)| header)
            )));
        }
    }
    let mut orders = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let order = Order::parse(line)
            .map_err(|e| TaskError::msg(format!("{file}, line {}: {e}", index + 1)))?;
        orders.push(order);
    }
    println!("extract: read {} orders from {file}", orders.len());
    Ok(orders)
}

/// Counts all the orders. `&[Order]`: it shares the orders (a `Vec<Order>` upstream) with
/// `pivot`, no copy is made.
#[task]
fn summarize(orders: &[Order]) -> Summary {
    let total = orders.iter().map(|o| o.amount).sum();
    let products: BTreeSet<&str> = orders.iter().map(|o| o.product.as_str()).collect();
    if let Some(largest) = orders.iter().max_by_key(|o| o.amount) {
        println!(
            "summarize: {} orders of {} products, {} in all; the largest is #{} ({}, {}, {})",
            orders.len(),
            products.len(),
            money(total),
            largest.id,
            largest.region,
            largest.product,
            money(largest.amount),
        );
    }
    Summary {
        orders: orders.len(),
        total,
    }
}

/// Sums the orders of at least `min_amount` cents by region and month.
#[task]
fn pivot(orders: &[Order], min_amount: u64) -> Pivot {
    let table = Pivot::of(orders, min_amount);
    let kept = orders.iter().filter(|o| o.amount >= min_amount).count();
    println!(
        "pivot: {kept} of {} orders of at least {} into {} regions x {} months",
        orders.len(),
        money(min_amount),
        table.regions.len(),
        table.months.len()
    );
    table
}

/// Prints the table and writes it as CSV to `output`, creating its directory. `table: Pivot`
/// by value: `load` is its only reader, so the table is moved here, not cloned.
#[task]
fn load(table: Pivot, output: PathBuf) -> Result<PathBuf, TaskError> {
    table.write_csv(&output, shown).map_err(TaskError::msg)?;
    // One print, so that the lines of tasks running meanwhile do not land inside the table.
    print!(
        "load: wrote {} regions x {} months to {}\n\n{}",
        table.regions.len(),
        table.months.len(),
        shown(&output),
        table.to_text()
    );
    Ok(output)
}

/// The DAG, reading `input` and writing the table to `output`, every morning at 06:00 once
/// a scheduler runs it (`cargo run --example sales_etl -- scheduler`).
#[dag(schedule = "0 6 * * *", start_date = "2026-01-01")]
fn sales_etl(input: PathBuf, output: PathBuf) {
    let orders = extract(input); // Xcom<Vec<Order>>: a handle, not the orders
    summarize(orders); // two readers of `&[Order]` share the one value
    let table = pivot(orders, MIN_AMOUNT); // a handle and a literal
    load(table, output);
}

/// The command line's groups: `sales_etl dags list`, `sales_etl tasks states-for-dag-run ..`.
#[cfg_attr(test, allow(dead_code))]
const CLI_GROUPS: [&str; 4] = ["dags", "tasks", "backfill", "scheduler"];

/// Runs the ETL once, or, when the first argument is a command of Airflow's command line
/// (`dags`, `tasks`, `backfill`, `scheduler`), answers it for the DAG.
#[cfg_attr(test, allow(dead_code))]
fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let first = std::env::args().nth(1).unwrap_or_default();
    if CLI_GROUPS.contains(&first.as_str()) {
        let output = PathBuf::from("target/sales_pivot.csv");
        return Ok(taskflow::cli::Cli::new()
            .dag(sales_etl(orders_csv(), output))
            .run());
    }
    tokio::runtime::Runtime::new()?.block_on(run_once())
}

/// The ETL, run once now: the table is printed and written, the report shown.
#[cfg_attr(test, allow(dead_code))]
async fn run_once() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (flags, paths): (Vec<_>, Vec<_>) = std::env::args_os()
        .skip(1)
        .partition(|arg| arg.to_str().is_some_and(|arg| arg.starts_with("--")));
    let output = paths
        .into_iter()
        .next()
        .map_or_else(|| PathBuf::from("target/sales_pivot.csv"), PathBuf::from);
    let report = sales_etl(orders_csv(), output).run().await?;

    // The report displays as a table: task, state, tries, start, duration, error.
    print!("\n{report}");
    if flags.iter().any(|flag| flag == "--pictures") {
        // The run's page (Gantt chart, graph, table) and its graph for Graphviz.
        let (page, dot) = ("target/sales_etl.html", "target/sales_etl.dot");
        report
            .write_html(page)
            .map_err(|e| format!("{page}: {e}"))?;
        fs::write(dot, report.to_dot()).map_err(|e| format!("{dot}: {e}"))?;
        println!("\nwrote {page} and {dot}");
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskflow_examples::orders::parse_cents;

    /// A path in the temp directory unique to this process and test.
    fn temp_dir(test: &str) -> PathBuf {
        std::env::temp_dir().join(format!("taskflow-sales-etl-{}-{test}", std::process::id()))
    }

    /// The shipped rows as (region, month, cents), read without the example's parser.
    fn rows() -> Vec<(String, String, u64)> {
        let text = fs::read_to_string(orders_csv()).unwrap();
        text.lines()
            .skip(1)
            .map(|line| {
                let f: Vec<&str> = line.split(',').collect();
                let cents = f[4].replace('.', "").parse().unwrap();
                (f[2].to_owned(), f[1][..7].to_owned(), cents)
            })
            .collect()
    }

    #[test]
    fn pivots_the_orders_and_writes_the_csv() {
        let dir = temp_dir("ok");
        let output = dir.join("nested/pivot.csv");
        let report = sales_etl(orders_csv(), output.clone()).test().unwrap();
        assert!(report.succeeded());
        for task in report.tasks() {
            assert_eq!(task.state, TaskState::Success, "{}", task.task_id);
        }

        let rows = rows();
        let kept: Vec<_> = rows.iter().filter(|r| r.2 >= MIN_AMOUNT).collect();
        let sum = |region: &str, month: &str| -> u64 {
            kept.iter()
                .filter(|r| r.0 == region && r.1 == month)
                .map(|r| r.2)
                .sum()
        };
        let grand_total: u64 = kept.iter().map(|r| r.2).sum();
        let table: Pivot = report.xcom("pivot").unwrap();
        assert_eq!(table.regions, ["east", "north", "south", "west"]);
        assert_eq!(table.months.len(), 6);
        assert_eq!(
            table.cell("north", "2026-03"),
            Some(sum("north", "2026-03"))
        );
        assert_eq!(table.cell("west", "2026-05"), Some(sum("west", "2026-05")));
        assert_eq!(sum("east", "2026-06"), 0);
        assert_eq!(table.cell("east", "2026-06"), None); // only orders under the minimum
        assert_eq!(table.grand_total(), grand_total);
        let row_totals: u64 = table.regions.iter().map(|r| table.row_total(r)).sum();
        assert_eq!(row_totals, grand_total);

        let summary: Summary = report.xcom("summarize").unwrap();
        assert_eq!(summary.orders, rows.len());
        assert_eq!(summary.total, rows.iter().map(|r| r.2).sum::<u64>());

        assert_eq!(report.xcom::<PathBuf>("load").unwrap(), output);
        let csv = fs::read_to_string(&output).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "region,2026-01,2026-02,2026-03,2026-04,2026-05,2026-06,total"
        );
        assert_eq!(lines.len(), 1 + 4 + 1);
        assert!(lines[1].starts_with("east,") && lines[1].contains(",,")); // the empty cell
        assert!(lines[5].starts_with("total,"));
        assert!(lines[5].ends_with(&format!(",{}", money(grand_total))));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_bad_row_fails_extract_with_its_line() {
        let dir = temp_dir("bad_row");
        fs::create_dir_all(&dir).unwrap();
        let input = dir.join("orders.csv");
        fs::write(
            &input,
            "order_id,date,region,product,amount\n\
             1,2026-01-05,north,widget,12.50\n\
             2,2026-01-06,south,gadget,twelve\n",
        )
        .unwrap();
        let output = dir.join("pivot.csv");
        let report = sales_etl(input, output.clone()).test().unwrap();
        assert!(!report.succeeded());
        assert_eq!(report.state("extract"), TaskState::Failed);
        let error = report.task("extract").unwrap().error.unwrap();
        assert!(error.ends_with("orders.csv, line 3: amount `twelve` is not an amount like 12.50"));
        for task in ["summarize", "pivot", "load"] {
            assert_eq!(report.state(task), TaskState::UpstreamFailed, "{task}");
        }
        assert!(!output.exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn amounts_parse_to_exact_cents() {
        assert_eq!(parse_cents("123.45"), Ok(12345));
        assert_eq!(parse_cents("7"), Ok(700));
        assert!(parse_cents("1.5").is_err());
        assert!(parse_cents("-1.00").is_err());
        assert_eq!(money(12345), "123.45");
        assert_eq!(money(5), "0.05");
    }

    #[test]
    fn the_example_speaks_airflows_command_line_for_its_dag() {
        // Bounded: a command that hangs fails the test.
        let (done, finished) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            check_command_line();
            let _ = done.send(());
        });
        match finished.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(()) => worker.join().unwrap(),
            Err(_) if worker.is_finished() => match worker.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => panic!("the commands ended without saying so"),
            },
            Err(_) => panic!("the commands were still running after 60 s"),
        }
    }

    fn check_command_line() {
        let dir = temp_dir("cli");
        let store = dir.join("taskflow.db");
        let cli = || taskflow::cli::Cli::new().dag(sales_etl(orders_csv(), dir.join("pivot.csv")));
        let run = |args: &[&str]| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let mut line = vec!["sales_etl", "--store", store.to_str().unwrap()];
            line.extend_from_slice(args);
            let code = cli().run_from(line, &mut out, &mut err);
            (
                code,
                String::from_utf8(out).unwrap(),
                String::from_utf8(err).unwrap(),
            )
        };
        let (code, listed, _) = run(&["dags", "list"]);
        assert_eq!(code, 0);
        assert!(listed.contains("sales_etl"), "{listed}");
        let (code, _, err) = run(&["dags", "test", "sales_etl", "2026-01-05"]);
        assert_eq!(code, 0, "{err}");
        let (code, runs, _) = run(&["dags", "list-runs", "sales_etl", "-o", "json"]);
        assert_eq!(code, 0);
        assert!(runs.contains("manual__2026-01-05T00:00:00+00:00"), "{runs}");
        let (code, _, err) = run(&["dags", "test", "no_such_dag"]);
        assert_eq!(code, 1);
        assert!(err.contains("no_such_dag"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }
}
