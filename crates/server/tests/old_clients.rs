//! What old links and old clients ask for, from the binary over real HTTP: `/~USER/N/SLUG/`,
//! `.csv`, `/embed.js`, `/404.png`, `/static/avatar.png`, and the v1 API (`/apigetfile`,
//! `/clientresp`) with the statuses and messages the service gave (the Python client's own
//! tests of `apigetfile` check them).

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use common::{ALICE, BOB, Running, header, http, start};
use serde_json::{Value, json};

/// `apigetfile` headers: `who`'s credentials, less the header `without`.
fn v1_headers<'a>(who: (&'a str, &'a str), without: Option<&str>) -> Vec<(&'a str, &'a str)> {
    [
        ("plotly-username", who.0),
        ("plotly-apikey", who.1),
        ("plotly-version", "2.0"),
        ("plotly-platform", "pythonz"),
    ]
    .into_iter()
    .filter(|(name, _)| Some(*name) != without)
    .collect()
}

/// The binary, with alice and bob, without images.
fn serve() -> (Running, String) {
    let (alice, bob) = (format!("{}:{}", ALICE.0, ALICE.1), format!("{}:{}", BOB.0, BOB.1));
    start(&["--user", &alice, "--user", &bob, "--chromium", "/nonexistent/no-images-here"])
}

/// A plot of alice's, made through `/clientresp`: its page's path, `/~alice/N`.
fn plot_of_alice(url: &str, name: &str, public: bool) -> String {
    let traces = json!([{"type": "scatter", "y": [3, 1, 2]}]);
    let kwargs = json!({"filename": name, "world_readable": public});
    let made = clientresp(url, ALICE, &traces, &kwargs);
    made["url"].as_str().unwrap().strip_prefix(url).unwrap().to_owned()
}

fn get(url: &str, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let (status, _, body) = http(url, "GET", path, headers, "");
    (status, serde_json::from_str(&body).unwrap_or_else(|_| json!(body)))
}

#[test]
fn apigetfile_answers_as_the_service_did() {
    let (_server, url) = serve();
    let path = |page: String| page.replace("/~alice/", "/apigetfile/alice/") + "/";
    let public = path(plot_of_alice(&url, "shown", true));
    let private = path(plot_of_alice(&url, "hidden", false));

    let (status, body) = get(&url, &public, &v1_headers(BOB, None));
    assert_eq!(status, 200, "{body}");
    let figure = &body["payload"]["figure"];
    assert!(
        figure["data"][0]["y"].as_array().is_some_and(|y| !y.is_empty()),
        "data inlined: {body}"
    );
    for missing in ["plotly-username", "plotly-apikey", "plotly-version", "plotly-platform"] {
        let (status, body) = get(&url, &public, &v1_headers(BOB, Some(missing)));
        assert_eq!(status, 422, "without {missing}: {body}");
        assert!(body["error"].as_str().unwrap().contains(missing), "{body}");
    }
    let (status, body) = get(&url, &public, &v1_headers(("user_does_not_exist", "x"), None));
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "Aw, snap! We don't have an account for user_does_not_exist. Want to try again? Sign in is not case sensitive."
    );
    let (status, body) = get(&url, "/apigetfile/alice/1000/", &v1_headers(BOB, None));
    assert_eq!(status, 404);
    assert_eq!(
        body["error"],
        "Aw, snap! It looks like this file does not exist. Want to try again?"
    );
    let (status, _) = get(&url, &public, &v1_headers((BOB.0, "invalid-apikey"), None));
    assert_eq!(status, 401);
    let (status, _) = get(&url, &private, &v1_headers(BOB, None));
    assert_eq!(status, 403, "another account's private plot");
    let (status, _) = get(&url, &private, &v1_headers(ALICE, None));
    assert_eq!(status, 200, "its owner reads it");
    let (status, _) = get(&url, &private, &v1_headers(("", ""), None));
    assert_eq!(status, 403, "empty credentials read public plots only");
}

/// A `/clientresp` form as the Node and MATLAB clients send it.
fn clientresp(url: &str, who: (&str, &str), traces: &Value, kwargs: &Value) -> Value {
    let form = serde_urlencoded::to_string([
        ("un", who.0),
        ("key", who.1),
        ("origin", "plot"),
        ("platform", "nodejs"),
        ("version", "1.0.0"),
        ("args", &traces.to_string()),
        ("kwargs", &kwargs.to_string()),
    ])
    .unwrap();
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    let (status, _, body) = http(url, "POST", "/clientresp", &headers, &form);
    assert_eq!(status, 200, "v1 answers every call with 200: {body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn clientresp_makes_and_overwrites_plots_with_their_data_in_a_grid() {
    let (_server, url) = serve();
    let traces = json!([
        {"x": ["=1+1", "-1.5", "@A1"], "y": [4, 5, 6], "type": "bar", "name": "Sales"},
        {"y": [-1, "-2+3"], "name": "-cmd"},
    ]);
    let kwargs = json!({"filename": "reports/q1", "fileopt": "new", "layout": {"title": "Q1"}});
    let made = clientresp(&url, ALICE, &traces, &kwargs);
    assert_eq!((&made["error"], &made["filename"]), (&json!(""), &json!("q1")), "{made}");
    let link = made["url"].as_str().unwrap();
    let page = link.strip_prefix(&url).unwrap().to_owned();
    let (status, figure) = get(&url, &format!("{page}.json"), &[]);
    assert_eq!(status, 200);
    assert_eq!(figure["data"][0]["y"], json!([4, 5, 6]), "{figure}");
    assert_eq!(figure["layout"]["title"], "Q1");
    let (status, head, csv) = http(&url, "GET", &format!("{page}.csv"), &[], "");
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").unwrap().starts_with("text/csv"));
    // Text a spreadsheet would run as a formula is made inert; numbers stay as they are.
    assert_eq!(csv, "Sales x,Sales y,'-cmd y\n'=1+1,4,-1\n-1.5,5,'-2+3\n'@A1,6,\n");

    // fileopt new with a taken name: a numbered name; overwrite: the same plot, new data.
    let again = clientresp(&url, ALICE, &traces, &kwargs);
    assert_eq!(again["filename"], "q1 (2)", "{again}");
    let changed = json!([{"y": [7, 8], "type": "bar"}]);
    let kwargs = json!({"filename": "reports/q1", "fileopt": "overwrite", "world_readable": false});
    let overwritten = clientresp(&url, ALICE, &changed, &kwargs);
    assert_eq!(overwritten["url"], made["url"], "{overwritten}");
    let (status, _) = get(&url, &format!("{page}.json"), &[]);
    assert_eq!(status, 404, "made private");
    let (_, body) =
        get(&url, &page.replace("/~alice/", "/apigetfile/alice/"), &v1_headers(ALICE, None));
    assert_eq!(body["payload"]["figure"]["data"][0]["y"], json!([7, 8]), "{body}");

    let refused = clientresp(&url, (ALICE.0, "wrong-key-here"), &traces, &json!({}));
    assert_eq!(refused["url"], "");
    assert!(refused["error"].as_str().unwrap().contains("doesn't match our records"), "{refused}");
    let append = clientresp(&url, ALICE, &traces, &json!({"fileopt": "append"}));
    assert!(append["error"].as_str().unwrap().contains("not served"), "{append}");
    let (status, body) = get(&url, "/apigenimage", &[]);
    assert_ne!(status, 200, "{body}");
}

#[test]
fn old_link_forms_answer() {
    let (_server, url) = serve();
    let public = plot_of_alice(&url, "shown", true);
    let private = plot_of_alice(&url, "hidden", false);
    let (status, _, page) = http(&url, "GET", &format!("{public}/any-title-slug/"), &[], "");
    assert_eq!(status, 200);
    assert!(page.contains("id=\"chart\""), "the chart's page: {page}");
    for path in [
        format!("{private}/any-title-slug/"),
        format!("{private}.csv"),
        format!("{public}.png/slug"),
    ] {
        let (status, _, _) = http(&url, "GET", &path, &[], "");
        assert_eq!(status, 404, "{path}");
    }
    let (status, head, script) = http(&url, "GET", "/embed.js", &[], "");
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").unwrap().starts_with("text/javascript"));
    assert!(script.contains("data-plotly") && script.contains("sharekey-plotly"));
    for path in ["/404.png", "/static/avatar.png", "/static/background.png"] {
        let (status, head, body) = http(&url, "GET", path, &[], "");
        assert_eq!((status, header(&head, "content-type")), (200, Some("image/png")), "{path}");
        assert!(body.starts_with("\u{FFFD}PNG\r\n"), "{path}");
    }
}

/// The v1 routes count the account they name (in the form, or the `plotly-*` headers) against
/// its daily quota and its rate, as v2 requests count theirs, and anonymous calls against the
/// address: accounts behind one address do not share limits.
#[test]
fn v1_calls_count_against_their_account_s_limits() {
    let (alice, bob) = (format!("{}:{}", ALICE.0, ALICE.1), format!("{}:{}", BOB.0, BOB.1));
    let users = ["--user", &alice, "--user", &bob, "--chromium", "/nonexistent/no-images-here"];
    let traces = json!([{"y": [1, 2]}]);

    let (_quota, url) = start(&[&users[..], &["--daily-quota", "2"]].concat());
    for _ in 0..2 {
        let made = clientresp(&url, ALICE, &traces, &json!({}));
        assert_eq!(made["error"], "", "{made}");
    }
    let refused = clientresp(&url, ALICE, &traces, &json!({}));
    assert!(refused["error"].as_str().unwrap().contains("threshold of 2"), "{refused}");
    assert_eq!(refused["url"], "", "nothing made over the quota");
    let made = clientresp(&url, BOB, &traces, &json!({}));
    assert_eq!(made["error"], "", "bob has his own quota: {made}");

    let (_rate, url) = start(&[&users[..], &["--rate-limit", "0.01"]].concat());
    let made = clientresp(&url, BOB, &traces, &json!({"world_readable": true}));
    let plot =
        made["url"].as_str().unwrap().strip_prefix(&url).unwrap().replace("/~", "/apigetfile/");
    // Bob's `clientresp` took his one call: alice's and the address's are still there.
    let calls = [(ALICE, 200), (ALICE, 429), (("", ""), 200), (("", ""), 429), (BOB, 429)];
    for (who, expected) in calls {
        let (status, body) = get(&url, &plot, &v1_headers(who, None));
        assert_eq!(status, expected, "{} after the calls before: {body}", who.0);
    }
}
