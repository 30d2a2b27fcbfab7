//! At a terminal, a spinner on stderr while the CLI waits on the server: reading an account's
//! files, planning a run, or waiting to send a request again. Never in a pipe or under `--json`.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use chart_studio_api::Sleeper;
use chart_studio_bulk::TokioClock;
use futures_util::future::BoxFuture;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Output;

/// Every line the CLI redraws on stderr, so that spinners and progress bars stack instead of
/// overwriting one another.
pub(crate) fn lines() -> &'static MultiProgress {
    static LINES: OnceLock<MultiProgress> = OnceLock::new();
    LINES.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// Whether spinners show: stderr is a terminal and the output is not JSON.
pub(crate) fn shown(out: &Output) -> bool {
    !out.json && std::io::stderr().is_terminal()
}

/// A spinner with a message, cleared when dropped.
#[derive(Debug)]
pub(crate) struct Spinner(ProgressBar);

impl Spinner {
    /// Shows `message` beside a spinner and the time so far, when `shown`.
    pub(crate) fn new(shown: bool, message: impl Into<Cow<'static, str>>) -> Self {
        if !shown {
            return Self(ProgressBar::hidden());
        }
        let bar = lines().add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        Self(bar)
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The waits before a request is sent again, said with a spinner at a terminal.
#[derive(Debug)]
pub(crate) struct SaidWaits {
    shown: bool,
    clock: TokioClock,
}

impl SaidWaits {
    /// Waits said when `shown`.
    pub(crate) fn new(shown: bool) -> Self {
        Self { shown, clock: TokioClock::default() }
    }
}

impl Sleeper for SaidWaits {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let waited = self.clock.sleep(duration);
        let message =
            format!("no answer from the server; trying again in {:.1} s", duration.as_secs_f64());
        let spinner = Spinner::new(self.shown, message);
        Box::pin(async move {
            waited.await;
            drop(spinner);
        })
    }
}
