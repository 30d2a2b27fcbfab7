//! `relink`: finds the links to a Chart Studio server in documents, shows the diff of their
//! rewrite, writes it with `--write`, and with `--check` asks the new server about each link.

use anyhow::{Result, bail};
use chart_studio_workflows::relink::{
    CHART_STUDIO_HOSTS, DeadLink, LinkChange, Relinked, Relinker, Skipped, check,
};
use serde::Serialize;

use crate::cli::RelinkArgs;
use crate::output::{Human, Output, Render};
use crate::settings::Settings;

/// What `relink` found, did and checked.
#[derive(Debug, Serialize)]
struct RelinkReport {
    /// Each link rewritten (or, without `--write`, to rewrite).
    changes: Vec<LinkChange>,
    /// Files left as they are, and why.
    skipped: Vec<Skipped>,
    /// Whether the files were rewritten.
    written: bool,
    /// Whether the links were checked on the new server.
    checked: bool,
    /// The links to the new server (rewritten, or already there) that do not answer there.
    dead: Vec<DeadLink>,
    /// The unified diff of every file, for people.
    #[serde(skip)]
    diff: String,
}

impl Render for RelinkReport {
    const FIELDS: &'static [&'static str] = &["changes", "skipped", "written", "checked", "dead"];

    /// The diff, then what was skipped, the dead links and a summary.
    fn human(&self) -> Human {
        let mut text = self.diff.clone();
        for skipped in &self.skipped {
            text.push_str(&format!("skipped {}: {}\n", skipped.file.display(), skipped.reason));
        }
        for dead in &self.dead {
            text.push_str(&format!("dead link {}: {}\n", dead.link, dead.error));
        }
        let files: std::collections::BTreeSet<_> = self.changes.iter().map(|c| &c.file).collect();
        let (links, files) = (self.changes.len(), files.len());
        text.push_str(&match (links, self.written) {
            (0, _) => "no Chart Studio links to rewrite\n".to_owned(),
            (_, true) => format!("rewrote {links} link(s) in {files} file(s)\n"),
            (_, false) => format!(
                "{links} link(s) in {files} file(s) would be rewritten; run again with --write\n"
            ),
        });
        if self.checked && self.dead.is_empty() {
            text.push_str("every link to the new server answers\n");
        }
        Human::Text(text)
    }
}

/// The unified diff of one file's rewrite.
fn diff(relinked: &Relinked) -> String {
    let name = relinked.file.display().to_string();
    similar::TextDiff::from_lines(&relinked.before, &relinked.after)
        .unified_diff()
        .context_radius(1)
        .header(&name, &name)
        .to_string()
}

pub(super) async fn run(args: RelinkArgs, settings: &Settings, out: Output) -> Result<()> {
    let printer = out.of::<RelinkReport>()?;
    let mut hosts: Vec<String> = CHART_STUDIO_HOSTS.iter().map(|host| (*host).to_owned()).collect();
    hosts.extend(args.from.iter().map(|host| host.trim().to_owned()).filter(|h| !h.is_empty()));
    let relinker = Relinker::new(&args.to, &hosts)?;
    let mut plan = relinker.plan(&args.paths)?;
    if args.write {
        plan.write();
    }
    let dead = match args.check {
        true => {
            let origin = url::Url::parse(&args.to)?.origin().ascii_serialization();
            let client = settings.client_at(&origin, "--to", None)?;
            check(&client, &plan.links()).await
        }
        false => Vec::new(),
    };
    let report = RelinkReport {
        changes: plan.rewrites.iter().flat_map(|relinked| relinked.changes.clone()).collect(),
        diff: plan.rewrites.iter().map(diff).collect(),
        skipped: plan.skipped,
        written: args.write,
        checked: args.check,
        dead,
    };
    printer.print(&report)?;
    if !report.dead.is_empty() {
        bail!("{} rewritten link(s) do not answer on {}", report.dead.len(), args.to);
    }
    Ok(())
}
