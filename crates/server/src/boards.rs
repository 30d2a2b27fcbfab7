//! The pages of dashboards and presentations: `/~USER/N/` (and `.embed`) when the file is one,
//! and `/dashboard/USER:N/` with `/view`, `/present` and `/embed`.
//!
//! A dashboard's boxes are laid out as its split tree says (a `horizontal` split puts its
//! halves side by side, a `vertical` one above each other; `size` and `sizeUnit` give the
//! first half); a presentation's slides are shown one at a time, stepped with the arrow keys
//! or buttons. Plots are drawn in the page by plotly.js from their figures, which are data in
//! the page, never script. Following Chart Studio, a document's sharing is its own: the
//! reader sees a plot only if they may read it themselves (its sharing, or the share key the
//! box carries for a secret plot); any other box shows a "private plot" placeholder that does
//! not tell whether the plot exists. Text is escaped; pictures a slide names on other sites are
//! not fetched (the page may load nothing but this server).

use askama::Template;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chart_studio_models::{Fid, FileType, PlotLink};
use chart_studio_sharing::Sharing;
use serde_json::Value;

use crate::auth::Viewer;
use crate::failure::Failure;
use crate::html::percent_encode;
use crate::render::PlotSources;
use crate::state::Shared;

/// The most plots one page draws; further boxes show why they are not drawn.
pub(crate) const MAX_DRAWN_PLOTS: usize = 50;

/// One piece of a dashboard's split tree or a slide, in page order.
#[derive(Debug)]
enum Piece {
    /// A split opens; its first half follows, with this CSS flex basis.
    Split { row: bool, basis: String },
    /// The split's second half follows.
    Second,
    /// The split closes.
    End,
    /// A plot drawn from figure number `figure`.
    Plot { title: String, figure: usize },
    /// A plot the reader may not see, or that is not drawn.
    Hidden { title: String, why: &'static str },
    /// Text, shown as text.
    Text { text: String },
    /// Code, shown as text.
    Code { code: String },
    /// A picture on another site, named, not fetched.
    Picture { src: String },
    /// An empty box.
    Empty,
}

/// A page of a dashboard or a presentation.
#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{{ title }}">
{% if let Some(image) = image %}<meta property="og:image" content="{{ image }}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:image" content="{{ image }}">{% endif %}
<script src="/static/plotly.min.js"></script>
<style>body{font-family:system-ui,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh}
header{padding:12px 20px;border-bottom:1px solid #ddd}h1{font-size:1.3em;margin:0 0 4px}.meta{color:#555;font-size:.9em}
main{flex:1;display:flex;min-height:0;overflow:auto}.split{display:flex;flex:1;min-width:0;min-height:0}.split.row{flex-direction:row}.split.col{flex-direction:column}
.half{display:flex;min-width:0;min-height:0}.box{flex:1;display:flex;flex-direction:column;border:1px solid #eee;margin:4px;min-height:120px;min-width:0}
.box h2{font-size:1em;margin:6px 8px}.chart{flex:1;min-height:100px}.text{white-space:pre-wrap;padding:8px}.code{white-space:pre;font-family:monospace;padding:8px;overflow:auto}
.hidden{flex:1;display:flex;align-items:center;justify-content:center;color:#777;background:#f6f6f6}
.slides{flex:1;display:flex;flex-direction:column}.slide{flex:1;display:flex;flex-direction:column;padding:12px}.slide[hidden]{display:none}.controls{padding:8px 20px;border-top:1px solid #ddd}</style>
</head><body>
{% if !bare %}<header><h1>{{ title }}</h1><div class="meta">by <a href="/~{{ owner }}/">{{ owner }}</a> · {{ sharing }}</div></header>{% endif %}
<main>{% if slides.is_empty() %}{% for piece in pieces %}{% call show(piece) %}{% endcall %}{% endfor %}{% else %}<div class="slides">
{% for slide in slides %}<section class="slide" aria-label="slide {{ loop.index }}">{% for piece in slide %}{% call show(piece) %}{% endcall %}{% endfor %}</section>
{% endfor %}<div class="controls"><button id="previous">Previous</button> <span id="at"></span> <button id="next">Next</button></div></div>{% endif %}</main>
{% for figure in figures %}<script id="figure-{{ loop.index0 }}" type="application/json">{{ figure|safe }}</script>
{% endfor %}<script src="/static/boards.js"></script>
</body></html>
{% macro show(piece) %}{% match piece %}
{% when Piece::Split with { row, basis } %}<div class="split {% if row %}row{% else %}col{% endif %}"><div class="half" style="flex:0 0 {{ basis }}">
{% when Piece::Second %}</div><div class="half" style="flex:1 1 0">
{% when Piece::End %}</div></div>
{% when Piece::Plot with { title, figure } %}<div class="box">{% if !title.is_empty() %}<h2>{{ title }}</h2>{% endif %}<div class="chart" data-figure="figure-{{ figure }}"></div></div>
{% when Piece::Hidden with { title, why } %}<div class="box">{% if !title.is_empty() %}<h2>{{ title }}</h2>{% endif %}<div class="hidden">{{ why }}</div></div>
{% when Piece::Text with { text } %}<div class="box"><div class="text">{{ text }}</div></div>
{% when Piece::Code with { code } %}<div class="box"><div class="code">{{ code }}</div></div>
{% when Piece::Picture with { src } %}<div class="box"><div class="hidden">Picture from {{ src }} (not loaded)</div></div>
{% when Piece::Empty %}<div class="box"></div>
{% endmatch %}{% endmacro %}"#
)]
struct BoardPage<'a> {
    title: &'a str,
    owner: &'a str,
    sharing: String,
    /// The first drawn plot's PNG, absolute, for `og:image`.
    image: Option<String>,
    /// Without the header (`/embed`, `/present`).
    bare: bool,
    /// A dashboard's pieces.
    pieces: Vec<Piece>,
    /// A presentation's slides.
    slides: Vec<Vec<Piece>>,
    /// Where the drawn plots' figures go ([`crate::html::rendered_with_json`]).
    figures: &'a [String],
}

/// Draws every chart of the page, then, for a presentation, shows one slide at a time.
pub(crate) const BOARDS_JS: &str = r#"for (const chart of document.querySelectorAll("[data-figure]")) {
  const figure = JSON.parse(document.getElementById(chart.dataset.figure).textContent);
  Plotly.newPlot(chart, figure.data || [], figure.layout || {}, {responsive: true});
}
const slides = [...document.querySelectorAll(".slide")];
let at = 0;
function show(n) {
  at = Math.max(0, Math.min(slides.length - 1, n));
  slides.forEach((slide, i) => { slide.hidden = i !== at; });
  for (const chart of slides[at].querySelectorAll(".js-plotly-plot")) Plotly.Plots.resize(chart);
  document.getElementById("at").textContent = (at + 1) + " / " + slides.length;
}
if (slides.length) {
  document.getElementById("previous").onclick = () => show(at - 1);
  document.getElementById("next").onclick = () => show(at + 1);
  document.addEventListener("keydown", (event) => {
    if (event.key === "ArrowRight" || event.key === " ") show(at + 1);
    if (event.key === "ArrowLeft") show(at - 1);
  });
  show(Number.parseInt(location.hash.slice(1), 10) - 1 || 0);
}
"#;

/// What a page needs of the document, taken under the store's lock.
pub(crate) struct Shown {
    pub kind: FileType,
    pub title: String,
    pub sharing: Sharing,
    pub content: std::sync::Arc<str>,
}

impl Shown {
    /// The document of `record` (file `fid`), when it is a dashboard or a presentation.
    pub(crate) fn of(
        store: &crate::store::Store,
        fid: &Fid,
        record: &crate::store::FileRecord,
    ) -> Result<Option<Self>, crate::store::StoreError> {
        let Some(body) = store.body(fid.owner(), fid.idlocal())? else { return Ok(None) };
        Ok(body.content().map(|content| Self {
            kind: record.kind(),
            title: record.filename.clone(),
            sharing: Sharing::from_fields(record.world_readable, record.share_key_enabled),
            content: std::sync::Arc::clone(content),
        }))
    }
}

/// The page of a document `viewer` may read; `bare` leaves out the header.
pub(crate) async fn page(
    app: &Shared,
    viewer: &Viewer,
    fid: &Fid,
    shown: Shown,
    bare: bool,
) -> Response {
    let content: Value = serde_json::from_str(&shown.content).unwrap_or(Value::Null);
    let mut plots = Plots::default();
    let (pieces, slides) = {
        let store = app.store();
        let mut plot =
            |title: String, link: Option<PlotLink>| plots.piece(&store, viewer, title, link);
        match shown.kind {
            FileType::Presentation => (Vec::new(), presentation(&content, &mut plot)),
            _ => (dashboard(&content, &mut plot), Vec::new()),
        }
    };
    // The plots' figures are written on a thread for blocking work.
    let drawn = plots.drawn;
    let figures = crate::render::off_the_workers(move || {
        drawn
            .into_iter()
            .map(|sources| {
                sources.inlined_pieces().unwrap_or_else(|err| {
                    tracing::error!(error = %err, "a dashboard's plot data could not be read");
                    vec![Bytes::from_static(b"null")]
                })
            })
            .collect::<Vec<Vec<Bytes>>>()
    })
    .await;
    let figures = match figures {
        Ok(figures) => figures,
        Err(err) => return Failure::from(err).into_response(),
    };
    // Each figure's place in the page, a string no page holds.
    let nonce = crate::store::Store::random_key();
    let placeholders: Vec<String> =
        (0..figures.len()).map(|index| format!("{nonce}:{index};")).collect();
    let image = plots.first.map(|link| {
        let key = link
            .share_key
            .map(|key| format!("?share_key={}", percent_encode(&key)))
            .unwrap_or_default();
        format!("{}/~{}/{}.png{key}", app.urls.web, link.fid.owner(), link.fid.idlocal())
    });
    let page = BoardPage {
        title: &shown.title,
        owner: fid.owner(),
        sharing: shown.sharing.to_string(),
        image,
        bare,
        pieces,
        slides,
        figures: &placeholders,
    };
    crate::html::rendered_with_json(
        &page,
        bare,
        placeholders.iter().cloned().zip(figures).collect(),
    )
}

/// The plots a page draws, gathered as its pieces are made.
#[derive(Default)]
struct Plots {
    drawn: Vec<PlotSources>,
    /// The first drawn plot, for `og:image`.
    first: Option<PlotLink>,
}

impl Plots {
    /// The piece of a box or slide child that shows `link`: the plot when `viewer` may read it.
    fn piece(
        &mut self,
        store: &crate::store::Store,
        viewer: &Viewer,
        title: String,
        link: Option<PlotLink>,
    ) -> Piece {
        let readable = link.filter(|link| {
            // A plot that cannot be read from the database is shown as one the viewer may
            // not read.
            store.file(link.fid.owner(), link.fid.idlocal()).ok().flatten().is_some_and(|record| {
                record.kind() == FileType::Plot
                    && !record.deleted
                    && crate::access::can_read(
                        viewer,
                        link.fid.owner(),
                        &record,
                        link.share_key.as_deref(),
                    )
            })
        });
        let Some(link) = readable else {
            return Piece::Hidden { title, why: "Private plot" };
        };
        if self.drawn.len() >= MAX_DRAWN_PLOTS {
            return Piece::Hidden { title, why: "Not drawn: a page draws at most 50 plots" };
        }
        let sources = match PlotSources::of(store, viewer, link.fid.owner(), link.fid.idlocal()) {
            Ok(Some(sources)) => sources,
            Ok(None) => return Piece::Hidden { title, why: "Could not be read" },
            Err(err) => {
                tracing::error!(plot = %link.fid, error = %err, "a dashboard's plot could not be read");
                return Piece::Hidden { title, why: "Could not be read" };
            }
        };
        self.drawn.push(sources);
        self.first.get_or_insert(link);
        Piece::Plot { title, figure: self.drawn.len() - 1 }
    }
}

/// A dashboard's split tree as pieces, walked without recursion.
fn dashboard(
    content: &Value,
    plot: &mut impl FnMut(String, Option<PlotLink>) -> Piece,
) -> Vec<Piece> {
    enum Step<'a> {
        Visit(&'a Value),
        Emit(Piece),
    }
    let mut pieces = Vec::new();
    let mut steps = vec![Step::Visit(content.get("layout").unwrap_or(&Value::Null))];
    while let Some(step) = steps.pop() {
        let node = match step {
            Step::Emit(piece) => {
                pieces.push(piece);
                continue;
            }
            Step::Visit(node) => node,
        };
        let text =
            |name: &str| node.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
        match node.get("type").and_then(Value::as_str) {
            Some("split") => {
                let size =
                    node.get("size").and_then(Value::as_f64).filter(|s| s.is_finite() && *s >= 0.0);
                let basis = match (size, node.get("sizeUnit").and_then(Value::as_str)) {
                    (Some(size), Some("px")) => format!("{}px", size.min(100_000.0)),
                    (Some(size), _) => format!("{}%", size.min(100.0)),
                    (None, _) => "50%".to_owned(),
                };
                let row = node.get("direction").and_then(Value::as_str) == Some("horizontal");
                pieces.push(Piece::Split { row, basis });
                steps.push(Step::Emit(Piece::End));
                steps.push(Step::Visit(node.get("second").unwrap_or(&Value::Null)));
                steps.push(Step::Emit(Piece::Second));
                steps.push(Step::Visit(node.get("first").unwrap_or(&Value::Null)));
            }
            Some("box") => pieces.push(match node.get("boxType").and_then(Value::as_str) {
                Some("plot") => {
                    let link = node
                        .get("fileId")
                        .and_then(Value::as_str)
                        .and_then(|f| f.parse().ok())
                        .map(|fid| PlotLink {
                            fid,
                            share_key: node
                                .get("shareKey")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        });
                    plot(text("title"), link)
                }
                Some("text") => Piece::Text { text: text("text") },
                _ => Piece::Empty,
            }),
            _ => pieces.push(Piece::Empty),
        }
    }
    pieces
}

/// A presentation's slides as pieces.
fn presentation(
    content: &Value,
    plot: &mut impl FnMut(String, Option<PlotLink>) -> Piece,
) -> Vec<Vec<Piece>> {
    let slides = content.pointer("/presentation/slides").and_then(Value::as_array);
    slides
        .into_iter()
        .flatten()
        .map(|slide| {
            let children = slide.get("children").and_then(Value::as_array);
            children
                .into_iter()
                .flatten()
                .filter_map(|child| {
                    let prop = |name: &str| {
                        child.pointer(&format!("/props/{name}")).and_then(Value::as_str)
                    };
                    match child.get("type").and_then(Value::as_str)? {
                        "Text" => {
                            let lines = child.get("children").and_then(Value::as_array)?;
                            let text = lines
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("\n");
                            Some(Piece::Text { text })
                        }
                        "Plotly" => Some(plot(
                            String::new(),
                            prop("src").and_then(chart_studio_models::plot_link_in_url),
                        )),
                        "Image" => Some(Piece::Picture { src: prop("src")?.to_owned() }),
                        "CodePane" => Some(Piece::Code { code: prop("source")?.to_owned() }),
                        _ => None,
                    }
                })
                .collect()
        })
        .collect()
}
