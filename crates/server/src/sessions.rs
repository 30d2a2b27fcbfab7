//! Signed-in browsers. A session ends when it is [`SESSION_LIFETIME`] old, when its account's
//! key changes, or when its owner signs out. Sessions are stored in the database (the hash of
//! their token, never the token), so every process sharing it knows them and a restart keeps
//! them.

use std::time::Duration;

/// How long a sign-in lasts.
pub(crate) const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// One signed-in browser, as stored: its account, the key it signed in with (hashed), and when
/// it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Session {
    pub username: String,
    pub key_hash: String,
    /// Microseconds since the epoch.
    pub ends: i64,
}

impl Session {
    /// A session of `username`, who signed in at `now` with a key whose hash is `key_hash`.
    pub(crate) fn new(username: &str, key_hash: &str, now: i64) -> Self {
        let lifetime = i64::try_from(SESSION_LIFETIME.as_micros()).unwrap_or(i64::MAX);
        Self {
            username: username.to_owned(),
            key_hash: key_hash.to_owned(),
            ends: now.saturating_add(lifetime),
        }
    }

    /// Its account at `now`, while it lasts and the account still has the key it signed in
    /// with (`current`: the account's key hash, `None` when it is gone).
    pub(crate) fn user(&self, now: i64, current: Option<&str>) -> Option<&str> {
        (self.ends > now && current == Some(self.key_hash.as_str())).then_some(&self.username)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_with_its_lifetime_or_its_key() {
        let session = Session::new("alice", "hash-1", 0);
        assert_eq!(session.user(1, Some("hash-1")), Some("alice"));
        let end = i64::try_from(SESSION_LIFETIME.as_micros()).unwrap();
        assert_eq!(session.user(end - 1, Some("hash-1")), Some("alice"));
        assert_eq!(session.user(end, Some("hash-1")), None, "expired");
        assert_eq!(session.user(1, Some("hash-2")), None, "the key changed");
        assert_eq!(session.user(1, None), None, "the account is gone");
    }
}
