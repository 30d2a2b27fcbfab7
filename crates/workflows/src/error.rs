//! Why a workflow did not finish.

/// Why a workflow did not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request failed (after the client's retries).
    #[error(transparent)]
    Request(#[from] chart_studio_api::Error),
    /// A step of a run failed (a request, the quota, a local file).
    #[error(transparent)]
    Run(#[from] chart_studio_bulk::Failure),
    /// The request is refused before anything is changed, for the reason given.
    #[error("{0}")]
    Refused(String),
    /// The figure has nothing to draw; nothing was sent.
    #[error("{0}; nothing was sent")]
    Figure(chart_studio_models::FigureError),
    /// The settings could not be read, used or written.
    #[error(transparent)]
    Settings(#[from] crate::settings::Error),
    /// A step failed; `context` says which (the cause is its source, as the error guidelines
    /// ask, so that a chain of causes shows each once).
    #[error("{context}")]
    Context {
        /// What was being done.
        context: String,
        /// Why it failed.
        source: Box<Error>,
    },
}

impl From<chart_studio_models::FigureError> for Error {
    fn from(err: chart_studio_models::FigureError) -> Self {
        Self::Figure(err)
    }
}

impl Error {
    /// The API error behind this one, if the server answered with an error status.
    pub fn as_api(&self) -> Option<&chart_studio_api::ApiError> {
        match self {
            Self::Request(err) => err.as_api(),
            Self::Run(chart_studio_bulk::Failure::Request(err)) => err.as_api(),
            Self::Context { source, .. } => source.as_api(),
            Self::Run(_) | Self::Refused(_) | Self::Figure(_) | Self::Settings(_) => None,
        }
    }
}
