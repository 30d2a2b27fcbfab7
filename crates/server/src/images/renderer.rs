//! The renderer: one headless Chromium, driven over the DevTools protocol (chromiumoxide), with
//! a pool of warm pages, each loaded once with the server's plotly.js, that draw figures with
//! `Plotly.toImage`. It starts on the first image asked for (or when warmed) and stays warm.
//!
//! A figure is untrusted input drawn in a browser:
//! - each page's document has a policy that loads nothing but data and blob pictures (no
//!   network, no files, not this server), and the browser fails every request a page still
//!   makes (the `Fetch` domain);
//! - each render has a time limit; a page that runs past it or crashes is closed and replaced,
//!   and the others go on (each page has its own renderer process);
//! - pages are replaced after so many renders, so memory stays bounded;
//! - jobs wait in a bounded queue; past it, the answer is "busy" at once.
//!
//! Chromium runs under a small `sh` watchdog that holds a pipe from this process: when the
//! server exits, however it exits, the pipe closes and the watchdog stops Chromium.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chromiumoxide::Page;
use chromiumoxide::browser::Browser;
use chromiumoxide::cdp::browser_protocol::fetch;
use chromiumoxide::cdp::browser_protocol::network::ErrorReason;
use chromiumoxide::cdp::browser_protocol::page::PrintToPdfParams;
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use futures_util::StreamExt;
use tokio::io::AsyncBufReadExt;
use tokio::sync::{Mutex, OnceCell, RwLock, mpsc, oneshot};

use super::format::{Format, Size};

/// How the renderer runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RendererConfig {
    /// The browser: a path, or `None` to look for `chromium-headless-shell`, `chromium`,
    /// `chromium-browser` and `google-chrome` on `PATH`.
    pub chromium: Option<PathBuf>,
    /// Pages drawing at once.
    pub workers: usize,
    /// How long one render may take.
    pub timeout: Duration,
    /// Renders a page draws before it is replaced.
    pub recycle_after: u32,
    /// Jobs that may wait for a page; more are refused as busy.
    pub queue: usize,
}

impl Default for RendererConfig {
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            chromium: None,
            workers,
            timeout: Duration::from_secs(10),
            recycle_after: 200,
            queue: workers * 8,
        }
    }
}

/// Why an image was not drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum RenderError {
    /// There is no browser to draw with (the message says how to get one).
    #[error("{0}")]
    Off(String),
    /// Every page is busy and the queue is full.
    #[error("every renderer is busy; try again in a moment")]
    Busy,
    /// The figure took longer than the limit to draw.
    #[error("the figure took longer than {} s to draw; simplify it or ask the server's admin to raise --render-timeout", .0.as_secs())]
    TimedOut(Duration),
    /// plotly.js refused the figure, or the page drawing it crashed.
    #[error("the figure could not be drawn: {0}")]
    Failed(String),
}

/// The browsers looked for on `PATH`, best first.
const BROWSERS: [&str; 4] =
    ["chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"];

/// The browser images are drawn with: `given`, or the first of `chromium-headless-shell`,
/// `chromium`, `chromium-browser` and `google-chrome` on `PATH`; an error says how to get one.
pub fn find_chromium(given: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(format!("images are off: --chromium {} is not a file", path.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    BROWSERS
        .iter()
        .find_map(|name| {
            std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
        })
        .ok_or_else(|| {
            "images are off: no Chromium found; install chromium-headless-shell (Debian: apt-get \
             install chromium-headless-shell) or give --chromium PATH"
                .to_owned()
        })
}

/// One picture to draw.
struct Job {
    /// The figure as JSON text.
    figure: String,
    format: Format,
    size: Size,
    answer: oneshot::Sender<Result<Vec<u8>, RenderError>>,
}

/// The renderer of a server.
pub(crate) struct Renderer {
    config: RendererConfig,
    plotly_js: &'static str,
    pool: OnceCell<Result<Pool, String>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Renderer {
    pub(crate) fn new(config: RendererConfig, plotly_js: &'static str) -> Self {
        Self { config, plotly_js, pool: OnceCell::new() }
    }

    /// Starts the browser and its pages now rather than on the first image.
    pub(crate) async fn warm(&self) -> Result<(), String> {
        self.pool().await.map(|_| ())
    }

    async fn pool(&self) -> Result<&Pool, String> {
        let started = self.pool.get_or_init(|| Pool::start(&self.config, self.plotly_js)).await;
        started.as_ref().map_err(String::clone)
    }

    /// Draws `figure` (JSON text) as `format` at `size`.
    pub(crate) async fn render(
        &self,
        figure: String,
        format: Format,
        size: Size,
    ) -> Result<Vec<u8>, RenderError> {
        let pool = self.pool().await.map_err(RenderError::Off)?;
        let (answer, drawn) = oneshot::channel();
        pool.jobs.try_send(Job { figure, format, size, answer }).map_err(|_| RenderError::Busy)?;
        // A bound on the wait as well, so that a request never outlives a stuck browser.
        let limit = self.config.timeout * 3;
        match tokio::time::timeout(limit, drawn).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(RenderError::Failed("the page drawing it was closed".to_owned())),
            Err(_) => Err(RenderError::TimedOut(self.config.timeout)),
        }
    }

    /// Stops the browser (the watchdog also does when the server exits).
    pub(crate) async fn stop(&self) {
        if let Some(Ok(pool)) = self.pool.get() {
            pool.chromium.write().await.close().await;
        }
    }
}

/// The running browser and its pages' queue.
struct Pool {
    jobs: mpsc::Sender<Job>,
    chromium: Arc<RwLock<Chromium>>,
}

impl Pool {
    async fn start(config: &RendererConfig, plotly_js: &'static str) -> Result<Self, String> {
        let path = find_chromium(config.chromium.as_deref())?;
        let chromium = Chromium::launch(&path).await?;
        tracing::info!(chromium = %path.display(), workers = config.workers, "images: the renderer is up");
        let chromium = Arc::new(RwLock::new(chromium));
        let (jobs, queue) = mpsc::channel(config.queue.max(1));
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..config.workers.max(1) {
            let worker = Worker {
                chromium: Arc::clone(&chromium),
                queue: Arc::clone(&queue),
                config: config.clone(),
                path: path.clone(),
                plotly_js,
            };
            tokio::spawn(worker.run());
        }
        Ok(Self { jobs, chromium })
    }
}

/// A browser process under its watchdog, and the DevTools connection to it.
struct Chromium {
    browser: Browser,
    /// Closing it (dropping it, or this process ending) makes the watchdog stop the browser.
    watchdog: Option<tokio::process::ChildStdin>,
    process: tokio::process::Child,
    /// Its profile, removed with it.
    _profile: tempfile::TempDir,
    /// Incremented at each relaunch, so that workers relaunch a broken browser once.
    generation: u64,
}

/// The flags of a headless browser that draws and does nothing else.
const FLAGS: [&str; 17] = [
    "--headless",
    "--disable-gpu",
    "--in-process-gpu",
    "--enable-features=NetworkServiceInProcess2",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
];

/// The watchdog, leader of a process group of its own: runs the browser, and a watcher that
/// stops the whole group (the browser, any wrapper script it came as, and its helpers) once
/// the pipe from the server closes; when the browser ends by itself, the watcher goes too, and
/// the script ends, so that a browser that could not start is seen at once. (A list run in the
/// background reads /dev/null unless told otherwise: the pipe is fd 3.)
const WATCHDOG: &str = r#"exec 3<&0
"$0" "$@" & browser=$!
( read -r _ <&3 || true; kill -TERM 0 ) >/dev/null 2>&1 &
watcher=$!
wait "$browser"
kill "$watcher" 2>/dev/null"#;

impl Chromium {
    /// Starts the browser at `path`, in its sandbox where it can run (not as root, and not
    /// where the system allows no sandbox), and connects to it.
    async fn launch(path: &Path) -> Result<Self, String> {
        if running_as_root() {
            tracing::info!("images: running as root, Chromium runs without its sandbox");
            return Self::launch_with(path, false).await;
        }
        match Self::launch_with(path, true).await {
            Ok(chromium) => Ok(chromium),
            Err(sandboxed) => {
                tracing::warn!(error = %sandboxed, "Chromium did not start in its sandbox; starting it without");
                Self::launch_with(path, false).await
            }
        }
    }

    async fn launch_with(path: &Path, sandbox: bool) -> Result<Self, String> {
        let profile = tempfile::Builder::new()
            .prefix("chart-studio-chromium-")
            .tempdir()
            .map_err(|err| format!("could not make a profile folder for Chromium: {err}"))?;
        let mut command = tokio::process::Command::new("/bin/sh");
        command
            .arg("-c")
            .arg(WATCHDOG)
            .arg(path)
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            // Outside the sandbox there is nothing for the zygote to prepare, and it costs memory.
            .args(if sandbox { &[][..] } else { &["--no-sandbox", "--no-zygote"][..] })
            .process_group(0)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        let mut process =
            command.spawn().map_err(|err| format!("could not start {}: {err}", path.display()))?;
        let watchdog = process.stdin.take();
        let stderr = process.stderr.take().ok_or("no stderr from Chromium")?;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        let address = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("ws://") {
                    return Some(line[at..].trim().to_owned());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .ok_or_else(|| format!("{} did not start its DevTools server", path.display()))?;
        // The rest of what it says goes to the debug log, so that it never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(%line, "chromium");
            }
        });
        let (browser, mut handler) = Browser::connect(address)
            .await
            .map_err(|err| format!("could not connect to Chromium: {err}"))?;
        tokio::spawn(async move { while handler.next().await.is_some() {} });
        Ok(Self { browser, watchdog, process, _profile: profile, generation: 0 })
    }

    /// Closes the browser and waits for its watchdog.
    async fn close(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(2), self.browser.close()).await;
        self.watchdog.take();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.process.wait()).await;
    }
}

/// Whether this process runs as root (Linux: `/proc/self` belongs to the effective user).
fn running_as_root() -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
    }
    #[cfg(not(unix))]
    false
}

/// The document every page draws in: it may load nothing but data and blob pictures.
const DOCUMENT: &str = r#"<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<style>body{margin:0}#print{display:none}@media print{#print{display:block}}</style>
</head><body><div id="print"></div></body></html>"#;

/// Installed once plotly.js is: draws a figure as an image data URL, and lays an SVG out alone
/// on the page for printing to PDF.
const DRAW: &str = r#"
window.drawFigure = (figure, format, width, height, scale) =>
  Plotly.toImage(figure, {format, width, height, scale});
window.layOutForPrint = (svg, width, height) => {
  const print = document.getElementById("print");
  print.replaceChildren();
  const picture = new Image();
  picture.src = svg;
  picture.style.width = width + "px";
  picture.style.height = height + "px";
  picture.style.display = "block";
  print.appendChild(picture);
  return picture.decode().then(() => true);
};
true
"#;

/// One page drawing one job at a time, replaced when it fails or has drawn enough.
struct Worker {
    chromium: Arc<RwLock<Chromium>>,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    config: RendererConfig,
    path: PathBuf,
    plotly_js: &'static str,
}

impl Worker {
    async fn run(self) {
        loop {
            let page = match self.open_page().await {
                Ok(opened) => opened,
                Err(err) => {
                    tracing::error!(error = %err, "images: could not open a page; relaunching Chromium");
                    self.relaunch().await;
                    continue;
                }
            };
            let mut drawn = 0;
            let replace = loop {
                let Some(job) = self.queue.lock().await.recv().await else { return };
                let result = tokio::time::timeout(self.config.timeout, draw(&page, &job)).await;
                let (result, broken) = match result {
                    Ok(Ok(bytes)) => (Ok(bytes), false),
                    Ok(Err(failure)) => (Err(failure.error), failure.page_broken),
                    Err(_) => (Err(RenderError::TimedOut(self.config.timeout)), true),
                };
                let heavy = job.figure.len() > HEAVY_FIGURE_BYTES;
                let _ = job.answer.send(result);
                drawn += 1;
                if drawn % COLLECT_EVERY == 0 {
                    // Garbage is collected between renders, not in the middle of one.
                    use chromiumoxide::cdp::js_protocol::heap_profiler::CollectGarbageParams;
                    let _ = page.execute(CollectGarbageParams::default()).await;
                }
                if broken || heavy || drawn >= self.config.recycle_after {
                    break broken;
                }
            };
            if replace {
                tracing::warn!("images: a page hung or crashed; it is replaced");
            }
            // Closing a hung page is done by the browser, which the hang does not reach.
            let _ = tokio::time::timeout(Duration::from_secs(2), page.close()).await;
        }
    }

    /// A new page, ready to draw, in the current browser.
    async fn open_page(&self) -> Result<Page, String> {
        let chromium = self.chromium.read().await;
        let page = tokio::time::timeout(Duration::from_secs(30), async {
            let page = chromium.browser.new_page("about:blank").await.map_err(|e| e.to_string())?;
            refuse_requests(&page).await?;
            page.set_content(DOCUMENT).await.map_err(|e| e.to_string())?;
            for script in [self.plotly_js, DRAW] {
                let evaluate = EvaluateParams::builder()
                    .expression(script)
                    .build()
                    .map_err(|e| e.to_string())?;
                page.evaluate_expression(evaluate).await.map_err(|e| e.to_string())?;
            }
            Ok::<_, String>(page)
        })
        .await
        .map_err(|_| "a new page took over 30 s to load plotly.js".to_owned())??;
        Ok(page)
    }

    /// Starts the browser again, unless another worker just did.
    async fn relaunch(&self) {
        let generation = self.chromium.read().await.generation;
        let mut chromium = self.chromium.write().await;
        if chromium.generation != generation {
            return;
        }
        chromium.close().await;
        match Chromium::launch(&self.path).await {
            Ok(fresh) => *chromium = Chromium { generation: generation + 1, ..fresh },
            Err(err) => {
                tracing::error!(error = %err, "images: Chromium did not start again");
                chromium.generation = generation + 1;
                drop(chromium);
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

/// Renders between two garbage collections of a page, which keep it near its resting size.
const COLLECT_EVERY: u32 = 30;

/// A figure this large (JSON with its data) leaves its page holding memory it does not give
/// back; the page is replaced after drawing it, so memory returns to its resting size.
const HEAVY_FIGURE_BYTES: usize = 1024 * 1024;

/// Makes the browser fail every request `page` makes: its document loads nothing, and a
/// figure that names a URL (an image, a font) gets an error instead.
async fn refuse_requests(page: &Page) -> Result<(), String> {
    let mut paused =
        page.event_listener::<fetch::EventRequestPaused>().await.map_err(|e| e.to_string())?;
    let refusing = page.clone();
    tokio::spawn(async move {
        while let Some(request) = paused.next().await {
            tracing::info!(url = %request.request.url, "images: a figure's request was refused");
            let fail = fetch::FailRequestParams::new(
                request.request_id.clone(),
                ErrorReason::BlockedByClient,
            );
            if refusing.execute(fail).await.is_err() {
                break;
            }
        }
    });
    let everything = fetch::RequestPattern::builder().url_pattern("*").build();
    let enable = fetch::EnableParams::builder().pattern(everything).build();
    page.execute(enable).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Why a draw failed, and whether the page must be replaced.
struct DrawFailure {
    error: RenderError,
    page_broken: bool,
}

/// Draws one job on `page`.
async fn draw(page: &Page, job: &Job) -> Result<Vec<u8>, DrawFailure> {
    let drawn_as = match job.format {
        Format::Pdf => Format::Svg,
        Format::Emf => Format::Png,
        other => other,
    };
    let Size { width, height, scale } = job.size;
    // The figure goes in as a string for JSON.parse, so that it is read as JSON (a
    // `__proto__` key stays a key) rather than as script.
    let figure = serde_json::to_string(&job.figure).unwrap_or_default();
    let call = format!(
        "drawFigure(JSON.parse({figure}), {:?}, {width}, {height}, {scale})",
        drawn_as.name()
    );
    let url: String = evaluate(page, call).await?;
    let bytes = data_url_bytes(&url).ok_or_else(|| DrawFailure {
        error: RenderError::Failed("plotly.js gave no image".to_owned()),
        page_broken: false,
    })?;
    match job.format {
        Format::Pdf => pdf(page, &url, width, height).await,
        Format::Emf => super::emf::from_png(&bytes)
            .map_err(|why| DrawFailure { error: RenderError::Failed(why), page_broken: false }),
        _ => Ok(bytes),
    }
}

/// Evaluates `expression` on `page`, waiting for a promise; a failure tells whether the page
/// itself broke (it crashed or closed) or the script threw.
async fn evaluate<T: serde::de::DeserializeOwned>(
    page: &Page,
    expression: String,
) -> Result<T, DrawFailure> {
    let broken = |why: String| DrawFailure { error: RenderError::Failed(why), page_broken: true };
    let params = EvaluateParams::builder()
        .expression(expression)
        .await_promise(true)
        .return_by_value(true)
        .build()
        .map_err(broken)?;
    match page.evaluate_expression(params).await {
        Ok(result) => result.into_value().map_err(|err| broken(err.to_string())),
        Err(chromiumoxide::error::CdpError::JavascriptException(exception)) => {
            let message = exception
                .exception
                .as_ref()
                .and_then(|e| e.description.clone())
                .unwrap_or_else(|| exception.text.clone());
            let first = message.lines().next().unwrap_or_default().to_owned();
            Err(DrawFailure { error: RenderError::Failed(first), page_broken: false })
        }
        Err(err) => Err(broken(err.to_string())),
    }
}

/// The bytes of a `data:` URL, base64 or percent-encoded.
fn data_url_bytes(url: &str) -> Option<Vec<u8>> {
    let (head, data) = url.strip_prefix("data:")?.split_once(',')?;
    if head.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD.decode(data).ok()
    } else {
        Some(percent_encoding::percent_decode_str(data).collect())
    }
}

/// The SVG at `svg` (a data URL) alone on a page of `width × height` CSS pixels, printed.
async fn pdf(page: &Page, svg: &str, width: u32, height: u32) -> Result<Vec<u8>, DrawFailure> {
    let svg = serde_json::to_string(svg).unwrap_or_default();
    let _: bool = evaluate(page, format!("layOutForPrint({svg}, {width}, {height})")).await?;
    let inches = |pixels: u32| f64::from(pixels) / 96.0;
    let params = PrintToPdfParams {
        print_background: Some(true),
        paper_width: Some(inches(width)),
        paper_height: Some(inches(height)),
        margin_top: Some(0.0),
        margin_bottom: Some(0.0),
        margin_left: Some(0.0),
        margin_right: Some(0.0),
        page_ranges: Some("1".to_owned()),
        ..PrintToPdfParams::default()
    };
    page.pdf(params).await.map_err(|err| DrawFailure {
        error: RenderError::Failed(format!("the PDF could not be printed: {err}")),
        page_broken: true,
    })
}
