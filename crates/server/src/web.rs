//! The web side of the links the API hands out, so that sharing means something in a browser:
//!
//! - `/~USER/IDLOCAL/`: the chart, drawn by plotly.js, with its title, owner and sharing;
//! - `/~USER/IDLOCAL.embed`: the chart alone, for iframes;
//! - `/~USER/IDLOCAL.json`: the figure with its data; `.csv`: its data as a table;
//! - `/~USER/IDLOCAL/SLUG/`: the page, with the title's slug the web app added (any slug);
//! - `/~USER/IDLOCAL.png` (`.jpeg`, `.jpg`, `.webp`, `.svg`, `.pdf`): the chart as an image, from
//!   the image cache (`stored_image`, which `/v2/files/FID/image` uses too);
//! - `/~USER/`: the user's public plots (all of them for the owner);
//! - `/~USER/IDLOCAL/` of a dashboard or presentation, and `/dashboard/USER:IDLOCAL/` (with
//!   `/view`, `/present`, `/embed`): drawn by `boards.rs`;
//! - `/static/plotly.min.js`: plotly.js itself, served from here so charts draw offline;
//! - `/login` (a form: username and API key) and `/logout`.
//!
//! A secret plot opens with `?share_key=KEY`. A private plot, a secret one without its key, a
//! trashed or an unknown one all get the same 404 page, so a page never tells that a file exists.
//! The reader is anonymous unless signed in (a session cookie: HttpOnly, SameSite=Lax) or the
//! request carries an account's credentials; the owner, signed in, sees their own files.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chart_studio_models::Fid;
use chart_studio_sharing::Sharing;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::auth::Viewer;
use crate::failure::Failure;
use crate::html::{percent_encode, rendered, rendered_with_json};
use crate::render::PlotSources;
use crate::state::Shared;
use chart_studio_models::FileType;

/// plotly.js, as the pages and the image renderer load it.
pub(crate) fn plotly_js() -> &'static str {
    PLOTLY_JS.as_str()
}

/// plotly.js, from the `plotly` crate's `plotly_embed_js` feature (its bundled
/// `plotly.min.js`; the version is in the file's first comment).
static PLOTLY_JS: LazyLock<String> = LazyLock::new(|| {
    let sources = plotly::Plot::offline_js_sources();
    let start = sources.find('>').map_or(0, |at| at + 1);
    let end = sources[start..].find("</script>").map_or(sources.len(), |at| start + at);
    sources[start..end].to_owned()
});

/// The pages' routes.
pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/static/plotly.min.js", get(plotly_js_file))
        .route("/static/chart.js", get(chart_js))
        .route("/static/boards.js", get(|| async { script(crate::boards::BOARDS_JS) }))
        .route("/dashboard/{fid}", get(|s, u, p, q, v, h| dashboard_page(s, u, p, q, v, h, None)))
        .route(
            "/dashboard/{fid}/{mode}",
            get(|s, u, Path((fid, mode)): Path<(String, String)>, q, v, h| {
                dashboard_page(s, u, Path(fid), q, v, h, Some(mode))
            }),
        )
        .route("/", get(home_page))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/{user}", get(user_page))
        .route("/{user}/{file}", get(file_page))
        .route(
            "/{user}/{file}/{slug}",
            get(|s, u, Path((user, file, _slug)): Path<(String, String, String)>, q, v, h| {
                slugged_page(s, u, Path((user, file)), q, v, h)
            }),
        )
}

async fn plotly_js_file() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        PLOTLY_JS.as_str(),
    )
        .into_response()
}

/// Draws the figure of a chart page. The figure is data in the page (a JSON block), never
/// script: the page's policy runs no inline script.
const CHART_JS: &str = r#"const figure = JSON.parse(document.getElementById("figure").textContent);
Plotly.newPlot("chart", figure.data || [], figure.layout || {}, {responsive: true});
"#;

async fn chart_js() -> Response {
    script(CHART_JS)
}

/// One of the pages' scripts.
pub(crate) fn script(source: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        source,
    )
        .into_response()
}

/// `/dashboard/USER:N/` and its `view`, `present` (no header) and `embed` (no header, framable)
/// forms.
async fn dashboard_page(
    State(app): State<Shared>,
    uri: http::Uri,
    Path(fid): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    identified: Result<Viewer, Failure>,
    headers: HeaderMap,
    mode: Option<String>,
) -> Response {
    let bare = match mode.as_deref() {
        None | Some("view") => false,
        Some("present" | "embed") => true,
        Some(_) => return not_found(uri.path()),
    };
    let Ok(fid) = fid.parse::<Fid>() else { return not_found(uri.path()) };
    let viewer = reader(&app, identified, &headers);
    let share_key = params.get("share_key").map(String::as_str);
    document_page(&app, &viewer, &fid, (share_key, bare), uri.path())
        .await
        .unwrap_or_else(|| not_found(uri.path()))
}

/// The page of `fid` when it is a dashboard or a presentation (the 404 page of `path` when
/// `viewer` may not read it, even with `share_key`); `None` for other files, whose pages are
/// drawn elsewhere. `bare` leaves out the header.
async fn document_page(
    app: &Shared,
    viewer: &Viewer,
    fid: &Fid,
    (share_key, bare): (Option<&str>, bool),
    path: &str,
) -> Option<Response> {
    let shown = {
        let store = app.store();
        let record = match store.file(fid.owner(), fid.idlocal()) {
            Ok(record) => record?,
            Err(err) => return Some(Failure::from(err).into_response()),
        };
        if !matches!(record.kind(), FileType::Dashboard | FileType::Presentation) {
            return None;
        }
        if record.deleted || !crate::access::can_read(viewer, fid.owner(), &record, share_key) {
            return Some(not_found(path));
        }
        match crate::boards::Shown::of(&store, fid, &record) {
            Ok(shown) => shown?,
            Err(err) => return Some(Failure::from(err).into_response()),
        }
    };
    Some(crate::boards::page(app, viewer, fid, shown, bare).await)
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{{ title }}">
<meta property="og:image" content="{{ image }}">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:image" content="{{ image }}">
<script src="/static/plotly.min.js"></script>
<style>body{font-family:system-ui,sans-serif;margin:0}header{padding:12px 20px;border-bottom:1px solid #ddd}
h1{font-size:1.3em;margin:0 0 4px}.meta{color:#555;font-size:.9em}#chart{width:100%;height:{% if embed %}100vh{% else %}calc(100vh - 80px){% endif %}}</style>
</head><body>
{% if !embed %}<header><h1>{{ title }}</h1><div class="meta">by <a href="/~{{ owner }}/">{{ owner }}</a> · {{ sharing }}</div></header>{% endif %}
<div id="chart"></div>
<script id="figure" type="application/json">{{ figure|safe }}</script>
<script src="/static/chart.js"></script>
</body></html>"#
)]
struct ChartPage<'a> {
    /// The chart's PNG, absolute, for `og:image`.
    image: &'a str,
    title: &'a str,
    owner: &'a str,
    sharing: &'a str,
    /// Where the figure goes ([`rendered_with_json`]).
    figure: &'a str,
    embed: bool,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ owner }}</title>
<style>body{font-family:system-ui,sans-serif;margin:20px}li{margin:4px 0}.meta{color:#555}</style>
</head><body><h1>{{ owner }}</h1>
<p class="meta">{% if signed_in %}Signed in: private and secret plots are listed too. <form method="post" action="/logout" style="display:inline"><button>Sign out</button></form>{% else %}<a href="/login?next=/~{{ owner }}/">Sign in</a> to see your private plots.{% endif %}</p>
{% if plots.is_empty() %}<p>No plots to show.</p>{% else %}<ul>
{% for (link, name, sharing) in plots %}<li><a href="{{ link }}">{{ name }}</a> <span class="meta">{{ sharing }}</span></li>
{% endfor %}</ul>{% endif %}
</body></html>"#
)]
struct UserPage<'a> {
    owner: &'a str,
    signed_in: bool,
    plots: Vec<(String, String, String)>,
}

/// The session cookie's name.
const SESSION: &str = "cs_session";

/// The session token a request's cookies carry.
fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| cookie.trim().strip_prefix(SESSION)?.strip_prefix('='))
}

/// Whether a request carries a session cookie (its answer is then for one reader).
pub(crate) fn has_session_cookie(headers: &HeaderMap) -> bool {
    session_token(headers).is_some()
}

/// Who reads a page: the account of the request's credentials (as identified once per
/// request), else of its live session, else anonymous.
fn reader(app: &Shared, identified: Result<Viewer, Failure>, headers: &HeaderMap) -> Viewer {
    if let Ok(viewer @ Viewer::User(_)) = identified {
        return viewer;
    }
    let Some(token) = session_token(headers) else { return Viewer::Anonymous };
    match app.store().session_user(token, crate::clock::now_micros()) {
        Ok(user) => user.map_or(Viewer::Anonymous, Viewer::User),
        Err(err) => {
            tracing::error!(error = %err, "a session could not be read");
            Viewer::Anonymous
        }
    }
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<style>body{font-family:system-ui,sans-serif;margin:20px}label{display:block;margin:8px 0}.error{color:#b00}</style>
</head><body><h1>Sign in</h1>
{% if failed %}<p class="error">That username and API key do not match an account.</p>{% endif %}
<form method="post" action="/login">
<label>Username <input name="username" autocomplete="username" required></label>
<label>API key <input name="api_key" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="next" value="{{ next }}">
<button type="submit">Sign in</button>
</form></body></html>"#
)]
struct LoginPage<'a> {
    failed: bool,
    next: &'a str,
}

/// Where to go after signing in: a page of this server (`/~...`), never another site, and
/// nothing a `Location` header cannot hold.
fn local_page(next: Option<&str>) -> &str {
    next.filter(|next| {
        next.starts_with("/~") && next.bytes().all(|byte| byte.is_ascii_graphic() && byte != b'\\')
    })
    .unwrap_or("/")
}

async fn login_form(Query(params): Query<BTreeMap<String, String>>) -> Response {
    rendered(&LoginPage { failed: false, next: local_page(params.get("next").map(String::as_str)) })
}

async fn login(
    State(app): State<Shared>,
    crate::auth::Peer(peer): crate::auth::Peer,
    form: crate::body::Payload,
) -> Response {
    let field = |name| form.text(name).ok().flatten().unwrap_or_default();
    let (username, key) = (field("username"), field("api_key"));
    let next = field("next");
    let next = local_page(Some(&next));
    match crate::auth::check_key(&app, peer, &username, &key) {
        Ok(()) => {}
        Err(Failure::Unauthorized(_)) => {
            let mut page = rendered(&LoginPage { failed: true, next });
            *page.status_mut() = StatusCode::UNAUTHORIZED;
            return page;
        }
        Err(other) => return other.into_response(),
    }
    let started = app.store().start_session(
        &username,
        &crate::store::key_hash(&key),
        crate::clock::now_micros(),
    );
    let token = match started {
        Ok(token) => token,
        Err(err) => return Failure::from(err).into_response(),
    };
    let next = if next == "/" { format!("/~{username}/") } else { next.to_owned() };
    let cookie = format!(
        "{SESSION}={token}; {}; Max-Age={}",
        cookie_attributes(&app),
        crate::sessions::SESSION_LIFETIME.as_secs()
    );
    (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, next)])
        .into_response()
}

/// The session cookie's attributes: `Secure` too when the server speaks HTTPS.
fn cookie_attributes(app: &Shared) -> &'static str {
    if app.urls.api.starts_with("https://") {
        "HttpOnly; SameSite=Lax; Path=/; Secure"
    } else {
        "HttpOnly; SameSite=Lax; Path=/"
    }
}

async fn logout(
    State(app): State<Shared>,
    identified: Result<Viewer, Failure>,
    headers: HeaderMap,
) -> Response {
    if let Viewer::User(name) = reader(&app, identified, &headers)
        && let Err(err) = app.store().end_sessions(&name)
    {
        return Failure::from(err).into_response();
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, format!("{SESSION}=; {}; Max-Age=0", cookie_attributes(&app))),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response()
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title>
<style>body{font-family:system-ui,sans-serif;margin:20px}</style>
</head><body><h1>404</h1>
<p>There is no chart here, or it is not shared with you.</p>
<p><a href="/login?next={{ next }}">Sign in</a> to see your own charts, or go to the <a href="/">home page</a>.</p>
</body></html>"#
)]
struct NotFoundPage {
    /// The page to come back to after signing in, percent-encoded.
    next: String,
}

/// The one answer for anything a reader may not see or that does not exist at `path`, with a
/// way to sign in and come back.
fn not_found(path: &str) -> Response {
    let next = percent_encode(local_page(Some(path)));
    let mut page = rendered(&NotFoundPage { next });
    *page.status_mut() = StatusCode::NOT_FOUND;
    page
}

/// An address nothing answers: the 404 page for a browser, the API's JSON 404 for API clients
/// (and anywhere under `/v2`).
pub(crate) async fn unknown(uri: http::Uri, headers: HeaderMap) -> Response {
    let browser = headers
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if browser && !uri.path().starts_with("/v2") {
        not_found(uri.path())
    } else {
        Failure::NotFound.into_response()
    }
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chart Studio server</title>
<style>body{font-family:system-ui,sans-serif;margin:20px;max-width:50em}code{background:#f3f3f3;padding:1px 4px}</style>
</head><body><h1>Chart Studio server</h1>
{% match user %}{% when Some with (user) %}<p>Signed in as {{ user }}: <a href="/~{{ user }}/">your charts</a>.
<form method="post" action="/logout" style="display:inline"><button>Sign out</button></form></p>
{% when None %}<p><a href="/login">Sign in</a> with your username and API key to see your charts.</p>{% endmatch %}
<p>A chart's page is <code>/~USER/NUMBER/</code>; add <code>.png</code>, <code>.svg</code> or <code>.pdf</code> for an image, <code>.embed</code> for a frame, <code>.json</code> for its figure.</p>
<h2>Clients</h2>
<p>The API is at <code>{{ api }}/v2/</code>. With the chart-studio CLI:
<code>chart-studio auth login --api-domain {{ api }} --username NAME</code>.
With Python's chart_studio: <code>chart_studio.tools.set_config_file(plotly_domain="{{ web }}", plotly_api_domain="{{ api }}")</code>.</p>
</body></html>"#
)]
struct HomePage<'a> {
    user: Option<&'a str>,
    api: &'a str,
    web: &'a str,
}

async fn home_page(
    State(app): State<Shared>,
    identified: Result<Viewer, Failure>,
    headers: HeaderMap,
) -> Response {
    let viewer = reader(&app, identified, &headers);
    let user = match &viewer {
        Viewer::User(name) => Some(name.as_str()),
        Viewer::Anonymous => None,
    };
    let (api, web) = (app.urls.api.trim_end_matches('/'), app.urls.web.trim_end_matches('/'));
    rendered(&HomePage { user, api, web })
}

/// What a file link asks for.
enum Wanted {
    Page,
    Embed,
    Json,
    Csv,
    Image(crate::images::Format),
}

/// `/~USER/N/SLUG/`, the form with the title's slug that the web app linked to: the chart's
/// page, whatever the slug.
async fn slugged_page(
    app: State<Shared>,
    uri: http::Uri,
    Path((user, file)): Path<(String, String)>,
    params: Query<BTreeMap<String, String>>,
    identified: Result<Viewer, Failure>,
    headers: HeaderMap,
) -> Response {
    if !file.bytes().all(|byte| byte.is_ascii_digit()) {
        return not_found(uri.path());
    }
    file_page(app, uri, Path((user, file)), params, identified, headers).await
}

async fn file_page(
    State(app): State<Shared>,
    uri: http::Uri,
    Path((user, file)): Path<(String, String)>,
    Query(params): Query<BTreeMap<String, String>>,
    identified: Result<Viewer, Failure>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = user.strip_prefix('~') else { return unknown(uri, headers).await };
    let (id, wanted) = match file.split_once('.') {
        None => (file.as_str(), Wanted::Page),
        Some((id, "embed")) => (id, Wanted::Embed),
        Some((id, "json")) => (id, Wanted::Json),
        Some((id, "csv")) => (id, Wanted::Csv),
        Some((id, extension)) => match crate::images::Format::parse(extension) {
            Some(format) => (id, Wanted::Image(format)),
            None => return not_found(uri.path()),
        },
    };
    let Some(fid) = id.parse::<u64>().ok().and_then(|id| Fid::new(user, id).ok()) else {
        return not_found(uri.path());
    };
    let viewer = reader(&app, identified, &headers);
    let share_key = params.get("share_key").map(String::as_str);
    if let Wanted::Page | Wanted::Embed = wanted {
        let bare = matches!(wanted, Wanted::Embed);
        if let Some(page) = document_page(&app, &viewer, &fid, (share_key, bare), uri.path()).await
        {
            return page;
        }
    }
    if let Wanted::Image(format) = wanted {
        let number = |name: &str| params.get(name).and_then(|value| value.parse::<f64>().ok());
        let wanted = crate::images::Wanted {
            format,
            width: number("width"),
            height: number("height"),
            scale: number("scale"),
        };
        return match stored_image(&app, &viewer, &fid, share_key, wanted, &headers).await {
            Some(answer) => answer.unwrap_or_else(IntoResponse::into_response),
            None => not_found(uri.path()),
        };
    }
    // What the page shows is taken under the store's lock and drawn after it is released.
    let (title, sharing, sources) = {
        let store = app.store();
        let kind = FileType::Plot;
        let Ok((_, record, _)) =
            crate::access::readable(&store, &viewer, &fid, Some(&kind), share_key)
        else {
            return not_found(uri.path());
        };
        if record.deleted {
            return not_found(uri.path());
        }
        let sources = match PlotSources::of(&store, &viewer, fid.owner(), fid.idlocal()) {
            Ok(Some(sources)) => sources,
            Ok(None) => return not_found(uri.path()),
            Err(err) => return Failure::from(err).into_response(),
        };
        let sharing = Sharing::from_fields(record.world_readable, record.share_key_enabled);
        (record.filename.clone(), sharing, sources)
    };
    if let Wanted::Json = wanted {
        return match crate::render::off_the_workers(move || sources.inlined_pieces()).await {
            Ok(Ok(pieces)) => crate::render::json_in_pieces(pieces),
            Ok(Err(err)) | Err(err) => Failure::from(err).into_response(),
        };
    }
    if let Wanted::Csv = wanted {
        return match crate::render::off_the_workers(move || sources.placeheld()).await {
            Ok(Ok(plot)) => csv_answer(crate::table::plot_csv(&plot), &title),
            Ok(Err(err)) | Err(err) => Failure::from(err).into_response(),
        };
    }
    let figure = match crate::render::off_the_workers(move || sources.inlined_pieces()).await {
        Ok(Ok(figure)) => figure,
        Ok(Err(err)) | Err(err) => return Failure::from(err).into_response(),
    };
    let embed = matches!(wanted, Wanted::Embed);
    // The picture a shared link unfurls with in chat and social apps.
    let key =
        share_key.map(|key| format!("?share_key={}", percent_encode(key))).unwrap_or_default();
    let image = format!("{}/~{user}/{}.png{key}", app.urls.web, fid.idlocal());
    let placeholder = crate::store::Store::random_key();
    let page = ChartPage {
        image: &image,
        title: &title,
        owner: user,
        sharing: &sharing.to_string(),
        figure: &placeholder,
        embed,
    };
    rendered_with_json(&page, embed, vec![(placeholder.clone(), figure)])
}

/// A plot's data as a CSV download named after its title, sent as it is written.
fn csv_answer(pieces: crate::table::CsvPieces, title: &str) -> Response {
    let name: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let disposition = format!("attachment; filename=\"{name}.csv\"");
    let stream = futures_util::stream::iter(pieces.map(Ok::<_, std::convert::Infallible>));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

async fn user_page(
    State(app): State<Shared>,
    uri: http::Uri,
    Path(user): Path<String>,
    identified: Result<Viewer, Failure>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = user.strip_prefix('~') else { return unknown(uri, headers).await };
    let viewer = reader(&app, identified, &headers);
    let store = app.store();
    if store.account(user).is_none() {
        return not_found(uri.path());
    }
    let plots = match store.files_of_kind(user, &FileType::Plot) {
        Ok(plots) => plots,
        Err(err) => return Failure::from(err).into_response(),
    };
    let plots = plots
        .iter()
        .filter(|f| !f.deleted)
        .filter(|f| viewer.is(user) || f.world_readable)
        .map(|f| {
            let sharing = Sharing::from_fields(f.world_readable, f.share_key_enabled);
            (format!("/~{user}/{}/", f.idlocal), f.filename.clone(), sharing.to_string())
        })
        .collect();
    rendered(&UserPage { owner: user, signed_in: viewer.is(user), plots })
}

/// An image of the stored plot `fid` as `viewer` may see it (a secret one with `share_key`),
/// from the cache when it holds one; `None` when the viewer may not read the plot, so that the
/// caller answers as it answers any unknown file. `If-None-Match` is answered with 304.
pub(crate) async fn stored_image(
    app: &Shared,
    viewer: &Viewer,
    fid: &Fid,
    share_key: Option<&str>,
    wanted: crate::images::Wanted,
    headers: &HeaderMap,
) -> Option<Result<Response, Failure>> {
    let (sources, revision) = {
        let store = app.store();
        let kind = FileType::Plot;
        let (_, record, _) =
            crate::access::readable(&store, viewer, fid, Some(&kind), share_key).ok()?;
        if record.deleted {
            return None;
        }
        let sources = match PlotSources::of(&store, viewer, fid.owner(), fid.idlocal()) {
            Ok(sources) => sources?,
            Err(err) => return Some(Err(err.into())),
        };
        let revision = format!("{fid}@{};{}", record.modified, sources.revision());
        (sources, revision)
    };
    let images = &app.images;
    Some(
        async move {
            let size = images.size(sources.figure(), wanted.width, wanted.height, wanted.scale)?;
            let key = crate::images::cache_key(&revision, wanted.format, size);
            let tag = format!("\"{key}\"");
            let personal = !matches!(viewer, Viewer::Anonymous) || share_key.is_some();
            let revalidate = |mut response: Response| {
                let headers = response.headers_mut();
                if let Ok(tag) = HeaderValue::from_str(&tag) {
                    headers.insert(header::ETAG, tag);
                }
                // Public images are checked again each time (cheaply, by their tag); the layer
                // marks images for one reader `private, no-store`.
                if !personal {
                    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                }
                response
            };
            let matches = headers
                .get(header::IF_NONE_MATCH)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|given| given.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
            if matches {
                return Ok(revalidate(StatusCode::NOT_MODIFIED.into_response()));
            }
            let bytes = match images.cached(&key) {
                Some(bytes) => bytes,
                None => {
                    let figure =
                        crate::render::off_the_workers(move || sources.inlined_pieces()).await??;
                    let bytes = images.draw(figure, wanted.format, size).await?;
                    images.keep(&key, &bytes);
                    bytes
                }
            };
            Ok(revalidate(crate::images::answer(bytes, wanted.format, false)))
        }
        .await,
    )
}
