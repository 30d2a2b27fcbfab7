//! Dashboards and presentations over real HTTP: they are files (fids, folders, sharing, trash,
//! lookup, `folders/all`), their content is kept as given, bad content is refused, and their
//! pages follow the same 404 rules as plot pages, showing only the plots the reader may read.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use chart_studio_api::common::FileUpdate;
use chart_studio_api::documents::DocumentCreate;
use chart_studio_api::{dashboards, files, folders, presentations};
use chart_studio_models::Fid;
use common::{ALICE, BOB, client, http, server, status};
use serde_json::json;

fn plot_box(fid: &str, share_key: Option<&str>) -> serde_json::Value {
    json!({"type": "box", "boxType": "plot", "fileId": fid, "shareKey": share_key, "title": fid})
}

fn board(first: serde_json::Value, second: serde_json::Value) -> serde_json::Value {
    json!({"layout": {"type": "split", "direction": "horizontal", "size": 50, "sizeUnit": "%",
        "first": first, "second": second}, "settings": {}, "version": 2})
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboards_are_files_with_their_content_kept_as_given() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let plots = server.add_plots(ALICE.0, 2, "", true).unwrap();
    let content = board(plot_box(&plots[0], None), plot_box(&plots[1], None));
    let create = DocumentCreate::new(&content).filename("board").parent_path("team/boards");
    let made = alice.send(&dashboards::Create::new(create.sharing(false, false))).await.unwrap();
    let fid = made.file.file.fid.clone();
    assert_eq!(made.file.content.as_deref(), Some(content.to_string().as_str()));
    let urls = made.file.file.api_urls.clone().unwrap();
    assert_eq!(urls["dashboards"], format!("{}/v2/dashboards/{fid}", server.url()));
    assert_eq!(
        made.file.file.web_url.as_deref(),
        Some(format!("{}/~alice/{}/", server.url(), fid.idlocal()).as_str())
    );

    // Listed (own only), looked up by path, in folders/all with its filetype.
    let listed = alice.send(&dashboards::List::default()).await.unwrap();
    assert_eq!(listed.results.iter().map(|f| &f.fid).collect::<Vec<_>>(), [&fid]);
    let bob = client(&server, Some(BOB));
    assert!(bob.send(&dashboards::List::default()).await.unwrap().results.is_empty());
    let found = alice.send(&files::Lookup::new("team/boards/board")).await.unwrap();
    assert_eq!(found.fid, fid);
    let all = folders::All { filetype: Some("dashboard".to_owned()), ..Default::default() };
    let all = alice.send(&all).await.unwrap();
    assert_eq!(all.children.results.iter().map(|f| &f.fid).collect::<Vec<_>>(), [&fid]);

    // Private: another reader gets a 404, through the API and the pages.
    assert_eq!(status(bob.send(&dashboards::Retrieve::new(fid.clone())).await), 404);
    let page = format!("/~alice/{}/", fid.idlocal());
    assert_eq!(http(server.url(), "GET", &page, &[], "").0, 404);
    let dashboard_page = format!("/dashboard/{fid}/present");
    assert_eq!(http(server.url(), "GET", &dashboard_page, &[], "").0, 404);

    // Secret: the key opens the page and the API; the content is updated in place.
    let secret = alice
        .send(&files::Update::patch(fid.clone(), FileUpdate::default().sharing(false, true)))
        .await
        .unwrap();
    let key = secret.share_key().unwrap().to_owned();
    let read = bob.send(&dashboards::Retrieve::new(fid.clone()).share_key(&key)).await.unwrap();
    assert_eq!(read.content, made.file.content);
    assert_eq!(http(server.url(), "GET", &format!("{page}?share_key={key}"), &[], "").0, 200);
    for mode in ["", "/view", "/present", "/embed"] {
        let path = format!("/dashboard/{fid}{mode}?share_key={key}");
        assert_eq!(http(server.url(), "GET", &path, &[], "").0, 200, "{path}");
    }
    let changed = board(plot_box(&plots[1], None), json!({"type": "box", "boxType": "empty"}));
    let update =
        format!(r#"{{"content": {}}}"#, serde_json::to_string(&changed.to_string()).unwrap());
    let auth = [
        ("Authorization", "Basic YWxpY2U6YWxpY2UtdGVzdC1rZXk="),
        ("Content-Type", "application/json"),
    ];
    let path = format!("/v2/dashboards/{fid}");
    assert_eq!(http(server.url(), "PUT", &path, &auth, &update).0, 200);
    let read = alice.send(&dashboards::Retrieve::new(fid.clone())).await.unwrap();
    assert_eq!(read.content.as_deref(), Some(changed.to_string().as_str()));

    // Trash, restore, permanent delete through the shared verbs.
    alice.send(&dashboards::Trash::new(fid.clone())).await.unwrap();
    assert_eq!(http(server.url(), "GET", &format!("{page}?share_key={key}"), &[], "").0, 404);
    let listed = alice.send(&dashboards::List::default()).await.unwrap();
    assert_eq!(listed.results[0].deleted, Some(true), "trashed ones are listed, marked deleted");
    alice.send(&dashboards::Restore::new(fid.clone())).await.unwrap();
    alice.send(&dashboards::Trash::new(fid.clone())).await.unwrap();
    alice.send(&dashboards::PermanentDelete::new(fid.clone())).await.unwrap();
    assert_eq!(status(alice.send(&dashboards::Retrieve::new(fid)).await), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_content_is_refused_and_collections_keep_to_their_kind() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let auth = [
        ("Authorization", "Basic YWxpY2U6YWxpY2UtdGVzdC1rZXk="),
        ("Content-Type", "application/json"),
    ];
    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
    for body in [
        r#"{"filename": "none"}"#.to_owned(),
        r#"{"content": "not json"}"#.to_owned(),
        r#"{"content": "[1, 2]"}"#.to_owned(),
        r#"{"content": 3}"#.to_owned(),
        format!(
            r#"{{"content": {}}}"#,
            serde_json::to_string(&format!(r#"{{"layout": {deep}}}"#)).unwrap()
        ),
    ] {
        let (code, _, answer) = http(server.url(), "POST", "/v2/dashboards", &auth, &body);
        assert_eq!(code, 400, "{body:.80}: {answer}");
        assert!(answer.contains("content"), "{answer}");
    }
    let huge = format!(r#"{{"content": "{{\"text\": \"{}\"}}"}}"#, "x".repeat(30 << 20));
    assert_eq!(http(server.url(), "POST", "/v2/dashboards", &auth, &huge).0, 413);
    assert_eq!(http(server.url(), "POST", "/v2/dashboards", &[], r#"{"content": "{}"}"#).0, 401);

    let deck = json!({"presentation": {"slides": []}});
    let made = alice.send(&presentations::Create::new(DocumentCreate::new(&deck))).await.unwrap();
    let fid = made.file.file.fid;
    assert_eq!(made.file.file.filetype.as_str(), "spectacle_presentation");
    assert_eq!(status(alice.send(&dashboards::Retrieve::new(fid.clone())).await), 404);
    let plot: Fid = server.add_plots(ALICE.0, 1, "", true).unwrap()[0].parse().unwrap();
    assert_eq!(status(alice.send(&presentations::Retrieve::new(plot.clone())).await), 404);
    let figure = r#"{"figure": {"data": []}}"#;
    let path = format!("/v2/spectacle-presentations/{fid}");
    assert_eq!(
        http(server.url(), "PATCH", &path, &auth, figure).0,
        400,
        "a presentation has no figure"
    );
    let content = r#"{"content": "{}"}"#;
    assert_eq!(http(server.url(), "PATCH", &format!("/v2/files/{plot}"), &auth, content).0, 400);
    let schema = http(server.url(), "GET", "/v2/dashboards/schema", &[], "");
    assert_eq!(schema.0, 200);
    assert!(schema.2.contains("\"layout\""), "{}", schema.2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dashboard_page_shows_only_the_plots_its_reader_may_read() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let public = server.add_plots(ALICE.0, 1, "public", true).unwrap().remove(0);
    let secret = server.add_plots(ALICE.0, 1, "secret", false).unwrap().remove(0);
    let private = server.add_plots(BOB.0, 1, "", false).unwrap().remove(0);
    let key = alice
        .send(&files::Update::patch(
            secret.parse().unwrap(),
            FileUpdate::default().sharing(false, true),
        ))
        .await
        .unwrap()
        .share_key()
        .unwrap()
        .to_owned();
    let text = json!({"type": "box", "boxType": "text", "text": "<script>alert(1)</script>"});
    let content = board(
        board(plot_box(&public, None), plot_box(&secret, Some(&key)))["layout"].clone(),
        board(plot_box(&private, None), text)["layout"].clone(),
    );
    let create = DocumentCreate::new(&content).filename("mixed").sharing(true, false);
    let fid = alice.send(&dashboards::Create::new(create)).await.unwrap().file.file.fid;
    let (code, head, page) =
        http(server.url(), "GET", &format!("/~alice/{}/", fid.idlocal()), &[], "");
    assert_eq!(code, 200);
    assert_eq!(
        page.matches("data-figure=").count(),
        2,
        "the public plot and the secret one with its key"
    );
    assert_eq!(page.matches("Private plot").count(), 1, "bob's private plot is a placeholder");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "text is text");
    assert!(page.contains(&format!("og:image\" content=\"{}/~alice/", server.url())), "{page}");
    assert!(
        common::header(&head, "content-security-policy").unwrap().contains("default-src 'none'")
    );
}
