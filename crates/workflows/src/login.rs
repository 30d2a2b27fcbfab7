//! `auth login` as one call: the key is checked with the server (unless the caller says not
//! to), then saved with the server settings given as flags.

use chart_studio_api::{Credentials, users};

use crate::Error;
use crate::settings::{LoginSaved, Settings};

/// Checks `credentials` with the configured server unless `verify` is false, then saves them
/// (see [`Settings::save_login`]). Nothing is saved when the check fails: a key the server
/// refuses, one of another user, a server that cannot be reached, or the masked key a settings
/// page shows instead of the key.
pub async fn login(
    settings: &Settings,
    credentials: &Credentials,
    verify: bool,
) -> Result<LoginSaved, Error> {
    let key = credentials.api_key.expose();
    if !key.is_empty() && key.chars().all(|c| c == '•' || c == '*') {
        return Err(Error::Refused(
            "that is the masked key shown on the settings page, not the key itself; copy the key after revealing it"
                .to_owned(),
        ));
    }
    if verify {
        let client = settings.client_as(Some(credentials.clone()))?;
        let api = client.config().api_base().to_string();
        let checked = client.send(&users::Current {}).await;
        let context = match &checked {
            Ok(user) if user.username != credentials.username => {
                return Err(Error::Refused(format!(
                    "the key belongs to {:?}, not {:?}; nothing was saved",
                    user.username, credentials.username
                )));
            }
            Ok(_) => None,
            Err(err) if err.as_api().is_some_and(chart_studio_api::ApiError::is_auth) => {
                Some(format!("{api} did not accept this username and key; nothing was saved"))
            }
            Err(_) => Some(format!(
                "could not check the key with {api}, so nothing was saved; check the address (--api-domain), or save without checking with --no-verify"
            )),
        };
        if let (Some(context), Err(err)) = (context, checked) {
            return Err(Error::Context { context, source: Box::new(err.into()) });
        }
    }
    Ok(settings.save_login(credentials)?)
}
