//! The graph of a run as SVG: a layered drawing, left to right, each task a box in its
//! state's colour, each dependency a curve with an arrow.

use std::fmt::{self, Write as _};

use super::colour;
use super::html::{Escaped, shortened, text_colour};
use crate::RunReport;
use crate::dag::DagInner;

/// The most tasks drawn: past it a drawing is a smear, and `to_dot()` is there.
const MAX_TASKS: usize = 1_000;
/// The most dependencies drawn; the rest are counted under the drawing.
const MAX_EDGES: usize = 10_000;
const NODE_WIDTH: f64 = 160.0;
const NODE_HEIGHT: f64 = 28.0;
/// From one layer's left edge to the next one's.
const COLUMN_PITCH: f64 = 210.0;
/// From one task's top to the next one's in a layer.
const ROW_PITCH: f64 = 40.0;
const MARGIN: f64 = 8.0;
/// The characters of a task id that fit a box.
const LABEL_CHARS: usize = 22;

/// Where each task goes: its layer (the longest path to it from a task with no upstream)
/// and its row in that layer.
#[derive(Debug, PartialEq)]
struct Layout {
    layer: Vec<u32>,
    row: Vec<u32>,
    /// How many tasks each layer has.
    layer_sizes: Vec<u32>,
}

/// Lays `dag` out in layers, in time linear in its tasks and dependencies (and a sort per
/// layer), without recursion. Within a layer, tasks are ordered by the mean row of their
/// upstream tasks, which keeps most lines from crossing.
fn layout(dag: &DagInner) -> Layout {
    let count = dag.nodes.len();
    let mut waiting = vec![0u32; count];
    for node in 0..count as u32 {
        for &down in dag.plan.downstream(node) {
            waiting[down as usize] += 1;
        }
    }
    // Kahn's walk: a task's layer is final once its last upstream task is walked.
    let mut layer = vec![0u32; count];
    let mut order: Vec<u32> = (0..count as u32)
        .filter(|&node| waiting[node as usize] == 0)
        .collect();
    let mut next = 0;
    while next < order.len() {
        let node = order[next];
        next += 1;
        for &down in dag.plan.downstream(node) {
            let down_index = down as usize;
            layer[down_index] = layer[down_index].max(layer[node as usize] + 1);
            waiting[down_index] -= 1;
            if waiting[down_index] == 0 {
                order.push(down);
            }
        }
    }
    // A built DAG has no cycle; were one there, its tasks would sit in the first layer.
    let layers = layer.iter().max().map_or(0, |&last| last as usize + 1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); layers];
    for node in 0..count as u32 {
        members[layer[node as usize] as usize].push(node);
    }
    let mut row = vec![0u32; count];
    let (mut row_sum, mut upstream) = (vec![0u64; count], vec![0u32; count]);
    for nodes in &mut members {
        nodes.sort_by(|&a, &b| {
            let mean = |node: u32| {
                let node = node as usize;
                row_sum[node] as f64 / f64::from(upstream[node].max(1))
            };
            mean(a).total_cmp(&mean(b)).then(a.cmp(&b))
        });
        for (at, &node) in nodes.iter().enumerate() {
            row[node as usize] = at as u32;
            for &down in dag.plan.downstream(node) {
                row_sum[down as usize] += at as u64;
                upstream[down as usize] += 1;
            }
        }
    }
    Layout {
        layer,
        row,
        layer_sizes: members.iter().map(|nodes| nodes.len() as u32).collect(),
    }
}

/// Writes the graph of `report`'s run as an SVG element in a scrolling box, or a note
/// saying why it is not drawn.
pub(super) fn write(out: &mut String, report: &RunReport) -> fmt::Result {
    let dag = report.dag_inner();
    let count = dag.nodes.len();
    if count > MAX_TASKS {
        return writeln!(
            out,
            "<p class=\"note\">the graph has {count} tasks, more than the {MAX_TASKS} drawn \
             here; <code>to_dot()</code> gives it to Graphviz</p>"
        );
    }
    let Layout {
        layer,
        row,
        layer_sizes,
    } = layout(dag);
    let tallest = layer_sizes.iter().copied().max().unwrap_or(0);
    // Each task's top left corner; a short layer is centred on the tallest.
    let corner = |node: u32| {
        let node = node as usize;
        let lift = f64::from(tallest - layer_sizes[layer[node] as usize]) * ROW_PITCH / 2.0;
        (
            MARGIN + f64::from(layer[node]) * COLUMN_PITCH,
            MARGIN + lift + f64::from(row[node]) * ROW_PITCH,
        )
    };
    let width = 2.0 * MARGIN + (layer_sizes.len().max(1) - 1) as f64 * COLUMN_PITCH + NODE_WIDTH;
    let height = 2.0 * MARGIN + f64::from(tallest.max(1) - 1) * ROW_PITCH + NODE_HEIGHT;
    writeln!(
        out,
        "<div class=\"scroll\"><svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" \
         fill=\"#666\"/></marker></defs>"
    )?;
    let mut edges = 0;
    for node in 0..count as u32 {
        let (from_x, from_y) = corner(node);
        let (from_x, from_y) = (from_x + NODE_WIDTH, from_y + NODE_HEIGHT / 2.0);
        for &down in dag.plan.downstream(node) {
            edges += 1;
            if edges > MAX_EDGES {
                continue;
            }
            let (to_x, to_y) = corner(down);
            let to_y = to_y + NODE_HEIGHT / 2.0;
            let bend = (to_x - from_x) / 2.0;
            writeln!(
                out,
                "<path d=\"M{from_x},{from_y}C{},{from_y} {},{to_y} {to_x},{to_y}\" \
                 fill=\"none\" stroke=\"#888\" marker-end=\"url(#arrow)\"/>",
                from_x + bend,
                to_x - bend,
            )?;
        }
    }
    for node in 0..count as u32 {
        let (x, y) = corner(node);
        let state = report.state_of(node);
        let fill = colour(state);
        let id = dag.task_id(node);
        writeln!(
            out,
            "<g class=\"task\" data-task=\"{}\" data-state=\"{}\"><title>{}: {}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_WIDTH}\" height=\"{NODE_HEIGHT}\" rx=\"4\" \
             fill=\"{fill}\" stroke=\"#444\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
             dominant-baseline=\"middle\" fill=\"{}\">{}</text></g>",
            Escaped(&id),
            state.as_str(),
            Escaped(&id),
            state.as_str(),
            x + NODE_WIDTH / 2.0,
            y + NODE_HEIGHT / 2.0,
            text_colour(fill),
            Escaped(&shortened(&id, LABEL_CHARS)),
        )?;
    }
    out.push_str("</svg></div>\n");
    if edges > MAX_EDGES {
        writeln!(
            out,
            "<p class=\"note\">{} of its {edges} dependencies are not drawn</p>",
            edges - MAX_EDGES
        )?;
    }
    Ok(())
}
