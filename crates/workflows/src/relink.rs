//! `relink`: the links to a Chart Studio server that documents hold (READMEs, wikis, notebooks),
//! rewritten to another server that serves the same files at the same fids (after a `restore`).
//!
//! A link is an address on one of the old hosts whose path is one of the server's web forms:
//! a chart or profile (`/~USER/...`, with any suffix such as `.png` or `.embed`), a dashboard
//! (`/dashboard/...`), or the embed script and missing-chart picture (`/embed.js`,
//! `/404.png`). Only its scheme and host (and port) change: path, suffix, query (a secret
//! link's `share_key`) and fragment stay. Other addresses on those hosts, such as
//! documentation pages, are left alone.
//!
//! Markdown, HTML, reStructuredText and plain text are read as UTF-8 text; a Jupyter notebook
//! (`.ipynb`) as JSON: its text is rewritten where the links stand and nowhere else, so its
//! formatting stays byte for byte, and the result must parse to the same notebook with each
//! string rewritten, or the notebook is left as it is. A file that does not read as its format
//! is never touched.

use std::path::{Path, PathBuf};

use chart_studio_api::Client;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::Error;

/// The hosts of Chart Studio Cloud, whose links are rewritten unless others are named.
pub const CHART_STUDIO_HOSTS: [&str; 5] =
    ["plot.ly", "www.plot.ly", "plotly.com", "www.plotly.com", "chart-studio.plotly.com"];

/// The file extensions searched in folders: Markdown, HTML, reStructuredText, plain text and
/// notebooks.
const EXTENSIONS: [&str; 7] = ["md", "markdown", "html", "htm", "rst", "txt", "ipynb"];

/// Rewrites links to the old hosts into links to the new server.
#[derive(Debug, Clone)]
pub struct Relinker {
    pattern: Regex,
    /// The new server's address: scheme, host, port and any path prefix, without a trailing `/`.
    to: String,
}

/// One link rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkChange {
    /// The file.
    pub file: PathBuf,
    /// Its line (from 1) in the file's text.
    pub line: usize,
    /// The link as it was.
    pub old: String,
    /// The link as it becomes.
    pub new: String,
}

/// A file's text with its links rewritten.
#[derive(Debug, Clone)]
pub struct Relinked {
    /// The file.
    pub file: PathBuf,
    /// Its text as it was read.
    pub before: String,
    /// Its text with the links rewritten.
    pub after: String,
    /// Each link rewritten, in order.
    pub changes: Vec<LinkChange>,
    /// Every link as it now is: rewritten, or already on the new server.
    pub links: Vec<String>,
}

/// A file left as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file.
    pub file: PathBuf,
    /// Why it was not read or not rewritten.
    pub reason: String,
}

/// A rewritten link that does not answer on the new server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLink {
    /// The link.
    pub link: String,
    /// The status it answered with (`None`: no answer).
    pub status: Option<u16>,
    /// What went wrong.
    pub error: String,
}

/// What `relink` makes of the documents, all read before any is written.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The files with links to rewrite (after [`Plan::write`], the ones rewritten).
    pub rewrites: Vec<Relinked>,
    /// Files left as they are, and why.
    pub skipped: Vec<Skipped>,
    /// The links to the new server that files with nothing to rewrite hold.
    pub unchanged_links: Vec<String>,
}

impl Plan {
    /// Writes each rewrite: its new text is written beside it and renamed over it, unless the
    /// file changed since it was read; a file that cannot be written moves to `skipped`.
    /// The new files a killed run left in those folders are removed first.
    pub fn write(&mut self) {
        let folders: std::collections::BTreeSet<&Path> =
            self.rewrites.iter().map(|relinked| folder_of(&relinked.file)).collect();
        folders.into_iter().for_each(remove_leftovers);
        for relinked in std::mem::take(&mut self.rewrites) {
            match write(&relinked) {
                Ok(()) => self.rewrites.push(relinked),
                Err(reason) => self.skipped.push(Skipped { file: relinked.file, reason }),
            }
        }
    }

    /// Every link to the new server the documents hold once rewritten, each once, sorted.
    pub fn links(&self) -> Vec<String> {
        let rewritten = self.rewrites.iter().flat_map(|relinked| relinked.links.iter());
        let links: std::collections::BTreeSet<&String> =
            self.unchanged_links.iter().chain(rewritten).collect();
        links.into_iter().cloned().collect()
    }
}

impl Relinker {
    /// Rewrites links on `hosts` (with or without `www.`, any port) to the server at `to`
    /// (`https://charts.example.com`, optionally with a path prefix).
    pub fn new(to: &str, hosts: &[String]) -> Result<Self, Error> {
        let parsed = url::Url::parse(to)
            .map_err(|err| Error::Refused(format!("--to {to:?} is not an address: {err}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Refused(format!("--to {to:?} must be an http(s) address")));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(Error::Refused(format!("--to {to:?} must not have a query or fragment")));
        }
        if hosts.is_empty() {
            return Err(Error::Refused("no host to rewrite links from".to_owned()));
        }
        // The new server's own links are found too (and left as they are), to be checked.
        let own = match parsed.port() {
            Some(port) => format!("{}:{port}", parsed.host_str().unwrap_or_default()),
            None => parsed.host_str().unwrap_or_default().to_owned(),
        };
        // A host with a port matches that port only; one without, any port.
        let hosts: Vec<String> = hosts
            .iter()
            .map(|host| host.trim())
            .chain([own.as_str()])
            .map(|host| match host.contains(':') {
                true => regex::escape(host),
                false => format!(r"{}(?::\d+)?", regex::escape(host)),
            })
            .collect();
        // Scheme (or none: `//host/...`), host and port, then a path of the server's web
        // forms; the link ends where a URL cannot go on in prose, markup or JSON.
        let pattern = format!(
            r#"(?i)(?:https?:)?//(?:{})(?-i)(?P<rest>/(?:~|dashboard/|embed\.js\b|404\.png\b)[^\s"'<>()\[\]{{}}`\\|^]*)"#,
            hosts.join("|")
        );
        let pattern = Regex::new(&pattern)
            .map_err(|err| Error::Refused(format!("the hosts do not make a pattern: {err}")))?;
        Ok(Self { pattern, to: to.trim_end_matches('/').to_owned() })
    }

    /// `text` with its links rewritten; each change with its byte offset in `text`; and every
    /// link as it now is, rewritten or already on the new server.
    fn rewrite(&self, text: &str) -> (String, Vec<(usize, String, String)>, Vec<String>) {
        let mut out = String::with_capacity(text.len());
        let mut changes = Vec::new();
        let mut links = Vec::new();
        let mut last = 0;
        for found in self.pattern.captures_iter(text) {
            let (Some(whole), Some(rest)) = (found.get(0), found.name("rest")) else { continue };
            // Punctuation that ends a sentence or markup is not part of the link.
            let kept = rest.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?', '*', '_']);
            let end = rest.start() + kept.len();
            let old = &text[whole.start()..end];
            let new = format!("{}{kept}", self.to);
            out.push_str(&text[last..whole.start()]);
            out.push_str(&new);
            last = end;
            if old != new {
                changes.push((whole.start(), old.to_owned(), new.clone()));
            }
            links.push(new);
        }
        out.push_str(&text[last..]);
        (out, changes, links)
    }

    /// Reads every document `paths` name (files as given; in folders, at any depth, the
    /// Markdown, HTML, reStructuredText, text and notebook files) and rewrites its links in
    /// memory.
    pub fn plan(&self, paths: &[PathBuf]) -> Result<Plan, Error> {
        let mut plan = Plan::default();
        for file in documents(paths)? {
            let relinked = std::fs::read(&file)
                .map_err(|err| format!("could not read it: {err}"))
                .and_then(|bytes| self.relink(&file, &bytes));
            match relinked {
                Ok(relinked) if relinked.changes.is_empty() => {
                    plan.unchanged_links.extend(relinked.links);
                }
                Ok(relinked) => plan.rewrites.push(relinked),
                Err(reason) => plan.skipped.push(Skipped { file, reason }),
            }
        }
        Ok(plan)
    }

    /// The file `file`, holding `bytes`, with its links rewritten; `Err` says why it was left
    /// as it is (it does not read as its format).
    pub fn relink(&self, file: &Path, bytes: &[u8]) -> Result<Relinked, String> {
        let text = std::str::from_utf8(bytes).map_err(|err| format!("not UTF-8 text: {err}"))?;
        let (after, changes, links) = self.rewrite(text);
        if is_notebook(file) && !changes.is_empty() {
            self.check_notebook(text, &after)?;
        } else if is_notebook(file) {
            notebook(text)?;
        }
        let line = |offset: usize| text[..offset].matches('\n').count() + 1;
        let changes = changes
            .into_iter()
            .map(|(offset, old, new)| LinkChange {
                file: file.to_owned(),
                line: line(offset),
                old,
                new,
            })
            .collect();
        Ok(Relinked { file: file.to_owned(), before: text.to_owned(), after, changes, links })
    }

    /// Checks that `after`, a notebook's text `before` rewritten in place, is the same notebook
    /// with each of its strings rewritten: nothing but link text changed.
    fn check_notebook(&self, before: &str, after: &str) -> Result<(), String> {
        let mut expected = notebook(before)?;
        self.rewrite_strings(&mut expected);
        let got: Value = serde_json::from_str(after).map_err(|err| {
            format!("the rewritten notebook would not parse ({err}); left as it is")
        })?;
        if got != expected {
            return Err(
                "links stand escaped in this notebook's JSON; left as it is (rewrite them by hand)"
                    .to_owned(),
            );
        }
        Ok(())
    }

    /// Rewrites the links of every string of `value`.
    fn rewrite_strings(&self, value: &mut Value) {
        match value {
            Value::String(text) => *text = self.rewrite(text).0,
            Value::Array(items) => items.iter_mut().for_each(|item| self.rewrite_strings(item)),
            Value::Object(fields) => {
                fields.values_mut().for_each(|field| self.rewrite_strings(field));
            }
            _ => {}
        }
    }
}

fn is_notebook(file: &Path) -> bool {
    file.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("ipynb"))
}

/// A notebook's JSON, which must hold a list of cells.
fn notebook(text: &str) -> Result<Value, String> {
    let parsed: Value =
        serde_json::from_str(text).map_err(|err| format!("not a Jupyter notebook: {err}"))?;
    if !parsed.get("cells").is_some_and(Value::is_array) {
        return Err("not a Jupyter notebook: it has no list of cells".to_owned());
    }
    Ok(parsed)
}

/// The documents `paths` name: files as given, and in folders (at any depth, hidden ones left
/// out) the Markdown, HTML, reStructuredText, text and notebook files, in name order.
fn documents(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|err| Error::Refused(format!("{}: {err}", path.display())))?;
        if !meta.is_dir() {
            found.push(path.clone());
            continue;
        }
        let hidden = |entry: &walkdir::DirEntry| {
            entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
        };
        for entry in
            walkdir::WalkDir::new(path).sort_by_file_name().into_iter().filter_entry(|e| !hidden(e))
        {
            let entry = entry.map_err(|err| Error::Refused(err.to_string()))?;
            let wanted =
                entry.path().extension().and_then(|ext| ext.to_str()).is_some_and(|ext| {
                    EXTENSIONS.iter().any(|known| known.eq_ignore_ascii_case(ext))
                });
            if entry.file_type().is_file() && wanted {
                found.push(entry.into_path());
            }
        }
    }
    Ok(found)
}

/// Replaces `relinked.file` by its rewritten text at once: a new file beside it (named
/// `.NAME.XXXXXX.relink`, with the same permissions) is written, synced, and renamed over it,
/// unless the file changed since it was read. A kill leaves the file whole, as it was or as
/// rewritten, and at most that one new file beside it, which the next `--write` removes.
fn write(relinked: &Relinked) -> Result<(), String> {
    let file = &relinked.file;
    let permissions = std::fs::metadata(file)
        .map_err(|err| format!("could not read it again: {err}"))?
        .permissions();
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(LEFTOVER)
        .rand_bytes(LEFTOVER_RANDOM)
        .tempfile_in(folder_of(file))
        .map_err(|err| format!("could not write beside it: {err}"))?;
    std::io::Write::write_all(&mut temp, relinked.after.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .and_then(|()| std::fs::set_permissions(temp.path(), permissions))
        .map_err(|err| format!("could not write beside it: {err}"))?;
    // Compared last, just before the rename, so that an edit made meanwhile is not lost.
    let now = std::fs::read(file).map_err(|err| format!("could not read it again: {err}"))?;
    if now != relinked.before.as_bytes() {
        return Err("it changed since it was read; left as it is".to_owned());
    }
    temp.persist(file).map_err(|err| format!("could not replace it: {}", err.error))?;
    Ok(())
}

/// The end of the name of a new file [`write`] makes, after `LEFTOVER_RANDOM` random letters.
const LEFTOVER: &str = ".relink";
const LEFTOVER_RANDOM: usize = 6;

/// The folder `file` is in.
fn folder_of(file: &Path) -> &Path {
    file.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Removes from `folder` the new files of a [`write`] that was killed before its rename:
/// hidden, ending in `.XXXXXX.relink` with six random letters or digits. (A run writing the
/// same file at the same time then fails its rename and leaves that file as it is.)
fn remove_leftovers(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(random) = name
            .to_str()
            .filter(|name| name.starts_with('.'))
            .and_then(|name| name.strip_suffix(LEFTOVER))
            .and_then(|stem| stem.rsplit_once('.'))
            .map(|(_, random)| random)
        else {
            continue;
        };
        let ours = random.len() == LEFTOVER_RANDOM
            && random.chars().all(|c| c.is_ascii_alphanumeric())
            && entry.file_type().is_ok_and(|kind| kind.is_file());
        if ours {
            // A leftover that cannot be removed is only clutter; the write goes on.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Asks the server `client` reaches (its base address is the links' origin) whether each of
/// `links` answers; the ones that do not.
pub async fn check(client: &Client, links: &[String]) -> Vec<DeadLink> {
    let mut dead = Vec::new();
    for link in links {
        let Ok(url) = url::Url::parse(link) else {
            dead.push(DeadLink {
                link: link.clone(),
                status: None,
                error: "not an address".into(),
            });
            continue;
        };
        let endpoint = chart_studio_api::web::Link::new(url.path(), url.query().map(str::to_owned));
        if let Err(err) = client.send(&endpoint).await {
            let status = err.status().map(|status| status.as_u16());
            dead.push(DeadLink { link: link.clone(), status, error: err.to_string() });
        }
    }
    dead
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn relinker() -> Relinker {
        let hosts: Vec<String> = CHART_STUDIO_HOSTS.iter().map(|h| (*h).to_owned()).collect();
        Relinker::new("https://charts.example.com/", &hosts).unwrap()
    }

    #[test]
    fn links_keep_their_path_suffix_and_share_key() {
        let text = "See [sales](https://plot.ly/~alice/12/sales-by-month/).\n\
            ![chart](https://chart-studio.plotly.com/~alice/13.png?share_key=AbC123)\n\
            <script data-plotly=\"alice:12\" src=\"//plot.ly/embed.js\" async></script>\n\
            Dashboard: https://plotly.com/dashboard/alice:77/present, docs: https://plotly.com/python/.\n\
            <iframe src=\"http://www.plot.ly/~bob/4.embed\"></iframe>";
        let relinked = relinker().relink(Path::new("README.md"), text.as_bytes()).unwrap();
        let news: Vec<&str> = relinked.changes.iter().map(|c| c.new.as_str()).collect();
        assert_eq!(
            news,
            [
                "https://charts.example.com/~alice/12/sales-by-month/",
                "https://charts.example.com/~alice/13.png?share_key=AbC123",
                "https://charts.example.com/embed.js",
                "https://charts.example.com/dashboard/alice:77/present",
                "https://charts.example.com/~bob/4.embed",
            ]
        );
        assert_eq!(relinked.changes.iter().map(|c| c.line).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert!(relinked.after.contains("https://plotly.com/python/."), "docs stay");
        assert!(relinked.after.contains("sales-by-month/)."), "the sentence's end stays");
    }

    #[test]
    fn a_notebook_keeps_its_formatting_and_a_broken_one_is_left_alone() {
        let notebook = "{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",\n   \"metadata\": {},\n   \"source\": [\"![c](https://plot.ly/~alice/3.png)\\n\"]\n  }\n ],\n \"nbformat\": 4\n}\n";
        let relinked = relinker().relink(Path::new("a.ipynb"), notebook.as_bytes()).unwrap();
        assert_eq!(
            relinked.after,
            notebook.replace("https://plot.ly/", "https://charts.example.com/"),
            "only the link changed"
        );
        let escaped = notebook
            .replace("https://plot.ly/~alice/3.png", "https:\\/\\/plot.ly\\/~alice\\/3.png");
        assert!(
            relinker().relink(Path::new("a.ipynb"), escaped.as_bytes()).is_ok(),
            "nothing matched, nothing to do"
        );
        let broken = &notebook[..notebook.len() - 3];
        let why = relinker().relink(Path::new("a.ipynb"), broken.as_bytes()).unwrap_err();
        assert!(why.contains("not a Jupyter notebook"), "{why}");
        let binary = [0xff, 0xfe, 0x00];
        assert!(relinker().relink(Path::new("a.md"), &binary).unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn links_already_on_the_new_server_and_other_hosts_stay() {
        let text = "https://charts.example.com/~a/1/ https://plot.ly.evil.com/~a/1/ https://notplot.ly/~a/1/";
        let relinked = relinker().relink(Path::new("a.txt"), text.as_bytes()).unwrap();
        assert!(relinked.changes.is_empty(), "{:?}", relinked.changes);
        assert_eq!(relinked.after, text);
    }

    proptest! {
        /// Any text of words and links: rewriting never panics, changes only the links, and a
        /// second pass over the result changes nothing more.
        #[test]
        fn rewriting_is_stable(words in proptest::collection::vec(
            "\\PC{0,6}|https://plot\\.ly/~a/1[.)?]?|//plotly\\.com/dashboard/x\\.png|https://plotly\\.com/python/",
            0..20,
        )) {
            let text = words.join(" ");
            let first = relinker().relink(Path::new("a.md"), text.as_bytes()).unwrap();
            let again = relinker().relink(Path::new("a.md"), first.after.as_bytes()).unwrap();
            prop_assert!(again.changes.is_empty());
            let mut undone = first.after.clone();
            for change in first.changes.iter().rev() {
                if let Some(at) = undone.rfind(&change.new) {
                    undone.replace_range(at..at + change.new.len(), &change.old);
                }
            }
            prop_assert_eq!(undone, text);
        }

        /// Any bytes as a notebook: an answer, never a panic.
        #[test]
        fn any_notebook_bytes_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = relinker().relink(Path::new("a.ipynb"), &bytes);
        }
    }
}
