//! The three sharing modes and their one mapping to the API's fields.

use std::fmt;
use std::str::FromStr;

use chart_studio_api::common::FileUpdate;
use chart_studio_models::File;
use serde::{Deserialize, Serialize};

/// Who can see a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sharing {
    /// Anyone; listed publicly.
    Public,
    /// The owner (and collaborators) only.
    Private,
    /// Anyone holding the secret link (`?share_key=`); not listed.
    Secret,
}

impl Sharing {
    /// All modes, most open first.
    pub const ALL: [Self; 3] = [Self::Public, Self::Secret, Self::Private];

    /// `(world_readable, share_key_enabled)` for this mode: public → `(true, false)`,
    /// private → `(false, false)`, secret → `(false, true)`.
    pub const fn fields(self) -> (bool, bool) {
        match self {
            Self::Public => (true, false),
            Self::Private => (false, false),
            Self::Secret => (false, true),
        }
    }

    /// The mode these field values mean. A public file with a share key still counts as public.
    pub const fn from_fields(world_readable: bool, share_key_enabled: bool) -> Self {
        match (world_readable, share_key_enabled) {
            (true, _) => Self::Public,
            (false, true) => Self::Secret,
            (false, false) => Self::Private,
        }
    }

    /// The mode a file's metadata shows; unknown when the requester cannot see the owner-only
    /// `share_key_enabled` of a file that is not public.
    ///
    /// ```
    /// use chart_studio_models::{File, FileType};
    /// use chart_studio_sharing::{Observed, Sharing};
    ///
    /// let mut file = File::new("alice:3".parse()?, "q3", FileType::Plot);
    /// file.world_readable = Some(false);
    /// assert_eq!(Sharing::of(&file), Observed::Unknown, "another user sees no share_key_enabled");
    /// file.share_key_enabled = Some(true);
    /// assert_eq!(Sharing::of(&file), Observed::Known(Sharing::Secret));
    /// # Ok::<(), chart_studio_models::FidError>(())
    /// ```
    pub fn of(file: &File) -> Observed {
        match (file.world_readable, file.share_key_enabled) {
            (Some(true), _) => Observed::Known(Self::Public),
            (Some(world_readable), Some(enabled)) => {
                Observed::Known(Self::from_fields(world_readable, enabled))
            }
            _ => Observed::Unknown,
        }
    }

    /// The mode an update puts a file in, when the fields it sets decide it.
    pub fn set_by(update: &FileUpdate) -> Option<Self> {
        match (update.world_readable, update.share_key_enabled) {
            (Some(true), _) => Some(Self::Public),
            (Some(world_readable), Some(enabled)) => {
                Some(Self::from_fields(world_readable, enabled))
            }
            _ => None,
        }
    }

    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Secret => "secret",
        }
    }
}

impl fmt::Display for Sharing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A text that is not `public`, `private` or `secret`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a sharing mode; use public, private or secret")]
pub struct SharingParseError(pub String);

impl FromStr for Sharing {
    type Err = SharingParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Self::Public),
            "private" => Ok(Self::Private),
            "secret" => Ok(Self::Secret),
            _ => Err(SharingParseError(text.to_owned())),
        }
    }
}

/// A mode as read from metadata; serialized as `public`, `private`, `secret` or `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Observed {
    /// The mode is known.
    Known(Sharing),
    /// The admin fields were not visible.
    Unknown,
}

impl From<Observed> for String {
    fn from(observed: Observed) -> Self {
        observed.to_string()
    }
}

impl TryFrom<String> for Observed {
    type Error = SharingParseError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text == "unknown" { Ok(Self::Unknown) } else { text.parse().map(Self::Known) }
    }
}

impl fmt::Display for Observed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(mode) => mode.fmt(f),
            Self::Unknown => f.write_str("unknown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chart_studio_models::{Fid, FileType};

    #[test]
    fn the_mapping_table() {
        assert_eq!(Sharing::Public.fields(), (true, false));
        assert_eq!(Sharing::Private.fields(), (false, false));
        assert_eq!(Sharing::Secret.fields(), (false, true));
        for mode in Sharing::ALL {
            let (world_readable, share_key_enabled) = mode.fields();
            assert_eq!(Sharing::from_fields(world_readable, share_key_enabled), mode);
            assert_eq!(mode.as_str().parse::<Sharing>().unwrap(), mode);
        }
        assert_eq!(Sharing::from_fields(true, true), Sharing::Public);
        assert!(
            "everyone"
                .parse::<Sharing>()
                .unwrap_err()
                .to_string()
                .contains("public, private or secret")
        );
        assert_eq!(" Secret ".parse::<Sharing>().unwrap(), Sharing::Secret);
    }

    #[test]
    fn reading_the_mode_back() {
        let mut file = File::new(Fid::new("a", 1).unwrap(), "f", FileType::Plot);
        assert_eq!(Sharing::of(&file), Observed::Unknown);
        file.world_readable = Some(true);
        assert_eq!(Sharing::of(&file), Observed::Known(Sharing::Public));
        file.world_readable = Some(false);
        assert_eq!(Sharing::of(&file), Observed::Unknown, "not public, admin fields hidden");
        file.share_key_enabled = Some(true);
        assert_eq!(Sharing::of(&file), Observed::Known(Sharing::Secret));
        file.share_key_enabled = Some(false);
        assert_eq!(Sharing::of(&file), Observed::Known(Sharing::Private));
    }

    #[test]
    fn observed_modes_serialize_as_words() {
        let modes = [Observed::Known(Sharing::Secret), Observed::Unknown];
        let text = serde_json::to_string(&modes).unwrap();
        assert_eq!(text, r#"["secret","unknown"]"#);
        assert_eq!(serde_json::from_str::<Vec<Observed>>(&text).unwrap(), modes);
    }
}
