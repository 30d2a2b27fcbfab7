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
