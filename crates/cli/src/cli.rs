//! The command line, as clap derive structs. Parsing only: the commands live in `commands/`.

use std::path::PathBuf;

use chart_studio_models::Fid;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Work with Plotly Chart Studio servers: files, plots, grids, folders and raw API calls.
///
/// Settings come from, lowest first: defaults, ~/.plotly/.credentials and ~/.plotly/.config,
/// the chart-studio config file's profile, the environment (PLOTLY_USERNAME, PLOTLY_API_KEY,
/// PLOTLY_API_DOMAIN, PLOTLY_DOMAIN) and these flags. `chart-studio auth status` shows which won.
///
/// Output: a table on a terminal, tab-separated rows when piped, one JSON document with --json.
///
/// Exit codes: 0 success, 1 failure, 2 usage error, 3 some operations of a bulk run failed,
/// 4 authentication needed or refused, 5 daily quota used up, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "chart-studio", version, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, listed apart in each command's help (gh's "inherited flags").
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Use this profile of the config file.
    #[arg(long, global = true, env = "CHART_STUDIO_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
    /// The API server, such as https://plotly.example.com/api.
    #[arg(long, global = true, value_name = "URL")]
    pub api_domain: Option<String>,
    /// The web server that file links point to.
    #[arg(long, global = true, value_name = "URL")]
    pub web_domain: Option<String>,
    /// Act as this user (the API key comes from the environment or ~/.plotly/.credentials).
    #[arg(long, global = true, value_name = "NAME")]
    pub username: Option<String>,
    /// Trust the certificate authorities in this PEM file.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Send every request through this proxy.
    #[arg(long, global = true, value_name = "URL")]
    pub proxy: Option<String>,
    /// Do not check TLS certificates (dangerous; prefer --ca-bundle).
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Allow sending credentials over plain http to a machine other than this one.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
    /// Seconds to wait for each answer before giving up on it (and retrying); default 60.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = timeout)]
    pub timeout: Option<f64>,
    /// Seconds to wait for a connection to open, within --timeout; default 10.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = timeout)]
    pub connect_timeout: Option<f64>,
    /// Print one JSON document instead of a table; `--json=FIELD,...` keeps only those fields
    /// (`--json=` lists them).
    #[arg(long, global = true, value_name = "FIELDS", num_args = 0..=1, require_equals = true)]
    pub json: Option<Option<String>>,
    /// Filter the JSON through this jq expression (implies --json), e.g. '.[].fid'.
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,
    /// Log more to stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The nouns.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check and store credentials.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Any file: plots, grids, folders, dashboards.
    #[command(subcommand)]
    Files(FilesCommand),
    /// Plots: public listings and figures.
    #[command(subcommand)]
    Plots(PlotsCommand),
    /// Folders and listings of a user's files.
    #[command(subcommand)]
    Folders(FoldersCommand),
    /// Grids: their data as CSV or JSON.
    #[command(subcommand)]
    Grids(GridsCommand),
    /// Dashboards: plots and text in boxes on one page.
    #[command(subcommand)]
    Dashboards(DocumentsCommand),
    /// Presentations: slide decks of plots, text and code.
    #[command(subcommand)]
    Presentations(DocumentsCommand),
    /// Who can see files: make them public, private or secret, or show who can.
    #[command(after_help = examples::SHARE)]
    Share(ShareArgs),
    /// Read and change settings (`config set sharing private` makes new plots private).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Many files at once: share, trash, restore, delete, export, import; journaled and resumable.
    #[command(subcommand)]
    Bulk(BulkCommand),
    /// Reports on who can see your files.
    #[command(subcommand)]
    Sharing(SharingCommand),
    /// Call any API endpoint and print the JSON answer, like `gh api`.
    #[command(after_help = examples::API)]
    Api(ApiArgs),
    /// Draw a chart as an image (PNG, JPEG, WebP, SVG, PDF or EMF): a figure file, or a plot
    /// by fid or link.
    #[command(after_help = examples::IMAGE)]
    Image(ImageArgs),
    /// Rewrite links to a Chart Studio server (plot.ly, plotly.com, chart-studio.plotly.com)
    /// in Markdown, HTML, reStructuredText, text files and Jupyter notebooks to another server
    /// that serves the same files (after `chart-studio-server restore`): shows the diff;
    /// --write changes the files; --check asks the new server whether each link answers.
    #[command(after_help = examples::RELINK)]
    Relink(RelinkArgs),
    /// Print a shell completion script, e.g. `source <(chart-studio completion bash)`.
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `auth` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Show each setting with the source it came from, then check the credentials with the server.
    Status,
    /// Save a username and API key to ~/.plotly/.credentials, readable only by you: the key is
    /// typed unseen at a terminal, else read from stdin. `--api-domain`, `--web-domain` and
    /// `--ca-bundle` given here are kept in the profile, so later commands reach the same server.
    #[command(after_help = examples::LOGIN)]
    Login {
        /// The Chart Studio username.
        #[arg(long, value_name = "NAME")]
        username: String,
        /// Skip checking the key with the server before saving it.
        #[arg(long)]
        no_verify: bool,
    },
    /// Remove the username and API key from ~/.plotly/.credentials (other entries stay).
    Logout,
}

/// `image` arguments.
#[derive(Debug, Args)]
pub(crate) struct ImageArgs {
    /// A figure file (JSON; - for stdin), or a plot's fid (alice:12) or link.
    #[arg(value_name = "FIGURE.json|FID|LINK")]
    pub chart: String,
    /// Where to write the image; its extension gives the format (chart.svg). Without it the
    /// image goes to standard output, which must not be a terminal.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format: png, jpeg, webp, svg, pdf or emf (default: -o's extension, else png).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<chart_studio_api::images::ImageFormat>,
    /// Width in CSS pixels (default: the figure's, else 700).
    #[arg(long, value_name = "PIXELS")]
    pub width: Option<u32>,
    /// Height in CSS pixels (default: the figure's, else 500).
    #[arg(long, value_name = "PIXELS")]
    pub height: Option<u32>,
    /// Pixels per CSS pixel, e.g. 2 for a sharp picture on high-density screens.
    #[arg(long, value_name = "FACTOR")]
    pub scale: Option<f64>,
}

/// `relink` arguments.
#[derive(Debug, Args)]
pub(crate) struct RelinkArgs {
    /// Files, or folders (their .md, .markdown, .html, .htm, .rst, .txt and .ipynb files at any
    /// depth, hidden folders left out).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The new server's web address, such as https://charts.example.com.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// More hosts whose links to rewrite, such as an old on-premises server's (comma-separated).
    #[arg(long, value_name = "HOST,...", value_delimiter = ',')]
    pub from: Vec<String>,
    /// Rewrite the files; without it, only show what would change.
    #[arg(long)]
    pub write: bool,
    /// Ask the new server whether each of its links (rewritten, or already there) answers
    /// (anonymously: a private chart's link does not), and list those that do not (exit code 1).
    #[arg(long)]
    pub check: bool,
}

/// A file argument.
#[derive(Debug, Args)]
pub(crate) struct FidArg {
    /// The file: its id (alice:12), its link, or its path in your account (reports/2024/sales).
    #[arg(value_name = "FILE", value_parser = file_ref)]
    pub file: FileRef,
}

/// A file given by fid, by link (a secret link brings its key along), or by its path in the
/// caller's account.
#[derive(Debug, Clone)]
pub(crate) struct FileRef {
    /// The fid, or the path to look up.
    target: Target,
    /// The key of a secret link.
    pub share_key: Option<String>,
}

#[derive(Debug, Clone)]
enum Target {
    Fid(Fid),
    Path(String),
}

impl FileRef {
    /// The file's fid; a path is looked up in the caller's account.
    pub(crate) async fn fid(&self, client: &chart_studio_api::Client) -> anyhow::Result<Fid> {
        match &self.target {
            Target::Fid(fid) => Ok(fid.clone()),
            Target::Path(path) => {
                let lookup = chart_studio_api::files::Lookup::new(path.clone());
                match client.send(&lookup).await {
                    Ok(file) => Ok(file.fid),
                    Err(err) if err.status() == Some(http::StatusCode::NOT_FOUND) => {
                        let list = match path.rsplit_once('/') {
                            Some((folder, _)) => {
                                format!("`chart-studio folders ls {folder}` lists that folder")
                            }
                            None => "`chart-studio folders ls` lists your files".to_owned(),
                        };
                        Err(crate::exit::UsageError(format!(
                            "no file at {path:?} in your account (a fid looks like alice:12); {list}"
                        ))
                        .into())
                    }
                    Err(err) => Err(err.into()),
                }
            }
        }
    }
}

/// Parses `alice:12`, a file link such as `https://host/~alice/12/?share_key=...`, or else a
/// path such as `reports/2024/sales`.
pub(crate) fn file_ref(text: &str) -> Result<FileRef, String> {
    if text.contains("://") {
        let link = chart_studio_sharing::parse_link(text).map_err(|err| err.to_string())?;
        return Ok(FileRef { target: Target::Fid(link.fid), share_key: link.share_key });
    }
    if text.trim().is_empty() {
        return Err("give a fid (alice:12), a link or a path".to_owned());
    }
    let target = match text.parse::<Fid>() {
        Ok(fid) => Target::Fid(fid),
        Err(_) => Target::Path(text.to_owned()),
    };
    Ok(FileRef { target, share_key: None })
}

/// Parses `alice:12` or a file link (no paths: for lists of files).
pub(crate) fn fid_or_link(text: &str) -> Result<Fid, String> {
    if text.contains("://") {
        return chart_studio_sharing::parse_link(text)
            .map(|link| link.fid)
            .map_err(|e| e.to_string());
    }
    text.parse().map_err(|err: chart_studio_models::FidError| err.to_string())
}

/// The file links among the command-line arguments, so that each can be checked against the
/// configured server before anything is sent.
pub(crate) fn file_links(args: impl Iterator<Item = String>) -> Vec<url::Url> {
    args.filter(|arg| arg.contains("://") && chart_studio_sharing::parse_link(arg).is_ok())
        .filter_map(|arg| url::Url::parse(&arg).ok())
        .collect()
}

/// `files` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum FilesCommand {
    /// Show a file's metadata.
    #[command(after_help = examples::FILES_GET)]
    Get {
        /// The file: its id (alice:12), its link (a secret link's key is used to read it), or
        /// its path in your account (reports/2024/sales).
        #[arg(value_name = "FILE", value_parser = file_ref)]
        file: FileRef,
        /// Read a private file through its secret link's key.
        #[arg(long, value_name = "KEY")]
        share_key: Option<String>,
    },
    /// Find a file by its folder path, such as reports/2024/sales.
    Lookup {
        /// The `/`-separated path.
        path: String,
        /// Whose files to search (default: yours).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
    },
    /// Move a file (a folder with its contents) to the trash; `files restore` undoes it.
    Trash(FidArg),
    /// Take a file out of the trash.
    Restore(FidArg),
    /// Delete a file for good (a folder with everything in it): back it up, trash it, delete
    /// it; `bulk undo JOURNAL` re-creates it from the backup.
    Delete {
        #[command(flatten)]
        fid: FidArg,
        /// Do not ask for confirmation (needed when not on a terminal).
        #[arg(short, long)]
        yes: bool,
    },
    /// Rename a file.
    Rename {
        #[command(flatten)]
        fid: FidArg,
        /// The new name.
        name: String,
    },
    /// Copy a plot (with copies of its grids) or a grid you can read into your account.
    Copy {
        /// The file: its id (bob:3), its link (a secret link's key is used to read it), or its
        /// path in your account.
        #[arg(value_name = "FILE", value_parser = file_ref)]
        file: FileRef,
        /// The folder for the copy, e.g. reports/copies (default: home).
        #[arg(long, value_name = "PATH")]
        to: Option<String>,
    },
    /// Move a file into another folder: a folder path, a folder's fid, or `home`.
    Move {
        #[command(flatten)]
        fid: FidArg,
        /// The destination folder.
        folder: String,
    },
}

/// Orderings of the public lists.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum ViewOrder {
    /// Most viewed first.
    MostViewed,
    /// Least viewed first (feed only).
    LeastViewed,
}

/// `plots` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum PlotsCommand {
    /// List public plots, newest first.
    List {
        /// Order by views instead.
        #[arg(long, value_enum)]
        order: Option<ViewOrder>,
        /// Only plots of at least this quality.
        #[arg(long, value_name = "N")]
        min_quality: Option<u32>,
        /// Only plots of at most this quality.
        #[arg(long, value_name = "N")]
        max_quality: Option<u32>,
        /// Stop after this many plots (0: all of them).
        #[arg(long, default_value_t = 100, value_name = "N")]
        limit: usize,
    },
    /// List the hand-picked feed.
    Feed {
        /// Order by views instead of randomly.
        #[arg(long, value_enum)]
        order: Option<ViewOrder>,
        /// Stop after this many plots (0: all of them).
        #[arg(long, default_value_t = 100, value_name = "N")]
        limit: usize,
    },
    /// Create a plot from a figure (JSON with `data` and `layout`): raw data is uploaded as a
    /// grid and the traces refer to it. An existing plot at the same path is updated in place.
    #[command(after_help = examples::PLOTS_CREATE)]
    Create {
        /// The figure file, or - for stdin (e.g. the output of `plots content FID --inline-data`).
        #[arg(value_name = "FIGURE.json")]
        figure: PathBuf,
        /// Where to save it, e.g. reports/2024/sales (default: the figure file's name).
        #[arg(long, value_name = "PATH")]
        filename: Option<String>,
        /// Who can see it (default: the `sharing` setting, public when unset).
        #[arg(long, value_enum)]
        sharing: Option<SharingArg>,
        /// What to do when a plot already has that path.
        #[arg(long, value_enum, default_value = "update", value_name = "WHAT")]
        if_exists: IfExistsArg,
        /// Open the plot in the browser.
        #[arg(long)]
        open: bool,
    },
    /// Print a plot's figure as JSON.
    Content {
        #[command(flatten)]
        fid: FidArg,
        /// Put the grid data into the figure instead of column references.
        #[arg(long)]
        inline_data: bool,
        /// Read a private plot through its secret link's key.
        #[arg(long, value_name = "KEY")]
        share_key: Option<String>,
    },
}

/// `dashboards` and `presentations` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum DocumentsCommand {
    /// List your own, trashed ones too (marked as such).
    List {
        /// Stop after this many (0: all of them).
        #[arg(long, default_value_t = 100, value_name = "N")]
        limit: usize,
    },
    /// Print one's document as JSON (the file `create` takes).
    Get {
        #[command(flatten)]
        fid: FidArg,
    },
    /// Save a document (JSON, as `get` prints it or the Python client's `dashboard_objs` and
    /// `presentation_objs` make it): one already at the path is updated in place, keeping its
    /// fid and links.
    Create {
        /// The document file, or - for stdin.
        #[arg(value_name = "FILE.json")]
        file: PathBuf,
        /// Where to save it, e.g. reports/sales-board (default: the file's name).
        #[arg(long, value_name = "PATH")]
        filename: Option<String>,
        /// Who can see it (default: the `sharing` setting, public when unset). Each plot on it
        /// keeps its own sharing.
        #[arg(long, value_enum)]
        sharing: Option<SharingArg>,
        /// Open it in the browser.
        #[arg(long)]
        open: bool,
    },
}

/// What `plots create` does with a plot already at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum IfExistsArg {
    /// Replace its figure, keeping its fid and link (as the Python client's `py.plot` does).
    Update,
    /// Stop with an error and change nothing.
    Fail,
    /// Save under a free name instead: `name (1)`, `name (2)`, ...
    New,
}

/// File types to filter listings by.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FileTypeArg {
    /// Plots.
    Plot,
    /// Grids.
    Grid,
    /// Folders (`folder` works too).
    #[value(alias = "folder")]
    Fold,
    /// Dashboards.
    Dashboard,
    /// Presentations.
    Presentation,
}

/// `folders` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum FoldersCommand {
    /// List the files of a folder with their paths (`--recursive`: everything below it), or
    /// every file of a user.
    #[command(after_help = examples::FOLDERS_LS)]
    Ls {
        /// The folder, such as reports/2024 (default: every file).
        #[arg(value_name = "PATH")]
        path: Option<String>,
        /// The folder, as `bulk` commands take it.
        #[arg(long, value_name = "PATH", conflicts_with = "path")]
        folder: Option<String>,
        /// Everything below the folder, at any depth.
        #[arg(short, long)]
        recursive: bool,
        /// Whose files (default: yours).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// Only files of this type.
        #[arg(long, value_enum)]
        filetype: Option<FileTypeArg>,
    },
    /// Create a folder and any missing folders on its path.
    Create {
        /// The `/`-separated path, such as reports/2024.
        path: String,
    },
}

/// The sharing modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SharingArg {
    /// Anyone; listed publicly.
    Public,
    /// Only you.
    Private,
    /// Anyone with the secret link.
    Secret,
}

impl From<FileTypeArg> for chart_studio_models::FileType {
    fn from(arg: FileTypeArg) -> Self {
        match arg {
            FileTypeArg::Plot => Self::Plot,
            FileTypeArg::Grid => Self::Grid,
            FileTypeArg::Fold => Self::Folder,
            FileTypeArg::Dashboard => Self::Dashboard,
            FileTypeArg::Presentation => Self::Presentation,
        }
    }
}

impl From<SharingArg> for chart_studio_sharing::Sharing {
    fn from(arg: SharingArg) -> Self {
        match arg {
            SharingArg::Public => Self::Public,
            SharingArg::Private => Self::Private,
            SharingArg::Secret => Self::Secret,
        }
    }
}

/// `share` arguments: `share FID... MODE`, or `share show FID`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub(crate) struct ShareArgs {
    #[command(subcommand)]
    pub command: Option<ShareCommand>,
    /// The mode (public, private or secret), then the files: fids, links or paths. A file
    /// alone shows who can see it.
    #[arg(value_name = "MODE FILE", num_args = 1.., required = true)]
    pub args: Vec<String>,
    /// Leave the grids of the plots as they are (by default they follow their plot, so that a
    /// public or secret link shows its data).
    #[arg(long)]
    pub no_grids: bool,
    /// Print the plan as JSON and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `share` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum ShareCommand {
    /// Show a file's mode, its link, who can see it, and the modes of its plot's grids.
    Show {
        /// The file id or link.
        #[arg(value_name = "FID", value_parser = file_ref)]
        file: FileRef,
    },
}

/// `grids` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum GridsCommand {
    /// Print a grid's data: CSV (a header of column names, then rows), or JSON with --json.
    Get {
        /// The grid id or link.
        #[arg(value_name = "FID", value_parser = file_ref)]
        file: FileRef,
    },
}

/// `config` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print one setting and where it came from.
    Get {
        /// The setting, e.g. sharing.
        key: String,
    },
    /// Save a setting in the active profile of the config file.
    Set {
        /// The setting, e.g. sharing.
        key: String,
        /// Its value, e.g. private.
        value: String,
    },
    /// Print every setting and where it came from.
    List,
    /// Remove a setting from the active profile of the config file.
    Unset {
        /// The setting, e.g. sharing.
        key: String,
    },
}

/// `api` arguments.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// GET, POST, PUT, PATCH or DELETE.
    pub method: String,
    /// The path, relative to /v2/ (e.g. files/alice:3, /v2/folders/all?user=alice), or a full
    /// URL on the configured API server.
    pub path: String,
    /// Send this header too (repeatable), e.g. -H 'Plotly-Client-Platform: python'.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A string field: a query parameter for GET, else a member of the JSON body.
    #[arg(short = 'f', long = "raw-field", value_name = "KEY=VALUE")]
    pub raw_fields: Vec<String>,
    /// A typed field: true, false, null and numbers become JSON values; @FILE reads a file.
    #[arg(short = 'F', long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// Send this JSON file (or - for stdin) as the body.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["raw_fields", "fields"])]
    pub input: Option<PathBuf>,
    /// Follow `next` links (GET only) and print every item of every page as one JSON array
    /// (an answer that is not a page is printed as it is).
    #[arg(long)]
    pub paginate: bool,
}

/// Which files a bulk command works on; every option given must match.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct FilterArgs {
    /// Only files of this type (repeatable).
    #[arg(long, value_enum)]
    pub filetype: Vec<FileTypeArg>,
    /// Only files whose sharing is now this.
    #[arg(long = "sharing", value_enum, value_name = "MODE")]
    pub current_sharing: Option<SharingArg>,
    /// Only files inside this folder (at any depth), e.g. reports/2024.
    #[arg(long, value_name = "PATH")]
    pub folder: Option<String>,
    /// Only files whose name matches this glob, e.g. 'draft*'.
    #[arg(long, value_name = "GLOB")]
    pub name: Option<String>,
    /// Only files created before this time (RFC 3339, e.g. 2024-01-31T00:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub created_before: Option<String>,
    /// Only files created after this time.
    #[arg(long, value_name = "TIME")]
    pub created_after: Option<String>,
    /// Only files modified before this time.
    #[arg(long, value_name = "TIME")]
    pub modified_before: Option<String>,
    /// Only files modified after this time.
    #[arg(long, value_name = "TIME")]
    pub modified_after: Option<String>,
    /// Only files viewed at least this often.
    #[arg(long, value_name = "N")]
    pub min_views: Option<u64>,
    /// Only files viewed at most this often.
    #[arg(long, value_name = "N")]
    pub max_views: Option<u64>,
    /// Exactly the files listed in this file, one fid or link per line (- for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["filetype", "current_sharing", "folder", "name"])]
    pub fids: Option<PathBuf>,
}

/// `--timeout`: seconds, above 0 and at most a day.
fn timeout(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!("{text:?} is not a number of seconds above 0, such as 10 or 2.5")),
    }
}

/// The most requests a run may keep in flight.
pub(crate) const MAX_JOBS: usize = 256;

pub(crate) use chart_studio_workflows::runs::Jobs;

/// `--jobs`: `auto`, or a whole number from 1 to [`MAX_JOBS`].
fn jobs(text: &str) -> Result<Jobs, String> {
    if text.trim() == "auto" {
        return Ok(Jobs::Auto);
    }
    match text.trim().parse::<usize>() {
        Ok(jobs) if (1..=MAX_JOBS).contains(&jobs) => Ok(Jobs::Fixed(jobs)),
        _ => Err(format!("{text:?} is not `auto` or a number of requests from 1 to {MAX_JOBS}")),
    }
}

/// `--rate`: requests per second, finite and above 0.
fn rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a rate above 0 requests per second, such as 2.5")),
    }
}

/// How a bulk run runs.
#[derive(Debug, Args, Clone)]
pub(crate) struct RunArgs {
    /// Requests in flight: `auto` finds how many the server answers without slowing down or
    /// throttling (up to 64); a number N keeps at most N (fewer while the server throttles).
    #[arg(short, long, default_value = "auto", value_name = "N|auto", value_parser = jobs)]
    pub jobs: Jobs,
    /// Requests per second at most (a number above 0, such as 2.5).
    #[arg(long, value_name = "N", value_parser = rate)]
    pub rate: Option<f64>,
    /// Do it without asking (needed when not on a terminal).
    #[arg(short, long)]
    pub yes: bool,
    /// Show the full plan (a table; JSON with --json) and send nothing that changes anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to write the journal (default: COMMAND-TIME.jsonl in the runs folder,
    /// ~/.local/state/chart-studio/runs; `bulk runs` lists them).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
}

/// What `bulk import` does with a path that holds other content.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OnConflictArg {
    /// Leave it as it is and report a conflict.
    Skip,
    /// Replace its content with the backup's, keeping its fid.
    Overwrite,
}

impl From<OnConflictArg> for chart_studio_bulk::OnConflict {
    fn from(arg: OnConflictArg) -> Self {
        match arg {
            OnConflictArg::Skip => Self::Skip,
            OnConflictArg::Overwrite => Self::Overwrite,
        }
    }
}

/// `bulk` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum BulkCommand {
    /// Make files public, private or secret; the grids of plots follow them (unless --no-grids).
    #[command(after_help = examples::BULK_SHARE)]
    Share {
        /// The new mode.
        #[arg(value_enum)]
        mode: SharingArg,
        #[command(flatten)]
        filter: FilterArgs,
        /// Leave the grids of the plots as they are.
        #[arg(long)]
        no_grids: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Move files to the trash.
    Trash {
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Take files out of the trash (the filters apply to the trash).
    Restore {
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Delete files for good: back each up, trash it, delete it; plots before their grids.
    #[command(after_help = examples::BULK_DELETE)]
    Delete {
        #[command(flatten)]
        filter: FilterArgs,
        /// Also delete grids that plots outside the selection still use.
        #[arg(long)]
        force: bool,
        /// Do not back files up first.
        #[arg(long)]
        no_backup: bool,
        /// Where backups go (default: next to the journal).
        #[arg(long, value_name = "DIR")]
        backup_dir: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Export files (metadata, figures with their data, grids) to a folder with a manifest.
    #[command(after_help = examples::BULK_EXPORT)]
    Export {
        /// The folder to write.
        dir: PathBuf,
        /// Also draw each plot as a picture in these formats (png, jpeg, webp, svg, pdf, emf),
        /// written beside its figure as OWNER/IDLOCAL.FORMAT, e.g. --images png,svg.
        #[arg(long, value_name = "FORMATS", value_delimiter = ',')]
        images: Vec<chart_studio_api::images::ImageFormat>,
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Re-create an exported folder (or a delete's backup) on this server, sharing included:
    /// folders, then grids, then plots, `--jobs` at a time; journaled and resumable.
    Import {
        /// The backup or export folder (with manifest.jsonl).
        dir: PathBuf,
        /// A file whose path holds other content: leave it and report a conflict, or replace
        /// its content with the backup's (same fid; this asks first).
        #[arg(long, value_enum, default_value = "skip", value_name = "WHAT")]
        on_conflict: OnConflictArg,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Continue a run from its journal, skipping what it finished (also after a kill).
    Resume {
        /// The run's journal.
        journal: PathBuf,
        /// Requests in flight: `auto`, or at most N.
        #[arg(short, long, default_value = "auto", value_name = "N|auto", value_parser = jobs)]
        jobs: Jobs,
    },
    /// Undo a run: put back the sharing it changed and restore what it trashed.
    #[command(after_help = examples::BULK_UNDO)]
    Undo {
        /// The run's journal.
        #[arg(value_name = "JOURNAL")]
        of: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Show a run's plan from its journal, with the state of each operation.
    Plan {
        /// The run's journal.
        journal: PathBuf,
    },
    /// List past runs from their journals: command, time, counts, and whether each is done,
    /// resumable (`bulk resume JOURNAL`) or undone.
    Runs {
        /// The folder of journals (default: the runs folder, ~/.local/state/chart-studio/runs).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// `sharing` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum SharingCommand {
    /// Count files by type and sharing mode, per folder, and list the most viewed public ones.
    Audit {
        /// Whose files (default: yours).
        #[arg(long, value_name = "NAME")]
        user: Option<String>,
        /// How many of the most viewed public files to list.
        #[arg(long, default_value_t = 10, value_name = "N")]
        top: usize,
    },
}

/// The examples that end commands' help (gh's EXAMPLES).
mod examples {
    pub(super) const API: &str = "Examples:\n  $ chart-studio api GET files/alice:12\n  $ chart-studio api GET /v2/folders/all -f user=alice --paginate --jq '.[].fid'";
    pub(super) const BULK_DELETE: &str = "Examples:\n  $ chart-studio bulk delete --folder old --dry-run\n  $ chart-studio bulk delete --folder old --yes --backup-dir ~/chart-backups\n  $ chart-studio bulk undo ~/.local/state/chart-studio/runs/delete-20261206-101500-4242.jsonl";
    pub(super) const BULK_EXPORT: &str = "Examples:\n  $ chart-studio bulk export ./backup\n  $ chart-studio bulk export ./backup --filetype plot --images png,svg";
    pub(super) const BULK_SHARE: &str = "Examples:\n  $ chart-studio bulk share private --dry-run\n  $ chart-studio bulk share private --folder reports --name \"2024*\" --yes\n  $ chart-studio bulk share public --fids fids.txt";
    pub(super) const BULK_UNDO: &str = "Examples:\n  $ chart-studio bulk runs\n  $ chart-studio bulk undo ~/.local/state/chart-studio/runs/share-private-20261206-101500-4242.jsonl --yes";
    pub(super) const FILES_GET: &str = "Examples:\n  $ chart-studio files get alice:12\n  $ chart-studio files get reports/2024/revenue --json=fid,web_url";
    pub(super) const FOLDERS_LS: &str = "Examples:\n  $ chart-studio folders ls\n  $ chart-studio folders ls reports -r --filetype plot\n  $ chart-studio folders ls --json=fid,path --jq '.[] | select(.path == \"\")'";
    pub(super) const IMAGE: &str = "Examples:\n  $ chart-studio image alice:12 -o chart.png --width 1200 --scale 2\n  $ chart-studio image figure.json -o figure.svg";
    pub(super) const LOGIN: &str = "Examples:\n  $ chart-studio auth login --username alice --api-domain https://plotly.example.com\n  $ echo \"$KEY\" | chart-studio auth login --username alice";
    pub(super) const PLOTS_CREATE: &str = "Examples:\n  $ chart-studio plots create figure.json --filename reports/2024/revenue --sharing secret\n  $ cat figure.json | chart-studio plots create - --if-exists new";
    pub(super) const RELINK: &str = "Examples:\n  $ chart-studio relink docs/ README.md --to https://charts.example.com\n  $ chart-studio relink docs/ --to https://charts.example.com --from plotly.corp.example.com --write --check";
    pub(super) const SHARE: &str = "Examples:\n  $ chart-studio share secret reports/2024/revenue\n  $ chart-studio share alice:12\n  $ chart-studio share private alice:12 alice:13 --dry-run";
}
