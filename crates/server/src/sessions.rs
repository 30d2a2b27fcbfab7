//! Signed-in browsers. A session ends when it is [`SESSION_LIFETIME`] old, when its account's
//! key changes, or when its owner signs out; sessions live in memory, so a restart ends them all.

use std::collections::BTreeMap;
use std::time::Duration;

/// How long a sign-in lasts.
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// One signed-in browser: its account, the key it signed in with (hashed), and when it ends.
#[derive(Clone)]
struct Session {
    username: String,
    key_hash: String,
    /// Microseconds since the epoch.
    ends: i64,
}

/// Every live session, by token. `Debug` shows how many, never a token.
#[derive(Default)]
pub(crate) struct Sessions {
    by_token: BTreeMap<String, Session>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("live", &self.by_token.len()).finish()
    }
}

impl Sessions {
    /// Starts a session of `username`, who signed in with a key whose hash is `key_hash`, at
    /// `now` (microseconds); returns its token. Sessions that have ended are forgotten.
    pub(crate) fn start(&mut self, username: &str, key_hash: &str, now: i64) -> String {
        self.by_token.retain(|_, session| session.ends > now);
        let token = crate::store::Store::random_key();
        let lifetime = i64::try_from(SESSION_LIFETIME.as_micros()).unwrap_or(i64::MAX);
        let session = Session {
            username: username.to_owned(),
            key_hash: key_hash.to_owned(),
            ends: now.saturating_add(lifetime),
        };
        self.by_token.insert(token.clone(), session);
        token
    }

    /// The account of the session `token` at `now`, while it lasts and its account still has
    /// the key it signed in with (`key_hash` tells an account's current key hash).
    pub(crate) fn user(
        &self,
        token: &str,
        now: i64,
        key_hash: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        let session = self.by_token.get(token)?;
        let same_key = key_hash(&session.username).is_some_and(|hash| hash == session.key_hash);
        (session.ends > now && same_key).then(|| session.username.clone())
    }

    /// Ends every session of `username`.
    pub(crate) fn end_all(&mut self, username: &str) {
        self.by_token.retain(|_, session| session.username != username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_with_its_lifetime_or_its_key() {
        let mut sessions = Sessions::default();
        let token = sessions.start("alice", "hash-1", 0);
        let current = |hash: &'static str| move |_: &str| Some(hash.to_owned());
        assert_eq!(sessions.user(&token, 1, current("hash-1")).as_deref(), Some("alice"));
        let end = i64::try_from(SESSION_LIFETIME.as_micros()).unwrap();
        assert_eq!(sessions.user(&token, end - 1, current("hash-1")).as_deref(), Some("alice"));
        assert_eq!(sessions.user(&token, end, current("hash-1")), None, "expired");
        assert_eq!(sessions.user(&token, 1, current("hash-2")), None, "the key changed");
        assert_eq!(sessions.user(&token, 1, |_| None), None, "the account is gone");
        assert_eq!(sessions.user("guess", 1, current("hash-1")), None);
        sessions.end_all("alice");
        assert_eq!(sessions.user(&token, 1, current("hash-1")), None, "signed out");
        assert!(!format!("{sessions:?}").contains(&token));
    }
}
