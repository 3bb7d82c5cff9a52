//! The progress bar of `dags test`: [`ProgressBar`] on stderr, drawn on a terminal, or on
//! request when stderr is not one.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressDrawTarget, TermLike};

use crate::events::ProgressBar;

/// The bar to draw for this run, if any: on a terminal unless `never`; anywhere if `always`.
pub(crate) fn progress_bar(always: bool, never: bool) -> Option<ProgressBar> {
    if never {
        return None;
    }
    if std::io::stderr().is_terminal() {
        return Some(ProgressBar::new());
    }
    always.then(|| ProgressBar::with_target(ProgressDrawTarget::term_like(Box::new(Stderr))))
}

/// Standard error as a terminal of 160 columns (the bar's line fits on one), for a bar asked for where it is not one
/// (a log file, a CI job's output): the bar's lines and cursor moves as ANSI sequences.
#[derive(Debug)]
struct Stderr;

impl Stderr {
    fn write(&self, text: &str) -> std::io::Result<()> {
        std::io::stderr().write_all(text.as_bytes())
    }

    fn escape(&self, n: usize, code: char) -> std::io::Result<()> {
        if n == 0 {
            return Ok(());
        }
        self.write(&format!("\x1b[{n}{code}"))
    }
}

impl TermLike for Stderr {
    fn width(&self) -> u16 {
        160
    }

    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.escape(n, 'A')
    }

    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.escape(n, 'B')
    }

    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.escape(n, 'C')
    }

    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.escape(n, 'D')
    }

    fn write_line(&self, line: &str) -> std::io::Result<()> {
        self.write(&format!("{line}\n"))
    }

    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.write(text)
    }

    fn clear_line(&self) -> std::io::Result<()> {
        self.write("\r\x1b[2K")
    }

    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
