//! The effective sharing setting from layered configuration.

use serde::{Deserialize, Serialize};

use crate::Sharing;

/// One configuration layer's sharing settings, each value with the source it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// `sharing` as written (`public`, `private` or `secret`), and where.
    pub sharing: Option<(String, String)>,
    /// The deprecated `world_readable`, and where.
    pub world_readable: Option<(bool, String)>,
}

/// The setting in effect and the source that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolved {
    /// The mode.
    pub sharing: Sharing,
    /// Where it came from (`default` when no layer set it).
    pub source: String,
}

/// A layer that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// `sharing` is not a mode.
    #[error("sharing = {value:?} (from {origin}) is not a mode; use public, private or secret")]
    Invalid {
        /// The value.
        value: String,
        /// Where it came from.
        origin: String,
    },
    /// `sharing` and `world_readable` disagree within one layer.
    #[error(
        "sharing = {sharing} (from {sharing_source}) disagrees with world_readable = {world_readable} (from {world_readable_source}); world_readable is deprecated: remove it and keep sharing"
    )]
    Conflict {
        /// The `sharing` value.
        sharing: Sharing,
        /// Where it came from.
        sharing_source: String,
        /// The `world_readable` value.
        world_readable: bool,
        /// Where it came from.
        world_readable_source: String,
    },
}

/// Resolves `layers`, lowest first: each is checked on its own, and a later one overrides an
/// earlier one. `world_readable` alone means public (`true`) or private (`false`); nothing at all
/// means public, the default of the other clients.
///
/// ```
/// use chart_studio_sharing::{Layer, Sharing, resolve};
///
/// let config_file = Layer { world_readable: Some((false, "~/.plotly/.config".into())), ..Layer::default() };
/// let flag = Layer { sharing: Some(("secret".into(), "flag --sharing".into())), ..Layer::default() };
/// let resolved = resolve(&[config_file.clone(), flag])?;
/// assert_eq!((resolved.sharing, resolved.source.as_str()), (Sharing::Secret, "flag --sharing"));
/// assert_eq!(resolve(&[config_file])?.sharing, Sharing::Private);
/// # Ok::<(), chart_studio_sharing::ResolveError>(())
/// ```
pub fn resolve(layers: &[Layer]) -> Result<Resolved, ResolveError> {
    let mut resolved = Resolved { sharing: Sharing::Public, source: "default".to_owned() };
    for layer in layers {
        let sharing = match &layer.sharing {
            Some((value, source)) => Some((
                value.parse::<Sharing>().map_err(|_| ResolveError::Invalid {
                    value: value.clone(),
                    origin: source.clone(),
                })?,
                source,
            )),
            None => None,
        };
        match (sharing, &layer.world_readable) {
            (Some((mode, source)), Some((world_readable, wr_source))) => {
                if (mode == Sharing::Public) != *world_readable {
                    return Err(ResolveError::Conflict {
                        sharing: mode,
                        sharing_source: source.clone(),
                        world_readable: *world_readable,
                        world_readable_source: wr_source.clone(),
                    });
                }
                resolved = Resolved { sharing: mode, source: source.clone() };
            }
            (Some((mode, source)), None) => {
                resolved = Resolved { sharing: mode, source: source.clone() }
            }
            (None, Some((world_readable, source))) => {
                let sharing = if *world_readable { Sharing::Public } else { Sharing::Private };
                resolved = Resolved { sharing, source: source.clone() };
            }
            (None, None) => {}
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sharing(value: &str, source: &str) -> Option<(String, String)> {
        Some((value.to_owned(), source.to_owned()))
    }

    fn readable(value: bool, source: &str) -> Option<(bool, String)> {
        Some((value, source.to_owned()))
    }

    #[test]
    fn nothing_set_means_public() {
        assert_eq!(
            resolve(&[]).unwrap(),
            Resolved { sharing: Sharing::Public, source: "default".to_owned() }
        );
        assert_eq!(resolve(&[Layer::default()]).unwrap().sharing, Sharing::Public);
    }

    #[test]
    fn world_readable_alone_maps_to_public_or_private() {
        let layer = Layer { world_readable: readable(false, ".config"), ..Layer::default() };
        assert_eq!(
            resolve(&[layer]).unwrap(),
            Resolved { sharing: Sharing::Private, source: ".config".to_owned() }
        );
        let layer = Layer { world_readable: readable(true, "flag"), ..Layer::default() };
        assert_eq!(resolve(&[layer]).unwrap().sharing, Sharing::Public);
    }

    #[test]
    fn later_layers_override_earlier_ones() {
        let layers = [
            Layer {
                sharing: sharing("secret", ".config"),
                world_readable: readable(false, ".config"),
            },
            Layer { world_readable: readable(true, "profile"), ..Layer::default() },
            Layer { sharing: sharing("private", "flag --sharing"), ..Layer::default() },
        ];
        assert_eq!(
            resolve(&layers).unwrap(),
            Resolved { sharing: Sharing::Private, source: "flag --sharing".to_owned() }
        );
        assert_eq!(
            resolve(&layers[..2]).unwrap(),
            Resolved { sharing: Sharing::Public, source: "profile".to_owned() }
        );
    }

    #[test]
    fn every_conflict_names_both_sources() {
        for (mode, world_readable) in [("public", false), ("private", true), ("secret", true)] {
            let layer = Layer {
                sharing: sharing(mode, "A"),
                world_readable: readable(world_readable, "B"),
            };
            let err = resolve(&[layer]).unwrap_err().to_string();
            assert!(
                err.contains("(from A)") && err.contains("(from B)") && err.contains(mode),
                "{err}"
            );
        }
        for (mode, world_readable) in [("public", true), ("private", false), ("secret", false)] {
            let layer = Layer {
                sharing: sharing(mode, "A"),
                world_readable: readable(world_readable, "B"),
            };
            assert_eq!(resolve(&[layer]).unwrap().sharing, mode.parse().unwrap());
        }
    }

    #[test]
    fn a_bad_mode_names_its_source_even_when_overridden_later() {
        let layers = [
            Layer { sharing: sharing("everyone", "~/.plotly/.config"), ..Layer::default() },
            Layer { sharing: sharing("private", "flag"), ..Layer::default() },
        ];
        let err = resolve(&layers).unwrap_err().to_string();
        assert!(err.contains("\"everyone\" (from ~/.plotly/.config)"), "{err}");
    }
}
