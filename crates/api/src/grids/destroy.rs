//! `DELETE /v2/grids/{fid}`: permanently delete a grid in one call.

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use crate::{Endpoint, Grids, common::file_path};

/// Destroys a grid (owner only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destroy {
    /// The grid.
    pub fid: Fid,
}

impl Endpoint for Destroy {
    type Output = ();

    fn method(&self) -> http::Method {
        http::Method::DELETE
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        file_path::<Grids>(&self.fid, None)
    }
    fn parse(&self, _response: &http::Response<bytes::Bytes>) -> Result<(), DecodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let (method, target, _) = built(&Destroy { fid: "a:4".parse().unwrap() });
        assert_eq!((method.as_str(), target.as_str()), ("DELETE", "/v2/grids/a:4"));
    }
}
