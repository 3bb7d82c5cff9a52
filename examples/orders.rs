//! The orders of the ETL examples (`sales_etl`, `mapped_etl`): a row of an orders CSV,
//! amounts in exact cents, and the region x month pivot table with its totals.

use std::collections::{BTreeMap, BTreeSet};

use taskflow::chrono::NaiveDate;

/// One row of the orders file.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The order's number.
    pub id: u32,
    /// The day it was placed.
    pub date: NaiveDate,
    /// The sales region.
    pub region: String,
    /// What was sold.
    pub product: String,
    /// In cents, to sum money exactly.
    pub amount: u64,
}

impl Order {
    /// Parses `order_id,date,region,product,amount`.
    pub fn parse(line: &str) -> Result<Order, String> {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [id, date, region, product, amount] = fields[..] else {
            return Err(format!("expected 5 fields, found {}", fields.len()));
        };
        Ok(Order {
            id: id.parse().map_err(|e| format!("order_id `{id}`: {e}"))?,
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|e| format!("date `{date}` (expected YYYY-MM-DD): {e}"))?,
            region: region.to_owned(),
            product: product.to_owned(),
            amount: parse_cents(amount)?,
        })
    }

    /// The month of the order, `YYYY-MM`.
    pub fn month(&self) -> String {
        self.date.format("%Y-%m").to_string()
    }
}

/// `"123.45"` (or `"123"`) as 12345 cents.
pub fn parse_cents(text: &str) -> Result<u64, String> {
    let invalid = || format!("amount `{text}` is not an amount like 12.50");
    let (units, cents) = text.split_once('.').unwrap_or((text, "00"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(units) || !digits(cents) || cents.len() != 2 {
        return Err(invalid());
    }
    let units: u64 = units.parse().map_err(|_| invalid())?;
    let cents: u64 = cents.parse().map_err(|_| invalid())?;
    Ok(units * 100 + cents)
}

/// 12345 cents as `"123.45"`.
pub fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// Sums of amounts by region (rows) and month (columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Pivot {
    /// The regions (rows), sorted.
    pub regions: Vec<String>,
    /// The months (columns), `YYYY-MM`, sorted.
    pub months: Vec<String>,
    /// The sum of each (region, month) that has orders.
    pub cells: BTreeMap<(String, String), u64>,
}

impl Pivot {
    /// The sum of one cell, if it has orders.
    pub fn cell(&self, region: &str, month: &str) -> Option<u64> {
        self.cells
            .get(&(region.to_owned(), month.to_owned()))
            .copied()
    }

    /// The total of a region.
    pub fn row_total(&self, region: &str) -> u64 {
        self.months
            .iter()
            .filter_map(|m| self.cell(region, m))
            .sum()
    }

    /// The total of a month.
    pub fn column_total(&self, month: &str) -> u64 {
        self.regions
            .iter()
            .filter_map(|r| self.cell(r, month))
            .sum()
    }

    /// The total of every cell.
    pub fn grand_total(&self) -> u64 {
        self.cells.values().sum()
    }

    /// The table as text cells: a header, one row per region, a `total` row; each row ends
    /// with a `total` column. An empty cell (no order) is `empty`.
    pub fn to_rows(&self, empty: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::with_capacity(self.regions.len() + 2);
        let header = std::iter::once("region".to_owned())
            .chain(self.months.iter().cloned())
            .chain(std::iter::once("total".to_owned()));
        rows.push(header.collect());
        for region in &self.regions {
            let mut row = vec![region.clone()];
            row.extend(
                self.months
                    .iter()
                    .map(|m| self.cell(region, m).map_or(empty.to_owned(), money)),
            );
            row.push(money(self.row_total(region)));
            rows.push(row);
        }
        let mut totals = vec!["total".to_owned()];
        totals.extend(self.months.iter().map(|m| money(self.column_total(m))));
        totals.push(money(self.grand_total()));
        rows.push(totals);
        rows
    }

    /// The table aligned for a terminal: names left, numbers right, a rule above the totals.
    pub fn to_text(&self) -> String {
        let rows = self.to_rows("-");
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|col| rows.iter().map(|row| row[col].len()).max().unwrap_or(0))
            .collect();
        let mut text = String::new();
        for (i, row) in rows.iter().enumerate() {
            if i == rows.len() - 1 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                text.push_str(&rule.join("  "));
                text.push('\n');
            }
            for (col, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if col == 0 {
                    text.push_str(&format!("{cell:<width$}"));
                } else {
                    text.push_str(&format!("  {cell:>width$}"));
                }
            }
            text.push('\n');
        }
        text
    }

    /// The table as CSV; an empty cell stays empty, as pandas writes a missing value.
    pub fn to_csv(&self) -> String {
        let rows = self.to_rows("");
        rows.iter().map(|row| row.join(",") + "\n").collect()
    }
}

impl Pivot {
    /// Writes the table as CSV to `output`, creating its folder; the error names the path
    /// (as `shown` writes it).
    pub fn write_csv(
        &self,
        output: &std::path::Path,
        shown: impl Fn(&std::path::Path) -> String,
    ) -> Result<(), String> {
        if let Some(dir) = output.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", shown(dir)))?;
        }
        std::fs::write(output, self.to_csv())
            .map_err(|e| format!("cannot write {}: {e}", shown(output)))
    }

    /// The sums of `orders` of at least `min_amount` cents by region and month.
    pub fn of<'a>(orders: impl IntoIterator<Item = &'a Order>, min_amount: u64) -> Pivot {
        let mut cells = BTreeMap::new();
        for order in orders.into_iter().filter(|o| o.amount >= min_amount) {
            *cells
                .entry((order.region.clone(), order.month()))
                .or_default() += order.amount;
        }
        let regions: BTreeSet<String> = cells.keys().map(|(r, _)| r.clone()).collect();
        let months: BTreeSet<String> = cells.keys().map(|(_, m)| m.clone()).collect();
        Pivot {
            regions: regions.into_iter().collect(),
            months: months.into_iter().collect(),
            cells,
        }
    }
}
