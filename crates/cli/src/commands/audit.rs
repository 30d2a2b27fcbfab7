//! `sharing audit`: the workflow's audit of a user's files, as a table. It only reads, so it
//! never asks.

use std::sync::Arc;

use anyhow::Result;
use chart_studio_bulk::{Engine, EngineConfig, TokioClock};
use chart_studio_workflows::audit::{Audit, audit};

use super::username;
use crate::cli::SharingCommand;
use crate::output::{Human, Output, Render};
use crate::settings::Settings;
use crate::waiting::{self, Spinner};

impl Render for Audit {
    const FIELDS: &'static [&'static str] = &["user", "counts", "most_viewed_public"];

    /// One table: a SECTION column says which part each row belongs to.
    fn human(&self) -> Human {
        let mut rows: Vec<Vec<String>> = self
            .counts
            .iter()
            .map(|c| {
                vec![
                    c.group.to_owned(),
                    c.name.clone(),
                    c.public.to_string(),
                    c.private.to_string(),
                    c.secret.to_string(),
                    c.unknown.to_string(),
                    String::new(),
                    String::new(),
                ]
            })
            .collect();
        rows.extend(self.most_viewed_public.iter().map(|top| {
            let mut row = vec!["most viewed public".to_owned(), top.filename.clone()];
            row.extend(std::iter::repeat_n(String::new(), 4));
            row.extend([top.views.to_string(), top.link.clone()]);
            row
        }));
        Human::Table {
            headers: &[
                "SECTION", "NAME", "PUBLIC", "PRIVATE", "SECRET", "UNKNOWN", "VIEWS", "LINK",
            ],
            rows,
            empty: None,
        }
    }
}

pub(super) async fn run(command: SharingCommand, settings: &Settings, out: Output) -> Result<()> {
    let SharingCommand::Audit { user, top } = command;
    let printer = out.of::<Audit>()?;
    let user = match user {
        Some(user) => user,
        None => username(settings)?,
    };
    let engine =
        Engine::new(settings.client()?, Arc::new(TokioClock::default()), EngineConfig::default());
    let reading = Spinner::new(waiting::shown(&out), format!("Reading the files of {user}"));
    let audit = audit(&engine, &user, top).await?;
    drop(reading);
    printer.print(&audit)
}
