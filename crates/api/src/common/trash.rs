//! `POST /v2/{collection}/{fid}/trash` and `/restore`: move a file into or out of the trash.

use std::marker::PhantomData;

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use super::{Collection, file_path};
use crate::{Endpoint, endpoint::any_json};

/// Defines a `POST /v2/{collection}/{fid}/{action}` endpoint whose answer is not specified.
macro_rules! file_action {
    ($(#[$doc:meta])* $name:ident, $action:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(bound = "")]
        pub struct $name<C> {
            /// The file.
            pub fid: Fid,
            #[serde(skip)]
            collection: PhantomData<C>,
        }

        impl<C: Collection> $name<C> {
            #[doc = concat!("Sends `", $action, "` for `fid`.")]
            pub fn new(fid: Fid) -> Self {
                Self { fid, collection: PhantomData }
            }
        }

        impl<C: Collection> Endpoint for $name<C> {
            /// The server's answer, whose shape is not documented (`null` when empty).
            type Output = serde_json::Value;

            fn method(&self) -> http::Method {
                http::Method::POST
            }
            fn idempotent(&self) -> bool {
                true
            }
            fn path(&self) -> String {
                file_path::<C>(&self.fid, Some($action))
            }
            fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
                Ok(any_json(response))
            }
        }
    };
}

file_action!(
    /// Moves a file to the trash (owner or collaborator); folders take their contents along.
    Trash,
    "trash"
);
file_action!(
    /// Takes a file out of the trash.
    Restore,
    "restore"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;
    use crate::{Files, Folders};

    #[test]
    fn builds() {
        let fid: Fid = "a:1".parse().unwrap();
        assert_eq!(
            built(&Trash::<Files>::new(fid.clone())),
            ("POST".into(), "/v2/files/a:1/trash".into(), String::new())
        );
        assert_eq!(built(&Restore::<Folders>::new(fid)).1, "/v2/folders/a:1/restore");
    }
}
