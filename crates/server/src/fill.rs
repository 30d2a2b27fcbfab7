//! Filling a data folder without the HTTP API, for the server benchmark (`cargo xtask bench
//! --only server`): grids and the plots drawn from them, written through the store's rules in
//! large transactions.

use std::path::Path;

use anyhow::{Context, Result};
use chart_studio_models::HOME_FOLDER;
use serde_json::{Value, json};

use crate::content::{Body, StoredColumn};
use crate::db::Db;
use crate::store::{NewFile, Store};

/// Files committed per transaction (fewer when grids are large).
const PER_COMMIT: usize = 2_000;
/// Grid values held before a commit.
const VALUES_PER_COMMIT: usize = 4_000_000;

/// Adds `pairs` grids of `rows` rows (two number columns) and as many plots, each drawn from
/// its grid, to `username`'s home folder in data folder `dir` (the account is created with
/// `api_key` when missing). The files' idlocals follow the account's last: a grid, then its
/// plot. A folder a running server holds is refused: one writer per data folder.
pub fn fill(dir: &Path, username: &str, api_key: &str, pairs: usize, rows: usize) -> Result<()> {
    let _lock = crate::control::try_lock(dir)?.with_context(|| {
        format!("a chart-studio-server uses {}; stop it before filling it", dir.display())
    })?;
    let (mut store, _) = Store::open(Db::open(dir)?, 0, 0)?;
    if store.account(username).is_none() {
        store.add_account(username, api_key)?;
    }
    let first = usize::try_from(store.file_count(username, None)?)?;
    let per_commit = (VALUES_PER_COMMIT / (2 * rows).max(1)).clamp(1, PER_COMMIT / 2);
    for pair in first..first + pairs {
        let column = |name: &str, uid: &str, scale: f64| StoredColumn {
            name: name.to_owned(),
            uid: uid.to_owned(),
            data: (0..rows).map(|row| json!(row as f64 * scale)).collect(),
        };
        let columns = vec![column("x", "aaaaaa", 1.0), column("y", "bbbbbb", 0.5)];
        let grid = store.create(
            username,
            NewFile::named(&format!("grid {pair}"), HOME_FOLDER, true, Body::grid(columns)),
        )?;
        let figure: Value = json!({
            "data": [{
                "type": "scatter",
                "xsrc": format!("{username}:{grid}:aaaaaa"),
                "ysrc": format!("{username}:{grid}:bbbbbb"),
            }],
            "layout": {"title": {"text": format!("plot {pair}")}},
        });
        store.create(
            username,
            NewFile::named(&format!("plot {pair}"), HOME_FOLDER, true, Body::plot(figure)),
        )?;
        if (pair + 1) % per_commit == 0 {
            store.commit()?;
        }
    }
    store.commit()
}
