//! Sample data: captured `/v2/plots` pages (with grids synthesized behind their references) and
//! the demo account's folders and private, secret and public plots.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use chart_studio_models::{ColumnRef, CursorPage, Plot, source_refs, traces};
use chart_studio_sharing::Sharing;
use serde_json::{Value, json};

use crate::clock;
use crate::store::{Body, NewFile, Store, StoredColumn};

/// The real `/v2/plots` page that ships with the project's fixtures.
const CAPTURED_PAGE: &str = include_str!("../../../fixtures/plots/list/captured_page.json");

/// The demo account: a user name and an obviously fake key.
pub const DEMO_USER: (&str, &str) = ("demo", "demo-api-key");

/// Loads the captured page and the demo account's files.
pub(crate) fn demo(store: &mut Store) -> Result<()> {
    let fixture: Value =
        serde_json::from_str(CAPTURED_PAGE).context("the bundled captured page")?;
    let page: CursorPage<Plot> = serde_json::from_value(fixture["response"]["body"].clone())?;
    captured_plots(store, &page)?;
    demo_files(store)
}

/// Loads every `*.json` cursor page in `dir` (bodies of `GET /v2/plots`).
pub(crate) fn directory(store: &mut Store, dir: &Path) -> Result<()> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("could not read the seed folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let bytes =
            std::fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
        let page: CursorPage<Plot> = chart_studio_models::from_json_slice(&bytes)
            .with_context(|| format!("{} is not a /v2/plots page", path.display()))?;
        captured_plots(store, &page)
            .with_context(|| format!("could not load {}", path.display()))?;
    }
    Ok(())
}

/// Stores captured public plots under their own fids, each backed by a grid whose columns hold
/// made-up data for the references the figure makes.
fn captured_plots(store: &mut Store, page: &CursorPage<Plot>) -> Result<()> {
    for plot in &page.results {
        let fid = &plot.file.fid;
        let owner = fid.owner();
        if store.account(owner).is_none() {
            store.add_locked_account(owner)?;
        }
        let figure = plot.figure.clone().unwrap_or_else(|| json!({"data": []}));
        let mut grids: BTreeMap<chart_studio_models::Fid, Vec<StoredColumn>> = BTreeMap::new();
        for (_, trace) in traces(&figure) {
            for attribute in source_refs(trace) {
                let Some(reference) =
                    attribute.value.as_str().and_then(|t| t.parse::<ColumnRef>().ok())
                else {
                    continue;
                };
                let columns = grids.entry(reference.grid.clone()).or_default();
                if !columns.iter().any(|c| c.uid == reference.uid) {
                    let name = attribute.path.trim_end_matches("src").to_owned();
                    columns.push(StoredColumn {
                        data: sample_data(&name, columns.len()),
                        name,
                        uid: reference.uid,
                    });
                }
            }
        }
        for (grid, columns) in grids {
            if store.account(grid.owner()).is_none() {
                store.add_locked_account(grid.owner())?;
            }
            if store.file(grid.owner(), grid.idlocal())?.is_some() {
                continue;
            }
            let mut new = file(&format!("{} data", plot.file.filename), Body::grid(columns), true);
            new.idlocal = Some(grid.idlocal());
            store.create(grid.owner(), new)?;
        }
        if store.file(owner, fid.idlocal())?.is_some() {
            continue; // Loaded from the data folder by an earlier run.
        }
        let mut new = file(&plot.file.filename, Body::plot(figure), true);
        new.idlocal = Some(fid.idlocal());
        store.create(owner, new)?;
        let created = plot.file.creation_time.as_deref().and_then(clock::parse_creation_time);
        store.set_seed_fields(
            owner,
            fid.idlocal(),
            plot.file.views.unwrap_or(0),
            5,
            true,
            created,
        )?;
    }
    Ok(())
}

/// `count` grid-and-plot pairs in `folder` (see `ServerHandle::add_plots`).
pub(crate) fn plots(
    store: &mut Store,
    user: &str,
    count: usize,
    folder: &str,
    public: bool,
) -> Result<Vec<String>> {
    let mut made = Vec::with_capacity(count);
    let taken = std::collections::BTreeSet::new();
    for n in 0..count {
        let (x, y) = (store.column_uid(&taken), store.column_uid(&taken));
        let columns = vec![
            StoredColumn {
                name: "x".to_owned(),
                uid: x.clone(),
                data: (0..5).map(|i| json!(i)).collect(),
            },
            StoredColumn {
                name: "y".to_owned(),
                uid: y.clone(),
                data: (0..5).map(|i| json!(i * n)).collect(),
            },
        ];
        let mut grid = file(&format!("grid {n}"), Body::grid(columns), public);
        grid.parent_path = Some(folder.to_owned());
        let grid = store.create(user, grid)?;
        let figure = json!({"data": [{"type": "scatter", "xsrc": format!("{user}:{grid}:{x}"), "ysrc": format!("{user}:{grid}:{y}")}]});
        let mut plot = file(&format!("plot {n}"), Body::plot(figure), public);
        plot.parent_path = Some(folder.to_owned());
        made.push(format!("{user}:{}", store.create(user, plot)?));
    }
    Ok(made)
}

/// A few values that suit a column's attribute name.
fn sample_data(name: &str, index: usize) -> Vec<Value> {
    let label = name.rsplit('.').next().unwrap_or(name);
    match label {
        "labels" | "ids" | "text" | "locations" => {
            ["Eve", "Cain", "Seth", "Enos", "Noam"].iter().map(|s| json!(s)).collect()
        }
        "parents" => ["", "Eve", "Eve", "Seth", "Seth"].iter().map(|s| json!(s)).collect(),
        _ => (0..5).map(|i| json!((i * (index + 2) + 1) as u64)).collect(),
    }
}

fn file(name: &str, body: Body, public: bool) -> NewFile {
    NewFile::named(name, chart_studio_models::HOME_FOLDER, public, body)
}

/// The demo account: folders, a grid, and public, private and secret plots that use it.
fn demo_files(store: &mut Store) -> Result<()> {
    let (user, key) = DEMO_USER;
    store.add_account(user, key).context("--demo makes the account demo with a public key")?;
    let columns = vec![
        StoredColumn {
            name: "month".to_owned(),
            uid: "a1b2c3".to_owned(),
            data: ["Jan", "Feb", "Mar", "Apr"].iter().map(|m| json!(m)).collect(),
        },
        StoredColumn {
            name: "revenue".to_owned(),
            uid: "d4e5f6".to_owned(),
            data: vec![json!(120), json!(135), json!(128), json!(151)],
        },
        StoredColumn {
            name: "costs".to_owned(),
            uid: "0a9b8c".to_owned(),
            data: vec![json!(90), json!(97), json!(101), json!(99)],
        },
    ];
    let mut grid = file("sales 2024", Body::grid(columns), false);
    grid.parent_path = Some("reports/2024".to_owned());
    let grid = store.create(user, grid)?;
    let trace = |y: &str, name: &str| json!({"type": "scatter", "name": name, "xsrc": format!("{user}:{grid}:a1b2c3"), "ysrc": format!("{user}:{grid}:{y}")});
    let plots = [
        ("revenue", "reports/2024", vec![trace("d4e5f6", "revenue")], Sharing::Public),
        ("costs", "reports/2024", vec![trace("0a9b8c", "costs")], Sharing::Private),
        (
            "forecast",
            "reports",
            vec![trace("d4e5f6", "revenue"), trace("0a9b8c", "costs")],
            Sharing::Secret,
        ),
    ];
    for (name, folder, data, sharing) in plots {
        let (public, secret) = sharing.fields();
        let figure = json!({"data": data, "layout": {"title": {"text": name}}});
        let mut new = file(name, Body::plot(figure), public);
        new.parent_path = Some(folder.to_owned());
        new.share_key_enabled = secret;
        store.create(user, new)?;
    }
    store.mkdir_p(user, "archive", chart_studio_models::HOME_FOLDER)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_seed_loads_the_captured_plots_with_their_grids() {
        let mut store = Store::new(1);
        demo(&mut store).unwrap();
        let plot = store.file("bcowden", 30).unwrap().unwrap();
        assert_eq!(plot.kind(), chart_studio_models::FileType::Plot);
        let Some(Body::Grid { columns }) = store.body("bcowden", 31).unwrap() else {
            panic!("bcowden:31 is a grid")
        };
        let mut uids: Vec<&str> = columns.iter().map(|c| c.uid.as_str()).collect();
        uids.sort_unstable();
        assert_eq!(uids, ["3614f4", "4e213c", "7ef4ff"]);
        assert_eq!(clock::creation_time(plot.created), "2019-06-17T22:51:45.856936Z");
        store.commit().unwrap();
        let demo = store.files_of_kind("demo", &chart_studio_models::FileType::Plot).unwrap();
        assert!(demo.iter().any(|f| f.share_key_enabled && f.share_key.is_some()));
        assert!(demo.iter().any(|f| !f.world_readable
            && !f.share_key_enabled
            && f.kind() == chart_studio_models::FileType::Plot));
    }
}
