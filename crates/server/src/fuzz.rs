//! Random and malformed requests at the whole service: no panic, no 500, and no private or
//! secret file of another account ever in an answer.

use axum::body::Body;
use base64::Engine;
use http::{Method, Request, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::images::tests::images_off;
use crate::pages::Cursor;
use crate::state::{App, Shared, Urls};
use crate::store::{Body as Content, Changes, NewFile, Store};
use crate::{Faults, Limits};

/// Alice's files that Bob and anonymous requests must never see, and her secret file's key.
struct Hidden {
    fids: Vec<String>,
    share_key: String,
}

fn fixture() -> (Shared, Hidden) {
    let mut store = Store::new(7);
    store.add_account("alice", "alice-key-0123456789").unwrap();
    store.add_account("bob", "bob-key-0123456789").unwrap();
    crate::seed::plots(&mut store, "alice", 2, "private", false).unwrap();
    crate::seed::plots(&mut store, "alice", 1, "public", true).unwrap();
    crate::seed::plots(&mut store, "bob", 1, "mine", true).unwrap();
    // alice:0 private folder, 1-4 private grids and plots; 5 public folder, 6-7 public; make
    // alice:4 (a private plot) secret.
    let secret = Changes {
        filename: None,
        parent: None,
        parent_path: None,
        world_readable: Some(false),
        share_key_enabled: Some(true),
        metadata: None,
        body: None,
    };
    store.update("alice", 4, secret).unwrap();
    let share_key = store.file("alice", 4).unwrap().unwrap().share_key.clone().unwrap();
    // A private plot of Alice's drawing from Bob's public grid (bob:1): Bob's grid must not
    // name it.
    let Some(Content::Grid { columns }) = store.body("bob", 1).unwrap() else {
        panic!("bob:1 is a grid");
    };
    let figure = json!({"data": [{"ysrc": format!("bob:1:{}", columns[0].uid)}], "layout": {}});
    let uses_bob = NewFile {
        filename: Some("uses bob".to_owned()),
        parent: None,
        parent_path: None,
        world_readable: false,
        share_key_enabled: false,
        metadata: None,
        body: Content::plot(figure),
        idlocal: None,
    };
    let private_user = store.create("alice", uses_bob).unwrap();
    // A public dashboard (alice:9) over a public plot of each account, Alice's private plot
    // and her secret one (without its key), and a text box: its page draws two plots only.
    let plot = |fid: &str| json!({"type": "box", "boxType": "plot", "fileId": fid});
    let split = |first, second| json!({"type": "split", "first": first, "second": second});
    let text = json!({"type": "box", "boxType": "text", "text": "<b>hi</b>"});
    let layout = split(
        split(plot("alice:7"), plot("bob:3")),
        split(plot("alice:2"), split(plot("alice:4"), text)),
    );
    let board = json!({"layout": layout, "settings": {}, "version": 2});
    let dashboard = NewFile {
        filename: Some("board".to_owned()),
        body: Content::document(&chart_studio_models::FileType::Dashboard, &board.to_string())
            .unwrap(),
        world_readable: true,
        ..private_file()
    };
    assert_eq!(store.create("alice", dashboard).unwrap(), 9);
    let fids = (0..5).chain([private_user]).map(|id| format!("alice:{id}")).collect();
    let urls = Urls { api: "http://127.0.0.1:9".to_owned(), web: "http://127.0.0.1:9".to_owned() };
    let app = std::sync::Arc::new(App::new(
        store,
        urls,
        Limits::default(),
        Faults::default(),
        images_off(),
    ));
    (app, Hidden { fids, share_key })
}

/// A private file in the home folder, to be filled in.
fn private_file() -> NewFile {
    NewFile {
        filename: None,
        parent: None,
        parent_path: None,
        world_readable: false,
        share_key_enabled: false,
        metadata: None,
        body: Content::Folder,
        idlocal: None,
    }
}

fn basic(user: &str, key: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{key}")))
}

/// Any hidden file in an answer: an object with its `fid`, a link to it, or the secret key.
fn leaks(value: &Value, hidden: &Hidden) -> Option<String> {
    match value {
        Value::Object(object) => {
            for (key, item) in object {
                let names_hidden =
                    |v: &Value| v.as_str().is_some_and(|s| hidden.fids.iter().any(|f| f == s));
                if key == "fid" && names_hidden(item) {
                    return Some(format!("fid {item}"));
                }
                if (key == "references" || key == "referencers")
                    && item.as_array().is_some_and(|links| links.iter().any(names_hidden))
                {
                    return Some(format!("{key} {item}"));
                }
                if let Some(found) = leaks(item, hidden) {
                    return Some(found);
                }
            }
            None
        }
        Value::Array(items) => items.iter().find_map(|item| leaks(item, hidden)),
        Value::String(text) if text.contains(&hidden.share_key) => Some("the share key".to_owned()),
        _ => None,
    }
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just(String::new()),
        6 => (0u64..9).prop_map(|id| format!("alice:{id}")),
        1 => Just("bob:1".to_owned()),
        1 => Just("alice:18446744073709551615".to_owned()),
        1 => Just("alice:-1".to_owned()),
        1 => "[a-z:%./~-]{0,12}",
        1 => "\\PC{0,8}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    let collection = prop_oneof![
        Just("files"),
        Just("plots"),
        Just("grids"),
        Just("folders"),
        Just("users"),
        Just("search"),
        Just("dashboards"),
        Just("spectacle-presentations"),
    ];
    let action = prop_oneof![
        6 => Just(""),
        4 => Just("content"),
        1 => Just("trash"),
        1 => Just("restore"),
        1 => Just("permanent_delete"),
        1 => Just("col"),
        1 => Just("row"),
        1 => Just("copy"),
        1 => Just("lookup"),
        1 => Just("all"),
        1 => Just("trashed"),
        1 => Just("home"),
        1 => Just("feed"),
    ];
    let any_path = (collection, segment(), action).prop_map(|(c, s, a)| format!("/v2/{c}/{s}/{a}"));
    // The listings, where paging and cursors are read.
    let listing = prop_oneof![
        Just("/v2/plots"),
        Just("/v2/plots/feed"),
        Just("/v2/folders/all"),
        Just("/v2/folders/home"),
        Just("/v2/folders/trashed"),
        Just("/v2/search"),
        Just("/v2/folders/alice:5"),
        Just("/v2/files/alice:7/image"),
        Just("/~alice/7.png"),
        Just("/~alice/4.svg"),
        Just("/v2/dashboards"),
        Just("/v2/spectacle-presentations"),
        Just("/v2/dashboards/alice:9"),
        Just("/~alice/9/"),
        Just("/dashboard/alice:9/present"),
        Just("/dashboard/alice:4/embed"),
    ]
    .prop_map(str::to_owned);
    (prop_oneof![3 => any_path, 2 => listing], any::<bool>()).prop_map(|(path, slash)| {
        let mut path = path.replace("//", "/");
        if slash {
            path.push('/');
        }
        path
    })
}

/// A cursor as the listings hand them out, or a malformed one: positions past either end,
/// creation times, indexes for `order_by=views`, text and raw base64.
fn cursor() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..6).prop_map(|p| Cursor::After(p.to_string()).encode()),
        (0u64..6).prop_map(|p| Cursor::Before(p.to_string()).encode()),
        "[0-9]{1,25}".prop_map(|p| Cursor::After(p).encode()),
        "[0-9]{1,25}".prop_map(|p| Cursor::Before(p).encode()),
        "\\PC{0,12}".prop_map(|p| Cursor::After(p).encode()),
        "\\PC{0,12}".prop_map(|p| Cursor::Before(p).encode()),
        Just(Cursor::After("2019-06-17 22:53:08.896500+00:00".to_owned()).encode()),
        Just(Cursor::Before("9999-01-01 00:00:00.000000+00:00".to_owned()).encode()),
        Just(Cursor::After("9999-01-01 00:00:00.000000+00:00".to_owned()).encode()),
        "[A-Za-z0-9+/=%]{0,30}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("share_key"),
        Just("user"),
        Just("path"),
        Just("inline_data"),
        Just("map_data"),
        Just("q"),
        Just("filetype"),
        Just("uid"),
        Just("exists"),
        Just("parent"),
        Just("min_quality"),
    ];
    let value = prop_oneof![
        Just("alice".to_owned()),
        Just("unreadable".to_owned()),
        Just("true".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("private/plot 0".to_owned()),
        Just("public/plot 0".to_owned()),
        "[A-Za-z0-9+/=%]{0,30}",
    ];
    let number = prop_oneof![
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999".to_owned()),
        Just("18446744073709551616".to_owned()),
        (1u32..5).prop_map(|n| n.to_string()),
    ];
    let pair = prop_oneof![
        4 => (key, value).prop_map(|(k, v)| (k.to_owned(), v)),
        3 => cursor().prop_map(|c| ("cursor".to_owned(), c)),
        2 => prop_oneof![Just("-views"), Just("views"), Just("title")]
            .prop_map(|o| ("order_by".to_owned(), o.to_owned())),
        1 => number.clone().prop_map(|n| ("page".to_owned(), n)),
        1 => number.prop_map(|n| ("page_size".to_owned(), n)),
    ];
    proptest::collection::vec(pair, 0..4).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(json!({"world_readable": true, "share_key_enabled": false}).to_string().into_bytes()),
        Just(json!({"path": "x/y"}).to_string().into_bytes()),
        Just(
            json!({"figure": {"data": [{"ysrc": "alice:1:zzzzzz"}]}, "filename": "f"})
                .to_string()
                .into_bytes()
        ),
        Just(b"world_readable=true&filename=z".to_vec()),
        any_json().prop_map(|content| json!({"content": content.to_string(), "filename": "d"})
            .to_string()
            .into_bytes()),
        any_json()
            .prop_map(|layout| json!({"content": {"layout": layout}}).to_string().into_bytes()),
        Just(b"{\"cols\": \"[{\\\"name\\\": 1}]\"}".to_vec()),
        Just(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// A JSON value of any shape, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Bodies for `POST /v2/images`: figures good and bad, as objects or text, with formats,
/// sizes and scales of every kind, and bytes that are not JSON at all.
fn image_body() -> impl Strategy<Value = Vec<u8>> {
    let figure = prop_oneof![
        Just(json!({"data": [{"type": "bar", "y": [1, 2]}]})),
        Just(json!({"data": []})),
        Just(json!({"layout": {"width": 1e308, "height": -1}})),
        any_json(),
    ];
    let figure = (figure, any::<bool>()).prop_map(|(figure, as_text)| {
        if as_text { Value::from(figure.to_string()) } else { figure }
    });
    let format = prop_oneof![
        Just(Value::from("png")),
        Just(Value::from("eps")),
        Just(Value::from("PDF")),
        any_json(),
    ];
    let number = prop_oneof![
        any::<f64>()
            .prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        Just(Value::from("300")),
        Just(Value::from(0)),
        Just(Value::from(u64::MAX)),
        any_json(),
    ];
    let fields = (figure, format, number.clone(), number.clone(), number, any_json()).prop_map(
        |(figure, format, width, height, scale, encoded)| {
            json!({"figure": figure, "format": format, "width": width, "height": height,
                   "scale": scale, "encoded": encoded})
            .to_string()
            .into_bytes()
        },
    );
    prop_oneof![4 => fields, 1 => proptest::collection::vec(any::<u8>(), 0..64), 1 => any_json().prop_map(|v| v.to_string().into_bytes())]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn no_image_request_panics_or_errs_500(body in image_body(), who in 0u8..3) {
        let (app, _) = fixture();
        let mut request = Request::builder().method(Method::POST).uri("/v2/images");
        request = match who {
            0 => request,
            1 => request.header("authorization", basic("bob", "bob-key-0123456789")),
            _ => request.header("authorization", basic("alice", "wrong")),
        };
        let request = request.header("content-type", "application/json").body(Body::from(body)).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let response = runtime.block_on(crate::service(app.clone()).oneshot(request)).unwrap();
        prop_assert_eq!(app.panics.load(std::sync::atomic::Ordering::Relaxed), 0);
        prop_assert!(response.status() != StatusCode::INTERNAL_SERVER_ERROR);
        prop_assert!(matches!(response.status().as_u16(), 400 | 401 | 503), "{}", response.status());
    }

    #[test]
    fn no_request_panics_errs_500_or_shows_another_accounts_private_files(
        method in prop_oneof![
            6 => Just(Method::GET),
            1 => Just(Method::POST),
            1 => Just(Method::PUT),
            1 => Just(Method::PATCH),
            1 => Just(Method::DELETE),
            1 => Just(Method::HEAD),
        ],
        path in path(),
        query in query(),
        body in body(),
        who in 0u8..5,
        json_body in any::<bool>(),
    ) {
        let (app, hidden) = fixture();
        let uri = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let Ok(uri) = uri.parse::<http::Uri>() else { return Ok(()) };
        let mut request = Request::builder().method(method.clone()).uri(uri);
        request = match who {
            0 => request,
            1 => request.header("authorization", basic("bob", "bob-key-0123456789")),
            2 => request.header("authorization", basic("alice", "wrong")),
            3 => request.header("authorization", "Basic !!!not base64"),
            _ => request.header("plotly-authorization", basic("bob", "bob-key-0123456789")),
        };
        if json_body {
            request = request.header("content-type", "application/json");
        } else {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let request = request.body(Body::from(body)).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let response = runtime.block_on(crate::service(app.clone()).oneshot(request)).unwrap();
        let status = response.status();
        prop_assert_eq!(app.panics.load(std::sync::atomic::Ordering::Relaxed), 0, "{} {}?{}: a route panicked", method, path, query);
        prop_assert!(status != StatusCode::INTERNAL_SERVER_ERROR, "{method} {path}?{query}: 500");
        let bytes = runtime.block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).unwrap();
        if path.starts_with("/~alice/9") || path.starts_with("/dashboard/alice:9") {
            let page = String::from_utf8_lossy(&bytes);
            prop_assert!(!page.contains("id=\"figure-2\""), "{path}: a private plot was drawn");
            prop_assert!(!page.contains("<b>hi"), "{path}: the text box is not text");
        }
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let leaked = leaks(&value, &hidden);
            prop_assert!(leaked.is_none(), "{method} {path}?{query} showed {leaked:?}: {value}");
        }
    }
}
