//! The web pages over plain HTTP/1.1: signing in with a form, the session cookie, what the owner
//! sees and others do not, and redirects that stay on the server.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use common::{ALICE, BOB, header, http, server};

/// Signs in through the form, as a browser on the server's own page sends it.
fn sign_in(url: &str, user: &str, key: &str, next: &str) -> (u16, String) {
    let form = format!("username={user}&api_key={key}&next={next}");
    let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", url)];
    let (status, head, _) = http(url, "POST", "/login", &headers, &form);
    (status, head)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_signs_in_and_sees_private_plots_others_do_not() {
    let server = server().await;
    let fids = server.add_plots(ALICE.0, 1, "mine", false).unwrap();
    let url = server.url().to_owned();
    let idlocal = fids[0].rsplit(':').next().unwrap().to_owned();
    let page = format!("/~alice/{idlocal}/");
    tokio::task::spawn_blocking(move || {
        let (status, _, body) = http(&url, "GET", &page, &[], "");
        assert_eq!(status, 404, "{body}");
        let (status, _, body) = http(&url, "GET", "/~alice/", &[], "");
        assert!(status == 200 && !body.contains("plot 0") && body.contains("Sign in"), "{body}");

        let (status, head) = sign_in(&url, ALICE.0, "wrong-key", "/");
        assert_eq!(status, 401, "{head}");
        assert!(header(&head, "set-cookie").is_none());

        let (status, head) = sign_in(&url, ALICE.0, ALICE.1, &page);
        assert_eq!(status, 303, "{head}");
        assert_eq!(header(&head, "location"), Some(page.as_str()));
        let cookie = header(&head, "set-cookie").unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let session = cookie.split(';').next().unwrap().to_owned();
        let signed_in = [("Cookie", session.as_str())];

        let (status, _, body) = http(&url, "GET", &page, &signed_in, "");
        assert!(
            status == 200 && body.contains("/static/chart.js") && body.contains("private"),
            "{body}"
        );
        let (_, _, listing) = http(&url, "GET", "/~alice/", &signed_in, "");
        assert!(listing.contains("plot 0") && listing.contains("Sign out"), "{listing}");

        // Alice's session is no key to Bob's pages, and Bob signed in does not see Alice's.
        let (status, _, _) = http(&url, "GET", "/~bob/0/", &signed_in, "");
        assert_eq!(status, 404);
        let (_, bob) = sign_in(&url, BOB.0, BOB.1, "/");
        let bob_session = header(&bob, "set-cookie").unwrap().split(';').next().unwrap().to_owned();
        let (status, _, _) = http(&url, "GET", &page, &[("Cookie", bob_session.as_str())], "");
        assert_eq!(status, 404);

        // Signing out ends the session; a redirect never leaves the server.
        let sign_out = [signed_in[0], ("Origin", url.as_str())];
        let (status, head, _) = http(&url, "POST", "/logout", &sign_out, "");
        assert_eq!(status, 303, "{head}");
        let (status, _, _) = http(&url, "GET", &page, &signed_in, "");
        assert_eq!(status, 404, "signed out");
        let (_, head) = sign_in(&url, ALICE.0, ALICE.1, "https://evil.example/");
        assert_eq!(header(&head, "location"), Some("/~alice/"));
    })
    .await
    .unwrap();
}

/// `/` is a home page in a browser (sign in, or the signed-in user's charts, and how clients
/// connect); an address nothing answers is the 404 page with a way to sign in for a browser,
/// and the API's JSON 404 for API clients and anywhere under `/v2`.
#[tokio::test(flavor = "multi_thread")]
async fn home_and_unknown_pages_speak_to_browsers_and_clients_alike() {
    let server = server().await;
    let url = server.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let browser = [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")];
        let (status, head, body) = http(&url, "GET", "/", &browser, "");
        assert_eq!(status, 200, "{body}");
        assert!(header(&head, "content-type").unwrap().starts_with("text/html"), "{head}");
        assert!(header(&head, "content-security-policy").is_some(), "{head}");
        assert!(body.contains("href=\"/login\"") && body.contains(&format!("{url}/v2/")), "{body}");

        let (_, head) = sign_in(&url, ALICE.0, ALICE.1, "/");
        let session = header(&head, "set-cookie").unwrap().split(';').next().unwrap().to_owned();
        let (_, _, body) = http(&url, "GET", "/", &[browser[0], ("Cookie", session.as_str())], "");
        assert!(body.contains("Signed in as alice") && body.contains("/~alice/"), "{body}");

        for path in ["/nowhere", "/~alice/999/"] {
            let (status, head, body) = http(&url, "GET", path, &browser, "");
            assert_eq!(status, 404, "{path}");
            assert!(header(&head, "content-type").unwrap().starts_with("text/html"), "{path}");
            assert!(body.contains("/login?next="), "{path}: {body}");
        }
        let (_, _, body) = http(&url, "GET", "/~alice/999/", &browser, "");
        assert!(body.contains("/login?next=%2F%7Ealice%2F999\""), "back to the chart: {body}");

        for (path, accept) in [("/nowhere", "application/json"), ("/v2/nothing", browser[0].1)] {
            let (status, head, body) = http(&url, "GET", path, &[("Accept", accept)], "");
            assert_eq!(status, 404, "{path}");
            assert!(header(&head, "content-type").unwrap().contains("json"), "{path}: {head}");
            assert!(body.contains("\"detail\":\"Not found.\""), "{path}: {body}");
        }
    })
    .await
    .unwrap();
}
