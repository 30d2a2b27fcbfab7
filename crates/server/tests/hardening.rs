//! What one request must not do to the server: panic a handler, make stored data unreadable,
//! stall other readers, hold a connection open, or slip past the browser's protections. Each
//! test reproduces a finding of an attack run against the release binary.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use chart_studio_api::raw::Raw;
use common::{ALICE, client, header, http, server};
use serde_json::Value;

/// Cursors past either end of the public list, in both orders and on the feed, give an empty
/// page or the right one, never a cut connection; a position that is no creation time is a
/// bad cursor.
#[tokio::test]
async fn cursors_past_the_end_answer_an_empty_page() {
    let server = server().await;
    server.add_plots(ALICE.0, 5, "public", true).unwrap();
    let anonymous = client(&server, None);
    // After `p=1970-01-01 00:00:00.000000+00:00`, before `p=9999-01-01 ...` (`r=1`): no plot
    // was made so early or so late. By views, position 99999999 is past the end.
    for query in [
        "plots?cursor=cD0xOTcwLTAxLTAxKzAwJTNBMDAlM0EwMC4wMDAwMDAlMkIwMCUzQTAw",
        "plots?cursor=cj0xJnA9OTk5OS0wMS0wMSswMCUzQTAwJTNBMDAuMDAwMDAwJTJCMDAlM0EwMA%3D%3D",
        "plots?cursor=cD05OTk5OTk5OQ%3D%3D&order_by=-views",
        "plots/feed?cursor=cD0xOTcwLTAxLTAxKzAwJTNBMDAlM0EwMC4wMDAwMDAlMkIwMCUzQTAw",
        "plots/feed?cursor=cD05OTk5OTk5OQ%3D%3D&order_by=views",
    ] {
        let page: Value = anonymous.send(&Raw::new("GET", query)).await.unwrap();
        assert_eq!(page["results"], Value::Array(Vec::new()), "{query}: {page}");
        assert_eq!(page["next"], Value::Null, "{query}");
        assert_eq!(page["previous"], Value::Null, "{query}");
    }
    // `p=0` (base64 `cD0w`) is no creation time.
    let bad = anonymous.send(&Raw::new("GET", "plots?cursor=cD0w")).await.unwrap_err();
    assert_eq!(bad.status().map(|s| s.as_u16()), Some(400), "{bad}");
    assert!(bad.to_string().contains("Invalid cursor"), "{bad}");
    // By views, `p=0` is the first plot: the page holds the other four, and its previous link
    // leads back to the first.
    let page: Value =
        anonymous.send(&Raw::new("GET", "plots?cursor=cD0w&order_by=-views")).await.unwrap();
    assert_eq!(page["results"].as_array().unwrap().len(), 4, "{page}");
    let previous = page["previous"].as_str().unwrap();
    let back: Value =
        anonymous.send(&Raw::new("GET", previous.split("/v2/").nth(1).unwrap())).await.unwrap();
    assert_eq!(back["results"].as_array().unwrap().len(), 1, "{back}");
    assert_eq!(server.panics(), 0);
}

/// `levels` nested arrays around a number.
fn nested(levels: usize) -> Value {
    (0..levels).fold(Value::from(1), |inner, _| Value::Array(vec![inner]))
}

/// A figure `depth` levels deep: its object, `layout`, then nested arrays.
fn deep_figure(depth: usize) -> Value {
    serde_json::json!({"data": [], "layout": {"deep": nested(depth - 2)}})
}

/// A POST of `body` to `path` as alice.
async fn post(client: &chart_studio_api::Client, path: &str, body: Value) -> Result<Value, u16> {
    let mut request = Raw::new("POST", path);
    request.body = Some(body);
    client.send(&request).await.map_err(|err| err.status().map_or(0, |s| s.as_u16()))
}

/// JSON sent inside a string keeps the depth limit, and whatever is accepted reads back after a
/// restart, through the server's storage and through the client's listing.
#[tokio::test]
async fn deep_documents_at_the_limit_read_back_after_a_restart_and_deeper_ones_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let config = || chart_studio_server::ServerConfig {
        data_dir: Some(data.path().to_owned()),
        ..Default::default()
    };
    let max = chart_studio_server::MAX_JSON_DEPTH;
    let server = common::server_with(config()).await;
    let alice = client(&server, Some(ALICE));
    // The body's object holds the figure: one level above it.
    for (name, figure) in
        [("as an object", deep_figure(max - 1)), ("as a string", deep_figure(max - 1))]
    {
        let figure = if name == "as a string" { Value::String(figure.to_string()) } else { figure };
        let made =
            post(&alice, "plots", serde_json::json!({"figure": figure, "filename": name})).await;
        assert!(made.is_ok(), "{name}: {made:?}");
    }
    for figure in [deep_figure(max), deep_figure(max + 30)] {
        let made = post(&alice, "plots", serde_json::json!({"figure": figure.to_string()})).await;
        assert_eq!(made.unwrap_err(), 400, "a figure in a string deeper than the limit");
    }
    let grid = |values: Value| serde_json::json!({"cols": {"c": {"data": [values], "order": 0}}});
    // body → data → cols → c → data → values: five levels above the values.
    let made =
        post(&alice, "grids", serde_json::json!({"data": grid(nested(max - 5)).to_string()})).await;
    assert!(made.is_ok(), "{made:?}");
    let made =
        post(&alice, "grids", serde_json::json!({"data": grid(nested(max - 4)).to_string()})).await;
    assert_eq!(made.unwrap_err(), 400, "grid data in a string deeper than the limit");
    server.stop().await.unwrap();

    let server = common::server_with(config()).await;
    assert_eq!(server.unreadable(), &[], "every stored file reads back");
    let anonymous = client(&server, None);
    let listed: Vec<chart_studio_models::Plot> = futures_util::TryStreamExt::try_collect(
        anonymous.items(chart_studio_api::plots::List::default()),
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 2, "the client lists the deepest plots");
    for plot in listed {
        let content: Value = anonymous
            .send(&Raw::new("GET", format!("plots/{}/content?inline_data=true", plot.file.fid)))
            .await
            .unwrap();
        assert_eq!(content, deep_figure(max - 1));
    }
}

/// A stored file that does not read back (written by an older server, or damaged) is reported
/// and left alone; the server starts and serves the rest.
#[tokio::test]
async fn a_server_starts_and_serves_the_rest_when_one_stored_file_is_unreadable() {
    let data = tempfile::tempdir().unwrap();
    let config = || chart_studio_server::ServerConfig {
        data_dir: Some(data.path().to_owned()),
        ..Default::default()
    };
    let server = common::server_with(config()).await;
    let fids = server.add_plots(ALICE.0, 3, "", true).unwrap();
    server.stop().await.unwrap();
    let broken: chart_studio_models::Fid = fids[0].parse().unwrap();
    // The record of a plot whose figure nests too deep to read back.
    let db = rusqlite::Connection::open(data.path().join("chart-studio.sqlite3")).unwrap();
    let row = |db: &rusqlite::Connection| -> String {
        db.query_row(
            "SELECT record FROM files WHERE owner = ?1 AND idlocal = ?2",
            rusqlite::params![broken.owner(), broken.idlocal() as i64],
            |row| row.get(0),
        )
        .unwrap()
    };
    let mut record: Value = serde_json::from_str(&row(&db)).unwrap();
    record["metadata"] = deep_figure(200);
    let deep = record.to_string();
    db.execute(
        "UPDATE files SET record = ?1 WHERE owner = ?2 AND idlocal = ?3",
        rusqlite::params![deep, broken.owner(), broken.idlocal() as i64],
    )
    .unwrap();
    // And a plot whose record reads but whose figure does not: found when it is asked for.
    let damaged: chart_studio_models::Fid = fids[2].parse().unwrap();
    let content = serde_json::json!({"Plot": {"figure": deep_figure(200)}}).to_string();
    db.execute(
        "UPDATE contents SET body = ?1 WHERE owner = ?2 AND idlocal = ?3",
        rusqlite::params![content, damaged.owner(), damaged.idlocal() as i64],
    )
    .unwrap();
    drop(db);

    let server = common::server_with(config()).await;
    // Records are read per request: one damaged behind the server's back is found when read.
    // Those a migration could not read are marked so, and reported at start.
    assert!(server.unreadable().is_empty(), "{:?}", server.unreadable());
    let anonymous = client(&server, None);
    let kept: chart_studio_models::Fid = fids[1].parse().unwrap();
    anonymous.send(&chart_studio_api::plots::Retrieve::new(kept)).await.unwrap();
    let gone = anonymous.send(&chart_studio_api::plots::Retrieve::new(broken.clone())).await;
    assert_eq!(common::status(gone), 404);
    let unread = anonymous.send(&chart_studio_api::plots::Retrieve::new(damaged)).await;
    let err = unread.unwrap_err().to_string();
    assert!(err.contains("500") && err.contains("could not be read"), "{err}");
    // A new file does not take the unreadable file's number.
    let alice = client(&server, Some(ALICE));
    let made = alice.send(&chart_studio_api::folders::Create::new("new folder")).await.unwrap();
    assert!(made.file.file.fid.idlocal() > broken.idlocal());
    let home: Value = alice.send(&Raw::new("GET", "folders/home")).await.unwrap();
    let listed = home["children"]["results"].as_array().unwrap();
    assert!(listed.iter().all(|file| file["fid"] != broken.to_string()), "{home}");
    assert_eq!(listed.len(), 6, "{home}");
    assert_eq!(home["children"]["count"], 7, "counted, as the database knows of it: {home}");
    server.stop().await.unwrap();
    // A record a migration could not read is marked so, and reported at start.
    let db = rusqlite::Connection::open(data.path().join("chart-studio.sqlite3")).unwrap();
    db.execute(
        "UPDATE files SET kind = 'unreadable' WHERE owner = ?1 AND idlocal = ?2",
        rusqlite::params![broken.owner(), broken.idlocal() as i64],
    )
    .unwrap();
    drop(db);
    let server = common::server_with(config()).await;
    let unreadable = server.unreadable();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert_eq!(unreadable[0].fid, broken.to_string());
    assert!(unreadable[0].reason.contains("recursion limit"), "{unreadable:?}");
    server.stop().await.unwrap();
    // Managing accounts works on the folder too.
    chart_studio_server::admin::add_user(
        &chart_studio_server::admin::Data::folder(data.path()),
        "carol",
    )
    .unwrap();
    let db = rusqlite::Connection::open(data.path().join("chart-studio.sqlite3")).unwrap();
    assert_eq!(row(&db), deep, "the unreadable row is left as it was");
}

/// A depth limit whose documents would not read back is refused at start.
#[tokio::test]
async fn a_depth_limit_that_storage_cannot_keep_is_refused() {
    let limits = chart_studio_server::Limits {
        max_json_depth: chart_studio_server::MAX_JSON_DEPTH + 1,
        ..Default::default()
    };
    let config = chart_studio_server::ServerConfig { limits, ..Default::default() };
    let err = chart_studio_server::start(config).await.unwrap_err();
    assert!(err.to_string().contains("between 1 and 100"), "{err}");
}

/// Views are counted beside the files, survive restarts, and come over from databases that
/// kept them inside each file's record.
#[tokio::test]
async fn views_and_contents_are_kept_beside_the_records_and_migrate_out_of_them() {
    let data = tempfile::tempdir().unwrap();
    let config = || chart_studio_server::ServerConfig {
        data_dir: Some(data.path().to_owned()),
        ..Default::default()
    };
    let server = common::server_with(config()).await;
    let fids = server.add_plots(ALICE.0, 3, "", true).unwrap();
    let anonymous = client(&server, None);
    for _ in 0..3 {
        let path = format!("plots/{}/content", fids[0]);
        anonymous.send(&Raw::new("GET", path)).await.unwrap();
    }
    server.stop().await.unwrap();
    let views = |server: &chart_studio_server::ServerHandle, fid: &str| {
        let alice = client(server, Some(ALICE));
        let fid = fid.parse().unwrap();
        async move { alice.send(&chart_studio_api::files::Retrieve::new(fid)).await.unwrap().views }
    };
    let server = common::server_with(config()).await;
    assert_eq!(views(&server, &fids[0]).await, Some(3));
    server.stop().await.unwrap();

    let server = common::server_with(config()).await;
    let content = |server: &chart_studio_server::ServerHandle, fid: &str| {
        let alice = client(server, Some(ALICE));
        let path = format!("plots/{fid}/content");
        async move { alice.send(&Raw::new("GET", path)).await.unwrap() }
    };
    let figure = content(&server, &fids[1]).await;
    server.stop().await.unwrap();

    // The same folder as an older server left it: schema version 1, views and contents in the
    // records, no sessions, no mark of an unfinished copy, no columns for listings.
    let db = rusqlite::Connection::open(data.path().join("chart-studio.sqlite3")).unwrap();
    db.execute_batch(
        "UPDATE files SET record = json_set(json_remove(record, '$.outline'), '$.body',
             json((SELECT body FROM contents c
                   WHERE c.owner = files.owner AND c.idlocal = files.idlocal)))
         WHERE json_extract(record, '$.outline.kind') != 'folder';
         UPDATE files SET record = json_set(json_remove(record, '$.outline'), '$.body', 'Folder')
         WHERE json_extract(record, '$.outline.kind') = 'folder';
         DROP TABLE contents;",
    )
    .unwrap();
    let second: chart_studio_models::Fid = fids[1].parse().unwrap();
    let record: String = db
        .query_row(
            "SELECT record FROM files WHERE owner = ?1 AND idlocal = ?2",
            rusqlite::params![second.owner(), second.idlocal() as i64],
            |row| row.get(0),
        )
        .unwrap();
    let mut record: Value = serde_json::from_str(&record).unwrap();
    assert!(record["body"]["Plot"]["figure"].is_object(), "{record}");
    record["views"] = Value::from(7);
    db.execute(
        "UPDATE files SET record = ?1 WHERE owner = ?2 AND idlocal = ?3",
        rusqlite::params![record.to_string(), second.owner(), second.idlocal() as i64],
    )
    .unwrap();
    db.execute_batch(
        "DROP INDEX public_plots; DROP INDEX featured_plots; DROP INDEX files_by_created;
         DROP INDEX files_found;
         ALTER TABLE files DROP COLUMN created; ALTER TABLE files DROP COLUMN featured;
         ALTER TABLE files DROP COLUMN quality; ALTER TABLE files DROP COLUMN search_name;
         ALTER TABLE files DROP COLUMN plot_types;
         DROP TABLE links; DROP INDEX files_by_name; DROP INDEX files_unreadable;
         ALTER TABLE files DROP COLUMN filename;
         DROP TABLE views; DROP TABLE sessions; DROP TABLE unfinished_copy;
         DROP TABLE file_counts; DROP TRIGGER files_counted; DROP TRIGGER files_uncounted;
         DROP TRIGGER files_recounted; DROP INDEX files_by_folder; DROP INDEX files_in_order;
         ALTER TABLE files DROP COLUMN parent;
         ALTER TABLE files DROP COLUMN kind;
         ALTER TABLE files DROP COLUMN deleted; ALTER TABLE files DROP COLUMN world_readable;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(db);
    let server = common::server_with(config()).await;
    assert!(server.unreadable().is_empty(), "{:?}", server.unreadable());
    assert_eq!(views(&server, &fids[1]).await, Some(7));
    assert_eq!(views(&server, &fids[0]).await, Some(0), "its count was kept only in the table");
    assert_eq!(content(&server, &fids[1]).await, figure, "the figure moved out of the record");
    let home: Value = client(&server, None)
        .send(&Raw::new("GET", format!("folders/home?user={}", ALICE.0)))
        .await
        .unwrap();
    let listed: Vec<&str> = home["children"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|file| file["fid"].as_str())
        .collect();
    // The three plots and their grids, from the columns the migration filled.
    assert_eq!(listed.len(), 6, "{listed:?}");
    assert!(fids.iter().all(|fid| listed.contains(&fid.as_str())), "{listed:?}");
    // Names and links too: a plot is found by its path, and it names its grid.
    let plot: Value = client(&server, Some(ALICE))
        .send(&Raw::new("GET", format!("plots/{}", fids[1])))
        .await
        .unwrap();
    let name = plot["filename"].as_str().unwrap_or_else(|| panic!("a plot: {plot}"));
    let path = format!("files/lookup?path={}", name.replace(' ', "%20"));
    let found: Value = client(&server, Some(ALICE)).send(&Raw::new("GET", path)).await.unwrap();
    assert_eq!(found["fid"], fids[1].as_str());
    let grid = plot["references"][0].as_str().expect("the plot names its grid");
    let grid: Value =
        client(&server, Some(ALICE)).send(&Raw::new("GET", format!("grids/{grid}"))).await.unwrap();
    assert_eq!(grid["referencers"], serde_json::json!([fids[1]]), "{grid}");
    // And what the public list and search select on: the public plots are listed newest first,
    // and a plot is found by a word of its name in any case and by its trace type.
    let anyone = client(&server, None);
    let public: Value = anyone.send(&Raw::new("GET", "plots")).await.unwrap();
    let newest_first: Vec<&str> =
        public["results"].as_array().unwrap().iter().filter_map(|p| p["fid"].as_str()).collect();
    assert_eq!(newest_first, fids.iter().rev().map(String::as_str).collect::<Vec<_>>());
    let by_views: Value = anyone.send(&Raw::new("GET", "plots?order_by=-views")).await.unwrap();
    assert_eq!(by_views["results"][0]["fid"], fids[1].as_str(), "its 7 views come first");
    assert_eq!(by_views["results"].as_array().map(Vec::len), Some(3));
    let query = format!("search?q={}%20plottype:scatter", name.to_uppercase().replace(' ', "%20"));
    let found: Value = anyone.send(&Raw::new("GET", query)).await.unwrap();
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["results"][0]["fid"], fids[1].as_str());
    server.stop().await.unwrap();
    let db = rusqlite::Connection::open(data.path().join("chart-studio.sqlite3")).unwrap();
    let inside: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM files WHERE json_extract(record, '$.body') IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(inside, 0, "no record keeps its content");
}

/// A server with short connection deadlines and a small cap per address.
async fn strict_server(max_connections: usize) -> chart_studio_server::ServerHandle {
    let limits = chart_studio_server::Limits {
        head_timeout: std::time::Duration::from_millis(400),
        body_timeout: std::time::Duration::from_millis(400),
        max_connections_per_address: max_connections,
        ..Default::default()
    };
    common::server_with(chart_studio_server::ServerConfig { limits, ..Default::default() }).await
}

/// Sends `bytes` on a new connection and reads until the server closes it: what it answered
/// and how long the connection stayed open.
async fn send_and_wait_for_close(
    server: &chart_studio_server::ServerHandle,
    bytes: &[u8],
) -> (String, std::time::Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = tokio::time::Instant::now();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    // A bound for the test itself; the server's deadlines are far shorter.
    tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .ok();
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

/// Connections that send nothing, part of a head, or half a body, and keep-alive connections
/// left idle, are closed once their deadline passes.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_at_their_deadline() {
    let server = strict_server(64).await;
    let deadline = std::time::Duration::from_millis(400);
    let half_body = b"POST /v2/grids HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"data\":";
    let cases: [(&str, &[u8]); 5] = [
        (
            "a body nobody reads",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab",
        ),
        ("nothing", b""),
        ("part of a head", b"GET /v2/plots HTTP/1.1\r\nHost: x\r\nX-Slow:"),
        ("idle after a request", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("half a body", half_body),
    ];
    for (name, bytes) in cases {
        let (answer, open) = send_and_wait_for_close(&server, bytes).await;
        // A body nobody reads ends the connection with its answer; the others wait out the
        // deadline.
        assert!(open >= deadline || name == "a body nobody reads", "{name}: closed after {open:?}");
        assert!(open < std::time::Duration::from_secs(10), "{name}: open for {open:?}");
        match name {
            "idle after a request" | "a body nobody reads" => {
                assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            }
            "half a body" => assert!(answer.starts_with("HTTP/1.1 408"), "{name}: {answer}"),
            _ => {
                assert!(
                    answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
                    "{name}: {answer}"
                );
            }
        }
    }
    // Requests that arrive in time are served as before.
    let anonymous = client(&server, None);
    anonymous.send(&Raw::new("GET", "plots")).await.unwrap();
}

/// One address holds at most its share of connections; others are closed at once, and a place
/// frees when a connection ends.
#[tokio::test]
async fn one_address_holds_at_most_its_share_of_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = {
        let limits =
            chart_studio_server::Limits { max_connections_per_address: 3, ..Default::default() };
        common::server_with(chart_studio_server::ServerConfig { limits, ..Default::default() })
            .await
    };
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..3 {
        // A request answered on each: the server holds the connection, kept alive.
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream.write_all(request).await.unwrap();
        let mut buffer = [0u8; 512];
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(buffer[..read].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    let (answer, open) = send_and_wait_for_close(&server, request).await;
    assert!(answer.is_empty(), "a fourth connection is closed unanswered: {answer}");
    assert!(open < std::time::Duration::from_secs(5), "closed at once, not after a deadline");
    drop(held.pop());
    // The freed place is given back once the server sees the connection end.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (answer, _) = send_and_wait_for_close(
            &server,
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the place was never given back");
        tokio::task::yield_now().await;
    }
}

/// `Basic` credentials for a raw request.
fn basic((user, key): (&str, &str)) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
}

/// A sign-in form sent from another site (login CSRF) gets no session; the same form from the
/// server's own page does. `next` with a control character still signs in, to a safe page.
#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_from_another_site_gets_no_session() {
    let server = server().await;
    let url = server.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let form = "username=alice&api_key=alice-test-key&next=/~alice/";
        let form_type = ("Content-Type", "application/x-www-form-urlencoded");
        for (name, extra) in [
            ("a foreign origin", vec![("Origin", "https://evil.example")]),
            ("an opaque origin", vec![("Origin", "null")]),
            ("a foreign referrer", vec![("Referer", "https://evil.example/page")]),
            ("neither", vec![]),
        ] {
            let mut headers = vec![form_type];
            headers.extend(extra);
            let (status, head, _) = http(&url, "POST", "/login", &headers, form);
            assert_eq!(status, 403, "{name}: {head}");
            assert!(header(&head, "set-cookie").is_none(), "{name}: {head}");
        }
        let own = [form_type, ("Referer", &format!("{url}/login"))];
        let (status, head, _) = http(&url, "POST", "/login", &own, form);
        assert_eq!(status, 303, "{head}");
        let cookie = header(&head, "set-cookie").unwrap();
        assert!(cookie.contains("Max-Age=43200"), "sessions end: {cookie}");

        let form = "username=alice&api_key=alice-test-key&next=/~alice/%0d%0aX-Injected:%201";
        let (status, head, _) = http(&url, "POST", "/login", &[form_type, ("Origin", &url)], form);
        assert_eq!(status, 303, "{head}");
        assert!(header(&head, "set-cookie").is_some(), "{head}");
        assert_eq!(header(&head, "location"), Some("/~alice/"));
        assert!(header(&head, "x-injected").is_none());
    })
    .await
    .unwrap();
}

/// The API reads only JSON (and the forms of older scripts): a `text/plain` body, which a
/// browser sends to any site without asking, is refused; so is a change another site's page
/// makes a browser send, credentials or not; and a 401 never asks a browser for a password.
#[tokio::test(flavor = "multi_thread")]
async fn the_api_refuses_what_a_browser_may_send_for_another_site() {
    let server = server().await;
    let url = server.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let alice = basic(ALICE);
        let body = r#"{"path": "made"}"#;
        let as_text = [("Authorization", alice.as_str()), ("Content-Type", "text/plain")];
        let (status, _, answer) = http(&url, "POST", "/v2/folders", &as_text, body);
        assert_eq!(status, 415, "{answer}");
        let foreign = [
            ("Authorization", alice.as_str()),
            ("Content-Type", "application/json"),
            ("Origin", "https://evil.example"),
        ];
        let (status, _, answer) = http(&url, "POST", "/v2/folders", &foreign, body);
        assert_eq!(status, 403, "{answer}");
        let own = [("Authorization", alice.as_str()), ("Content-Type", "application/json")];
        let (status, _, answer) = http(&url, "POST", "/v2/folders", &own, body);
        assert_eq!(status, 201, "scripts send no Origin and are served: {answer}");

        let (status, head, _) = http(&url, "GET", "/v2/users/current", &[], "");
        assert_eq!(status, 401);
        let challenge = header(&head, "www-authenticate").unwrap();
        assert!(!challenge.to_ascii_lowercase().starts_with("basic"), "{challenge}");
    })
    .await
    .unwrap();
}

/// Wrong keys are refused with one message whether or not the account exists, and an address
/// that keeps sending them is held off (429) without its keys being checked.
#[tokio::test(flavor = "multi_thread")]
async fn an_address_sending_wrong_keys_is_held_off() {
    let server = server().await;
    let url = server.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let get = |credentials: (&str, &str)| {
            let auth = basic(credentials);
            http(&url, "GET", "/v2/users/current", &[("Authorization", auth.as_str())], "")
        };
        let (_, _, unknown) = get(("nobody", "wrong-key"));
        let (_, _, wrong) = get((ALICE.0, "wrong-key"));
        assert_eq!(unknown, wrong, "one answer for an unknown user and a wrong key");
        for _ in 2..20 {
            assert_eq!(get((ALICE.0, "wrong-key")).0, 401);
        }
        let (status, head, body) = get(ALICE);
        assert_eq!(status, 429, "even the right key waits: {body}");
        assert!(header(&head, "retry-after").is_some_and(|wait| wait.parse::<u64>().is_ok()));
        let (status, _, _) = http(&url, "GET", "/v2/plots", &[], "");
        assert_eq!(status, 200, "requests without credentials go on");
    })
    .await
    .unwrap();
}

/// Every answer carries the security headers; pages have a policy that runs only the server's
/// scripts, `.embed` pages may be framed and no other; answers for one reader are not cached.
#[tokio::test(flavor = "multi_thread")]
async fn answers_carry_the_security_headers() {
    let server = server().await;
    let fids = server.add_plots(ALICE.0, 1, "", true).unwrap();
    let url = server.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let page = format!("/~alice/{}/", fids[0].rsplit(':').next().unwrap());
        let embed = format!("{}.embed", page.trim_end_matches('/'));
        let alice = basic(ALICE);
        for (path, credentials) in [
            ("/v2/plots", false),
            (page.as_str(), false),
            (embed.as_str(), false),
            ("/v2/users/current", true),
            ("/nowhere", false),
        ] {
            let headers: &[(&str, &str)] =
                if credentials { &[("Authorization", alice.as_str())] } else { &[] };
            let (_, head, _) = http(&url, "GET", path, headers, "");
            assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(header(&head, "referrer-policy"), Some("same-origin"), "{path}");
            let policy = header(&head, "content-security-policy").unwrap();
            assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
            if path == embed {
                assert!(policy.contains("frame-ancestors *"), "{policy}");
                assert!(header(&head, "x-frame-options").is_none());
            } else {
                assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
                assert_eq!(header(&head, "x-frame-options"), Some("DENY"), "{path}");
            }
            if path == page {
                let scripts =
                    policy.split(';').map(str::trim).find(|d| d.starts_with("script-src")).unwrap();
                assert!(
                    scripts.contains("'self'") && !scripts.contains("unsafe-inline"),
                    "{policy}"
                );
            }
            let cache = header(&head, "cache-control");
            assert_eq!(cache == Some("private, no-store"), credentials, "{path}: {cache:?}");
        }
    })
    .await
    .unwrap();
}

/// A lookup by another reader goes only through folders they may read, so it never confirms
/// the names of private folders; the owner finds everything.
#[tokio::test]
async fn a_lookup_does_not_confirm_private_folder_names() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let private = chart_studio_api::folders::Create::new("secret-deal/q3");
    alice.send(&private).await.unwrap();
    let made = server.add_plots(ALICE.0, 1, "secret-deal/q3", true).unwrap();
    let public = server.add_plots(ALICE.0, 1, "open", true).unwrap();
    // Folders made by the seed helper are private; make `open` public.
    let open: chart_studio_models::Fid = alice
        .send(&Raw::new("GET", "files/lookup?path=open"))
        .await
        .map(|f: Value| f["fid"].as_str().unwrap().parse().unwrap())
        .unwrap();
    let mut public_folder = Raw::new("PATCH", format!("files/{open}"));
    public_folder.body = Some(serde_json::json!({"world_readable": true}));
    alice.send(&public_folder).await.unwrap();
    let bob = client(&server, Some(common::BOB));
    async fn exists(who: &chart_studio_api::Client, path: &str) -> bool {
        let request = Raw::new("GET", format!("files/lookup?user=alice&path={path}&exists=true"));
        let answer: Value = who.send(&request).await.unwrap();
        answer["exists"].as_bool().unwrap()
    }
    assert!(!exists(&bob, "secret-deal/q3/plot%200").await, "the private folders stay unnamed");
    assert!(!exists(&client(&server, None), "secret-deal/q3/plot%200").await);
    assert!(exists(&alice, "secret-deal/q3/plot%200").await, "the owner finds it");
    assert!(exists(&bob, "open/plot%200").await, "through public folders it is found");
    // The plot itself stays readable by its fid: it is public.
    let plot: chart_studio_models::Fid = made[0].parse().unwrap();
    bob.send(&chart_studio_api::plots::Retrieve::new(plot)).await.unwrap();
    assert_eq!(public.len(), 1);
}

/// A change to several grid columns is checked whole before any column changes: an unknown uid
/// or a name another column has leaves the grid as it was.
#[tokio::test]
async fn grid_column_changes_are_all_or_nothing() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let made = post(
        &alice,
        "grids",
        serde_json::json!({"data": {"cols": {"a": {"data": [1], "order": 0}, "b": {"data": [2], "order": 1}}}}),
    )
    .await
    .unwrap();
    let fid = made["file"]["fid"].as_str().unwrap().to_owned();
    let cols = made["file"]["cols"].as_array().unwrap();
    let uid = |name: &str| {
        cols.iter().find(|c| c["name"] == name).unwrap()["uid"].as_str().unwrap().to_owned()
    };
    let (a, b) = (uid("a"), uid("b"));
    let put = |uids: String, cols: Value| {
        let mut request = Raw::new("PUT", format!("grids/{fid}/col?uid={uids}"));
        request.body = Some(serde_json::json!({"cols": cols}));
        let alice = &alice;
        async move { alice.send(&request).await.map_err(|err| err.status().map(|s| s.as_u16())) }
    };
    let changed = serde_json::json!([{"name": "a", "data": [9]}, {"name": "c", "data": [9]}]);
    assert_eq!(put(format!("{a},nosuch"), changed).await.unwrap_err(), Some(400));
    let renamed = serde_json::json!([{"name": "b", "data": [9]}]);
    assert_eq!(put(a.clone(), renamed).await.unwrap_err(), Some(400), "b is taken");
    let twice = serde_json::json!([{"data": [9]}, {"data": [8]}]);
    assert_eq!(put(format!("{a},{a}"), twice).await.unwrap_err(), Some(400));
    let content: Value =
        alice.send(&Raw::new("GET", format!("grids/{fid}/content"))).await.unwrap();
    assert_eq!(content["cols"]["a"]["data"], serde_json::json!([1]), "{content}");
    assert_eq!(content["cols"]["b"]["data"], serde_json::json!([2]), "{content}");
    // Swapping two names in one change is fine: the result has no duplicate.
    let swapped = serde_json::json!([{"name": "b", "data": [1]}, {"name": "a", "data": [2]}]);
    put(format!("{a},{b}"), swapped).await.unwrap();
}

/// Pagination links name the server's own address, whatever `Host` a client sent.
#[tokio::test(flavor = "multi_thread")]
async fn pagination_links_ignore_the_host_header() {
    let server = server().await;
    server.add_plots(ALICE.0, 3, "", true).unwrap();
    let url = server.url().to_owned();
    tokio::task::spawn_blocking(move || {
        for path in
            ["/v2/folders/all?user=alice&page_size=1", "/v2/plots?cursor=cD0w&order_by=-views"]
        {
            let (status, _, body) = http(&url, "GET", path, &[("Host", "evil.example")], "");
            assert_eq!(status, 200, "{body}");
            let page: Value = serde_json::from_str(&body).unwrap();
            let links = [&page["next"], &page["previous"], &page["children"]["next"]];
            let links: Vec<&str> = links.iter().filter_map(|link| link.as_str()).collect();
            assert!(!links.is_empty(), "{path}: {body}");
            for link in links {
                assert!(link.starts_with(&url), "{path}: {link}");
            }
        }
    })
    .await
    .unwrap();
}

/// A change that cannot be saved fails its request, and the server then answers what is on
/// disk: nothing half applied, before and after a restart.
#[tokio::test]
async fn a_change_that_cannot_be_saved_is_not_half_applied() {
    use chart_studio_api::common::FileUpdate;
    use chart_studio_api::{files, folders};
    use chart_studio_server::Faults;
    let data = tempfile::tempdir().unwrap();
    let config = || chart_studio_server::ServerConfig {
        data_dir: Some(data.path().to_owned()),
        ..Default::default()
    };
    let server = common::server_with(config()).await;
    let alice = client(&server, Some(ALICE));
    let kept = alice.send(&folders::Create::new("kept")).await.unwrap().file.file.fid;

    server.set_faults(Faults { fail_saves: true, ..Faults::default() });
    let made = alice.send(&folders::Create::new("lost")).await;
    assert_eq!(made.unwrap_err().status().map(|s| s.as_u16()), Some(500));
    let public = FileUpdate::default().sharing(true, false);
    let changed = alice.send(&files::Update::patch(kept.clone(), public)).await;
    assert_eq!(changed.unwrap_err().status().map(|s| s.as_u16()), Some(500));
    let served = |alice: chart_studio_api::Client| async move {
        let listed: Vec<chart_studio_models::File> =
            futures_util::TryStreamExt::try_collect(alice.items(folders::All::default()))
                .await
                .unwrap();
        listed.into_iter().map(|f| (f.filename, f.world_readable)).collect::<Vec<_>>()
    };
    let before_restart = served(alice.clone()).await;
    assert_eq!(before_restart, [("kept".to_owned(), Some(false))], "what is on disk");

    server.set_faults(Faults::default());
    let next = alice.send(&folders::Create::new("next")).await.unwrap().file.file.fid;
    assert_eq!(next.idlocal(), kept.idlocal() + 1, "the failed create used up no number");
    server.stop().await.unwrap();
    let server = common::server_with(config()).await;
    let after = served(client(&server, Some(ALICE))).await;
    assert_eq!(after, [("kept".to_owned(), Some(false)), ("next".to_owned(), Some(false))]);
}

/// Contents read the same whether the cache keeps none of them, some, or all (a size too large
/// to count in bytes is taken as "all").
#[tokio::test]
async fn any_content_cache_size_serves_the_same_contents() {
    let mut seen = Vec::new();
    for cache_mb in [0, 1, usize::MAX] {
        let config = chart_studio_server::ServerConfig { cache_mb, ..Default::default() };
        let server = common::server_with(config).await;
        let fids = server.add_plots(ALICE.0, 3, "", true).unwrap();
        let alice = client(&server, Some(ALICE));
        let mut contents = Vec::new();
        for _ in 0..2 {
            for fid in &fids {
                let path = format!("plots/{fid}/content?inline_data=true");
                let content: Value = alice.send(&Raw::new("GET", path)).await.unwrap();
                contents.push(content);
            }
        }
        assert_eq!(contents[..3], contents[3..], "a second read matches the first");
        assert!(contents[0]["data"][0]["x"].is_array(), "{}", contents[0]);
        seen.push(contents);
        server.stop().await.unwrap();
    }
    assert!(seen.windows(2).all(|pair| pair[0] == pair[1]), "the cache changes nothing");
}
