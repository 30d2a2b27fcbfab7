//! Charts as images, drawn by a real headless Chromium: every format through `POST /v2/images`
//! with its size, stored plots' `.png` links and thumbnails under the pages' access rules and
//! from the cache, and figures that try to reach beyond drawing themselves or never finish.
//!
//! Needs Chromium's headless shell (`apt-get install chromium-headless-shell`; `.ci/run`
//! installs it) or Chromium.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::time::Duration;

use base64::Engine;
use chart_studio_api::Client;
use chart_studio_api::common::FileUpdate;
use chart_studio_api::{files, raw::Raw};
use chart_studio_server::{ImageConfig, RendererConfig, ServerConfig, ServerHandle};
use common::{ALICE, BOB, client, dechunk, header, http, http_bytes};
use serde_json::{Value, json};

/// A server whose renderer draws with two pages and gives each image `timeout`.
async fn server_with_renderer(timeout: Duration) -> ServerHandle {
    let renderer = RendererConfig { workers: 2, timeout, ..RendererConfig::default() };
    let images = ImageConfig { renderer, ..ImageConfig::default() };
    common::server_with(ServerConfig { images, ..ServerConfig::default() }).await
}

fn basic((user, key): (&str, &str)) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
}

/// `POST /v2/images` of `body` as alice over raw HTTP: status, head and body bytes.
async fn post_image(server: &ServerHandle, body: Value) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.to_string();
    let request = format!(
        "POST /v2/images HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        basic(ALICE),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = answer[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn scatter() -> Value {
    json!({"data": [{"type": "scatter", "x": [1, 2, 3], "y": [2, 7, 4]}], "layout": {"title": {"text": "scatter"}}})
}

/// The pixel size a PNG, JPEG or WebP file says it has.
fn pixel_size(bytes: &[u8]) -> (u32, u32) {
    let be16 = |at: usize| u32::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
    let le16 = |at: usize| u32::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let le24 = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], 0]);
    if bytes.starts_with(b"\x89PNG") {
        let be32 = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        return (be32(16), be32(20));
    }
    if bytes.starts_with(b"\xff\xd8") {
        let mut at = 2;
        while at + 9 < bytes.len() {
            let marker = bytes[at + 1];
            if (0xC0..=0xC3).contains(&marker) {
                return (be16(at + 7), be16(at + 5));
            }
            at += 2 + be16(at + 2) as usize;
        }
    }
    if bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        match &bytes[12..16] {
            b"VP8 " => return (le16(26) & 0x3fff, le16(28) & 0x3fff),
            b"VP8X" => return (le24(24) + 1, le24(27) + 1),
            b"VP8L" => {
                let bits = u32::from_le_bytes(bytes[21..25].try_into().unwrap());
                return ((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1);
            }
            _ => {}
        }
    }
    panic!("not a PNG, JPEG or WebP: {:?}", &bytes[..bytes.len().min(16)]);
}

/// Every format comes back with its own magic bytes and content type, raster formats at
/// `width × scale` by `height × scale` pixels; `encoded` gives base64 text.
#[tokio::test(flavor = "multi_thread")]
async fn every_format_is_drawn_at_its_size() {
    let server = server_with_renderer(Duration::from_secs(20)).await;
    let cases: [(&str, &str, &[u8]); 6] = [
        ("png", "image/png", b"\x89PNG"),
        ("jpeg", "image/jpeg", b"\xff\xd8\xff"),
        ("webp", "image/webp", b"RIFF"),
        ("svg", "image/svg+xml", b"<svg"),
        ("pdf", "application/pdf", b"%PDF"),
        ("emf", "image/emf", b"\x01\x00\x00\x00"),
    ];
    for (format, content_type, magic) in cases {
        for (size, expected) in [
            (json!({}), (700, 500)),
            (json!({"width": 300, "height": 200}), (300, 200)),
            (json!({"width": 300, "height": 200, "scale": 2}), (600, 400)),
        ] {
            let mut body = json!({"figure": scatter(), "format": format});
            body.as_object_mut().unwrap().extend(size.as_object().unwrap().clone());
            let (status, head, bytes) = post_image(&server, body).await;
            assert_eq!(status, 200, "{format} {size}: {}", String::from_utf8_lossy(&bytes));
            assert_eq!(header(&head, "content-type"), Some(content_type), "{format}");
            assert!(bytes.starts_with(magic), "{format}: {:?}", &bytes[..16.min(bytes.len())]);
            if ["png", "jpeg", "webp"].contains(&format) {
                assert_eq!(pixel_size(&bytes), expected, "{format} {size}");
            }
            if format == "emf" {
                assert_eq!(&bytes[40..44], b" EMF");
            }
        }
    }
    let (status, _, text) =
        post_image(&server, json!({"figure": scatter(), "encoded": true})).await;
    assert_eq!(status, 200);
    let decoded = base64::engine::general_purpose::STANDARD.decode(&text).unwrap();
    assert!(decoded.starts_with(b"\x89PNG"));
    // The figure may come as JSON text, as the docs show.
    let (status, _, bytes) =
        post_image(&server, json!({"figure": scatter().to_string(), "format": "png"})).await;
    assert!(status == 200 && bytes.starts_with(b"\x89PNG"));
}

/// What the service refused, this server refuses too, with the same statuses.
#[tokio::test(flavor = "multi_thread")]
async fn bad_image_requests_are_refused() {
    let server = server_with_renderer(Duration::from_secs(20)).await;
    for (body, why) in [
        (json!({}), "no figure"),
        (json!({"figure": {"data": []}}), "nothing to draw"),
        (json!({"figure": scatter(), "format": "eps"}), "a format not drawn"),
        (json!({"figure": scatter(), "width": -5}), "a negative width"),
        (json!({"figure": scatter(), "width": 20000, "height": 20000}), "too many pixels"),
        (json!({"figure": "{not json"}), "a string that is not JSON"),
    ] {
        let (status, _, body) = post_image(&server, body).await;
        assert_eq!(status, 400, "{why}: {}", String::from_utf8_lossy(&body));
    }
    let (status, _, _) = post_image(&server, json!({"figure": {"data": [], "layout": {}}})).await;
    assert_eq!(status, 200, "an empty chart with a layout is drawn");
    let anonymous = client(&server, None);
    let mut request = Raw::new("POST", "images");
    request.body = Some(json!({"figure": scatter()}));
    let err = anonymous.send(&request).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(err.to_string().contains("must be authenticated"), "{err}");
}

/// A figure naming a local file and the server's own API as pictures is drawn without either
/// being fetched.
#[tokio::test(flavor = "multi_thread")]
async fn a_figure_cannot_fetch_files_or_the_servers_api() {
    let server = server_with_renderer(Duration::from_secs(20)).await;
    let own_api = format!("{}/v2/users/current", server.url());
    let figure = json!({
        "data": [{"type": "bar", "y": [1, 2]}],
        "layout": {"images": [
            {"source": "file:///etc/passwd", "xref": "paper", "yref": "paper", "x": 0, "y": 1, "sizex": 0.5, "sizey": 0.5},
            {"source": own_api, "xref": "paper", "yref": "paper", "x": 0.5, "y": 1, "sizex": 0.5, "sizey": 0.5}
        ]}
    });
    let before = server.requests_served();
    let (status, _, svg) = post_image(&server, json!({"figure": figure, "format": "svg"})).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&svg));
    assert_eq!(server.requests_served(), before + 1, "no request but the image's own");
    let svg = String::from_utf8_lossy(&svg);
    assert!(!svg.contains("root:x:0:0"), "the file was not read into the picture");
    let (status, _, _) = post_image(&server, json!({"figure": figure, "format": "png"})).await;
    assert_eq!(status, 200);
    assert_eq!(server.requests_served(), before + 2);
}

/// A figure that would take minutes is stopped at the limit, with a clear answer, while a
/// render beside it succeeds; the page it hung is replaced and drawing goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_figure_that_never_finishes_is_stopped_at_the_limit() {
    let server = server_with_renderer(Duration::from_secs(3)).await;
    // Warm both pages first, so that the times below are the renders'.
    let (status, _, _) = post_image(&server, json!({"figure": scatter()})).await;
    assert_eq!(status, 200);
    // A linear axis ticked every nanometre of a unit range: a billion ticks.
    let endless = json!({
        "data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}],
        "layout": {"xaxis": {"tickmode": "linear", "dtick": 1e-9}}
    });
    let started = tokio::time::Instant::now();
    let (hung, beside) = tokio::join!(post_image(&server, json!({"figure": endless})), async {
        let started = tokio::time::Instant::now();
        let answer = post_image(&server, json!({"figure": scatter()})).await;
        (answer, started.elapsed())
    });
    assert_eq!(hung.0, 400, "{}", String::from_utf8_lossy(&hung.2));
    assert!(String::from_utf8_lossy(&hung.2).contains("longer than 3 s"));
    assert!(started.elapsed() < Duration::from_secs(10), "stopped at its limit");
    let ((status, _, _), took) = beside;
    assert_eq!(status, 200, "the render beside it succeeded");
    assert!(took < Duration::from_secs(3), "without waiting for the hung one ({took:?})");
    for _ in 0..3 {
        let (status, _, _) = post_image(&server, json!({"figure": scatter()})).await;
        assert_eq!(status, 200, "the hung page was replaced");
    }
}

/// Without a browser the server still serves, and image routes say how to turn images on.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_browser_images_answer_503_saying_how_to_get_one() {
    let renderer = RendererConfig {
        chromium: Some("/nonexistent/chromium".into()),
        ..RendererConfig::default()
    };
    let images = ImageConfig { renderer, ..ImageConfig::default() };
    let server = common::server_with(ServerConfig { images, ..ServerConfig::default() }).await;
    let (status, _, body) = post_image(&server, json!({"figure": scatter()})).await;
    assert_eq!(status, 503);
    assert!(
        String::from_utf8_lossy(&body).contains("--chromium"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    client(&server, Some(ALICE)).send(&chart_studio_api::users::Current {}).await.unwrap();
}

/// Creates a public plot of alice's drawing from a grid of hers; returns the plot's fid.
async fn stored_plot(alice: &Client) -> String {
    let fids = {
        let mut grid = Raw::new("POST", "grids");
        grid.body = Some(
            json!({"data": {"cols": {"x": {"data": [1, 2, 3], "order": 0}, "y": {"data": [3, 1, 2], "order": 1}}}, "filename": "g"}),
        );
        let grid: Value = alice.send(&grid).await.unwrap();
        let fid = grid["file"]["fid"].as_str().unwrap().to_owned();
        let uid = |name: &str| {
            grid["file"]["cols"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()["uid"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        (fid.clone(), format!("{fid}:{}", uid("x")), format!("{fid}:{}", uid("y")))
    };
    let mut plot = Raw::new("POST", "plots");
    plot.body = Some(json!({
        "figure": {"data": [{"type": "scatter", "xsrc": fids.1, "ysrc": fids.2}], "layout": {"width": 320, "height": 240}},
        "filename": "stored"
    }));
    let plot: Value = alice.send(&plot).await.unwrap();
    plot["file"]["fid"].as_str().unwrap().to_owned()
}

/// `.png` links and thumbnails follow the page's access rules, come from the cache with an
/// `ETag`, and change when the plot or its grid does.
#[tokio::test(flavor = "multi_thread")]
async fn stored_plots_have_png_links_and_thumbnails() {
    let server = server_with_renderer(Duration::from_secs(20)).await;
    let alice = client(&server, Some(ALICE));
    let fid = stored_plot(&alice).await;
    let idlocal = fid.rsplit(':').next().unwrap().to_owned();
    let file = alice.send(&files::Retrieve::new(fid.parse().unwrap())).await.unwrap();
    let url = server.url().to_owned();
    let thumb = file.img_url.clone().unwrap();
    let alice_auth = basic(ALICE);
    let bob_auth = basic(BOB);
    let check = move |path: String, auth: Option<String>| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            http_bytes(&url, "GET", &path, &headers, "")
        })
    };
    let png = format!("/~alice/{idlocal}.png");
    let (status, head, bytes) = check(png.clone(), None).await.unwrap();
    assert_eq!(status, 200, "{head}");
    assert_eq!(pixel_size(&bytes), (320, 240), "the layout's size");
    let tag = header(&head, "etag").unwrap().to_owned();
    let thumb_path = thumb.split_once("/v2/").map(|(_, rest)| format!("/v2/{rest}")).unwrap();
    let (status, _, bytes) = check(thumb_path, None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(pixel_size(&bytes), (120, 90), "a list thumbnail");
    for format in ["jpeg", "jpg", "webp", "svg", "pdf"] {
        let (status, head, _) = check(format!("/~alice/{idlocal}.{format}"), None).await.unwrap();
        assert_eq!(status, 200, "{format}: {head}");
    }

    // The same image again is a 304 for its tag.
    let url = server.url().to_owned();
    let revalidated = {
        let (url, png, tag) = (url.clone(), png.clone(), tag.clone());
        tokio::task::spawn_blocking(move || {
            http(&url, "GET", &png, &[("If-None-Match", &tag)], "").0
        })
        .await
        .unwrap()
    };
    assert_eq!(revalidated, 304);
    // A change to the grid it draws is a new image.
    let grid = file.references.clone().unwrap()[0].as_str().unwrap().to_owned();
    let mut rows = Raw::new("POST", format!("grids/{grid}/row"));
    rows.body = Some(json!({"rows": [[4, 4]]}));
    alice.send(&rows).await.unwrap();
    let (_, head, _) = check(png.clone(), None).await.unwrap();
    assert_ne!(header(&head, "etag").unwrap(), tag, "the grid changed");

    // Private: the owner sees it; others get the pages' 404, not an image.
    let private = FileUpdate::default().sharing(false, false);
    alice.send(&files::Update::patch(fid.parse().unwrap(), private)).await.unwrap();
    let (status, head, _) = check(png.clone(), None).await.unwrap();
    assert_eq!(status, 404);
    assert!(header(&head, "content-type").unwrap().starts_with("text/html"));
    assert_eq!(check(png.clone(), Some(bob_auth)).await.unwrap().0, 404);
    let (status, head, _) = check(png.clone(), Some(alice_auth)).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(header(&head, "cache-control"), Some("private, no-store"));
    // Secret: with its key only.
    let secret = FileUpdate::default().sharing(false, true);
    let file = alice.send(&files::Update::patch(fid.parse().unwrap(), secret)).await.unwrap();
    let key = file.share_key().unwrap().to_owned();
    assert_eq!(check(png.clone(), None).await.unwrap().0, 404);
    assert_eq!(check(format!("{png}?share_key={key}"), None).await.unwrap().0, 200);
    assert_eq!(check(format!("/~alice/{idlocal}.png?share_key=wrong"), None).await.unwrap().0, 404);
    // Unknown and trashed: the same 404.
    assert_eq!(check("/~alice/999.png".to_owned(), None).await.unwrap().0, 404);
    alice.send(&files::Trash::new(fid.parse().unwrap())).await.unwrap();
    assert_eq!(check(format!("{png}?share_key={key}"), None).await.unwrap().0, 404);
}

/// The page of a chart names its picture for link previews.
#[tokio::test(flavor = "multi_thread")]
async fn a_chart_page_names_its_picture_for_previews() {
    let server = server_with_renderer(Duration::from_secs(20)).await;
    let fids = server.add_plots(ALICE.0, 1, "", true).unwrap();
    let idlocal = fids[0].rsplit(':').next().unwrap().to_owned();
    let url = server.url().to_owned();
    let page = tokio::task::spawn_blocking(move || {
        http(&url, "GET", &format!("/~alice/{idlocal}/"), &[], "").2
    })
    .await
    .unwrap();
    let expected = format!("{}/~alice/{}.png", server.url(), fids[0].rsplit(':').next().unwrap());
    assert!(
        page.contains(&format!("<meta property=\"og:image\" content=\"{expected}\">")),
        "{page}"
    );
    assert!(page.contains("twitter:image"), "{page}");
}

/// Past its queue the renderer answers 503 with `Retry-After` at once; pages are replaced
/// after their share of renders, and drawing goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_answers_busy_and_pages_are_recycled() {
    let renderer = RendererConfig {
        workers: 1,
        queue: 1,
        recycle_after: 2,
        timeout: Duration::from_secs(2),
        ..RendererConfig::default()
    };
    let images = ImageConfig { renderer, ..ImageConfig::default() };
    let server = common::server_with(ServerConfig { images, ..ServerConfig::default() }).await;
    assert_eq!(post_image(&server, json!({"figure": scatter()})).await.0, 200);
    let endless = json!({"figure": {"data": [{"type": "scatter", "x": [0, 1], "y": [0, 1]}],
        "layout": {"xaxis": {"tickmode": "linear", "dtick": 1e-9}}}});
    let answers =
        futures_util::future::join_all((0..3).map(|_| post_image(&server, endless.clone()))).await;
    let busy: Vec<_> = answers.iter().filter(|(status, _, _)| *status == 503).collect();
    // One is drawn; whether the second waits or is refused too depends on whether the page
    // has taken the first from the queue yet (a busy machine may not have).
    assert!(
        (1..=2).contains(&busy.len()),
        "one drawing, then one waiting or refused, one refused: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    assert_eq!(header(&busy[0].1, "retry-after"), Some("1"));
    for _ in 0..5 {
        assert_eq!(post_image(&server, json!({"figure": scatter()})).await.0, 200);
    }
}

/// A figure larger than the limit with its data (here a stored plot whose grid holds the
/// data, and a figure sent whole) is refused before anything is drawn, saying the limit.
#[tokio::test(flavor = "multi_thread")]
async fn a_figure_over_the_size_limit_with_its_data_is_refused() {
    let images = ImageConfig { max_figure_bytes: 2_000, ..ImageConfig::default() };
    let server = common::server_with(ServerConfig { images, ..ServerConfig::default() }).await;
    let alice = client(&server, Some(ALICE));
    let values: Vec<u32> = (0..1_000).collect();
    let mut grid = Raw::new("POST", "grids");
    grid.body =
        Some(json!({"data": {"cols": {"y": {"data": values, "order": 0}}}, "filename": "g"}));
    let grid: Value = alice.send(&grid).await.unwrap();
    let ysrc = format!(
        "{}:{}",
        grid["file"]["fid"].as_str().unwrap(),
        grid["file"]["cols"][0]["uid"].as_str().unwrap()
    );
    let mut plot = Raw::new("POST", "plots");
    plot.body = Some(json!({"figure": {"data": [{"type": "bar", "ysrc": ysrc}]}, "filename": "p"}));
    let plot: Value = alice.send(&plot).await.unwrap();
    let idlocal = plot["file"]["fid"].as_str().unwrap().rsplit(':').next().unwrap().to_owned();

    let url = server.url().to_owned();
    let auth = basic(ALICE);
    let (status, _, body) = tokio::task::spawn_blocking(move || {
        http_bytes(
            &url,
            "GET",
            &format!("/~alice/{idlocal}.png"),
            &[("Authorization", auth.as_str())],
            "",
        )
    })
    .await
    .unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("with its data; images are drawn of figures up to 2000 bytes"), "{body}");

    let figure = json!({"data": [{"type": "bar", "y": values}]});
    let (status, _, body) = post_image(&server, json!({"figure": figure})).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("images are drawn of figures up to 2000 bytes"), "{body}");
}
