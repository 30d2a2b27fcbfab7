//! What chart-studio does, as library calls with typed results, between the CLI (which parses,
//! calls and renders) and the engines below:
//!
//! - [`share`]: plan a sharing change from what the server says (a plot's grids come from its
//!   figure), refuse files the caller does not own, apply it, and read every file back;
//! - [`create`]: make a plot from a figure with raw data (the data goes into a grid), or a
//!   dashboard or presentation from its document, or update the one already at that path;
//! - [`audit`]: how many of a user's files are public, private and secret, and the most viewed
//!   public ones;
//! - [`files`]: a file moved into a folder named by `home`, fid or path;
//! - [`image`]: a figure or a stored plot drawn as an image by the server;
//! - [`login`]: a key checked with the server, then saved;
//! - [`plans`]: the plans of bulk runs (share, trash, restore, delete, export) from a selection,
//!   and how a finished run is undone;
//! - [`relink`]: links to a Chart Studio server in documents and notebooks, rewritten to
//!   another server, and checked there;
//! - [`runs`]: a plan journaled and executed (stopping cleanly when interrupted), and a journal
//!   taken to resume or undo its run;
//! - [`settings`]: the CLI's layered settings (`~/.plotly` files, the TOML profile, environment,
//!   explicit values), the client they describe, and writing them.
//!
//! Every call takes a [`chart_studio_api::Client`] (or a bulk engine built on one), so it can be
//! tested with the replay transport, and waits only through an injected clock.

pub mod audit;
pub mod create;
mod error;
pub mod files;
pub mod image;
pub mod login;
pub mod plans;
pub mod relink;
pub mod runs;
pub mod settings;
pub mod share;

pub use error::Error;
