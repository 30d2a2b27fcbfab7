//! `share FID... MODE` and `share show FID`: plan with the sharing engine, apply the updates as
//! JSON, read every file back, and report files whose mode did not take.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Result, bail};
use chart_studio_bulk::TokioClock;
use chart_studio_sharing::{Diagnostic, Observed, Plan, Sharing};
use chart_studio_workflows::share::{self, Applied, SharingView};

use super::username;
use crate::cli::{ShareArgs, ShareCommand, file_ref};
use crate::exit::UsageError;
use crate::output::Output;
use crate::settings::Settings;

pub(super) async fn run(args: ShareArgs, settings: &Settings, out: Output) -> Result<()> {
    let client = settings.client()?;
    if let Some(ShareCommand::Show { file }) = args.command {
        let view = share::describe(&client, &file.fid, file.share_key).await?;
        return show(&out, &view);
    }
    let me = username(settings)?;
    let Some((mode, targets)) = args.args.split_last() else {
        return Err(UsageError(
            "give the files, then the mode: share FID... public|private|secret".to_owned(),
        )
        .into());
    };
    let mode: Sharing =
        mode.parse().map_err(|err| UsageError(format!("{err} (the mode comes last)")))?;
    let fids = targets
        .iter()
        .map(|text| file_ref(text).map(|file| file.fid))
        .collect::<Result<Vec<_>, _>>()
        .map_err(UsageError)?;
    let (plan, diagnostics) = share::plan_change(&client, &me, &fids, mode, !args.no_grids).await?;
    report_diagnostics(&out, &diagnostics)?;
    if args.dry_run {
        return out.json(&serde_json::json!({"plan": plan, "diagnostics": diagnostics}));
    }
    let results = share::apply(&client, &TokioClock::default(), &plan).await;
    print_results(&out, &plan, &results)?;
    let drifted: Vec<String> = results
        .iter()
        .filter(|r| !r.reached)
        .map(|r| {
            format!(
                "{} ({})",
                r.fid,
                r.error.clone().unwrap_or_else(|| format!("the server says {}", r.observed))
            )
        })
        .collect();
    if !drifted.is_empty() {
        bail!("{} file(s) did not become {mode}: {}", drifted.len(), drifted.join("; "));
    }
    Ok(())
}

fn report_diagnostics(out: &Output, diagnostics: &[Diagnostic]) -> Result<()> {
    if out.json {
        return Ok(());
    }
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        writeln!(stderr, "note: {diagnostic}")?;
    }
    Ok(())
}

fn print_results(out: &Output, plan: &Plan, results: &[Applied]) -> Result<()> {
    if out.json {
        return out.json(&serde_json::json!({"plan": plan, "results": results}));
    }
    let rows: Vec<Vec<String>> = plan
        .steps
        .iter()
        .zip(results)
        .map(|(step, result)| {
            let change = format!("{} -> {}", step.from, step.to);
            let state = if result.reached {
                "done".to_owned()
            } else {
                format!("NOT DONE: server says {}", result.observed)
            };
            vec![step.fid.to_string(), step.filename.clone(), change, state, result.url.clone()]
        })
        .collect();
    if rows.is_empty() {
        return out.line(&format!("Nothing to change: everything is already {}", plan.target));
    }
    out.rows(&["FID", "NAME", "CHANGE", "RESULT", "LINK"], &rows)
}

/// `share show`: the mode, the link, who can see it, and the grids behind a plot.
fn show(out: &Output, view: &SharingView) -> Result<()> {
    let grid_mode = |mode: &Option<Observed>| {
        mode.map_or_else(|| "not readable by you".to_owned(), |mode| mode.to_string())
    };
    if out.json {
        let grids: BTreeMap<String, String> =
            view.grids.iter().map(|(fid, mode)| (fid.to_string(), grid_mode(mode))).collect();
        return out.json(&serde_json::json!({
            "fid": view.fid, "filename": view.filename, "sharing": view.sharing,
            "who_can_see": view.who_can_see, "link": view.link, "grids": grids,
        }));
    }
    let mut rows = vec![
        vec!["fid".to_owned(), view.fid.to_string()],
        vec!["filename".to_owned(), view.filename.clone()],
        vec!["sharing".to_owned(), view.sharing.to_string()],
        vec!["who can see it".to_owned(), view.who_can_see.to_owned()],
        vec!["link".to_owned(), view.link.clone()],
    ];
    rows.extend(
        view.grids.iter().map(|(grid, mode)| vec![format!("grid {grid}"), grid_mode(mode)]),
    );
    out.rows(&["FIELD", "VALUE"], &rows)
}
