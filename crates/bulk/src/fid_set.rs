//! A compact set of fids: a run over a large account keeps sets of every file it plans, and
//! nearly all of them share one owner, so each owner's name is held once.

use std::collections::{BTreeMap, BTreeSet};

use chart_studio_models::Fid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A set of fids, held as each owner's file numbers. It reads and writes as a list of fids.
///
/// ```
/// use chart_studio_bulk::FidSet;
/// use chart_studio_models::Fid;
///
/// let mut set = FidSet::default();
/// assert!(set.insert(&"alice:12".parse::<Fid>()?));
/// assert!(set.contains(&"alice:12".parse::<Fid>()?) && !set.contains(&"bob:12".parse::<Fid>()?));
/// assert_eq!(serde_json::to_string(&set)?, r#"["alice:12"]"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FidSet {
    by_owner: BTreeMap<String, BTreeSet<u64>>,
}

impl FidSet {
    /// Adds `fid`; whether it was new.
    pub fn insert(&mut self, fid: &Fid) -> bool {
        match self.by_owner.get_mut(fid.owner()) {
            Some(numbers) => numbers.insert(fid.idlocal()),
            None => {
                self.by_owner.insert(fid.owner().to_owned(), BTreeSet::from([fid.idlocal()]));
                true
            }
        }
    }

    /// Whether it holds `fid`.
    pub fn contains(&self, fid: &Fid) -> bool {
        self.by_owner.get(fid.owner()).is_some_and(|numbers| numbers.contains(&fid.idlocal()))
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_owner.values().all(BTreeSet::is_empty)
    }

    /// Its fids, by owner, then number.
    pub fn iter(&self) -> impl Iterator<Item = Fid> + '_ {
        // Each owner came from a valid fid, so each fid is valid again.
        self.by_owner.iter().flat_map(|(owner, numbers)| {
            numbers.iter().filter_map(move |number| Fid::new(owner.clone(), *number).ok())
        })
    }
}

impl FromIterator<Fid> for FidSet {
    fn from_iter<I: IntoIterator<Item = Fid>>(fids: I) -> Self {
        let mut set = Self::default();
        for fid in fids {
            set.insert(&fid);
        }
        set
    }
}

impl Serialize for FidSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for FidSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Fid>::deserialize(deserializer)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_of_fids_of_several_owners() {
        let fid = |text: &str| -> Fid { text.parse().unwrap() };
        let mut set: FidSet = [fid("b:2"), fid("a:7"), fid("a:1")].into_iter().collect();
        assert!(!set.insert(&fid("a:7")), "already there");
        assert!(set.insert(&fid("a:3")));
        assert!(set.contains(&fid("b:2")) && !set.contains(&fid("b:7")));
        assert_eq!((set.iter().count(), set.is_empty()), (4, false));
        let text = serde_json::to_string(&set).unwrap();
        assert_eq!(text, r#"["a:1","a:3","a:7","b:2"]"#);
        assert_eq!(serde_json::from_str::<FidSet>(&text).unwrap(), set);
        assert!(FidSet::default().is_empty());
    }
}
