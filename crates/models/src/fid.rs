//! File ids (`username:idlocal`) and grid column references (`username:idlocal:uid`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The `parent` value of a file that sits in its owner's home (root) folder.
pub const HOME_FOLDER: i64 = -1;

/// A file id: the owner's username and the file's per-user number, written `username:idlocal`.
///
/// ```
/// use chart_studio_models::Fid;
///
/// let fid: Fid = "alice:12".parse()?;
/// assert_eq!((fid.owner(), fid.idlocal(), fid.to_string()), ("alice", 12, "alice:12".to_owned()));
/// assert!("alice".parse::<Fid>().is_err(), "the number is required");
/// # Ok::<(), chart_studio_models::FidError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fid {
    owner: String,
    idlocal: u64,
}

/// Why a text is not a valid [`Fid`] or [`ColumnRef`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid file id {input:?}: {reason} (expected `username:number`, e.g. `alice:12`)")]
pub struct FidError {
    input: String,
    reason: &'static str,
}

impl FidError {
    fn new(input: &str, reason: &'static str) -> Self {
        Self { input: input.to_owned(), reason }
    }
}

fn valid_username(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 150
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
}

impl Fid {
    /// A fid from its parts; fails when the username has characters a username cannot have.
    pub fn new(owner: impl Into<String>, idlocal: u64) -> Result<Self, FidError> {
        let owner = owner.into();
        if !valid_username(&owner) {
            return Err(FidError::new(&format!("{owner}:{idlocal}"), "invalid username"));
        }
        Ok(Self { owner, idlocal })
    }

    /// The owner's username.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The owner's number for this file, unique per user and counted from 0.
    pub fn idlocal(&self) -> u64 {
        self.idlocal
    }
}

impl FromStr for Fid {
    type Err = FidError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let Some((owner, idlocal)) = input.rsplit_once(':') else {
            return Err(FidError::new(input, "missing `:`"));
        };
        if owner.is_empty() {
            return Err(FidError::new(input, "missing username before `:`"));
        }
        if !valid_username(owner) {
            return Err(FidError::new(
                input,
                "the username may only hold letters, digits and . _ - @ +",
            ));
        }
        if idlocal.is_empty() {
            return Err(FidError::new(input, "missing number after `:`"));
        }
        if !idlocal.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FidError::new(
                input,
                "the part after `:` must be a non-negative whole number",
            ));
        }
        let idlocal =
            idlocal.parse().map_err(|_| FidError::new(input, "the number is too large"))?;
        Ok(Self { owner: owner.to_owned(), idlocal })
    }
}

impl fmt::Display for Fid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.owner, self.idlocal)
    }
}

impl Serialize for Fid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A reference to one grid column, as a trace's `*src` attribute holds it: `username:idlocal:uid`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnRef {
    /// The grid's fid.
    pub grid: Fid,
    /// The column's uid inside the grid.
    pub uid: String,
}

impl ColumnRef {
    /// A column reference from a grid fid and a column uid.
    pub fn new(grid: Fid, uid: impl Into<String>) -> Self {
        Self { grid, uid: uid.into() }
    }
}

impl FromStr for ColumnRef {
    type Err = FidError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let Some((fid, uid)) = input.rsplit_once(':') else {
            return Err(FidError::new(input, "a column reference is `username:number:uid`"));
        };
        if uid.is_empty() || uid.len() > 64 || !uid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FidError::new(input, "the column uid must be letters and digits"));
        }
        let grid =
            fid.parse().map_err(|err: FidError| FidError { input: input.to_owned(), ..err })?;
        Ok(Self { grid, uid: uid.to_owned() })
    }
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.grid, self.uid)
    }
}

impl Serialize for ColumnRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColumnRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_real_fids() {
        for text in ["bcowden:30", "tim.lichtenberg:686", "Capt_Calculator:183", "st-tse:0"] {
            let fid: Fid = text.parse().unwrap();
            assert_eq!(fid.to_string(), text);
        }
        let fid: Fid = "st-tse:0".parse().unwrap();
        assert_eq!((fid.owner(), fid.idlocal()), ("st-tse", 0));
    }

    #[test]
    fn rejects_malformed_fids_with_a_reason() {
        let cases = [
            ("foo", "missing `:`"),
            ("foo:", "missing number"),
            ("foo:-3", "non-negative whole number"),
            ("a/b:1", "username may only hold"),
            (":4", "missing username"),
            ("a:1.5", "non-negative whole number"),
            ("a:99999999999999999999999", "too large"),
        ];
        for (input, reason) in cases {
            let err = input.parse::<Fid>().unwrap_err().to_string();
            assert!(err.contains(reason), "{input}: {err}");
            assert!(err.contains(&format!("{input:?}")), "{input}: {err}");
        }
    }

    #[test]
    fn column_refs() {
        let col: ColumnRef = "bcowden:31:7ef4ff".parse().unwrap();
        assert_eq!(col.grid.to_string(), "bcowden:31");
        assert_eq!(col.uid, "7ef4ff");
        assert!("sven:88:u8nd62".parse::<ColumnRef>().is_ok());
        assert!("bcowden:31".parse::<ColumnRef>().is_err());
        assert!("bcowden:31:".parse::<ColumnRef>().is_err());
        assert!("bcowden::x1".parse::<ColumnRef>().is_err());
    }

    #[test]
    fn serde_uses_the_text_form() {
        let fid: Fid = serde_json::from_str("\"a.b:7\"").unwrap();
        assert_eq!(serde_json::to_string(&fid).unwrap(), "\"a.b:7\"");
        assert!(serde_json::from_str::<Fid>("\"a.b\"").is_err());
    }

    proptest! {
        #[test]
        fn fid_display_parse_round_trip(owner in "[A-Za-z0-9._-]{1,30}", idlocal in any::<u64>()) {
            let fid = Fid::new(owner, idlocal).unwrap();
            prop_assert_eq!(fid.to_string().parse::<Fid>().unwrap(), fid);
        }

        #[test]
        fn column_ref_round_trip(owner in "[A-Za-z0-9._-]{1,20}", idlocal in 0u64..100_000, uid in "[a-z0-9]{1,12}") {
            let col = ColumnRef::new(Fid::new(owner, idlocal).unwrap(), uid);
            prop_assert_eq!(col.to_string().parse::<ColumnRef>().unwrap(), col);
        }

        #[test]
        fn parsing_never_panics(input in ".{0,40}") {
            let _ = input.parse::<Fid>();
            let _ = input.parse::<ColumnRef>();
        }
    }
}
