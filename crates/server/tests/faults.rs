//! End-to-end: each fault mode, and 200 concurrent clients with no lost or duplicated files.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use chart_studio_api::common::FileUpdate;
use chart_studio_api::{Error, TransportErrorKind, files, folders, grids, users};
use chart_studio_models::GridContent;
use chart_studio_server::{Faults, ServerConfig};
use common::{ALICE, BOB, client, server, server_with};
use futures_util::TryStreamExt;
use serde_json::json;

fn small_grid(name: &str) -> grids::Create {
    grids::Create::new(
        grids::GridCreate::new(GridContent::from_columns([("a".to_owned(), vec![json!(1)])]))
            .filename(name),
    )
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let server = server_with(ServerConfig {
        faults: Faults { latency: Duration::from_millis(150), ..Faults::default() },
        ..ServerConfig::default()
    })
    .await;
    let alice = client(&server, Some(ALICE));
    let started = tokio::time::Instant::now();
    alice.send(&users::Current {}).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn server_errors_are_json_or_html_and_retryable() {
    let server = server().await;
    server.set_faults(Faults { error_rate: 1.0, seed: 3, ..Faults::default() });
    let alice = client(&server, Some(ALICE));
    let mut statuses = BTreeSet::new();
    for _ in 0..30 {
        let err = alice.send(&users::Current {}).await.unwrap_err();
        let api = err.as_api().expect("an API error");
        assert!(err.is_retryable());
        if api.status == 502 {
            assert!(api.message().contains("HTML page"), "{}", api.message());
        }
        statuses.insert(api.status.as_u16());
    }
    assert_eq!(statuses, BTreeSet::from([500, 502, 503]));
    server.set_faults(Faults::default());
    assert!(alice.send(&users::Current {}).await.is_ok());
}

#[tokio::test]
async fn dropped_connections_cut_responses_after_the_change() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    server.set_faults(Faults { drop_rate: 1.0, ..Faults::default() });
    let err = alice.send(&small_grid("g")).await.unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("expected a transport error, got {err:?}")
    };
    assert_eq!(transport.kind(), TransportErrorKind::Interrupted, "{err}");
    server.set_faults(Faults::default());
    let found =
        alice.send(&files::Lookup::new("g")).await.expect("the grid was created before the cut");
    assert_eq!(found.fid.to_string(), "alice:0");
}

#[tokio::test]
async fn throttles_say_how_long_to_wait() {
    let server = server().await;
    server.set_faults(Faults {
        throttle_rate: 1.0,
        throttle_wait: Duration::from_secs(3),
        ..Faults::default()
    });
    let err = client(&server, Some(ALICE)).send(&users::Current {}).await.unwrap_err();
    let api = err.as_api().unwrap();
    assert!(api.is_throttle() && !api.is_quota());
    assert_eq!(api.message(), "Request was throttled. Expected available in 3.0 seconds.");
    assert_eq!(api.retry_after(), Some(Duration::from_secs(3)));
}

#[tokio::test]
async fn the_daily_quota_stops_changes_only() {
    let server = server().await;
    let alice = client(&server, Some(ALICE));
    let fid = alice.send(&small_grid("g")).await.unwrap().file.file.fid;
    server.set_faults(Faults { daily_quota: Some(2), ..Faults::default() });
    for name in ["a", "b"] {
        alice
            .send(&files::Update::patch(fid.clone(), FileUpdate::default().filename(name)))
            .await
            .unwrap();
    }
    let err = alice
        .send(&files::Update::patch(fid.clone(), FileUpdate::default().filename("c")))
        .await
        .unwrap_err();
    let api = err.as_api().unwrap();
    assert!(api.is_quota() && !err.is_retryable(), "{err}");
    assert!(
        api.message()
            .contains("threshold of 2 combined image exports and chart saves per 24h period")
    );
    assert!(alice.send(&files::Retrieve::new(fid.clone())).await.is_ok(), "reads are not limited");
    assert!(
        client(&server, Some(BOB)).send(&small_grid("bob's")).await.is_ok(),
        "quotas are per user"
    );
}

#[tokio::test]
async fn the_rate_limit_throttles_bursts_per_user() {
    let server = server().await;
    server.set_faults(Faults { rate_limit: Some(2.0), ..Faults::default() });
    let alice = client(&server, Some(ALICE));
    let mut throttled = 0;
    for _ in 0..12 {
        match alice.send(&users::Current {}).await {
            Ok(_) => {}
            Err(err)
                if err
                    .as_api()
                    .is_some_and(|api| api.is_throttle() && api.retry_after().is_some()) =>
            {
                throttled += 1;
            }
            Err(err) => panic!("{err}"),
        }
    }
    assert!(throttled >= 5, "{throttled} of 12 burst requests throttled at 2/s");
}

#[tokio::test]
async fn two_hundred_concurrent_clients_lose_and_duplicate_nothing() {
    let server = server().await;
    let users: Vec<(String, String)> =
        (0..4).map(|i| (format!("load{i}"), format!("load-key-{i}"))).collect();
    for (user, key) in &users {
        server.add_user(user, key).unwrap();
    }
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..200 {
        let (user, key) = users[n % users.len()].clone();
        let client = client(&server, Some((&user, &key)));
        tasks.spawn(async move {
            let grid = client.send(&small_grid(&format!("grid {n}"))).await?.file.file.fid;
            client
                .send(&files::Update::patch(
                    grid.clone(),
                    FileUpdate::default().parent_path(format!("dir{}", n % 3)),
                ))
                .await?;
            client.send(&files::Retrieve::new(grid.clone())).await?;
            Ok::<_, Error>(grid)
        });
    }
    let mut created = BTreeSet::new();
    let outcome = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(joined) = tasks.join_next().await {
            assert!(
                created.insert(joined.expect("task").expect("requests succeed")),
                "duplicate fid"
            );
        }
    })
    .await;
    assert!(outcome.is_ok(), "the load finished within the time bound");
    assert_eq!(created.len(), 200);
    for (user, key) in &users {
        let all = folders::All {
            user: Some(user.clone()),
            filetype: Some("grid".to_owned()),
            page_size: Some(20),
            page: None,
        };
        let listed: Vec<_> =
            client(&server, Some((user, key))).items(all).try_collect().await.unwrap();
        assert_eq!(listed.len(), 50, "{user}");
        assert!(listed.iter().all(|f| created.contains(&f.fid)));
    }
}

#[tokio::test]
async fn quotas_and_rate_limits_count_only_against_verified_accounts() {
    let server = server().await;
    server.set_faults(Faults { daily_quota: Some(1), ..Faults::default() });
    let impostor = client(&server, Some((ALICE.0, "not-alices-key")));
    for n in 0..3 {
        let err = impostor.send(&small_grid(&format!("x{n}"))).await.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
    }
    let alice = client(&server, Some(ALICE));
    alice.send(&small_grid("mine")).await.expect("Alice's quota is untouched");
    let err = alice.send(&small_grid("mine 2")).await.unwrap_err();
    assert!(err.as_api().is_some_and(|api| api.is_quota()), "{err}");

    server.set_faults(Faults { rate_limit: Some(1.0), ..Faults::default() });
    let anonymous = client(&server, None);
    let mut throttled = 0;
    for _ in 0..3 {
        if anonymous.send(&users::ByName { username: "alice".to_owned() }).await.is_err() {
            throttled += 1;
        }
    }
    assert!(throttled >= 1, "anonymous requests share their address's rate");
    client(&server, Some(BOB)).send(&users::Current {}).await.expect("Bob has his own budget");
}
