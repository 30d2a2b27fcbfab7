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
