//! Who can see a chart: the sharing engine.
//!
//! - [`Sharing`]: public, private or secret, and its one mapping to `world_readable` and
//!   `share_key_enabled` (the server uses the same table);
//! - [`resolve`]: the effective setting from layered configuration, each layer checked on its own;
//! - [`plan`]: the updates that bring files (and the grids their plots use) to a mode, with
//!   diagnostics instead of early failures;
//! - [`secret_link`] and [`parse_link`]: secret links built from a file's `web_url` and read back.
//!
//! Pure, synchronous and deterministic: no I/O, and the same input always gives the same plan.
//!
//! ```
//! use chart_studio_models::{File, FileType};
//! use chart_studio_sharing::{Observed, PlanInput, Sharing, parse_link, plan, secret_link};
//!
//! let mut plot = File::new("alice:12".parse()?, "sales", FileType::Plot);
//! (plot.world_readable, plot.share_key_enabled) = (Some(true), Some(false));
//! assert_eq!(Sharing::of(&plot), Observed::Known(Sharing::Public));
//!
//! // Making it secret: one update, and the update that undoes it.
//! let input = PlanInput {
//!     me: "alice".into(),
//!     files: vec![(plot, None)],
//!     include_grids: true,
//!     ..PlanInput::default()
//! };
//! let (changes, _diagnostics) = plan(&input, Sharing::Secret);
//! assert_eq!(changes.steps.len(), 1);
//! assert_eq!(changes.steps[0].request.changes.share_key_enabled, Some(true));
//!
//! // The secret link the server's key makes, read back.
//! let link = secret_link("https://chart-studio.example.com/~alice/12/", "k3y")?;
//! assert_eq!(parse_link(&link)?.share_key.as_deref(), Some("k3y"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod link;
mod mode;
mod plan;
mod resolve;

pub use link::{LinkError, ParsedLink, file_link, parse_link, secret_link};
pub use mode::{Observed, Sharing, SharingParseError};
pub use plan::{
    Diagnostic, Plan, PlanInput, Reason, Step, grid_step, listed_fids, plan, selected_step,
};
pub use resolve::{Layer, ResolveError, Resolved, resolve};
