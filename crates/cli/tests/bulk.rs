//! End-to-end: bulk runs of the real binary against the local server: every action, the
//! filters, dry runs, confirmations, journals, resume after a kill, undo, faults and the quota.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chart_studio_server::{Faults, ServerConfig};
use common::{CLI, KEY, Server, code, json_as, run, stderr, stdout};
use serde_json::Value;

/// `--json` output of a command of `cli` that must succeed.
fn json_of(server: &Server, home: &Path, args: &[&str]) -> Value {
    json_as(server, home, CLI, args)
}

/// Every file of the `cli` account: fid → (type, world_readable, share_key_enabled, name).
fn state(server: &Server, home: &Path) -> BTreeMap<String, (String, bool, bool, String)> {
    let listed = json_of(server, home, &["folders", "ls"]);
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let value = (
                f["filetype"].as_str().unwrap().to_owned(),
                f["world_readable"].as_bool().unwrap(),
                f["share_key_enabled"].as_bool().unwrap(),
                f["filename"].as_str().unwrap().to_owned(),
            );
            (f["fid"].as_str().unwrap().to_owned(), value)
        })
        .collect()
}

/// A plan says what each file goes from and to, where a delete's backups go, and a dry run
/// ends by saying that nothing was sent.
#[test]
fn plans_show_each_change_and_where_backups_go() {
    let server = Server::start();
    server.handle().add_plots("cli", 2, "reports", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let dry = run(&server, home.path(), CLI, &["bulk", "share", "private", "--dry-run"], "");
    assert_eq!(code(&dry), 0, "{}", stderr(&dry));
    let rows = stdout(&dry);
    let changes: Vec<&str> = rows.lines().map(|row| row.rsplit('\t').next().unwrap()).collect();
    assert_eq!(changes, ["public → private"; 4], "{rows}");
    assert!(stderr(&dry).contains("Dry run: nothing was sent"), "{}", stderr(&dry));

    let backups = home.path().join("kept");
    let delete = run(
        &server,
        home.path(),
        CLI,
        &["bulk", "delete", "--folder", "reports", "--backup-dir", backups.to_str().unwrap()],
        "",
    );
    assert_eq!(code(&delete), 2, "not confirmed: {}", stderr(&delete));
    let shown = stderr(&delete);
    assert!(shown.contains(&format!("Backups go to {}", backups.display())), "{shown}");
    assert!(shown.contains("backed up, then deleted for good"), "{shown}");
    let trash = run(&server, home.path(), CLI, &["bulk", "trash", "--dry-run"], "");
    assert!(stdout(&trash).contains("folder → trash"), "{}", stdout(&trash));
}

#[test]
fn share_with_filters_dry_run_confirmation_journal_and_undo() {
    let server = Server::start();
    server.handle().add_plots("cli", 4, "reports", true).unwrap();
    server.handle().add_plots("cli", 2, "drafts", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let before = state(&server, home.path());

    let dry = json_of(
        &server,
        home.path(),
        &["bulk", "share", "private", "--folder", "reports", "--filetype", "plot", "--dry-run"],
    );
    assert_eq!(dry["operations"].as_array().unwrap().len(), 8, "4 plots and their 4 grids");
    assert_eq!(state(&server, home.path()), before, "a dry run changes nothing");

    let refused =
        run(&server, home.path(), CLI, &["bulk", "share", "private", "--folder", "reports"], "");
    assert_eq!(code(&refused), 2, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("pass --yes"), "{}", stderr(&refused));

    let journal = home.path().join("share.jsonl");
    let args = [
        "bulk",
        "share",
        "private",
        "--folder",
        "reports",
        "--name",
        "plot *",
        "--yes",
        "--journal",
        journal.to_str().unwrap(),
    ];
    let output = run(&server, home.path(), CLI, &args, "");
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).starts_with("update\t8\t0\t0\t0"), "{}", stdout(&output));
    let after = state(&server, home.path());
    for (fid, (kind, public, secret, _)) in &after {
        let changed = before[fid].1 != *public;
        let in_reports =
            ["cli:0", "cli:1", "cli:2", "cli:3", "cli:4", "cli:5", "cli:6", "cli:7", "cli:8"]
                .contains(&fid.as_str());
        assert_eq!(changed, in_reports && kind != "fold", "{fid} {kind}");
        assert!(!secret);
    }

    let plan = json_of(&server, home.path(), &["bulk", "plan", journal.to_str().unwrap()]);
    assert!(
        plan["operations"].as_array().unwrap().iter().all(|op| op["outcome"]["result"] == "done")
    );

    let undo =
        run(&server, home.path(), CLI, &["bulk", "undo", journal.to_str().unwrap(), "--yes"], "");
    assert_eq!(code(&undo), 0, "{}", stderr(&undo));
    assert_eq!(state(&server, home.path()), before, "undo puts every mode back");

    let by_mode = json_of(
        &server,
        home.path(),
        &[
            "bulk",
            "share",
            "secret",
            "--sharing",
            "public",
            "--filetype",
            "plot",
            "--no-grids",
            "--dry-run",
        ],
    );
    assert_eq!(
        by_mode["operations"].as_array().unwrap().len(),
        6,
        "the six public plots, without grids"
    );
    let list = home.path().join("fids.txt");
    std::fs::write(&list, "# two files\ncli:10\n\ncli:12\n").unwrap();
    let explicit = json_of(
        &server,
        home.path(),
        &["bulk", "trash", "--fids", list.to_str().unwrap(), "--dry-run"],
    );
    let fids: Vec<&str> = explicit["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["fid"].as_str().unwrap())
        .collect();
    assert_eq!(fids, ["cli:10", "cli:12"]);
}

#[test]
fn trash_restore_delete_with_backup_and_import() {
    let server = Server::start();
    let plots = server.handle().add_plots("cli", 3, "box", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    let original: Vec<Value> = plots
        .iter()
        .map(|fid| json_of(&server, home.path(), &["plots", "content", fid, "--inline-data"]))
        .collect();

    let trashed =
        run(&server, home.path(), CLI, &["bulk", "trash", "--folder", "box", "--yes"], "");
    assert_eq!(code(&trashed), 0, "{}", stderr(&trashed));
    assert!(
        state(&server, home.path()).is_empty()
            || state(&server, home.path()).keys().all(|fid| fid == "cli:0")
    );
    let restored =
        run(&server, home.path(), CLI, &["bulk", "restore", "--filetype", "plot", "--yes"], "");
    assert_eq!(code(&restored), 0, "{}", stderr(&restored));
    assert_eq!(state(&server, home.path()).values().filter(|f| f.0 == "plot").count(), 3);
    run(&server, home.path(), CLI, &["bulk", "restore", "--yes"], "");

    // A grid still used by a plot outside the selection is skipped, unless forced.
    let only_grids = run(
        &server,
        home.path(),
        CLI,
        &["bulk", "delete", "--filetype", "grid", "--no-backup", "--yes"],
        "",
    );
    assert_eq!(code(&only_grids), 0, "{}", stderr(&only_grids));
    assert!(stdout(&only_grids).is_empty(), "{}", stdout(&only_grids));
    assert!(stderr(&only_grids).contains("Nothing to delete"), "{}", stderr(&only_grids));
    assert_eq!(stderr(&only_grids).matches("still used by").count(), 3, "{}", stderr(&only_grids));
    let forced = json_of(
        &server,
        home.path(),
        &["bulk", "delete", "--filetype", "grid", "--force", "--dry-run"],
    );
    assert!(forced["operations"].as_array().unwrap().iter().all(|op| op["action"] == "delete"));

    let journal = home.path().join("delete.jsonl");
    let deleted = run(
        &server,
        home.path(),
        CLI,
        &["bulk", "delete", "--folder", "box", "--yes", "--journal", journal.to_str().unwrap()],
        "",
    );
    assert_eq!(code(&deleted), 0, "{}", stderr(&deleted));
    assert!(
        stdout(&deleted).contains("delete\t6\t0\t0\t0"),
        "plots, then grids: {}",
        stdout(&deleted)
    );
    assert_eq!(state(&server, home.path()).len(), 1, "only the folder is left");
    let backup = journal.with_extension("backup");
    assert!(backup.join("manifest.jsonl").exists());

    let imported =
        run(&server, home.path(), CLI, &["bulk", "import", backup.to_str().unwrap()], "");
    assert_eq!(code(&imported), 0, "{}", stderr(&imported));
    let now = state(&server, home.path());
    let new_plots: Vec<&String> =
        now.iter().filter(|(_, f)| f.0 == "plot").map(|(fid, _)| fid).collect();
    assert_eq!(new_plots.len(), 3);
    let mut restored_figures: Vec<Value> = new_plots
        .iter()
        .map(|fid| json_of(&server, home.path(), &["plots", "content", fid, "--inline-data"]))
        .collect();
    let mut original = original;
    let key = |v: &Value| v["data"][0]["y"].to_string();
    restored_figures.sort_by_key(key);
    original.sort_by_key(key);
    assert_eq!(restored_figures, original, "the backups import to equal figures and grids");
    assert!(now.values().all(|f| !f.1 && !f.2), "with their sharing (private)");
    let again = json_of(&server, home.path(), &["bulk", "import", backup.to_str().unwrap()]);
    let files = again["files"].as_array().unwrap();
    assert_eq!(files.len(), 6, "{again}");
    assert!(files.iter().all(|f| f["result"] == "unchanged"), "importing twice reuses: {again}");
}

#[test]
fn export_to_another_server() {
    let source = Server::start();
    source.handle().add_plots("cli", 2, "a/b", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("export");
    let exported =
        run(&source, home.path(), CLI, &["bulk", "export", dir.to_str().unwrap(), "--yes"], "");
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 1 + 6, "the header, then one line per file");

    let target = Server::start();
    let imported = json_of(&target, home.path(), &["bulk", "import", dir.to_str().unwrap()]);
    assert_eq!(imported["files"].as_array().unwrap().len(), 6);
    let moved = state(&target, home.path());
    assert_eq!(
        moved.values().filter(|f| f.0 == "plot" && f.1).count(),
        2,
        "public plots stay public"
    );
    let plot = moved.iter().find(|(_, f)| f.3 == "plot 1").unwrap().0;
    let figure = json_of(&target, home.path(), &["plots", "content", plot, "--inline-data"]);
    assert_eq!(figure["data"][0]["y"], serde_json::json!([0, 1, 2, 3, 4]));

    std::fs::write(dir.join("files/cli/0.json"), "{}").unwrap();
    let tampered = run(&target, home.path(), CLI, &["bulk", "import", dir.to_str().unwrap()], "");
    assert_eq!(code(&tampered), 1);
    assert!(
        stderr(&tampered).contains("do not match the manifest's checksums"),
        "{}",
        stderr(&tampered)
    );
}

#[test]
fn a_thousand_files_under_faults_end_in_the_target_mode() {
    let server = Server::start();
    server.handle().add_plots("cli", 500, "many", true).unwrap();
    server.handle().add_plots("cli", 5, "untouched", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let before = state(&server, home.path());
    server.handle().set_faults(Faults {
        error_rate: 0.10,
        drop_rate: 0.05,
        throttle_rate: 0.05,
        throttle_wait: Duration::from_millis(200),
        seed: 11,
        ..Faults::default()
    });
    let output = run(
        &server,
        home.path(),
        CLI,
        &["bulk", "share", "private", "--folder", "many", "--jobs", "16", "--yes"],
        "",
    );
    server.handle().set_faults(Faults::default());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert!(stdout(&output).starts_with("update\t1000\t0\t0\t0"), "{}", stdout(&output));
    for (fid, (kind, public, _, _)) in state(&server, home.path()) {
        let selected = before[&fid].3.starts_with("plot ") || before[&fid].3.starts_with("grid ");
        let in_many = fid.trim_start_matches("cli:").parse::<u64>().unwrap() <= 1000;
        if kind != "fold" && selected && in_many {
            assert!(!public, "{fid} is private");
        } else {
            assert_eq!(public, before[&fid].1, "{fid} was not touched");
        }
    }
}

/// A share run killed after exactly N changes (the server holds every later one, so the kill
/// lands at a known point), for N from none to all but one: the interrupted state is checked,
/// then a resume brings every file to the target mode.
#[test]
fn a_run_killed_at_any_point_resumes_to_the_same_end() {
    let latency = Faults { latency: Duration::from_millis(4), ..Faults::default() };
    let server =
        Server::start_with(ServerConfig { faults: latency.clone(), ..ServerConfig::default() });
    server.handle().add_plots("cli", 60, "k", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let public_count = |server: &Server| {
        state(server, home.path()).values().filter(|f| f.0 != "fold" && f.1).count() as u64
    };
    let done = |plan: &Value| {
        let ops = plan["operations"].as_array().unwrap();
        let done = ops.iter().filter(|op| op["outcome"]["result"] == "done").count();
        (done as u64, ops.len() as u64)
    };
    // 60 plots and their 60 grids change in each round.
    for (round, changes) in [0u64, 1, 7, 60, 119].into_iter().enumerate() {
        let mode = if round % 2 == 0 { "private" } else { "public" };
        let journal = home.path().join(format!("run{round}.jsonl"));
        server.handle().set_faults(Faults { hold_changes_after: Some(changes), ..latency.clone() });
        let mut child = Command::new(env!("CARGO_BIN_EXE_chart-studio"))
            .args(["bulk", "share", mode, "--folder", "k", "--yes", "--jobs", "2", "--journal"])
            .arg(&journal)
            .env_clear()
            .env("HOME", home.path())
            .env("PLOTLY_API_DOMAIN", &server.url)
            .env("PLOTLY_USERNAME", "cli")
            .env("PLOTLY_API_KEY", KEY)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        server.until_held(1);
        child.kill().unwrap();
        child.wait().unwrap();
        server.handle().set_faults(latency.clone());

        // Killed with exactly `changes` changes made, and the journal knows no more.
        let public = public_count(&server);
        let moved = if mode == "public" { public } else { 120 - public };
        assert_eq!(moved, changes, "round {round}: the kill landed after {changes} changes");
        let journal_arg = journal.to_str().unwrap();
        let (done_before, planned) =
            done(&json_of(&server, home.path(), &["bulk", "plan", journal_arg]));
        assert!(
            done_before <= changes && planned == 120,
            "round {round}: {done_before} of {planned}"
        );

        let resumed = run(&server, home.path(), CLI, &["bulk", "resume", journal_arg], "");
        assert_eq!(code(&resumed), 0, "round {round}: {}", stderr(&resumed));
        let want = if mode == "public" { 120 } else { 0 };
        assert_eq!(public_count(&server), want, "round {round}: every file ends {mode}");
        let finished = json_of(&server, home.path(), &["bulk", "plan", journal_arg]);
        assert_eq!(done(&finished), (120, 120), "round {round}");
    }
}

#[test]
fn the_quota_stops_at_once_and_resume_finishes_later() {
    let server = Server::start();
    server.handle().add_plots("cli", 10, "q", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    server.handle().set_faults(Faults { daily_quota: Some(5), ..Faults::default() });
    let journal = home.path().join("quota.jsonl");
    let output = run(
        &server,
        home.path(),
        CLI,
        &[
            "bulk",
            "share",
            "private",
            "--folder",
            "q",
            "--jobs",
            "1",
            "--yes",
            "--journal",
            journal.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(stderr(&output).contains("stopped at the daily quota"), "{}", stderr(&output));
    let plan = json_of(&server, home.path(), &["bulk", "plan", journal.to_str().unwrap()]);
    let outcomes: Vec<&Value> =
        plan["operations"].as_array().unwrap().iter().map(|op| &op["outcome"]).collect();
    assert_eq!(outcomes.iter().filter(|o| o["result"] == "done").count(), 5);
    assert_eq!(
        outcomes.iter().filter(|o| o["result"] == "failed").count(),
        1,
        "one refused request, then nothing more"
    );
    assert_eq!(outcomes.iter().filter(|o| o.is_null()).count(), 14);

    server.handle().set_faults(Faults::default());
    let resumed =
        run(&server, home.path(), CLI, &["bulk", "resume", journal.to_str().unwrap()], "");
    assert_eq!(code(&resumed), 0, "{}", stderr(&resumed));
    assert!(state(&server, home.path()).values().filter(|f| f.0 != "fold").all(|f| !f.1));
}

#[test]
fn sharing_audit_counts_modes() {
    let server = Server::start();
    server.handle().add_plots("cli", 2, "pub", true).unwrap();
    server.handle().add_plots("cli", 1, "priv", false).unwrap();
    let home = tempfile::tempdir().unwrap();
    let audit = json_of(&server, home.path(), &["sharing", "audit"]);
    let counts = |group: &str, name: &str| {
        audit["counts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["group"] == group && c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {group} {name} in {audit}"))
    };
    assert_eq!(counts("type", "plot")["public"], 2);
    assert_eq!(counts("type", "plot")["private"], 1);
    assert_eq!(counts("folder", "pub")["public"], 4);
    assert_eq!(audit["most_viewed_public"].as_array().unwrap().len(), 4);
    let table = run(&server, home.path(), CLI, &["sharing", "audit"], "");
    let text = stdout(&table);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "all\t\t4\t4\t0\t0\t\t", "one table with a SECTION column");
    assert!(lines.iter().any(|l| l.starts_with("folder\tpub\t4\t")), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("most viewed public\t")).count(), 4);
    assert!(lines.iter().all(|l| l.split('\t').count() == 8), "{lines:?}");
}
