//! The web pages in a real headless browser: public and secret charts are drawn by plotly.js
//! (its SVG, with the trace, is in the page once scripts ran); private and keyless secret links
//! get the 404 page. Screenshots go to `target/tmp/pages/` for people to look at.
//!
//! Needs Chromium's headless shell (`apt-get install chromium-headless-shell`; `.ci/run`
//! installs it) or Chromium.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chart_studio_api::common::FileUpdate;
use chart_studio_api::files;
use common::{ALICE, client, server};

/// The browser on this machine.
fn browser() -> PathBuf {
    ["chromium-headless-shell", "chromium"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH")?
                .to_str()?
                .split(':')
                .map(|dir| Path::new(dir).join(name))
                .find(|path| path.is_file())
        })
        .expect("no headless browser: apt-get install chromium-headless-shell (.ci/run does)")
}

/// Chromium as the machine allows it: no sandbox (root), no network beyond loopback.
fn chromium(profile: &Path) -> Command {
    let mut command = Command::new(browser());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=15000",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// The page's DOM after its scripts ran.
fn dom(url: &str, profile: &Path) -> String {
    let output = chromium(profile).args(["--dump-dom", url]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn screenshot(url: &str, profile: &Path, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    let _ = std::fs::remove_file(&path);
    let output = chromium(profile)
        .args(["--window-size=1000,700", &format!("--screenshot={}", path.display()), url])
        .output()
        .unwrap();
    assert!(path.is_file(), "no screenshot of {url}: {}", String::from_utf8_lossy(&output.stderr));
}

fn drawn(dom: &str) -> bool {
    dom.contains("class=\"main-svg\"") && dom.contains("class=\"trace scatter")
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_charts_are_drawn_and_the_rest_is_a_404_page() {
    let server = server().await;
    let fids = server.add_plots(ALICE.0, 3, "web", false).unwrap();
    let alice = client(&server, Some(ALICE));
    let sharing = |public, secret| FileUpdate::default().sharing(public, secret);
    alice
        .send(&files::Update::patch(fids[0].parse().unwrap(), sharing(true, false)))
        .await
        .unwrap();
    let public = alice.send(&files::Retrieve::new(fids[0].parse().unwrap())).await.unwrap();
    alice
        .send(&files::Update::patch(fids[1].parse().unwrap(), sharing(false, true)))
        .await
        .unwrap();
    let secret = alice.send(&files::Retrieve::new(fids[1].parse().unwrap())).await.unwrap();
    let private = alice.send(&files::Retrieve::new(fids[2].parse().unwrap())).await.unwrap();
    let link = |file: &chart_studio_models::File| file.web_url.clone().unwrap();
    let secret_link = format!("{}?share_key={}", link(&secret), secret.share_key().unwrap());
    let embed = public.embed_url.clone().unwrap();

    let profile = tempfile::tempdir().unwrap();
    let profile = profile.path().to_owned();
    tokio::task::spawn_blocking(move || {
        for (name, url) in
            [("public", link(&public)), ("secret", secret_link.clone()), ("embed", embed)]
        {
            let page = dom(&url, &profile);
            assert!(drawn(&page), "{name}: {url} shows no chart:\n{page}");
            screenshot(&url, &profile, name);
        }
        for (name, file) in [("private", &private), ("keyless", &secret)] {
            let url = link(file);
            let page = dom(&url, &profile);
            assert!(!drawn(&page) && page.contains("404"), "{name}: {url} is not a 404:\n{page}");
            assert!(!page.contains(&file.filename), "{name}: the 404 page names the file");
            screenshot(&url, &profile, name);
        }
    })
    .await
    .unwrap();
}

/// Text in a figure or its grid's data that would open a comment or a script, or close the
/// element, is data: the chart is drawn with the text as its trace's name and hover text, and
/// nothing of it runs.
#[tokio::test(flavor = "multi_thread")]
async fn a_figure_holding_markup_is_drawn_as_text() {
    use chart_studio_api::{grids, plots};
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let data = chart_studio_models::GridContent::from_columns([
        ("x".to_owned(), vec![1.into(), 2.into()]),
        ("y".to_owned(), vec![3.into(), 1.into()]),
        (
            "text".to_owned(),
            vec!["</script><script>document.title='ran'</script>".into(), "&lt;".into()],
        ),
    ]);
    let grid = alice
        .send(&grids::Create::new(grids::GridCreate::new(data).filename("g").sharing(true, false)))
        .await
        .unwrap()
        .file;
    let uid = |name: &str| {
        grid.cols.as_ref().unwrap().iter().find(|c| c.name == name).unwrap().uid.clone()
    };
    let name = "<!--<script>x</script><img src=x onerror=document.title='ran'>&amp;";
    let figure = serde_json::json!({
        "data": [{"type": "scatter", "name": name,
                  "xsrc": format!("{}:{}", grid.file.fid, uid("x")),
                  "ysrc": format!("{}:{}", grid.file.fid, uid("y")),
                  "textsrc": format!("{}:{}", grid.file.fid, uid("text"))}],
        "layout": {"title": {"text": "markup"}, "showlegend": true}
    });
    let plot = alice
        .send(&plots::Create::new(
            plots::PlotCreate::new(figure).filename("markup").sharing(true, false),
        ))
        .await
        .unwrap()
        .file;
    let url = plot.file.web_url.clone().unwrap();
    let profile = tempfile::tempdir().unwrap();
    let profile = profile.path().to_owned();
    tokio::task::spawn_blocking(move || {
        let page = dom(&url, &profile);
        assert!(drawn(&page), "{url} shows no chart:\n{page}");
        assert!(page.contains("<title>markup</title>"), "no script ran: {page}");
        assert!(page.contains("&lt;!--&lt;script&gt;"), "the name is shown as text:\n{page}");
        screenshot(&url, &profile, "markup");
    })
    .await
    .unwrap();
}

/// The `<img src=".../~USER/N.png">` embeds of READMEs and blogs: a public chart's shows, a
/// private chart's is a broken image.
#[tokio::test(flavor = "multi_thread")]
async fn png_links_embed_public_charts_and_not_private_ones() {
    let server = server().await;
    let public = server.add_plots(ALICE.0, 1, "shown", true).unwrap();
    let private = server.add_plots(ALICE.0, 1, "hidden", false).unwrap();
    let png =
        |fid: &str| format!("{}/~alice/{}.png", server.url(), fid.rsplit(':').next().unwrap());
    let page = format!(
        r#"<!doctype html><html><body>
<img id="public" src="{}"><img id="private" src="{}">
<script>window.onload = () => {{ document.body.dataset.widths =
  [document.getElementById("public").naturalWidth, document.getElementById("private").naturalWidth].join(","); }};</script>
</body></html>"#,
        png(&public[0]),
        png(&private[0])
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("readme.html");
    std::fs::write(&file, page).unwrap();
    let url = format!("file://{}", file.display());
    let profile = dir.path().join("profile");
    tokio::task::spawn_blocking(move || {
        let page = dom(&url, &profile);
        assert!(page.contains(r#"data-widths="700,0""#), "{page}");
        screenshot(&url, &profile, "png-embeds");
    })
    .await
    .unwrap();
}

/// The `<script data-plotly="USER:N" sharekey-plotly="KEY" src=".../embed.js">` embeds of old
/// pages: the script puts the chart's frame where each tag is, with the tag's share key, and
/// leaves a tag that names no chart alone.
#[tokio::test(flavor = "multi_thread")]
async fn script_embeds_put_the_chart_where_the_tag_is() {
    let server = server().await;
    let plot = server.add_plots(ALICE.0, 1, "embedded", false).unwrap();
    let idlocal = plot[0].rsplit(':').next().unwrap().to_owned();
    let page = format!(
        r#"<!doctype html><html><body>
<p id="before">before</p>
<script data-plotly="alice:{idlocal}" sharekey-plotly="k3y" src="{url}/embed.js" async></script>
<script data-plotly="not a chart" src="{url}/embed.js" async></script>
<script>window.onload = () => {{
  const frames = [...document.querySelectorAll("iframe")];
  document.body.dataset.frames = frames.map((f) => f.previousElementSibling.id + " " + f.src).join("|");
}};</script>
</body></html>"#,
        url = server.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blog.html");
    std::fs::write(&file, page).unwrap();
    let url = format!("file://{}", file.display());
    let profile = dir.path().join("profile");
    let expected = format!("before {}/~alice/{idlocal}.embed?share_key=k3y", server.url());
    tokio::task::spawn_blocking(move || {
        let page = dom(&url, &profile);
        assert!(page.contains(&format!(r#"data-frames="{expected}""#)), "{page}");
    })
    .await
    .unwrap();
}

/// A public dashboard draws each plot its reader may read in its split layout, and a
/// placeholder for another account's private plot; a text box holding markup is text. A
/// presentation's page steps through its slides.
#[tokio::test(flavor = "multi_thread")]
async fn a_dashboard_draws_its_readable_plots_and_hides_the_rest() {
    use chart_studio_api::documents::DocumentCreate;
    use chart_studio_api::{dashboards, presentations};
    use serde_json::json;

    let server = server().await;
    let mut plots = server.add_plots(ALICE.0, 3, "charts", true).unwrap();
    plots.extend(server.add_plots(common::BOB.0, 1, "hidden", false).unwrap());
    let alice = client(&server, Some(ALICE));
    let plot = |fid: &str| json!({"type": "box", "boxType": "plot", "fileId": fid, "title": fid});
    let split = |direction: &str, first, second| json!({"type": "split", "direction": direction, "size": 50, "sizeUnit": "%", "first": first, "second": second});
    let text = json!({"type": "box", "boxType": "text", "text": "<img src=x onerror=\"document.title='ran'\">"});
    let layout = split(
        "vertical",
        split("horizontal", plot(&plots[0]), plot(&plots[1])),
        split("horizontal", plot(&plots[2]), split("vertical", plot(&plots[3]), text)),
    );
    let content = json!({"layout": layout, "settings": {}, "version": 2});
    let create = DocumentCreate::new(&content).filename("board").sharing(true, false);
    let board = alice.send(&dashboards::Create::new(create)).await.unwrap().file.file;
    let slides = json!({"presentation": {"slides": [
        {"children": [{"type": "Text", "children": ["First slide"]}]},
        {"children": [{"type": "Plotly", "props": {"src": format!("{}/~alice/{}.embed", server.url(), plots[0].split(':').nth(1).unwrap())}}]}]}});
    let create = DocumentCreate::new(&slides).filename("deck").sharing(true, false);
    let deck = alice.send(&presentations::Create::new(create)).await.unwrap().file.file;

    let profile = tempfile::tempdir().unwrap();
    let profile = profile.path().to_owned();
    let (board_url, deck_url) = (board.web_url.unwrap(), deck.web_url.unwrap());
    let present = format!("{}/dashboard/{}/present", server.url(), board.fid);
    tokio::task::spawn_blocking(move || {
        for url in [&board_url, &present] {
            let page = dom(url, &profile);
            assert_eq!(page.matches("class=\"trace scatter").count(), 3, "{url}: three charts");
            assert_eq!(page.matches("Private plot").count(), 1, "{url}");
            assert!(page.contains("&lt;img src=x"), "{url}: the text box is text");
            assert!(!page.contains("<title>ran"), "{url}: nothing in the text box ran");
        }
        screenshot(&board_url, &profile, "dashboard");
        let page = dom(&deck_url, &profile);
        assert!(page.contains("1 / 2"), "the deck shows its first slide of two");
        assert!(page.contains("aria-label=\"slide 2\" hidden"), "the second slide waits");
        assert_eq!(page.matches("class=\"trace scatter").count(), 1, "the slide's chart is drawn");
        screenshot(&deck_url, &profile, "presentation");
    })
    .await
    .unwrap();
}
