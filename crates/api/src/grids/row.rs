//! `POST /v2/grids/{fid}/row`: append rows, one value per column.

use chart_studio_models::{DecodeError, Fid};
use serde::{Deserialize, Serialize};

use crate::{
    BuildError, Endpoint, Grids, common::file_path, endpoint::any_json, endpoint::json_body,
};

/// Appends rows to a grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppendRows {
    /// The grid.
    pub fid: Fid,
    /// The rows; each holds one value per column, in column order.
    pub rows: Vec<Vec<serde_json::Value>>,
}

#[derive(Serialize)]
struct Body<'a> {
    rows: &'a [Vec<serde_json::Value>],
}

impl Endpoint for AppendRows {
    /// The server's answer, whose shape is not documented (`null` when empty).
    type Output = serde_json::Value;

    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn idempotent(&self) -> bool {
        false
    }
    fn path(&self) -> String {
        file_path::<Grids>(&self.fid, Some("row"))
    }
    fn body(&self) -> Result<Option<bytes::Bytes>, BuildError> {
        json_body(&Body { rows: &self.rows })
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        Ok(any_json(response))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        let rows =
            AppendRows { fid: "a:4".parse().unwrap(), rows: vec![vec![1.into(), "x".into()]] };
        assert_eq!(
            built(&rows),
            ("POST".into(), "/v2/grids/a:4/row".into(), r#"{"rows":[[1,"x"]]}"#.into())
        );
    }
}
