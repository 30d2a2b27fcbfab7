//! End-to-end: the client crates over real HTTP against the server on 127.0.0.1, one server per
//! test, covering every endpoint and rule of the v2 API the server implements.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use bytes::Bytes;
use chart_studio_api::common::FileUpdate;
use chart_studio_api::raw::Raw;
use chart_studio_api::{Client, Transport, files, folders, grids, plots, search, users};
use chart_studio_http::{HttpSettings, HttpTransport};
use chart_studio_models::{Fid, FileType, GridContent};
use common::{ALICE, BOB, client, server, status};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

/// Uploads a two-column grid and returns its fid and the uids of `x` and `y`.
async fn grid(client: &Client, name: &str, public: bool) -> (Fid, String, String) {
    let data = GridContent::from_columns([
        ("x".to_owned(), vec![json!(1), json!(2), json!(3)]),
        ("y".to_owned(), vec![json!(4), json!(5), json!(6)]),
    ]);
    let created = client
        .send(&grids::Create::new(
            grids::GridCreate::new(data).filename(name).sharing(public, false),
        ))
        .await
        .expect("grid create");
    let cols = created.file.cols.expect("cols in the answer");
    let uid =
        |name: &str| cols.iter().find(|c| c.name == name).map(|c| c.uid.clone()).expect("column");
    (created.file.file.fid, uid("x"), uid("y"))
}

fn figure(grid: &Fid, x: &str, y: &str) -> Value {
    json!({"data": [{"type": "scatter", "xsrc": format!("{grid}:{x}"), "ysrc": format!("{grid}:{y}")}], "layout": {}})
}

/// A plot over a new grid; returns the plot's and the grid's fids.
async fn plot(
    client: &Client,
    name: &str,
    world_readable: bool,
    share_key_enabled: bool,
) -> (Fid, Fid) {
    let (grid, x, y) = grid(client, &format!("{name} data"), world_readable).await;
    let body = plots::PlotCreate::new(figure(&grid, &x, &y))
        .filename(name)
        .sharing(world_readable, share_key_enabled);
    let created = client.send(&plots::Create::new(body)).await.expect("plot create");
    (created.file.file.fid, grid)
}

#[tokio::test]
async fn authentication_rules() {
    let server = server().await;
    let anonymous = client(&server, None);
    let err = anonymous.send(&users::Current {}).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(err.to_string().contains("Authentication credentials were not provided."), "{err}");

    let err = client(&server, Some((ALICE.0, "wrong"))).send(&users::Current {}).await.unwrap_err();
    assert!(err.as_api().is_some_and(|e| e.is_auth() && e.message() == "Bad API key"), "{err}");
    // An unknown account gets the same answer as a wrong key: nothing tells which names exist.
    let unknown = client(&server, Some(("nobody", "x"))).send(&users::Current {}).await;
    let unknown = unknown.unwrap_err();
    assert!(unknown.as_api().is_some_and(|e| e.is_auth() && e.message() == "Bad API key"));
    assert_eq!(unknown.as_api().unwrap().body, err.as_api().unwrap().body);

    let me = client(&server, Some(ALICE)).send(&users::Current {}).await.unwrap();
    assert_eq!(me.username, "alice");
    assert!(me.email.is_some(), "private fields are filled in for yourself");
    let other = anonymous.send(&users::ByName { username: "alice".to_owned() }).await.unwrap();
    assert!(other.email.is_none());
    assert_eq!(status(anonymous.send(&users::ByName { username: "nobody".to_owned() }).await), 404);

    // plotly-authorization wins over authorization, which then belongs to a proxy.
    let config = chart_studio_api::Config::new(
        server.url(),
        Some(chart_studio_api::Credentials::new(ALICE.0, ALICE.1)),
        false,
    )
    .unwrap()
    .with_proxy_authorization(Some(chart_studio_api::Credentials::new("proxy-user", "proxy-pass")));
    let proxied = Client::new(HttpTransport::new(&HttpSettings::default()).unwrap(), config);
    assert_eq!(proxied.send(&users::Current {}).await.unwrap().username, "alice");

    let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
    let bearer = http::Request::get(format!("{}/v2/users/current", server.url()))
        .header("authorization", "Bearer abc")
        .body(Bytes::new())
        .unwrap();
    assert_eq!(transport.send(bearer).await.unwrap().status(), 401);
}

#[tokio::test]
async fn files_are_numbered_and_placed_by_path() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let data = GridContent::from_columns([("a".to_owned(), vec![json!(1)])]);
    let first = alice
        .send(&grids::Create::new(grids::GridCreate::new(data.clone()).filename("g")))
        .await
        .unwrap();
    assert_eq!(first.file.file.fid.to_string(), "alice:0");
    let nested = alice
        .send(&grids::Create::new(
            grids::GridCreate::new(data.clone()).filename("g").parent_path("a/b"),
        ))
        .await
        .unwrap();
    assert_eq!(
        nested.file.file.fid.to_string(),
        "alice:3",
        "folders a (1) and b (2) were created on the way"
    );
    assert_eq!(nested.file.file.parent, Some(2));

    let err = alice
        .send(&grids::Create::new(grids::GridCreate::new(data).filename("g")))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert!(err.to_string().contains("Sorry, a file named 'g' already exists"), "{err}");

    let found = alice.send(&files::Lookup::new("a/b/g")).await.unwrap();
    assert_eq!(found.fid.to_string(), "alice:3");
    assert_eq!(
        alice.send(&folders::Lookup::new("a")).await.unwrap().file.filetype,
        FileType::Folder
    );
    assert_eq!(status(alice.send(&files::Lookup::new("a/nope")).await), 404);
    assert_eq!(status(alice.send(&plots::Lookup::new("a/b/g")).await), 404, "a grid is not a plot");
    let exists = alice.send(&Raw::new("GET", "files/lookup?path=a/b/g&exists=true")).await.unwrap();
    assert_eq!(exists, json!({"exists": true}));

    let created = alice.send(&folders::Create::new("x/y")).await.unwrap();
    assert_eq!(created.file.file.filename, "y");
    let again = alice.send(&folders::Create::new("x/y")).await.unwrap_err();
    assert!(again.to_string().contains("already exists"), "{again}");
}

#[tokio::test]
async fn plot_create_accepts_only_column_references() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let empty =
        alice.send(&Raw { body: Some(json!({})), ..Raw::new("POST", "plots") }).await.unwrap_err();
    assert_eq!(empty.status().map(|s| s.as_u16()), Some(400));
    assert!(empty.to_string().contains("This field is required."), "{empty}");

    let raw = plots::PlotCreate::new(
        json!({"data": [{"x": ["a"], "ysrc": "alice:0:abc"}, {"marker": {"color": [1, 2]}}]}),
    );
    let err = alice.send(&plots::Create::new(raw)).await.unwrap_err();
    assert!(err.to_string().contains("data.0.x holds raw data"), "{err}");

    let dangling = plots::PlotCreate::new(json!({"data": [{"ysrc": "alice:40:abcdef"}]}));
    let err = alice.send(&plots::Create::new(dangling)).await.unwrap_err();
    assert!(err.to_string().contains("data.0.ysrc refers to alice:40:abcdef"), "{err}");

    let (grid, x, y) = grid(&alice, "g", false).await;
    let as_text = alice
        .send(&Raw {
            body: Some(json!({"figure": figure(&grid, &x, &y).to_string(), "filename": "p"})),
            ..Raw::new("POST", "plots")
        })
        .await
        .unwrap();
    assert_eq!(as_text["file"]["fid"], "alice:1");
    assert_eq!(
        as_text["file"]["world_readable"], true,
        "new files are public unless asked otherwise"
    );

    let bob = client(&server, Some(BOB));
    let stolen = plots::PlotCreate::new(figure(&grid, &x, &y));
    let err = bob.send(&plots::Create::new(stolen)).await.unwrap_err();
    assert!(
        err.to_string().contains("cannot read"),
        "bob may not reference alice's private grid: {err}"
    );
}

#[tokio::test]
async fn grid_columns_and_rows() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let (fid, x, y) = grid(&alice, "g", false).await;
    let content = alice.send(&grids::Content::new(fid.clone())).await.unwrap();
    let ordered: Vec<&str> = content.ordered().iter().map(|(name, _)| *name).collect();
    assert_eq!(ordered, ["x", "y"]);
    assert_eq!(content.cols["y"].uid.as_deref(), Some(y.as_str()));

    let got = alice
        .send(&grids::ColumnsGet { fid: fid.clone(), uids: vec![y.clone(), x.clone()] })
        .await
        .unwrap();
    assert_eq!(got.cols[0].data, Some(vec![json!(4), json!(5), json!(6)]));
    let added = alice
        .send(&grids::ColumnsAppend {
            fid: fid.clone(),
            columns: vec![grids::NewColumn {
                name: "z".to_owned(),
                data: vec![json!(7), json!(8), json!(9)],
            }],
        })
        .await
        .unwrap();
    let z = added.cols[0].uid.clone();
    let dup = alice
        .send(&grids::ColumnsAppend {
            fid: fid.clone(),
            columns: vec![grids::NewColumn { name: "z".to_owned(), data: vec![] }],
        })
        .await;
    assert_eq!(status(dup), 400);
    alice
        .send(&grids::ColumnsReplace {
            fid: fid.clone(),
            uids: vec![z.clone()],
            columns: vec![grids::NewColumn {
                name: "z".to_owned(),
                data: vec![json!(0), json!(0), json!(0)],
            }],
        })
        .await
        .unwrap();
    alice
        .send(&grids::AppendRows {
            fid: fid.clone(),
            rows: vec![vec![json!(10), json!(11), json!(12)]],
        })
        .await
        .unwrap();
    assert_eq!(
        status(
            alice.send(&grids::AppendRows { fid: fid.clone(), rows: vec![vec![json!(1)]] }).await
        ),
        400
    );
    let content = alice.send(&grids::Content::new(fid.clone())).await.unwrap();
    assert_eq!(content.cols["z"].data, vec![json!(0), json!(0), json!(0), json!(12)]);
    alice.send(&grids::ColumnsDelete { fid: fid.clone(), uids: vec![z] }).await.unwrap();
    assert_eq!(alice.send(&grids::Content::new(fid.clone())).await.unwrap().cols.len(), 2);

    let bob = client(&server, Some(BOB));
    assert_eq!(status(bob.send(&grids::Destroy { fid: fid.clone() }).await), 404, "private to bob");
    alice.send(&grids::Destroy { fid: fid.clone() }).await.unwrap();
    assert_eq!(status(alice.send(&grids::Retrieve::new(fid)).await), 404);
}

#[tokio::test]
async fn plot_content_inlines_and_maps_data() {
    let server = server().await;
    let bob = client(&server, Some(BOB));
    let (plot, _) = plot(&bob, "shared", true, false).await;
    let grid_fid: Fid = "bob:0".parse().unwrap();
    bob.send(&grids::Update::patch(grid_fid, FileUpdate::default().sharing(false, false)))
        .await
        .unwrap();

    let anonymous = client(&server, None);
    let by_ref = anonymous.send(&plots::Content::new(plot.clone())).await.unwrap();
    assert!(by_ref["data"][0]["xsrc"].is_string() && by_ref.get("map_data").is_none());
    let inline =
        anonymous.send(&plots::Content::new(plot.clone()).inline_data(true)).await.unwrap();
    assert_eq!(inline["data"][0]["x"], json!([1, 2, 3]));
    assert!(inline["data"][0].get("xsrc").is_none());
    let mapped = anonymous.send(&plots::Content::new(plot.clone()).map_unreadable()).await.unwrap();
    assert_eq!(
        mapped["map_data"].as_object().map(|m| m.len()),
        Some(2),
        "both columns of the private grid"
    );
    let owner_view = bob.send(&plots::Content::new(plot.clone()).map_unreadable()).await.unwrap();
    assert!(owner_view.get("map_data").is_none(), "the owner can read the grid");
    let retrieved = anonymous.send(&plots::Retrieve::new(plot)).await.unwrap();
    assert_eq!(retrieved.file.views, Some(3), "reads by others count as views");
}

#[tokio::test]
async fn private_secret_and_public_visibility() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let bob = client(&server, Some(BOB));
    let anonymous = client(&server, None);
    let (private, _) = plot(&alice, "private", false, false).await;
    let (secret, _) = plot(&alice, "secret", false, true).await;
    let (public, _) = plot(&alice, "public", true, false).await;

    for reader in [&bob, &anonymous] {
        assert_eq!(status(reader.send(&plots::Retrieve::new(private.clone())).await), 404);
        assert_eq!(status(reader.send(&plots::Retrieve::new(secret.clone())).await), 404);
        let seen = reader.send(&plots::Retrieve::new(public.clone())).await.unwrap();
        assert!(
            seen.file.share_key.is_none()
                && seen.file.share_key_enabled.is_none()
                && seen.file.deleted.is_none()
        );
        assert_eq!(seen.file.current_user_permission.as_deref(), Some("read"));
    }
    let mine = alice.send(&plots::Retrieve::new(secret.clone())).await.unwrap();
    assert_eq!(mine.file.current_user_permission.as_deref(), Some("admin"));
    let key = mine.file.share_key().expect("the owner sees the key").to_owned();
    assert!(key.len() >= 32, "at least 128 bits");
    assert!(anonymous.send(&plots::Retrieve::new(secret.clone()).share_key(&key)).await.is_ok());
    assert!(
        anonymous
            .send(&plots::Content::new(secret.clone()).share_key(&key).inline_data(true))
            .await
            .is_ok()
    );
    assert_eq!(
        status(
            anonymous
                .send(&plots::Retrieve::new(secret.clone()).share_key("0".repeat(key.len())))
                .await
        ),
        404
    );
    assert_eq!(
        status(anonymous.send(&plots::Retrieve::new(private.clone()).share_key(&key)).await),
        404
    );

    alice
        .send(&plots::Update::put(secret.clone(), FileUpdate::default().sharing(false, false)))
        .await
        .unwrap();
    assert_eq!(
        status(anonymous.send(&plots::Retrieve::new(secret.clone()).share_key(&key)).await),
        404,
        "revoked"
    );

    let listed: Vec<String> = anonymous
        .items(plots::List::default())
        .map_ok(|p| p.file.fid.to_string())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, [public.to_string()], "only public plots are listed");
}

#[tokio::test]
async fn updates_take_json_and_forms_and_check_ownership() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let bob = client(&server, Some(BOB));
    let (fid, _) = plot(&alice, "p", true, false).await;
    let renamed = alice
        .send(&files::Update::patch(fid.clone(), FileUpdate::default().filename("renamed")))
        .await
        .unwrap();
    assert_eq!(renamed.filename, "renamed");
    let moved = alice
        .send(&plots::Update::put(fid.clone(), FileUpdate::default().parent_path("dir/sub")))
        .await
        .unwrap();
    assert_eq!(moved.file.parent, Some(3), "dir (2) and sub (3) follow the grid (0) and plot (1)");
    assert_eq!(
        status(
            alice.send(&files::Update::patch(fid.clone(), FileUpdate::default().parent(0))).await
        ),
        400,
        "a grid is no folder"
    );
    assert_eq!(
        status(
            alice
                .send(&files::Update::patch(fid.clone(), FileUpdate::default().filename("")))
                .await
        ),
        400
    );
    assert_eq!(
        status(
            bob.send(&files::Update::patch(fid.clone(), FileUpdate::default().filename("x"))).await
        ),
        403
    );

    // The privacy tutorial's form-encoded PATCH.
    let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
    let form = http::Request::patch(format!("{}/v2/files/{fid}", server.url()))
        .header(
            "authorization",
            chart_studio_api::Credentials::new(ALICE.0, ALICE.1).basic_header(),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from_static(b"world_readable=False"))
        .unwrap();
    let response = transport.send(form).await.unwrap();
    assert_eq!(response.status(), 200);
    let after = alice.send(&files::Retrieve::new(fid.clone())).await.unwrap();
    assert_eq!(after.world_readable, Some(false));
    assert_eq!(
        status(bob.send(&files::Update::patch(fid, FileUpdate::default().filename("x"))).await),
        404,
        "now private"
    );
}

#[tokio::test]
async fn trash_restore_and_permanent_delete() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let bob = client(&server, Some(BOB));
    let (fid, grid) = plot(&alice, "p", true, false).await;
    let err = alice.send(&files::PermanentDelete::new(fid.clone())).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert!(err.to_string().contains("not in the trash"), "{err}");
    assert_eq!(status(bob.send(&files::Trash::new(fid.clone())).await), 403);

    alice.send(&plots::Trash::new(fid.clone())).await.unwrap();
    assert_eq!(alice.send(&files::Retrieve::new(fid.clone())).await.unwrap().deleted, Some(true));
    assert_eq!(
        status(bob.send(&files::Retrieve::new(fid.clone())).await),
        404,
        "trashed files are hidden"
    );
    alice.send(&plots::Restore::new(fid.clone())).await.unwrap();
    assert_eq!(alice.send(&files::Retrieve::new(fid.clone())).await.unwrap().deleted, Some(false));
    alice.send(&files::Trash::new(fid.clone())).await.unwrap();
    alice.send(&plots::PermanentDelete::new(fid.clone())).await.unwrap();
    assert_eq!(status(alice.send(&files::Retrieve::new(fid)).await), 404);
    assert_eq!(
        status(alice.send(&plots::Trash::new(grid.clone())).await),
        404,
        "a grid is not under /plots"
    );

    // Folders act recursively.
    let folder = alice.send(&folders::Create::new("box")).await.unwrap().file.file.fid;
    alice
        .send(&files::Update::patch(grid.clone(), FileUpdate::default().parent_path("box")))
        .await
        .unwrap();
    alice.send(&folders::Trash::new(folder.clone())).await.unwrap();
    assert_eq!(alice.send(&files::Retrieve::new(grid.clone())).await.unwrap().deleted, Some(true));
    alice.send(&folders::Restore::new(folder.clone())).await.unwrap();
    assert_eq!(alice.send(&files::Retrieve::new(grid.clone())).await.unwrap().deleted, Some(false));
    alice.send(&folders::Trash::new(folder.clone())).await.unwrap();
    alice.send(&folders::PermanentDelete::new(folder)).await.unwrap();
    assert_eq!(status(alice.send(&files::Retrieve::new(grid)).await), 404);
}

#[tokio::test]
async fn the_public_list_pages_to_the_end_both_ways() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let mut made = Vec::new();
    for i in 0..23 {
        let (fid, _) = plot(&alice, &format!("p{i}"), true, false).await;
        made.push(fid.to_string());
    }
    let anonymous = client(&server, None);
    let pages: Vec<_> = anonymous.pages(plots::List::default()).try_collect().await.unwrap();
    assert_eq!(pages.iter().map(|p| p.results.len()).collect::<Vec<_>>(), [10, 10, 3]);
    assert!(pages[0].previous.is_none() && pages[2].next.is_none());
    let listed: Vec<String> =
        pages.iter().flat_map(|p| p.results.iter().map(|r| r.file.fid.to_string())).collect();
    made.reverse();
    assert_eq!(listed, made, "newest first, nothing lost or repeated");

    // The previous link of the last page leads back to the second page.
    let previous = pages[2].previous.clone().unwrap();
    let back =
        anonymous.send(&Raw::new("GET", previous.split("/v2/").nth(1).unwrap())).await.unwrap();
    let fids: Vec<&str> =
        back["results"].as_array().unwrap().iter().map(|r| r["fid"].as_str().unwrap()).collect();
    assert_eq!(fids, listed[10..20].iter().map(String::as_str).collect::<Vec<_>>());

    let by_views = plots::List { order_by: Some("-views".to_owned()), ..Default::default() };
    assert_eq!(anonymous.items(by_views).try_collect::<Vec<_>>().await.unwrap().len(), 23);
    let filtered = plots::List { min_quality: Some(1), ..Default::default() };
    assert!(
        anonymous.items(filtered).try_collect::<Vec<_>>().await.unwrap().is_empty(),
        "new plots have quality 0"
    );
    let bad = anonymous
        .send(&plots::List { order_by: Some("title".to_owned()), ..Default::default() })
        .await;
    assert_eq!(status(bad), 400);
}

#[tokio::test]
async fn folder_listings_page_by_number() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    for i in 0..4 {
        plot(&alice, &format!("p{i}"), i % 2 == 0, false).await;
    }
    alice.send(&folders::Create::new("f")).await.unwrap();
    let all =
        folders::All { user: Some("alice".to_owned()), page_size: Some(3), ..Default::default() };
    let pages: Vec<_> = alice.pages(all.clone()).try_collect().await.unwrap();
    assert_eq!(pages.iter().map(|p| p.children.results.len()).collect::<Vec<_>>(), [3, 3, 3]);
    assert_eq!(pages[0].children.count, Some(9));
    let fids: Vec<String> =
        alice.items(all.clone()).map_ok(|f| f.fid.to_string()).try_collect().await.unwrap();
    assert_eq!(fids, (0..9).map(|i| format!("alice:{i}")).collect::<Vec<_>>());

    let plots_only = folders::All { filetype: Some("plot".to_owned()), ..all.clone() };
    assert_eq!(alice.items(plots_only).try_collect::<Vec<_>>().await.unwrap().len(), 4);
    let seen_by_bob: Vec<_> = client(&server, Some(BOB)).items(all).try_collect().await.unwrap();
    assert_eq!(seen_by_bob.len(), 4, "bob sees the two public plots and their public grids");
    let home: Vec<_> = alice.items(folders::Home::default()).try_collect().await.unwrap();
    assert_eq!(home.len(), 9);
    assert_eq!(status(client(&server, None).send(&folders::All::default()).await), 401);
    let folder = alice.send(&folders::Retrieve::new("alice:8".parse().unwrap())).await.unwrap();
    assert_eq!(folder.children.count, Some(0));
}

#[tokio::test]
async fn search_finds_readable_files() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    plot(&alice, "Sales pie", true, false).await;
    plot(&alice, "sales secret", false, false).await;
    let anonymous = client(&server, None);
    let found = anonymous.send(&search::Search { q: "sales".to_owned() }).await.unwrap();
    let names: Vec<&str> = found.results.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(names, ["Sales pie data", "Sales pie"]);
    let mine = alice.send(&search::Search { q: "sales filetype:plot".to_owned() }).await.unwrap();
    assert_eq!(mine.count, Some(2));
    let by_type = alice.send(&search::Search { q: "plottype:scatter".to_owned() }).await.unwrap();
    assert_eq!(by_type.count, Some(2));
}

#[tokio::test]
async fn tolerant_input_and_clean_limits() {
    let server = chart_studio_server::start(chart_studio_server::ServerConfig {
        users: vec![(ALICE.0.to_owned(), ALICE.1.to_owned())],
        limits: chart_studio_server::Limits {
            max_body_bytes: 2048,
            max_json_depth: 10,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let alice = client(&server, Some(ALICE));
    let transport = HttpTransport::new(&HttpSettings::default()).unwrap();
    let auth = chart_studio_api::Credentials::new(ALICE.0, ALICE.1).basic_header();
    let send = |method: &str, path: &str, body: Vec<u8>| {
        http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", server.url()))
            .header("authorization", auth.clone())
            .body(Bytes::from(body))
            .unwrap()
    };
    let slash = transport.send(send("GET", "/v2/users/current/", Vec::new())).await.unwrap();
    assert_eq!(slash.status(), 200, "a trailing slash is accepted, with no client-platform header");

    let large = transport.send(send("POST", "/v2/grids", vec![b' '; 4096])).await.unwrap();
    assert_eq!(large.status(), 413);
    assert!(String::from_utf8_lossy(large.body()).contains("too large"));
    let deep = format!("{{\"data\": {}1{}}}", "[".repeat(20), "]".repeat(20));
    let deep = transport.send(send("POST", "/v2/grids", deep.into_bytes())).await.unwrap();
    assert_eq!(deep.status(), 400);
    assert!(String::from_utf8_lossy(deep.body()).contains("nested deeper than 10"));
    let garbage = transport.send(send("POST", "/v2/plots", b"{not json".to_vec())).await.unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = serde_json::from_slice(garbage.body()).unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("JSON parse error"));
    let bad_fid = transport.send(send("GET", "/v2/files/a%2Fb:1", Vec::new())).await.unwrap();
    assert_eq!(bad_fid.status(), 400);
    assert_eq!(status(alice.send(&Raw::new("GET", "does/not/exist")).await), 404);
    assert_eq!(status(alice.send(&Raw::new("DELETE", "plots")).await), 405);
}

#[tokio::test]
async fn another_accounts_grid_stops_showing_once_private_or_trashed_and_links_stay_private() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let bob = client(&server, Some(BOB));
    let anonymous = client(&server, None);
    let (grid, x, y) = grid(&alice, "alice data", true).await;
    // Bob's public plot draws from Alice's public grid; Bob also has a private one.
    let public_body =
        plots::PlotCreate::new(figure(&grid, &x, &y)).filename("b").sharing(true, false);
    let public_plot = bob.send(&plots::Create::new(public_body)).await.unwrap().file.file.fid;
    let private_body =
        plots::PlotCreate::new(figure(&grid, &x, &y)).filename("hidden").sharing(false, false);
    let private_plot = bob.send(&plots::Create::new(private_body)).await.unwrap().file.file.fid;
    let inline = || plots::Content::new(public_plot.clone()).inline_data(true);
    let shown = anonymous.send(&inline()).await.unwrap();
    assert_eq!(shown["data"][0]["y"], json!([4, 5, 6]), "public data shows through");

    let seen_by_alice = alice.send(&files::Retrieve::new(grid.clone())).await.unwrap();
    let referencers: Vec<String> = seen_by_alice
        .referencers
        .unwrap_or_default()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(referencers, [public_plot.to_string()], "Bob's private plot stays hidden");
    let seen_by_bob = bob.send(&files::Retrieve::new(grid.clone())).await.unwrap();
    assert_eq!(seen_by_bob.referencers.unwrap_or_default().len(), 2, "{private_plot} is Bob's own");

    let private = FileUpdate::default().sharing(false, false);
    alice.send(&files::Update::patch(grid.clone(), private)).await.unwrap();
    for viewer in [&anonymous, &bob] {
        let figure = viewer.send(&inline()).await.unwrap();
        assert!(figure["data"][0].get("y").is_none(), "{figure}");
        let mut request = Raw::new("GET", format!("plots/{public_plot}/content"));
        request.params.push(("map_data".to_owned(), "unreadable".to_owned()));
        let mapped = viewer.send(&request).await.unwrap();
        assert!(mapped.get("map_data").is_none(), "{mapped}");
    }
    alice
        .send(&files::Update::patch(grid.clone(), FileUpdate::default().sharing(true, false)))
        .await
        .unwrap();
    alice.send(&files::Trash::new(grid.clone())).await.unwrap();
    let figure = anonymous.send(&inline()).await.unwrap();
    assert!(figure["data"][0].get("y").is_none(), "a trashed grid shows nowhere: {figure}");

    // Bob's own private grid still shows through Bob's public plot: sharing a plot shares its data.
    let (own, _) = plot(&bob, "own", true, false).await;
    let figure = anonymous.send(&plots::Content::new(own).inline_data(true)).await.unwrap();
    assert_eq!(figure["data"][0]["y"], json!([4, 5, 6]));
}

#[tokio::test]
async fn folder_paths_are_bounded_before_anything_is_made() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let deep: Vec<String> = (0..64).map(|n| format!("d{n}")).collect();
    alice.send(&folders::Create::new(deep.join("/"))).await.expect("64 levels are fine");
    let err = alice.send(&folders::Create::new(format!("{}/one-more", deep.join("/")))).await;
    assert_eq!(status(err), 400);
    let millions = "a/".repeat(500_000);
    let err = alice.send(&folders::Create::new(millions)).await;
    assert_eq!(status(err), 400);
    let listed: Vec<chart_studio_models::File> = alice
        .items(folders::All { user: None, filetype: None, page_size: Some(1000), page: None })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 64, "nothing of the refused paths was made");
}
