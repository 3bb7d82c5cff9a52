//! The graph of a run as SVG: a layered drawing, left to right, each task a box in its
//! state's colour, each dependency a curve with an arrow.

use std::fmt::{self, Write as _};

use super::colour;
use super::html::{Escaped, shortened, text_colour, write_note};
use crate::RunReport;

/// The most tasks drawn: past it a drawing is a smear, and `to_dot()` is there.
const MAX_TASKS: usize = 1_000;
/// The most dependencies drawn; the rest are counted under the drawing.
const MAX_EDGES: usize = 10_000;
/// The most bends that long dependencies may add to the layout.
const MAX_BENDS: u64 = 20_000;
const NODE_WIDTH: f64 = 160.0;
const NODE_HEIGHT: f64 = 28.0;
/// From one layer's left edge to the next one's.
const COLUMN_PITCH: f64 = 210.0;
/// From one task's top to the next one's in a layer.
const ROW_PITCH: f64 = 40.0;
const MARGIN: f64 = 8.0;
/// The characters of a task id that fit a box.
const LABEL_CHARS: usize = 22;

/// Where each vertex goes: the tasks, then the bends of the dependencies that span more
/// than one layer (a bend holds a place in each layer crossed, so that the line passes
/// between boxes, not behind them).
#[derive(Debug, PartialEq)]
struct Layout {
    /// Each vertex's layer: for a task, the longest path to it from a task with no upstream.
    layer: Vec<u32>,
    /// Each vertex's row in its layer.
    row: Vec<u32>,
    /// How many vertices each layer has.
    layer_sizes: Vec<u32>,
    /// Each dependency, in the order of the tasks and their downstream lists: the vertices
    /// it passes through, from the upstream task to the downstream one.
    routes: Vec<Vec<u32>>,
}

/// The layer of each of `count` tasks: the longest path to it from a task with no upstream,
/// by Kahn's walk (no recursion). A task on a cycle, which a built DAG cannot have, would
/// keep the layer it had when the walk stopped.
fn longest_paths<'a>(count: usize, downstream: &impl Fn(u32) -> &'a [u32]) -> Vec<u32> {
    let mut waiting = vec![0u32; count];
    for node in 0..count as u32 {
        for &down in downstream(node) {
            waiting[down as usize] += 1;
        }
    }
    let mut layer = vec![0u32; count];
    let mut order: Vec<u32> = (0..count as u32)
        .filter(|&node| waiting[node as usize] == 0)
        .collect();
    let mut next = 0;
    while let Some(&node) = order.get(next) {
        next += 1;
        for &down in downstream(node) {
            let down_index = down as usize;
            layer[down_index] = layer[down_index].max(layer[node as usize] + 1);
            waiting[down_index] -= 1;
            if waiting[down_index] == 0 {
                order.push(down);
            }
        }
    }
    layer
}

/// Lays `count` tasks out in layers, `downstream` giving each task's downstream tasks, in
/// time linear in the tasks, dependencies and bends (and a sort per layer), without
/// recursion. Within a layer, vertices are ordered by the mean row of their upstream ones,
/// which keeps most lines from crossing. Past [`MAX_BENDS`] bends, long dependencies are
/// drawn straight across instead.
fn layout<'a>(count: usize, downstream: impl Fn(u32) -> &'a [u32]) -> Layout {
    let mut layer = longest_paths(count, &downstream);
    let bends: u64 = (0..count as u32)
        .flat_map(|node| downstream(node).iter().map(move |&down| (node, down)))
        .map(|(node, down)| {
            u64::from(layer[down as usize].saturating_sub(layer[node as usize] + 1))
        })
        .sum();
    let bend = bends <= MAX_BENDS;
    let mut next: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut routes = Vec::new();
    for node in 0..count as u32 {
        for &down in downstream(node) {
            let mut route = vec![node];
            let crossed = layer[node as usize] + 1..layer[down as usize];
            for crossing in crossed.filter(|_| bend) {
                let vertex = layer.len() as u32;
                layer.push(crossing);
                next.push(Vec::new());
                next[*route.last().unwrap_or(&node) as usize].push(vertex);
                route.push(vertex);
            }
            next[*route.last().unwrap_or(&node) as usize].push(down);
            route.push(down);
            routes.push(route);
        }
    }
    let vertices = layer.len();
    let layers = layer.iter().max().map_or(0, |&last| last as usize + 1);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); layers];
    for vertex in 0..vertices as u32 {
        members[layer[vertex as usize] as usize].push(vertex);
    }
    let mut row = vec![0u32; vertices];
    let (mut row_sum, mut upstream) = (vec![0u64; vertices], vec![0u32; vertices]);
    for in_layer in &mut members {
        in_layer.sort_by(|&a, &b| {
            let mean = |vertex: u32| {
                let vertex = vertex as usize;
                row_sum[vertex] as f64 / f64::from(upstream[vertex].max(1))
            };
            mean(a).total_cmp(&mean(b)).then(a.cmp(&b))
        });
        for (at, &vertex) in in_layer.iter().enumerate() {
            row[vertex as usize] = at as u32;
            for &down in &next[vertex as usize] {
                row_sum[down as usize] += at as u64;
                upstream[down as usize] += 1;
            }
        }
    }
    Layout {
        layer,
        row,
        layer_sizes: members
            .iter()
            .map(|in_layer| in_layer.len() as u32)
            .collect(),
        routes,
    }
}

/// Writes the graph of `report`'s run as an SVG element in a scrolling box, or a note
/// saying why it is not drawn.
pub(super) fn write(out: &mut String, report: &RunReport) -> fmt::Result {
    let dag = report.dag_inner();
    let count = dag.nodes.len();
    if count > MAX_TASKS {
        return write_note(
            out,
            format_args!(
                "the graph has {count} tasks, more than the {MAX_TASKS} drawn \
             here; <code>to_dot()</code> gives it to Graphviz"
            ),
        );
    }
    let Layout {
        layer,
        row,
        layer_sizes,
        routes,
    } = layout(count, |node| dag.plan.downstream(node));
    let tallest = layer_sizes.iter().copied().max().unwrap_or(0);
    // Each vertex's top left corner; a short layer is centred on the tallest.
    let corner = |vertex: u32| {
        let vertex = vertex as usize;
        let lift = f64::from(tallest - layer_sizes[layer[vertex] as usize]) * ROW_PITCH / 2.0;
        (
            MARGIN + f64::from(layer[vertex]) * COLUMN_PITCH,
            MARGIN + lift + f64::from(row[vertex]) * ROW_PITCH,
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
    for route in routes.iter().take(MAX_EDGES) {
        // Out of a box's right side, into the next one's left side, straight through a bend.
        let (x, y) = corner(route[0]);
        let (mut from_x, mut from_y) = (x + NODE_WIDTH, y + NODE_HEIGHT / 2.0);
        write!(out, "<path d=\"M{from_x},{from_y}")?;
        for &vertex in &route[1..] {
            let (to_x, to_y) = corner(vertex);
            let to_y = to_y + NODE_HEIGHT / 2.0;
            let half = (to_x - from_x) / 2.0;
            write!(
                out,
                "C{},{from_y} {},{to_y} {to_x},{to_y}",
                from_x + half,
                to_x - half
            )?;
            (from_x, from_y) = (to_x, to_y);
            if vertex as usize >= count {
                from_x += NODE_WIDTH;
                write!(out, "L{from_x},{from_y}")?;
            }
        }
        writeln!(
            out,
            "\" fill=\"none\" stroke=\"#888\" marker-end=\"url(#arrow)\"/>"
        )?;
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
    if routes.len() > MAX_EDGES {
        write_note(
            out,
            format_args!(
                "{} of its {} dependencies are not drawn",
                routes.len() - MAX_EDGES,
                routes.len()
            ),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Layout, MAX_BENDS, layout};

    fn laid_out(downstream: &[Vec<u32>]) -> Layout {
        layout(downstream.len(), |node| &downstream[node as usize])
    }

    #[test]
    fn a_task_sits_one_layer_past_its_longest_upstream_path() {
        // a -> b -> c and a -> c: c is in the third layer, and a -> c bends through the second.
        let Layout {
            layer,
            row,
            layer_sizes,
            routes,
        } = laid_out(&[vec![1, 2], vec![2], vec![]]);
        assert_eq!(layer, [0, 1, 2, 1]); // a, b, c, then the bend of a -> c
        assert_eq!(layer_sizes, [1, 2, 1]);
        assert_eq!(routes, [vec![0, 1], vec![0, 3, 2], vec![1, 2]]);
        assert_eq!(row[0], 0);
        assert_ne!(row[1], row[3], "b and the bend share the second layer");
    }

    #[test]
    fn a_layer_is_ordered_by_the_rows_of_its_upstream_tasks() {
        // Roots r0 and r1; x (added first) under r1, y under r0: y goes above x.
        let Layout { row, .. } = laid_out(&[vec![3], vec![2], vec![], vec![]]);
        assert_eq!((row[0], row[1]), (0, 1));
        assert_eq!((row[3], row[2]), (0, 1));
    }

    #[test]
    fn past_the_bend_budget_long_dependencies_go_straight_across() {
        // A chain of 400 and 100 early tasks each also feeding the last: about 35,000 bends.
        let n = 400;
        let mut downstream: Vec<Vec<u32>> = (0..n).map(|node| vec![node + 1]).collect();
        downstream[n as usize - 1].clear();
        for early in &mut downstream[..100] {
            early.push(n - 1);
        }
        let wanted: u64 = (0..100u64).map(|node| n as u64 - 2 - node).sum();
        assert!(wanted > MAX_BENDS);
        let Layout {
            layer,
            layer_sizes,
            routes,
            ..
        } = laid_out(&downstream);
        assert_eq!(layer.len(), n as usize, "no bends");
        assert_eq!(layer_sizes, vec![1; n as usize]);
        assert_eq!(routes.len(), n as usize - 1 + 100);
        assert!(routes.iter().all(|route| route.len() == 2));
    }
}
