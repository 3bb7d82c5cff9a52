//! A run as one self-contained HTML page: a header, the Gantt chart of every try, the graph
//! and the report table. No script, no network: inline CSS and inline SVG only.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::path::Path;

use super::{TABLE_HEADER, colour, gantt, graph, table_row};
use crate::{DagRunState, RunReport, TaskReport, TaskState};

/// The most rows the page's table shows; the rest are counted under it.
const MAX_TABLE_ROWS: usize = 10_000;

/// The page's style. The header and the headings have fixed heights, so that the Gantt
/// chart's top left corner is always at (16, 92) on the page, in CSS pixels.
const STYLE: &str = "\
body{margin:0;font:13px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;background:#fff}
header{height:64px;box-sizing:border-box;padding:8px 16px;overflow:hidden;white-space:nowrap;border-bottom:1px solid #ddd}
h1{margin:0;font-size:18px;line-height:24px;overflow:hidden;text-overflow:ellipsis}
header p{margin:4px 0 0;line-height:20px;overflow:hidden;text-overflow:ellipsis}
section{padding:0 16px 16px}
h2{margin:0;height:28px;line-height:28px;font-size:15px;overflow:hidden}
svg{display:block}
svg text{font:12px system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}
.scroll{overflow:auto;max-width:100%}
.note{color:#666;margin:4px 0}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-weight:600}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;border:1px solid #0004;vertical-align:-1px}
table{border-collapse:collapse}
th,td{padding:2px 10px 2px 0;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.error{white-space:pre-wrap;color:#a00}
td .swatch{margin-left:0}
";

/// Text for HTML (and SVG): `&`, `<`, `>`, `"` and `'` written as entities. Safe in element
/// content and in quoted attribute values alike.
pub(super) struct Escaped<'a>(pub(super) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// `text` cut to `max` characters, the last one an ellipsis, for a label of fixed width.
pub(super) fn shortened(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text[at..].chars().nth(1).is_some() => {
            Cow::Owned(format!("{}…", &text[..at]))
        }
        _ => Cow::Borrowed(text),
    }
}

/// A grey note under a part of the page, saying what it leaves out.
pub(super) fn write_note(out: &mut String, text: fmt::Arguments<'_>) -> fmt::Result {
    writeln!(out, "<p class=\"note\">{text}</p>")
}

/// Black or white, whichever reads better on the background colour `#rrggbb`.
pub(super) fn text_colour(background: &str) -> &'static str {
    let channel = |at: usize| {
        background
            .get(at..at + 2)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .map_or(255.0, f64::from)
    };
    let luma = 0.299 * channel(1) + 0.587 * channel(3) + 0.114 * channel(5);
    if luma < 140.0 { "#fff" } else { "#000" }
}

/// The colour of a run's state: its tasks' colour of the same name.
fn run_colour(state: DagRunState) -> &'static str {
    colour(match state {
        DagRunState::Queued => TaskState::Queued,
        DagRunState::Running => TaskState::Running,
        DagRunState::Success => TaskState::Success,
        DagRunState::Failed => TaskState::Failed,
    })
}

impl RunReport {
    /// The run as one self-contained HTML page, to open in any browser without a network: a
    /// header (DAG id, run id, state, logical date, duration), a Gantt chart with a bar per
    /// try coloured by its outcome (the waits between tries show as gaps), the graph with
    /// each task coloured by its state (Airflow's colours, as in [`RunReport::to_dot`]) and
    /// the report's table. Every task id and error is escaped.
    ///
    /// Large runs stay readable and the page small: the graph is drawn up to 1,000 tasks,
    /// the Gantt chart up to 2,000 rows and 20,000 bars (a bar that would hide under the
    /// one before it is left out; a task's last try always shows) and the table up to
    /// 10,000 rows; the page says what it leaves out.
    ///
    /// ```
    /// use taskflow::prelude::*;
    ///
    /// #[task]
    /// fn extract() -> u32 { 1 }
    /// #[task]
    /// fn load(rows: u32) -> u32 { rows }
    ///
    /// let report = Dag::build("etl", || {
    ///     load(extract());
    /// })?
    /// .test()?;
    /// let page = report.to_html();
    /// assert!(page.starts_with("<!DOCTYPE html>"));
    /// assert!(page.contains("<td>extract</td>"));
    /// # Ok::<(), taskflow::Error>(())
    /// ```
    pub fn to_html(&self) -> String {
        let mut page = String::new();
        // Writing to a `String` cannot fail.
        let _ = self.write_page(&mut page);
        page
    }

    /// Writes [`RunReport::to_html`] to the file `path`, creating its directory.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use taskflow::prelude::*;
    /// # #[task]
    /// # fn extract() -> u32 { 1 }
    /// let report = Dag::build("etl", || {
    ///     extract();
    /// })?
    /// .test()?;
    /// report.write_html("target/etl.html")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_html(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_html())
    }

    fn write_page(&self, out: &mut String) -> fmt::Result {
        let (dag_id, run_id) = (Escaped(self.dag_id()), Escaped(self.run_id()));
        let state = self.state_of_run();
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{dag_id} {run_id}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
             <header>\n<h1>{dag_id}</h1>\n<p>run <b>{run_id}</b> \
             <span class=\"badge\" style=\"background:{}\">{state}</span> \
             logical date {} · started {} · took {:.1?}</p>\n</header>\n",
            run_colour(state),
            self.logical_date().format("%Y-%m-%d %H:%M:%S UTC"),
            self.start_date().format("%Y-%m-%d %H:%M:%S%.3f UTC"),
            self.duration(),
        )?;
        let tasks: Vec<_> = self.tasks().collect();
        out.push_str("<section class=\"gantt\">\n<h2>Gantt</h2>\n");
        let shown = gantt::write(out, self, &tasks)?;
        write_legend(out, shown, &tasks)?;
        out.push_str("</section>\n<section class=\"graph\">\n<h2>Graph</h2>\n");
        graph::write(out, self)?;
        out.push_str("</section>\n<section class=\"report\">\n<h2>Tasks</h2>\n");
        write_table(out, tasks)?;
        out.push_str("</section>\n</body>\n</html>\n");
        Ok(())
    }
}

/// A swatch and a name for each state the Gantt chart's bars (`shown`) and the graph use.
fn write_legend(out: &mut String, mut shown: Vec<TaskState>, tasks: &[TaskReport]) -> fmt::Result {
    for task in tasks {
        if !shown.contains(&task.state) {
            shown.push(task.state);
        }
    }
    shown.sort_by_key(|state| state.index());
    out.push_str("<p class=\"legend\">");
    for state in shown {
        write!(
            out,
            "<span class=\"swatch\" style=\"background:{}\"></span>{}",
            colour(state),
            state.as_str()
        )?;
    }
    out.push_str("</p>\n");
    Ok(())
}

/// The report's table: a row per task under [`TABLE_HEADER`], as `Display` prints it.
fn write_table(out: &mut String, tasks: Vec<TaskReport>) -> fmt::Result {
    let total = tasks.len();
    out.push_str("<table>\n<tr>");
    for title in TABLE_HEADER {
        write!(out, "<th>{title}</th>")?;
    }
    out.push_str("</tr>\n");
    for task in tasks.into_iter().take(MAX_TABLE_ROWS) {
        let state = task.state;
        let [id, state_name, tries, start, duration, error] = table_row(task);
        writeln!(
            out,
            "<tr><td>{}</td><td><span class=\"swatch\" style=\"background:{}\"></span>{state_name}</td>\
             <td>{tries}</td><td>{start}</td><td>{duration}</td><td class=\"error\">{}</td></tr>",
            Escaped(&id),
            colour(state),
            Escaped(&error),
        )?;
    }
    out.push_str("</table>\n");
    if total > MAX_TABLE_ROWS {
        write_note(
            out,
            format_args!("and {} more tasks", total - MAX_TABLE_ROWS),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Escaped, shortened, text_colour};

    #[test]
    fn escaping_writes_every_markup_character_as_an_entity() {
        assert_eq!(
            Escaped("<b a=\"1\" c='2'>&amp;</b>").to_string(),
            "&lt;b a=&quot;1&quot; c=&#39;2&#39;&gt;&amp;amp;&lt;/b&gt;"
        );
        assert_eq!(Escaped("plain é").to_string(), "plain é");
    }

    #[test]
    fn a_long_label_is_cut_to_its_width_with_an_ellipsis() {
        assert_eq!(shortened("extract", 7), "extract");
        assert_eq!(shortened("extract", 8), "extract");
        assert_eq!(shortened("extract_orders", 8), "extract…");
        assert_eq!(shortened("ééééé", 3), "éé…");
    }

    #[test]
    fn labels_are_white_on_dark_colours_and_black_on_light_ones() {
        assert_eq!(text_colour("#008000"), "#fff");
        assert_eq!(text_colour("#ffd700"), "#000");
        assert_eq!(text_colour("#ffffff"), "#000");
    }
}
