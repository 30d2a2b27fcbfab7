//! `DELETE /v2/{collection}/{fid}/permanent_delete`: delete a trashed file for good (owner only;
//! 409 when the file is not in the trash).

use std::marker::PhantomData;

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use super::{Collection, file_path};
use crate::Endpoint;

/// Permanently deletes a trashed file of collection `C`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct PermanentDelete<C> {
    /// The file.
    pub fid: Fid,
    #[serde(skip)]
    collection: PhantomData<C>,
}

impl<C: Collection> PermanentDelete<C> {
    /// Deletes `fid`, which must be in the trash.
    pub fn new(fid: Fid) -> Self {
        Self { fid, collection: PhantomData }
    }
}

impl<C: Collection> Endpoint for PermanentDelete<C> {
    type Output = ();

    fn method(&self) -> http::Method {
        http::Method::DELETE
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        file_path::<C>(&self.fid, Some("permanent_delete"))
    }
    fn parse(&self, _response: &http::Response<bytes::Bytes>) -> Result<(), DecodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Grids;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let (method, target, _) = built(&PermanentDelete::<Grids>::new("a:9".parse().unwrap()));
        assert_eq!(
            (method.as_str(), target.as_str()),
            ("DELETE", "/v2/grids/a:9/permanent_delete")
        );
    }
}
