//! End-to-end: the paths that must never lose a file or give a wrong privacy answer, run with
//! the real binary against the local server: folder selections, append-only backups, kills
//! and imports without resume, journals held by one run, sealed plans, reused fids, Ctrl-C,
//! undo of deletes and secret links, inputs refused at the edge, and `relink --write` killed
//! or racing another writer.

#![allow(clippy::unwrap_used, reason = "test code: a panic is the failure report")]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chart_studio_server::{Faults, ServerConfig};
use common::{CLI, KEY, Server, code, json_as, run, stderr, stdout};
use serde_json::Value;

/// Every live file of `cli` by its full path: (type, fid).
fn tree(server: &Server, home: &Path) -> BTreeMap<String, (String, String)> {
    let listed = json_as(server, home, CLI, &["folders", "ls"]);
    let files = listed.as_array().unwrap();
    let folders: BTreeMap<i64, (String, i64)> = files
        .iter()
        .filter(|f| f["filetype"] == "fold")
        .map(|f| {
            let id = f["fid"].as_str().unwrap().rsplit(':').next().unwrap().parse().unwrap();
            (id, (f["filename"].as_str().unwrap().to_owned(), f["parent"].as_i64().unwrap()))
        })
        .collect();
    files
        .iter()
        .map(|f| {
            let mut parts = vec![f["filename"].as_str().unwrap().to_owned()];
            let mut parent = f["parent"].as_i64().unwrap();
            while let Some((name, up)) = folders.get(&parent) {
                parts.push(name.clone());
                parent = *up;
            }
            parts.reverse();
            let kind = f["filetype"].as_str().unwrap().to_owned();
            (parts.join("/"), (kind, f["fid"].as_str().unwrap().to_owned()))
        })
        .collect()
}

/// The paths of `tree` under `prefix`.
fn under(tree: &BTreeMap<String, (String, String)>, prefix: &str) -> Vec<String> {
    tree.keys().filter(|path| path.starts_with(prefix)).cloned().collect()
}

/// Each plot's data under `prefix`, by path.
fn figures(server: &Server, home: &Path, prefix: &str) -> BTreeMap<String, Value> {
    tree(server, home)
        .into_iter()
        .filter(|(path, (kind, _))| path.starts_with(prefix) && kind == "plot")
        .map(|(path, (_, fid))| {
            let figure = json_as(server, home, CLI, &["plots", "content", &fid, "--inline-data"]);
            (path, figure["data"].clone())
        })
        .collect()
}

fn ok(output: &std::process::Output) {
    assert_eq!(code(output), 0, "{}\n{}", stdout(output), stderr(output));
}

/// The binary as `cli`, with stderr piped so a test can wait for what it says.
fn spawn(server: &Server, home: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chart-studio"))
        .args(args)
        .env_clear()
        .current_dir(home)
        .env("HOME", home)
        .env("PLOTLY_API_DOMAIN", &server.url)
        .env("PLOTLY_USERNAME", "cli")
        .env("PLOTLY_API_KEY", KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads `child`'s stderr until a line contains `marker`; returns the lines read.
fn wait_for(child: &mut Child, marker: &str) -> Vec<String> {
    let stderr = child.stderr.take().unwrap();
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stderr);
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no {marker:?} in {lines:?}");
        let found = line.contains(marker);
        lines.push(line);
        if found {
            child.stderr = None;
            // Keep reading in the background so the child never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return lines;
        }
    }
}

#[test]
fn a_selected_folder_is_deleted_with_its_subtree_backed_up_by_every_filter() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 3, "reports", true).unwrap();
    server.handle().add_plots("cli", 2, "reports/2024", false).unwrap();
    server.handle().add_plots("cli", 1, "kept", true).unwrap();
    let before = tree(&server, home.path());
    let reports = under(&before, "reports");
    assert_eq!(reports.len(), 12, "two folders, five plots, five grids: {reports:?}");
    let data = figures(&server, home.path(), "reports");
    let selections: [&[&str]; 4] = [
        &["--filetype", "fold", "--name", "reports"],
        &["--name", "reports"],
        &["--fids", "fids.txt"],
        &["--created-before", "2999-01-01T00:00:00Z", "--name", "report*"],
    ];
    for (round, selection) in selections.into_iter().enumerate() {
        let now = tree(&server, home.path());
        std::fs::write(home.path().join("fids.txt"), format!("{}\n", now["reports"].1)).unwrap();
        let mut args = vec!["bulk", "delete"];
        args.extend_from_slice(selection);
        let dry = json_as(&server, home.path(), CLI, &[&args[..], &["--dry-run"]].concat());
        let planned = dry["operations"].as_array().unwrap();
        assert_eq!(planned.len(), 12, "round {round}: the plan shows the whole subtree");
        let actions: Vec<(&str, &str)> = planned
            .iter()
            .map(|op| (op["action"].as_str().unwrap(), op["fid"].as_str().unwrap()))
            .collect();
        let top = now["reports"].1.as_str();
        assert!(
            actions.iter().all(|(action, fid)| (*action == "delete") == (*fid == top)
                && (*action == "delete" || *action == "backup")),
            "round {round}: every file backed up, then the folder deleted with them: {actions:?}"
        );

        let backup = format!("bk{round}");
        let journal = format!("d{round}.jsonl");
        let deleted = run(
            &server,
            home.path(),
            CLI,
            &[&args[..], &["--yes", "--backup-dir", &backup, "--journal", &journal]].concat(),
            "",
        );
        ok(&deleted);
        assert_eq!(stdout(&deleted), "backup\t11\t0\t0\t0\ndelete\t1\t0\t0\t0\n");
        let after = tree(&server, home.path());
        assert!(under(&after, "reports").is_empty(), "round {round}: {after:?}");
        assert!(after.contains_key("kept/plot 0"), "nothing outside the selection is touched");

        // Undo re-creates every file, those that went with the folder too.
        let back = if round == 0 {
            vec!["bulk", "undo", journal.as_str(), "--yes"]
        } else {
            vec!["bulk", "import", backup.as_str()]
        };
        ok(&run(&server, home.path(), CLI, &back, ""));
        assert_eq!(under(&tree(&server, home.path()), "reports"), reports, "round {round}");
        assert_eq!(figures(&server, home.path(), "reports"), data, "round {round}");
    }
}

#[test]
fn a_folder_deleted_whole_keeps_a_file_that_arrived_after_the_plan() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 2, "box", false).unwrap();
    let before = under(&tree(&server, home.path()), "box");
    // Stopped at the daily quota before its first change: every backup is written, nothing
    // is deleted yet.
    server.handle().set_faults(Faults { daily_quota: Some(0), ..Faults::default() });
    let args = ["bulk", "delete", "--name", "box", "--yes", "--journal", "d.jsonl"];
    let stopped = run(&server, home.path(), CLI, &args, "");
    assert_eq!(code(&stopped), 5, "{}", stderr(&stopped));
    assert_eq!(under(&tree(&server, home.path()), "box"), before, "nothing deleted yet");

    // Meanwhile another script saves a plot into the folder.
    server.handle().set_faults(Faults::default());
    server.handle().add_plots("cli", 1, "box/late", false).unwrap();
    let resumed = run(&server, home.path(), CLI, &["bulk", "resume", "d.jsonl"], "");
    assert_eq!(code(&resumed), 3, "{}", stderr(&resumed));
    assert!(stderr(&resumed).contains("which this run did not plan"), "{}", stderr(&resumed));
    let after = tree(&server, home.path());
    assert!(after.contains_key("box/late/plot 0"), "the late plot is kept: {after:?}");
    assert!(under(&after, "box").len() > before.len(), "and so is everything with it");
}

#[test]
fn a_grid_used_outside_keeps_its_folders_and_listings_never_say_so() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let plots = server.handle().add_plots("cli", 2, "reports", true).unwrap();
    // A plot at home drawing from the grid of reports/plot 0.
    let figure = json_as(&server, home.path(), CLI, &["plots", "content", &plots[0]]);
    let body = serde_json::json!({"figure": figure, "filename": "outside"});
    std::fs::write(home.path().join("body.json"), body.to_string()).unwrap();
    ok(&run(&server, home.path(), CLI, &["api", "POST", "/v2/plots", "--input", "body.json"], ""));
    let listed = json_as(&server, home.path(), CLI, &["folders", "ls"]);
    assert!(
        listed.as_array().unwrap().iter().all(|f| f["references"] == serde_json::json!([])
            && f["referencers"] == serde_json::json!([])),
        "the server's listings leave the links empty, as the real service does"
    );

    let output =
        run(&server, home.path(), CLI, &["bulk", "delete", "--name", "reports", "--yes"], "");
    ok(&output);
    let after = tree(&server, home.path());
    assert!(stdout(&output).contains("delete\t3\t0\t0\t0"), "{}", stdout(&output));
    assert!(stdout(&output).contains("skip\t0\t2\t0\t0"), "{}", stdout(&output));
    assert!(stderr(&output).contains("still used by cli:"), "{}", stderr(&output));
    assert!(stderr(&output).contains("holds files that are kept"), "{}", stderr(&output));
    assert_eq!(under(&after, "reports"), ["reports", "reports/grid 0"]);
    let outside = json_as(
        &server,
        home.path(),
        CLI,
        &["plots", "content", &after["outside"].1, "--inline-data"],
    );
    assert_eq!(outside["data"][0]["y"], serde_json::json!([0, 0, 0, 0, 0]), "still draws");
}

#[test]
fn backup_folders_only_grow_and_foreign_folders_are_refused() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 2, "a", false).unwrap();
    let before = tree(&server, home.path());
    for name in ["plot 0", "plot 1"] {
        let output = run(
            &server,
            home.path(),
            CLI,
            &["bulk", "delete", "--name", name, "--yes", "--force", "--backup-dir", "bk"],
            "",
        );
        ok(&output);
    }
    let manifest = std::fs::read_to_string(home.path().join("bk/manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 3, "the header and one line per run: {manifest}");
    ok(&run(&server, home.path(), CLI, &["bulk", "import", "bk"], ""));
    assert_eq!(
        tree(&server, home.path()).keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );

    let runs =
        || std::fs::read_dir(home.path().join(".local/state/chart-studio/runs")).unwrap().count();
    let journals = runs();
    std::fs::create_dir(home.path().join("photos")).unwrap();
    std::fs::write(home.path().join("photos/cat.jpg"), "meow").unwrap();
    let refused = run(&server, home.path(), CLI, &["bulk", "export", "photos", "--yes"], "");
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    assert!(stderr(&refused).contains("is not a backup or export folder"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_dir(home.path().join("photos")).unwrap().count(), 1);
    assert_eq!(runs(), journals, "refused before any journal");
}

#[cfg(unix)]
#[test]
fn journals_and_backups_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 1, "a", false).unwrap();
    ok(&run(
        &server,
        home.path(),
        CLI,
        &["bulk", "export", "out", "--yes", "--journal", "runs/e.jsonl"],
        "",
    ));
    let mode =
        |p: &str| std::fs::metadata(home.path().join(p)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("runs"), 0o700);
    assert_eq!(mode("runs/e.jsonl"), 0o600);
    assert_eq!(mode("out"), 0o700);
    assert_eq!(mode("out/manifest.jsonl"), 0o600);
    assert_eq!(mode("out/files/cli"), 0o700);
    assert_eq!(mode("out/files/cli/1.json"), 0o600);
}

/// A delete killed after exactly N changes (the server holds every later one, so the kill lands
/// at a known point): a folder deleted whole, killed before anything changed and between its
/// trash and its permanent delete; plots deleted one by one, killed after 1, 9 and 23 of their
/// 24 changes (a trash and a permanent delete each). Every time, the interrupted state is
/// checked, and `bulk import` of the backup brings back every file with its data, no resume
/// needed.
#[test]
fn a_delete_killed_at_any_point_imports_back_without_resume() {
    let latency = Faults { latency: Duration::from_millis(3), ..Faults::default() };
    let server =
        Server::start_with(ServerConfig { faults: latency.clone(), ..ServerConfig::default() });
    let home = tempfile::tempdir().unwrap();
    let rounds = [(true, 0u64), (true, 1), (false, 1), (false, 9), (false, 23)];
    for (round, (whole_folder, changes)) in rounds.into_iter().enumerate() {
        let folder = format!("k{round}");
        server.handle().add_plots("cli", 12, &folder, true).unwrap();
        let before = under(&tree(&server, home.path()), &folder);
        let data = figures(&server, home.path(), &folder);
        let backup = format!("bk{round}");
        let mut args = vec!["bulk", "delete", "--yes", "--jobs", "4", "--backup-dir", &backup];
        if whole_folder {
            args.extend(["--name", &folder]);
        } else {
            args.extend(["--folder", &folder, "--filetype", "plot"]);
        }
        server.handle().set_faults(Faults { hold_changes_after: Some(changes), ..latency.clone() });
        let mut child = spawn(&server, home.path(), &args);
        server.until_held(1);
        child.kill().unwrap();
        child.wait().unwrap();
        server.handle().set_faults(latency.clone());

        let left = under(&tree(&server, home.path()), &folder);
        let gone = (before.len() - left.len()) as u64;
        match (whole_folder, changes) {
            (true, 0) => assert_eq!(gone, 0, "round {round}: nothing changed yet"),
            (true, _) => assert!(left.is_empty(), "round {round}: the folder was trashed"),
            (false, _) => assert!(
                (changes.div_ceil(2)..=changes).contains(&gone),
                "round {round}: {gone} plots gone after {changes} changes"
            ),
        }
        let manifest = home.path().join(&backup).join("manifest.jsonl");
        let backed_up =
            std::fs::read_to_string(&manifest).map_or(0, |text| text.lines().count() - 1);
        assert!(backed_up as u64 >= gone, "round {round}: {gone} gone, {backed_up} backed up");
        if backed_up > 0 {
            ok(&run(&server, home.path(), CLI, &["bulk", "import", &backup], ""));
        }
        assert_eq!(under(&tree(&server, home.path()), &folder), before, "round {round}");
        assert_eq!(figures(&server, home.path(), &folder), data, "round {round}");
    }
}

/// A delete of the plots of folder `q` stopped by the daily quota after `changes` changes,
/// with its journal; the server has no quota afterwards.
fn stopped_delete(server: &Server, home: &Path, changes: u64) -> PathBuf {
    server.handle().set_faults(Faults { daily_quota: Some(changes), ..Faults::default() });
    let journal = home.join(format!("q{changes}.jsonl"));
    let output = run(
        server,
        home,
        CLI,
        &[
            "bulk",
            "delete",
            "--folder",
            "q",
            "--filetype",
            "plot",
            "--yes",
            "--jobs",
            "1",
            "--journal",
            journal.to_str().unwrap(),
        ],
        "",
    );
    server.handle().set_faults(Faults::default());
    assert_eq!(code(&output), 5, "{}", stderr(&output));
    assert!(stderr(&output).contains("bulk resume"), "{}", stderr(&output));
    journal
}

#[test]
fn a_stop_between_any_two_changes_resumes_and_imports_to_the_same_end() {
    for changes in 0..6 {
        let server = Server::start();
        let home = tempfile::tempdir().unwrap();
        server.handle().add_plots("cli", 3, "q", true).unwrap();
        let before = tree(&server, home.path());
        let journal = stopped_delete(&server, home.path(), changes);
        let backup = journal.with_extension("backup");
        ok(&run(&server, home.path(), CLI, &["bulk", "import", backup.to_str().unwrap()], ""));
        let restored = tree(&server, home.path());
        assert_eq!(
            restored.keys().collect::<Vec<_>>(),
            before.keys().collect::<Vec<_>>(),
            "{changes}"
        );
        let resumed =
            run(&server, home.path(), CLI, &["bulk", "resume", journal.to_str().unwrap()], "");
        ok(&resumed);
    }
}

#[test]
fn one_run_holds_its_journal_and_a_damaged_plan_is_refused() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 3, "q", true).unwrap();
    let journal = stopped_delete(&server, home.path(), 0);
    let path = journal.to_str().unwrap();

    server.handle().set_faults(Faults { latency: Duration::from_millis(150), ..Faults::default() });
    let mut first = spawn(&server, home.path(), &["bulk", "resume", path, "--jobs", "1"]);
    wait_for(&mut first, "resuming");
    let second = run(&server, home.path(), CLI, &["bulk", "resume", path], "");
    assert_eq!(code(&second), 1, "{}", stderr(&second));
    assert!(stderr(&second).contains("in use by another chart-studio run"), "{}", stderr(&second));
    let undo = run(&server, home.path(), CLI, &["bulk", "undo", path, "--yes"], "");
    assert!(stderr(&undo).contains("in use by another chart-studio run"), "{}", stderr(&undo));
    assert!(first.wait().unwrap().success());
    server.handle().set_faults(Faults::default());
    let plan = json_as(&server, home.path(), CLI, &["bulk", "plan", path]);
    assert!(
        plan["operations"].as_array().unwrap().iter().all(|op| op["outcome"]["result"] == "done")
    );

    let text = std::fs::read_to_string(&journal).unwrap();
    let torn: Vec<&str> = text.lines().filter(|line| !line.contains(r#""id":1,"#)).collect();
    std::fs::write(&journal, torn.join("\n") + "\n").unwrap();
    let refused = run(&server, home.path(), CLI, &["bulk", "resume", path], "");
    assert_eq!(code(&refused), 1);
    assert!(stderr(&refused).contains("does not match its checksum"), "{}", stderr(&refused));
}

#[test]
fn a_resume_leaves_alone_a_fid_that_names_another_file_now() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let plots = server.handle().add_plots("cli", 3, "q", true).unwrap();
    let journal = stopped_delete(&server, home.path(), 0);
    ok(&run(&server, home.path(), CLI, &["files", "rename", &plots[1], "someone else's"], ""));
    let resumed =
        run(&server, home.path(), CLI, &["bulk", "resume", journal.to_str().unwrap()], "");
    ok(&resumed);
    assert!(stdout(&resumed).contains("delete\t2\t1\t0\t0"), "{}", stdout(&resumed));
    assert!(stderr(&resumed).contains("now names another file"), "{}", stderr(&resumed));
    let left = tree(&server, home.path());
    assert!(left.contains_key("q/someone else's"), "{left:?}");
    assert!(!left.contains_key("q/plot 0") && !left.contains_key("q/plot 2"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_finishes_what_is_in_flight_and_says_how_to_resume() {
    let server = Server::start_with(ServerConfig {
        faults: Faults { latency: Duration::from_millis(100), ..Faults::default() },
        ..ServerConfig::default()
    });
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 10, "c", true).unwrap();
    let mut child = spawn(
        &server,
        home.path(),
        &[
            "bulk",
            "share",
            "private",
            "--folder",
            "c",
            "--yes",
            "--jobs",
            "2",
            "--journal",
            "c.jsonl",
        ],
    );
    let mut stderr_pipe = child.stderr.take().unwrap();
    let mut seen = String::new();
    let mut reader = BufReader::new(&mut stderr_pipe);
    while !seen.contains("journal:") {
        assert!(reader.read_line(&mut seen).unwrap() > 0, "{seen}");
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(rest.contains("interrupted") && rest.contains("bulk resume c.jsonl"), "{rest}");
    let plan = json_as(&server, home.path(), CLI, &["bulk", "plan", "c.jsonl"]);
    let ops = plan["operations"].as_array().unwrap();
    assert!(ops.iter().any(|op| op["outcome"].is_null()), "stopped before the end");
    ok(&run(&server, home.path(), CLI, &["bulk", "resume", "c.jsonl"], ""));
    let plan = json_as(&server, home.path(), CLI, &["bulk", "plan", "c.jsonl"]);
    assert!(
        plan["operations"].as_array().unwrap().iter().all(|op| op["outcome"]["result"] == "done")
    );
}

#[test]
fn undo_of_a_delete_imports_its_backup_and_undo_of_secret_says_the_link_is_new() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 2, "u", false).unwrap();
    let before = tree(&server, home.path());
    ok(&run(
        &server,
        home.path(),
        CLI,
        &["bulk", "delete", "--folder", "u", "--yes", "--journal", "d.jsonl"],
        "",
    ));
    assert_eq!(under(&tree(&server, home.path()), "u/").len(), 0);
    let undone = run(&server, home.path(), CLI, &["bulk", "undo", "d.jsonl", "--yes"], "");
    ok(&undone);
    assert_eq!(stdout(&undone).matches("\tcreated").count(), 4, "{}", stdout(&undone));
    assert_eq!(
        tree(&server, home.path()).keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );

    ok(&run(
        &server,
        home.path(),
        CLI,
        &["bulk", "share", "secret", "--folder", "u", "--yes", "--journal", "s.jsonl"],
        "",
    ));
    ok(&run(
        &server,
        home.path(),
        CLI,
        &["bulk", "share", "private", "--folder", "u", "--yes", "--journal", "p.jsonl"],
        "",
    ));
    let undo = run(&server, home.path(), CLI, &["bulk", "undo", "p.jsonl", "--yes"], "");
    ok(&undo);
    assert!(
        stderr(&undo).contains("4 file(s) become secret again; the server issues new secret links"),
        "{}",
        stderr(&undo)
    );
    let text = stderr(&undo);
    let links: Vec<&str> =
        text.lines().filter(|l| l.starts_with("new secret link of cli:")).collect();
    assert_eq!(links.len(), 4, "{}", stderr(&undo));
    assert!(links.iter().all(|l| l.contains("share_key=")), "{links:?}");
}

#[test]
fn bad_run_options_are_refused_before_anything_is_sent() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 1, "r", true).unwrap();
    let before = tree(&server, home.path());
    for bad in ["--rate=0", "--rate=NaN", "--rate=-1", "--rate=inf", "--jobs=0", "--jobs=-3"] {
        let output = run(
            &server,
            home.path(),
            CLI,
            &["bulk", "share", "private", "--folder", "r", "--yes", bad],
            "",
        );
        assert_eq!(code(&output), 2, "{bad}: {}", stderr(&output));
        let option = bad.split('=').next().unwrap();
        assert!(stderr(&output).contains(option), "{bad}: {}", stderr(&output));
    }
    assert_eq!(tree(&server, home.path()), before);
    assert!(!home.path().join(".local/state/chart-studio/runs").exists());
}

#[test]
fn single_commands_ride_out_errors_drops_and_throttles() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let plots = server.handle().add_plots("cli", 2, "f", true).unwrap();
    server.handle().set_faults(Faults {
        error_rate: 0.15,
        drop_rate: 0.05,
        throttle_rate: 0.05,
        throttle_wait: Duration::from_millis(20),
        seed: 5,
        ..Faults::default()
    });
    let commands: [&[&str]; 7] = [
        &["files", "get", &plots[0]],
        &["plots", "list"],
        &["folders", "ls"],
        &["plots", "content", &plots[1], "--inline-data"],
        &["share", "show", &plots[0]],
        &["share", &plots[0], "private"],
        &["files", "lookup", "f/plot 1"],
    ];
    for round in 0..2 {
        for args in commands {
            let output = run(&server, home.path(), CLI, args, "");
            assert_eq!(code(&output), 0, "round {round} {args:?}: {}", stderr(&output));
        }
    }

    // A create is retried after a throttle (never processed) ...
    server.handle().set_faults(Faults {
        throttle_rate: 0.6,
        throttle_wait: Duration::from_millis(10),
        seed: 6,
        ..Faults::default()
    });
    std::fs::write(home.path().join("fig.json"), r#"{"data": [{"y": [1, 2, 3]}], "layout": {}}"#)
        .unwrap();
    let created =
        run(&server, home.path(), CLI, &["plots", "create", "fig.json", "--filename", "t"], "");
    assert_eq!(code(&created), 0, "{}", stderr(&created));

    // ... but not after a server error, which may have come after the create took effect.
    let before = json_as_without_faults(&server, home.path());
    server.handle().set_faults(Faults { error_rate: 1.0, ..Faults::default() });
    let refused = run(&server, home.path(), CLI, &["folders", "create", "once"], "");
    server.handle().set_faults(Faults::default());
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    assert_eq!(json_as_without_faults(&server, home.path()), before, "no folder was made twice");
}

/// The number of `cli`'s files, read with faults off.
fn json_as_without_faults(server: &Server, home: &Path) -> usize {
    server.handle().set_faults(Faults::default());
    json_as(server, home, CLI, &["folders", "ls"]).as_array().unwrap().len()
}

#[test]
fn two_runs_into_one_backup_folder_at_once_keep_every_file() {
    let server = Server::start_with(ServerConfig {
        faults: Faults { latency: Duration::from_millis(2), ..Faults::default() },
        ..ServerConfig::default()
    });
    let home = tempfile::tempdir().unwrap();
    server.handle().add_plots("cli", 8, "a", true).unwrap();
    server.handle().add_plots("cli", 8, "b", true).unwrap();
    let runs: Vec<Child> = ["a", "b"]
        .into_iter()
        .map(|folder| {
            spawn(&server, home.path(), &["bulk", "export", "shared", "--folder", folder, "--yes"])
        })
        .collect();
    for child in runs {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let manifest = std::fs::read_to_string(home.path().join("shared/manifest.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 1 + 32, "one header, every file once: {manifest}");

    let target = Server::start();
    let imported = json_as(&target, home.path(), CLI, &["bulk", "import", "shared"]);
    assert_eq!(imported["files"].as_array().unwrap().len(), 32);
}

#[test]
fn an_import_over_changed_content_reports_a_conflict_and_changes_nothing() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    let plots = server.handle().add_plots("cli", 2, "c", false).unwrap();
    ok(&run(&server, home.path(), CLI, &["bulk", "export", "out", "--yes"], ""));
    // plot 0 now draws other data: a new figure of references to grid 1's columns.
    let other = json_as(&server, home.path(), CLI, &["plots", "content", &plots[1]]);
    let body = serde_json::json!({"figure": other});
    std::fs::write(home.path().join("body.json"), body.to_string()).unwrap();
    let path = format!("/v2/plots/{}", plots[0]);
    ok(&run(&server, home.path(), CLI, &["api", "PUT", &path, "--input", "body.json"], ""));
    let before = figures(&server, home.path(), "c");

    let imported = run(&server, home.path(), CLI, &["--json", "bulk", "import", "out"], "");
    ok(&imported);
    let report: Value = serde_json::from_slice(&imported.stdout).unwrap();
    let conflicts = report["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{report}");
    assert_eq!(conflicts[0]["found"], plots[0].as_str());
    let results = |report: &Value, result: &str| -> Vec<(String, String)> {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["result"] == result)
            .map(|f| (f["old"].as_str().unwrap().to_owned(), f["new"].as_str().unwrap().to_owned()))
            .collect()
    };
    assert_eq!(results(&report, "unchanged").len(), 4, "the rest is the same: {report}");
    assert_eq!(figures(&server, home.path(), "c"), before, "nothing was overwritten");

    let data = |figures: &BTreeMap<String, Value>| figures["c/plot 0"][0]["y"].clone();
    assert_eq!(data(&before), serde_json::json!([0, 1, 2, 3, 4]), "plot 0 drew grid 1's data");
    let overwrite = ["--json", "bulk", "import", "out", "--on-conflict", "overwrite", "--yes"];
    let replaced = run(&server, home.path(), CLI, &overwrite, "");
    ok(&replaced);
    let report: Value = serde_json::from_slice(&replaced.stdout).unwrap();
    let overwritten = results(&report, "overwritten");
    assert_eq!(overwritten, [(plots[0].clone(), plots[0].clone())], "the same fid: {report}");
    let after = figures(&server, home.path(), "c");
    assert_eq!(data(&after), serde_json::json!([0, 0, 0, 0, 0]), "the backup's data again");
}

#[test]
fn an_import_killed_at_any_point_or_run_twice_at_once_ends_whole_without_duplicates() {
    let source = Server::start();
    let plots = source.handle().add_plots("cli", 8, "imp/sub", true).unwrap();
    let home = tempfile::tempdir().unwrap();
    // A dashboard over two of the plots: imported last, after them.
    let board = serde_json::json!({"layout": {"type": "split",
        "first": {"type": "box", "boxType": "plot", "fileId": plots[0]},
        "second": {"type": "box", "boxType": "plot", "fileId": plots[1]}}, "settings": {}, "version": 2});
    std::fs::write(home.path().join("board.json"), board.to_string()).unwrap();
    let create = ["dashboards", "create", "board.json", "--filename", "imp/board"];
    ok(&run(&source, home.path(), CLI, &create, ""));
    ok(&run(&source, home.path(), CLI, &["bulk", "export", "out", "--yes"], ""));
    let expected = tree(&source, home.path());
    let data = figures(&source, home.path(), "imp");

    // The import makes its folders, grids, plots and the dashboard one change each (and sets
    // each folder's sharing); it is killed after exactly N of them.
    let all_changes = expected.len() as u64 + 2;
    for (round, changes) in [0u64, 2, 9, all_changes - 1].into_iter().enumerate() {
        let target = Server::start_with(ServerConfig {
            faults: Faults { hold_changes_after: Some(changes), ..Faults::default() },
            ..ServerConfig::default()
        });
        let journal = format!("import-{round}.jsonl");
        let mut child = spawn(
            &target,
            home.path(),
            &["bulk", "import", "out", "--jobs", "4", "--journal", &journal],
        );
        target.until_held(1);
        child.kill().unwrap();
        child.wait().unwrap();
        target.handle().set_faults(Faults::default());
        let made = tree(&target, home.path()).len() as u64;
        assert!(
            made <= changes && made < expected.len() as u64,
            "round {round}: {made} files after {changes} changes"
        );
        // Either way finishes it: resuming its journal, or importing the folder again.
        if round % 2 == 1 && home.path().join(&journal).exists() {
            ok(&run(&target, home.path(), CLI, &["bulk", "resume", &journal], ""));
        } else {
            ok(&run(&target, home.path(), CLI, &["bulk", "import", "out"], ""));
        }
        let now = tree(&target, home.path());
        assert_eq!(
            now.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "round {round}"
        );
        assert_eq!(figures(&target, home.path(), "imp"), data, "round {round}");
    }

    // Two imports at once: whatever one of them is refused (a name the other just took), a
    // later import completes, and no file exists twice.
    let target = Server::start();
    let both: Vec<Child> =
        (0..2).map(|_| spawn(&target, home.path(), &["bulk", "import", "out"])).collect();
    for child in both {
        child.wait_with_output().unwrap();
    }
    ok(&run(&target, home.path(), CLI, &["bulk", "import", "out"], ""));
    assert_eq!(
        tree(&target, home.path()).keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    let listed = json_as(&target, home.path(), CLI, &["folders", "ls"]);
    assert_eq!(listed.as_array().unwrap().len(), expected.len(), "no file exists twice");
    assert_eq!(figures(&target, home.path(), "imp"), data);
}

/// A document with two Chart Studio links, and the same text relinked to `NEW`.
fn document(title: &str) -> (String, String) {
    let text = |host: &str| {
        format!("# {title}\n\nSee {host}/~alice/1/ and ![chart]({host}/~alice/2.png).\n")
    };
    (text("https://plot.ly"), text(NEW))
}

const NEW: &str = "http://charts.example.com";

/// `chart-studio relink FILES --to NEW --write --json`, started in `dir`.
fn relink_in(dir: &Path, files: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_chart-studio"))
        .arg("relink")
        .args(files)
        .args(["--to", NEW, "--write", "--json"])
        .env_clear()
        .env("HOME", dir)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (a minute at most) until a process opens the FIFO `path` to read it, and returns the
/// FIFO open for writing: the reader waits there until it is written and closed.
fn reader_of(path: &Path) -> std::fs::File {
    let (sent, opened) = std::sync::mpsc::channel();
    let path = path.to_owned();
    std::thread::spawn(move || sent.send(std::fs::OpenOptions::new().write(true).open(path)));
    opened.recv_timeout(Duration::from_secs(60)).expect("the FIFO is read within a minute").unwrap()
}

/// Replaces the file `path` by a FIFO.
fn make_fifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// Every entry of `dir` but the named files, with its text.
fn others(dir: &Path, named: &[&str]) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !named.iter().any(|name| path.ends_with(name)))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// `relink --write` over `a.md b.md c.md`, stopped at known points by FIFOs: killed while it
/// reads (waiting on `c.md`, before anything is written), and while it writes `b.md` (waiting
/// on `b.md`, made a FIFO meanwhile: `a.md` is replaced and `b.md`'s new text is written
/// beside it, before the rename). Every file is whole, as it was or as rewritten, and a second
/// run finishes the job and removes what the kill left.
#[test]
fn a_relink_killed_at_any_point_leaves_each_file_whole_and_a_second_run_finishes() {
    let names = ["a.md", "b.md", "c.md"];
    let docs: Vec<(String, String)> = names.iter().map(|name| document(name)).collect();
    for killed_while_writing in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let read = |name: &str| std::fs::read_to_string(path(name)).unwrap();
        for (name, (old, _)) in names.iter().zip(&docs) {
            std::fs::write(path(name), old).unwrap();
        }
        make_fifo(&path("c.md"));

        let mut run = relink_in(dir.path(), &names);
        let mut held = reader_of(&path("c.md"));
        if killed_while_writing {
            // c.md is read whole; b.md will be read again just before its rename.
            std::io::Write::write_all(&mut held, docs[2].0.as_bytes()).unwrap();
            make_fifo(&path("b.md"));
            drop(held);
            held = reader_of(&path("b.md"));
        }
        run.kill().unwrap();
        run.wait().unwrap();
        drop(held);

        let left = others(dir.path(), &names);
        if killed_while_writing {
            assert_eq!(read("a.md"), docs[0].1, "a.md is replaced before b.md");
            assert_eq!(left.len(), 1, "one new file beside b.md: {left:?}");
            let (name, text) = left.iter().next().unwrap();
            assert!(name.starts_with(".b.md.") && name.ends_with(".relink"), "{name}");
            assert_eq!(text, &docs[1].1, "the new file is whole");
        } else {
            assert_eq!(read("a.md"), docs[0].0);
            assert_eq!(read("b.md"), docs[1].0);
            assert!(left.is_empty(), "nothing written: {left:?}");
        }

        for (name, (old, _)) in names.iter().zip(&docs).skip(1) {
            std::fs::remove_file(path(name)).unwrap();
            std::fs::write(path(name), old).unwrap();
        }
        let rerun = relink_in(dir.path(), &names).wait_with_output().unwrap();
        assert_eq!(code(&rerun), 0, "{}", String::from_utf8_lossy(&rerun.stderr));
        for (name, (_, new)) in names.iter().zip(&docs) {
            assert_eq!(&read(name), new, "{name} after the second run");
        }
        assert!(others(dir.path(), &names).is_empty(), "the kill's leftover is removed");
    }
}

/// While a `relink --write` of `a.md c.md b.md` waits on `b.md` (a FIFO) after reading
/// `a.md` and `c.md`, a person adds a paragraph to `a.md` and a second `relink --write`
/// rewrites `a.md` and `c.md`: the first run leaves both as they now are (saying so) and
/// rewrites `b.md`; the paragraph and every rewrite are kept.
#[test]
fn a_relink_leaves_alone_what_a_person_or_a_second_run_changed_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let [(a_old, a_new), (b_old, b_new), (c_old, c_new)] = ["A", "B", "C"].map(document);
    std::fs::write(path("a.md"), &a_old).unwrap();
    std::fs::write(path("c.md"), &c_old).unwrap();
    make_fifo(&path("b.md"));

    let first = relink_in(dir.path(), &["a.md", "c.md", "b.md"]);
    let mut held = reader_of(&path("b.md"));
    let paragraph = "\nA paragraph added meanwhile.\n";
    let mut a = std::fs::OpenOptions::new().append(true).open(path("a.md")).unwrap();
    std::io::Write::write_all(&mut a, paragraph.as_bytes()).unwrap();
    let second = relink_in(dir.path(), &["a.md", "c.md"]).wait_with_output().unwrap();
    assert_eq!(code(&second), 0, "{}", String::from_utf8_lossy(&second.stderr));
    // b.md is read whole from the FIFO, and again (before its rename) from a plain file.
    std::io::Write::write_all(&mut held, b_old.as_bytes()).unwrap();
    std::fs::remove_file(path("b.md")).unwrap();
    std::fs::write(path("b.md"), &b_old).unwrap();
    drop(held);
    let output = first.wait_with_output().unwrap();
    assert_eq!(code(&output), 0, "{}", String::from_utf8_lossy(&output.stderr));

    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let skipped: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["file"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    let changed = "it changed since it was read; left as it is";
    assert_eq!(skipped, [("a.md", changed), ("c.md", changed)]);
    let files: Vec<&str> =
        report["changes"].as_array().unwrap().iter().map(|c| c["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["b.md", "b.md"], "only b.md's two links are reported rewritten");
    let read = |name: &str| std::fs::read_to_string(path(name)).unwrap();
    assert_eq!(read("a.md"), format!("{a_new}{paragraph}"));
    assert_eq!(read("b.md"), b_new);
    assert_eq!(read("c.md"), c_new);
}
