//! The [`Client`]: sends endpoints through a transport and follows pagination.

use std::sync::Arc;

use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt, stream};

use crate::paginate::Page;
use crate::retry::{RetryPolicy, Sleeper, Verdict};
use crate::{
    Config, Endpoint, Error, Paginated, RequestLine, SharedTransport, Transport, build_request,
    parse_response,
};

/// Sends endpoints with one configuration through one transport. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    transport: SharedTransport,
    config: Arc<Config>,
    retry: RetryPolicy,
    sleeper: Option<Arc<dyn Sleeper>>,
}

impl Client {
    /// A client sending through `transport` with `config`; it does not retry.
    pub fn new(transport: impl Transport + 'static, config: Config) -> Self {
        Self {
            transport: SharedTransport::new(transport),
            config: Arc::new(config),
            retry: RetryPolicy::NONE,
            sleeper: None,
        }
    }

    /// The same client, retrying as `policy` says and waiting through `sleeper`.
    pub fn with_retries(self, policy: RetryPolicy, sleeper: Arc<dyn Sleeper>) -> Self {
        Self { retry: policy, sleeper: Some(sleeper), ..self }
    }

    /// The configuration requests are built with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends one endpoint and parses its answer, retrying as the client's [`RetryPolicy`] says.
    pub async fn send<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output, Error> {
        let Some(sleeper) = &self.sleeper else { return self.send_once(endpoint).await };
        let mut delays = self.retry.delays();
        loop {
            let err = match self.send_once(endpoint).await {
                Ok(output) => return Ok(output),
                Err(err) => err,
            };
            let retry =
                matches!(RetryPolicy::verdict(&err, endpoint.idempotent()), Verdict::Retry { .. });
            let Some(delay) = delays.next().filter(|_| retry) else { return Err(err) };
            let wait = self.retry.wait(&err, delay);
            tracing::debug!(error = %err, ?wait, "retrying");
            sleeper.sleep(wait).await;
        }
    }

    /// Sends one endpoint once and parses its answer.
    pub async fn send_once<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output, Error> {
        let request = build_request(endpoint, &self.config)?;
        let line = RequestLine::of(&request);
        tracing::debug!(method = %line.method, url = %line.url, "sending request");
        let response =
            self.transport.send(request).await.map_err(|err| err.with_request(line.clone()))?;
        tracing::debug!(method = %line.method, url = %line.url, status = %response.status(), bytes = response.body().len(), "received response");
        parse_response(endpoint, line, &response)
    }

    /// Every page of `first`, following `next` links; empty pages are skipped and a link seen
    /// before ends the stream, so it cannot loop forever.
    pub fn pages<E: Paginated>(
        &self,
        first: E,
    ) -> impl Stream<Item = Result<E::Output, Error>> + Send + 'static
    where
        E::Output: Page,
    {
        let client = self.clone();
        crate::paginate::page_stream(first, Arc::clone(&self.config), move |request| {
            let client = client.clone();
            async move {
                let page = client.send(&request).await?;
                Ok((request, page))
            }
        })
    }

    /// Every item of every page of `first`.
    pub fn items<E: Paginated>(
        &self,
        first: E,
    ) -> impl Stream<Item = Result<<E::Output as Page>::Item, Error>> + Send + 'static
    where
        E::Output: Page,
    {
        self.pages(first)
            .map_ok(|page| stream::iter(page.into_items().into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}
