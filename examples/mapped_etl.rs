//! Dynamic task mapping over files found at run time: `list_orders` lists the monthly order
//! files under a prefix, `parse_file` is mapped over them (one instance per file, each with
//! its own retries), `pivot` reduces every instance's orders into the region x month table
//! of `sales_etl`, and `load` writes it. A mapped task group shows mapping nested inside
//! mapping, which Airflow refuses: for each file, for each region in it, a total.
//!
//! Run it with `cargo run --example mapped_etl`: it reads
//! `examples/data/orders_by_month/*.csv` and writes `target/mapped_pivot.csv`. Give another
//! folder as the first argument, or, with the default `aws` feature, an S3 prefix such as
//! `s3://landing/orders/` (configured from the `AWS_*` variables, as in the `s3_key_sensor`
//! example).

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use taskflow::prelude::*;
use taskflow_examples::orders::{Order, Pivot, money};

/// Orders below this amount, in cents, are left out of the pivot table.
const MIN_AMOUNT: u64 = 20_00;

/// The monthly files shipped with the examples.
fn shipped_orders() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/data/orders_by_month").to_owned()
}

/// Whether `source` is an object-store URL (`s3://...`) rather than a folder.
fn is_url(source: &str) -> bool {
    source.contains("://")
}

/// The `.csv` files under `source`, sorted: the list mapped over, only known at run time.
#[task]
async fn list_orders(source: String) -> Result<Vec<String>, TaskError> {
    let mut files = if is_url(&source) {
        store::list(&source).await?
    } else {
        let entries = fs::read_dir(&source)
            .map_err(|e| TaskError::msg(format!("cannot list {source}: {e}")))?;
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| TaskError::msg(e.to_string()))?.path();
            if path.extension().is_some_and(|ext| ext == "csv") {
                files.push(path.display().to_string());
            }
        }
        files
    };
    files.sort();
    println!("list_orders: {} files under {source}", files.len());
    Ok(files)
}

/// Reads one file's orders. Mapped: one instance per file, each retried on its own.
#[task(retries = 2, retry_delay = "1s")]
async fn parse_file(ctx: &Context, file: String) -> Result<Vec<Order>, TaskError> {
    let text = if is_url(&file) {
        store::read(&file).await?
    } else {
        fs::read_to_string(&file).map_err(|e| TaskError::msg(format!("cannot read {file}: {e}")))?
    };
    let mut orders = Vec::new();
    for (index, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let order = Order::parse(line)
            .map_err(|e| TaskError::fail_now(format!("{file}, line {}: {e}", index + 1)))?;
        orders.push(order);
    }
    println!(
        "parse_file[{}]: {} orders from {file} (try {})",
        ctx.map_index().unwrap_or_default(),
        orders.len(),
        ctx.try_number()
    );
    Ok(orders)
}

/// Reduces the mapped instances' orders (in map-index order) into the pivot table.
#[task]
fn pivot(files: Vec<Vec<Order>>, min_amount: u64) -> Pivot {
    let table = Pivot::of(files.iter().flatten(), min_amount);
    println!(
        "pivot: {} files into {} regions x {} months",
        files.len(),
        table.regions.len(),
        table.months.len()
    );
    table
}

/// Prints the table and writes it as CSV to `output`.
#[task]
fn load(table: Pivot, output: PathBuf) -> Result<PathBuf, TaskError> {
    table
        .write_csv(&output, |path| path.display().to_string())
        .map_err(TaskError::msg)?;
    print!("load: wrote {}\n\n{}", output.display(), table.to_text());
    Ok(output)
}

/// The regions a file's orders are in, sorted.
#[task]
fn regions_in(orders: &[Order]) -> Vec<String> {
    let regions: BTreeSet<&str> = orders.iter().map(|o| o.region.as_str()).collect();
    regions.into_iter().map(str::to_owned).collect()
}

/// One region's total in one file. Mapped inside a mapped group: map path `[file, region]`.
#[task]
fn region_total(ctx: &Context, region: String, orders: &[Order]) -> (String, u64) {
    let total = orders
        .iter()
        .filter(|o| o.region == region)
        .map(|o| o.amount)
        .sum();
    let _path = ctx.map_path(); // [file, region]
    (region, total)
}

/// A file's line of the report.
#[task]
fn describe(file: String, totals: Vec<(String, u64)>) -> String {
    let name = file.rsplit('/').next().unwrap_or(&file).to_owned();
    let parts: Vec<String> = totals
        .iter()
        .map(|(region, cents)| format!("{region} {}", money(*cents)))
        .collect();
    format!("{name}: {}", parts.join(", "))
}

/// For each file: parse it, then for each region in it, its total (a mapping nested in the
/// group's mapping), then the file's line.
#[task_group]
fn file_report(file: Xcom<String>) -> Xcom<String> {
    let orders = parse_file(file);
    let regions = regions_in(orders);
    describe(file, region_total::expand(each(regions), orders))
}

/// The DAG: the pivot of every file under `source`, and the per-file report.
#[dag]
fn mapped_etl(source: String, output: PathBuf) {
    let files = list_orders(source);
    let parsed = parse_file::expand(each(files)); // Xcom<Vec<Vec<Order>>>
    load(pivot(parsed, MIN_AMOUNT), output);
    file_report::expand(each(files)); // Xcom<Vec<String>>
}

#[cfg_attr(test, allow(dead_code))]
#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let source = args.next().unwrap_or_else(shipped_orders);
    let output = PathBuf::from("target/mapped_pivot.csv");
    let report = mapped_etl(source, output).run().await?;
    if let Ok(lines) = report.xcom::<Vec<String>>("file_report") {
        println!("\nper file and region (a mapping nested in a mapped group):");
        for line in lines {
            println!("  {line}");
        }
    }
    let instances = report.instances("parse_file");
    println!("\nparse_file ran {} instances:", instances.len());
    for instance in &instances {
        println!(
            "  [{}] {} after {} tries",
            instance.map_index.unwrap_or_default(),
            instance.state,
            instance.tries
        );
    }
    print!("\n{report}");
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Listing and reading objects under an `s3://bucket/prefix` URL (S3 or an S3-compatible
/// server, configured from the `AWS_*` variables).
#[cfg(feature = "aws")]
mod store {
    use taskflow::TaskError;
    use taskflow::object_store::ObjectStore;
    use taskflow::object_store::aws::AmazonS3Builder;
    use taskflow::object_store::path::Path;

    /// The store of `url` and the path in it.
    fn open(url: &str) -> Result<(impl ObjectStore, Path), TaskError> {
        let fail = |e: &dyn std::fmt::Display| TaskError::fail_now(format!("{url}: {e}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| fail(&"only s3:// URLs and folders are supported"))?;
        let key = rest.split_once('/').map_or("", |(_, key)| key);
        let store = AmazonS3Builder::from_env()
            .with_url(url)
            .build()
            .map_err(|e| fail(&e))?;
        Ok((store, Path::from(key)))
    }

    /// The `.csv` objects directly under the prefix, as URLs.
    pub(super) async fn list(url: &str) -> Result<Vec<String>, TaskError> {
        let (store, prefix) = open(url)?;
        let bucket = url
            .trim_start_matches("s3://")
            .split('/')
            .next()
            .unwrap_or("");
        let listed = store
            .list_with_delimiter(Some(&prefix))
            .await
            .map_err(|e| TaskError::msg(format!("{url}: {e}")))?;
        Ok(listed
            .objects
            .into_iter()
            .map(|meta| meta.location.to_string())
            .filter(|key| key.ends_with(".csv"))
            .map(|key| format!("s3://{bucket}/{key}"))
            .collect())
    }

    /// The text of the object at `url`.
    pub(super) async fn read(url: &str) -> Result<String, TaskError> {
        let (store, path) = open(url)?;
        let failed = |e: taskflow::object_store::Error| TaskError::msg(format!("{url}: {e}"));
        let bytes = store
            .get(&path)
            .await
            .map_err(failed)?
            .bytes()
            .await
            .map_err(failed)?;
        String::from_utf8(bytes.to_vec()).map_err(|e| TaskError::fail_now(format!("{url}: {e}")))
    }
}

/// Without the `aws` feature, only folders are listed.
#[cfg(not(feature = "aws"))]
mod store {
    use taskflow::TaskError;

    fn off(url: &str) -> TaskError {
        TaskError::fail_now(format!(
            "{url}: object-store URLs need the examples' `aws` feature"
        ))
    }

    pub(super) async fn list(url: &str) -> Result<Vec<String>, TaskError> {
        Err(off(url))
    }

    pub(super) async fn read(url: &str) -> Result<String, TaskError> {
        Err(off(url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(test: &str) -> PathBuf {
        std::env::temp_dir().join(format!("taskflow-mapped-etl-{}-{test}", std::process::id()))
    }

    #[test]
    fn maps_over_the_files_and_pivots_like_sales_etl() {
        let dir = temp_dir("ok");
        let report = mapped_etl(shipped_orders(), dir.join("pivot.csv"))
            .test()
            .unwrap();
        assert!(report.succeeded(), "{report}");
        assert_eq!(report.instances("parse_file").len(), 6);
        // The same table as sales_etl's, from the same orders split by month.
        let orders: Vec<Order> =
            fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/orders.csv"))
                .unwrap()
                .lines()
                .skip(1)
                .map(|line| Order::parse(line).unwrap())
                .collect();
        let expected = Pivot::of(&orders, MIN_AMOUNT);
        assert_eq!(report.xcom::<Pivot>("pivot").unwrap(), expected);
        let lines = report.xcom::<Vec<String>>("file_report").unwrap();
        assert_eq!(lines.len(), 6);
        assert!(lines[0].starts_with("orders-2026-01.csv: "), "{lines:?}");
        let nested = report.instances("file_report.region_total");
        assert!(nested.iter().all(|i| i.map_path.len() == 2));
        assert_eq!(nested[0].map_path, [0, 0]);
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn an_empty_folder_skips_the_mapped_tasks() {
        let dir = temp_dir("empty");
        let input = dir.join("in");
        fs::create_dir_all(&input).unwrap();
        let report = mapped_etl(input.display().to_string(), dir.join("pivot.csv"))
            .test()
            .unwrap();
        assert_eq!(report.state("parse_file"), TaskState::Skipped);
        assert_eq!(report.state("pivot"), TaskState::Skipped);
        assert_eq!(report.state("file_report"), TaskState::Skipped);
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_bad_file_fails_only_its_instance() {
        let dir = temp_dir("bad");
        let input = dir.join("in");
        fs::create_dir_all(&input).unwrap();
        let header = "order_id,date,region,product,amount\n";
        fs::write(
            input.join("a.csv"),
            format!("{header}1,2026-01-05,north,widget,12.50\n"),
        )
        .unwrap();
        fs::write(
            input.join("b.csv"),
            format!("{header}2,2026-01-06,south,gadget,twelve\n"),
        )
        .unwrap();
        let report = mapped_etl(input.display().to_string(), dir.join("pivot.csv"))
            .test()
            .unwrap();
        let states: Vec<TaskState> = report
            .instances("parse_file")
            .iter()
            .map(|i| i.state)
            .collect();
        assert_eq!(states, [TaskState::Success, TaskState::Failed]);
        assert_eq!(report.state("pivot"), TaskState::UpstreamFailed);
        fs::remove_dir_all(dir).ok();
    }
}
