//! The Gantt chart of a run as SVG, like Airflow's Gantt view: a row per task, a bar per
//! try coloured by that try's outcome, a time axis along the top.

use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};

use super::colour;
use super::html::{Escaped, shortened, write_note};
use crate::{RunReport, TaskReport, TaskState};

/// The width of the task ids' column.
const LABEL_WIDTH: f64 = 200.0;
/// The width of the time axis: the run's duration spans it.
const PLOT_WIDTH: f64 = 900.0;
/// Space right of the axis, for the last tick's label.
const RIGHT_PAD: f64 = 24.0;
/// The height of the axis' labels above the rows.
const AXIS_HEIGHT: f64 = 24.0;
/// The height of one task's row, and of a bar in it.
const ROW_HEIGHT: f64 = 22.0;
const BAR_HEIGHT: f64 = 14.0;
/// A try shorter than a pixel still shows.
const MIN_BAR_WIDTH: f64 = 2.0;
/// The characters of a task id that fit the label column.
const LABEL_CHARS: usize = 30;
/// The most rows the chart draws; the rest are counted under it.
const MAX_ROWS: usize = 2_000;
/// The most bars the chart draws before each row shows only its last one.
const MAX_BARS: usize = 20_000;

/// One bar: a try of a task, in seconds since the run started.
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    try_number: u32,
    start: f64,
    end: f64,
    /// The try's outcome.
    state: TaskState,
}

/// Seconds from `origin` to `at` (0 if before it).
fn seconds(origin: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    (at - origin)
        .num_microseconds()
        .map_or(f64::MAX, |micros| micros as f64 / 1e6)
        .max(0.0)
}

/// The bars of `task`: its tries and, for a sensor in reschedule mode, its checks, each
/// coloured by how it ended. A try still running (none is, once a run is over) ends at
/// `run_end`.
fn bars(task: &TaskReport, origin: DateTime<Utc>, run_end: f64) -> Vec<Bar> {
    task.history
        .iter()
        .map(|try_| Bar {
            try_number: try_.try_number,
            start: seconds(origin, try_.start_date),
            end: try_.end_date.map_or(run_end, |at| seconds(origin, at)),
            state: try_.state,
        })
        .collect()
}

/// A tick every `step` seconds across `span` seconds: about eight of them, at round times.
fn tick_step(span: f64) -> f64 {
    const STEPS: [f64; 27] = [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0,
        60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0, 43200.0,
        86400.0,
    ];
    let wanted = span / 8.0;
    STEPS
        .into_iter()
        .find(|&step| step >= wanted)
        .unwrap_or_else(|| (wanted / 86400.0).ceil() * 86400.0)
}

/// The offset from `origin` of the first tick at a round time of day (a multiple of
/// `step` since midnight UTC), or 0 below a second, where ticks count from the start.
fn first_tick(origin: DateTime<Utc>, step: f64) -> f64 {
    if step < 1.0 {
        return 0.0;
    }
    let at = origin.timestamp_micros() as f64 / 1e6;
    (at / step).ceil() * step - at
}

/// A tick's label: the time of day, or the offset from the run's start below a second.
fn tick_label(origin: DateTime<Utc>, offset: f64, step: f64) -> String {
    if step < 1.0 {
        return format!("+{:.0}ms", offset * 1000.0);
    }
    let millis = (origin.timestamp_micros() as f64 / 1e3 + offset * 1e3).round();
    let at = DateTime::from_timestamp_millis(millis as i64).unwrap_or(origin);
    if step >= 86400.0 {
        at.format("%m-%d %H:%M").to_string()
    } else {
        at.format("%H:%M:%S").to_string()
    }
}

/// Writes the chart of `tasks`, the tasks of `report`, as an SVG element; the states its
/// bars show, for the legend.
pub(super) fn write(
    out: &mut String,
    report: &RunReport,
    tasks: &[TaskReport],
) -> Result<Vec<TaskState>, fmt::Error> {
    let origin = report.start_date();
    let run_end = report.duration().as_secs_f64();
    let rows: Vec<(&TaskReport, Vec<Bar>)> = tasks
        .iter()
        .take(MAX_ROWS)
        .map(|task| (task, bars(task, origin, run_end)))
        .collect();
    let mut shown: Vec<TaskState> = Vec::new();
    for bar in rows.iter().flat_map(|(_, bars)| bars) {
        if !shown.contains(&bar.state) {
            shown.push(bar.state);
        }
    }
    let span = rows
        .iter()
        .flat_map(|(_, bars)| bars.iter().map(|bar| bar.end))
        .fold(run_end, f64::max);
    let span = if span > 0.0 { span } else { 1.0 };
    let x = |seconds: f64| LABEL_WIDTH + (seconds / span).min(1.0) * PLOT_WIDTH;
    let width = LABEL_WIDTH + PLOT_WIDTH + RIGHT_PAD;
    let height = AXIS_HEIGHT + rows.len() as f64 * ROW_HEIGHT + 1.0;
    writeln!(
        out,
        "<svg class=\"gantt\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    )?;
    let step = tick_step(span);
    let mut tick = first_tick(origin, step);
    while tick <= span + step * 1e-9 {
        let at = x(tick);
        writeln!(
            out,
            "<line x1=\"{at:.1}\" y1=\"{AXIS_HEIGHT}\" x2=\"{at:.1}\" y2=\"{height}\" \
             stroke=\"#e4e4e4\"/><text x=\"{at:.1}\" y=\"{}\" text-anchor=\"middle\" \
             fill=\"#555\">{}</text>",
            AXIS_HEIGHT - 8.0,
            tick_label(origin, tick, step)
        )?;
        tick += step;
    }
    let (mut drawn, mut crowded) = (0, false);
    for (row, (task, bars)) in rows.iter().enumerate() {
        let top = AXIS_HEIGHT + row as f64 * ROW_HEIGHT;
        let id = Escaped(&task.task_id);
        writeln!(out, "<g class=\"row\" data-task=\"{id}\">")?;
        if row % 2 == 1 {
            writeln!(
                out,
                "<rect x=\"0\" y=\"{top}\" width=\"{width}\" height=\"{ROW_HEIGHT}\" \
                 fill=\"#f6f6f6\"/>"
            )?;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">\
             <title>{id}</title>{}</text>",
            LABEL_WIDTH - 8.0,
            top + ROW_HEIGHT / 2.0,
            Escaped(&shortened(&task.task_id, LABEL_CHARS)),
        )?;
        // A bar that would start under the one before it is not drawn (a sensor checking
        // every second for an hour draws a few hundred bars, not thousands), and past
        // MAX_BARS in all a row shows its outcome alone; the last bar, the task's outcome,
        // always shows.
        let mut drawn_to = f64::MIN;
        for (at, bar) in bars.iter().enumerate() {
            let left = x(bar.start).min(LABEL_WIDTH + PLOT_WIDTH - MIN_BAR_WIDTH);
            if at + 1 < bars.len() && (left < drawn_to || drawn >= MAX_BARS) {
                crowded |= drawn >= MAX_BARS;
                continue;
            }
            drawn += 1;
            let bar_width = (x(bar.end) - left).max(MIN_BAR_WIDTH);
            drawn_to = left + bar_width;
            let lasted = std::time::Duration::try_from_secs_f64((bar.end - bar.start).max(0.0))
                .unwrap_or(std::time::Duration::MAX);
            writeln!(
                out,
                "<rect class=\"try\" data-task=\"{id}\" data-try=\"{}\" data-state=\"{}\" \
                 x=\"{left:.2}\" y=\"{}\" width=\"{bar_width:.2}\" height=\"{BAR_HEIGHT}\" \
                 fill=\"{}\"><title>{id} try {}: {} after {lasted:.1?}</title></rect>",
                bar.try_number,
                bar.state.as_str(),
                top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0,
                colour(bar.state),
                bar.try_number,
                bar.state.as_str(),
            )?;
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    if tasks.len() > MAX_ROWS {
        write_note(
            out,
            format_args!(
                "the chart shows the first {MAX_ROWS} tasks; {} more are in the table",
                tasks.len() - MAX_ROWS
            ),
        )?;
    }
    if crowded {
        write_note(
            out,
            format_args!("past {MAX_BARS} bars, a task shows only its last try"),
        )?;
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::{first_tick, tick_label, tick_step};

    #[test]
    fn ticks_fall_at_round_times_about_eight_to_a_run() {
        assert_eq!(tick_step(0.01), 0.002);
        assert_eq!(tick_step(60.0), 10.0);
        assert_eq!(tick_step(3600.0), 600.0);
        assert_eq!(tick_step(30.0 * 86400.0), 4.0 * 86400.0);
    }

    #[test]
    fn the_first_tick_falls_at_a_round_time_of_day() {
        let origin = "2026-03-01T10:00:07.5Z".parse().unwrap();
        assert_eq!(first_tick(origin, 10.0), 2.5);
        assert_eq!(first_tick(origin, 600.0), 592.5);
        assert_eq!(first_tick(origin, 0.1), 0.0);
    }

    #[test]
    fn tick_labels_are_times_of_day_or_offsets_below_a_second() {
        let origin = "2026-03-01T10:00:00Z".parse().unwrap();
        assert_eq!(tick_label(origin, 90.0, 30.0), "10:01:30");
        let late = "2026-03-01T10:00:07.628845Z".parse().unwrap();
        assert_eq!(tick_label(late, first_tick(late, 600.0), 600.0), "10:10:00");
        assert_eq!(tick_label(origin, 0.25, 0.05), "+250ms");
        assert_eq!(tick_label(origin, 86400.0, 86400.0), "03-02 10:00");
    }
}
