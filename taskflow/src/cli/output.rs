//! How listings are printed: `--output table|json|yaml|plain`, as Airflow's command line
//! prints them.

use std::fmt::Write as _;

use serde::ser::{SerializeMap, SerializeSeq};

/// The format of a listing (Airflow's `-o/--output`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// Aligned columns under a header, `|` between them.
    #[default]
    Table,
    /// A JSON array of objects.
    Json,
    /// A YAML list of mappings.
    Yaml,
    /// Aligned columns without lines.
    Plain,
}

/// Rows of values under named columns.
#[derive(Debug)]
pub(crate) struct Listing {
    columns: &'static [&'static str],
    rows: Vec<Vec<serde_json::Value>>,
}

impl Listing {
    /// An empty listing of these columns.
    pub(crate) fn new(columns: &'static [&'static str]) -> Self {
        Self {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row: one value per column.
    pub(crate) fn push(&mut self, row: Vec<serde_json::Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// The listing in `format`, ending in a newline.
    pub(crate) fn render(&self, format: Output) -> Result<String, String> {
        match format {
            Output::Table => Ok(self.text(" | ", Some("=+="))),
            Output::Plain => Ok(self.text("  ", None)),
            Output::Json => serde_json::to_string_pretty(self)
                .map(|json| json + "\n")
                .map_err(|error| error.to_string()),
            Output::Yaml => serde_norway::to_string(self).map_err(|error| error.to_string()),
        }
    }

    /// Aligned columns separated by `gap`, the header underlined with `=` and `rule` at the
    /// gaps if given; "No data found" without rows, as Airflow says.
    fn text(&self, gap: &str, rule: Option<&str>) -> String {
        if self.rows.is_empty() {
            return "No data found\n".to_owned();
        }
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| row.iter().map(cell).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &cells {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |row: &mut dyn Iterator<Item = &str>| {
            let padded: Vec<String> = row
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            padded.join(gap).trim_end().to_owned() + "\n"
        };
        let mut out = line(&mut self.columns.iter().copied());
        if let Some(rule) = rule {
            let dashes: Vec<String> = widths.iter().map(|width| "=".repeat(*width)).collect();
            let _ = writeln!(out, "{}", dashes.join(rule));
        }
        for row in &cells {
            out.push_str(&line(&mut row.iter().map(String::as_str)));
        }
        out
    }
}

/// A value in a text column: strings bare, `None` for a missing value (as Airflow prints it).
fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "None".to_owned(),
        other => other.to_string(),
    }
}

/// A list of objects whose keys keep the columns' order.
impl serde::Serialize for Listing {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_seq(Some(self.rows.len()))?;
        for row in &self.rows {
            list.serialize_element(&Row {
                columns: self.columns,
                values: row,
            })?;
        }
        list.end()
    }
}

struct Row<'a> {
    columns: &'static [&'static str],
    values: &'a [serde_json::Value],
}

impl serde::Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, value) in self.columns.iter().zip(self.values) {
            map.serialize_entry(column, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listing() -> Listing {
        let mut listing = Listing::new(&["dag_id", "tasks", "end"]);
        listing.push(vec![json!("sales"), json!(3), json!(null)]);
        listing.push(vec![json!("a"), json!(12), json!("x")]);
        listing
    }

    #[test]
    fn table_aligns_columns_under_a_ruled_header() {
        assert_eq!(
            listing().render(Output::Table).unwrap(),
            "dag_id | tasks | end\n\
             =======+=======+=====\n\
             sales  | 3     | None\n\
             a      | 12    | x\n"
        );
    }

    #[test]
    fn plain_aligns_columns_without_lines() {
        assert_eq!(
            listing().render(Output::Plain).unwrap(),
            "dag_id  tasks  end\nsales   3      None\na       12     x\n"
        );
    }

    #[test]
    fn json_and_yaml_keep_the_column_order() {
        let json = listing().render(Output::Json).unwrap();
        assert!(json.find("dag_id").unwrap() < json.find("tasks").unwrap());
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            parsed[0],
            json!({"dag_id": "sales", "tasks": 3, "end": null})
        );
        let yaml = listing().render(Output::Yaml).unwrap();
        assert!(
            yaml.starts_with("- dag_id: sales\n  tasks: 3\n  end: null\n"),
            "{yaml}"
        );
    }

    #[test]
    fn no_rows_say_so_in_text_and_are_empty_lists_otherwise() {
        let empty = Listing::new(&["dag_id"]);
        assert_eq!(empty.render(Output::Table).unwrap(), "No data found\n");
        assert_eq!(empty.render(Output::Json).unwrap(), "[]\n");
        assert_eq!(empty.render(Output::Yaml).unwrap(), "[]\n");
    }
}
