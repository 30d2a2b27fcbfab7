//! `/v2/grids/{fid}/col`: read, append, replace and delete columns.
//!
//! Columns are chosen with `?uid=a,b`; bodies carry `{"cols": "<JSON text of [{name, data}]>"}`,
//! double-encoded on purpose as the server expects.

use chart_studio_models::{ColumnList, DecodeError, Fid};
use serde::{Deserialize, Serialize};

use crate::{
    BuildError, Endpoint, Grids, common::file_path, endpoint::json, endpoint::json_body, query,
};

/// A column to upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewColumn {
    /// The header name.
    pub name: String,
    /// The values.
    pub data: Vec<serde_json::Value>,
}

fn col_path(fid: &Fid) -> String {
    file_path::<Grids>(fid, Some("col"))
}

fn uid_query(uids: &[String]) -> Result<Option<String>, BuildError> {
    #[derive(Serialize)]
    struct Query {
        uid: String,
    }
    query::encode(&Query { uid: uids.join(",") })
}

fn cols_body(columns: &[NewColumn]) -> Result<Option<bytes::Bytes>, BuildError> {
    #[derive(Serialize)]
    struct Body {
        cols: String,
    }
    let cols = serde_json::to_string(columns).map_err(|err| BuildError::Body(err.to_string()))?;
    json_body(&Body { cols })
}

/// `GET …/col?uid=a,b`: reads columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnsGet {
    /// The grid.
    pub fid: Fid,
    /// The column uids.
    pub uids: Vec<String>,
}

impl Endpoint for ColumnsGet {
    type Output = ColumnList;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        col_path(&self.fid)
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        uid_query(&self.uids)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

/// `POST …/col`: appends columns; the answer names their new uids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnsAppend {
    /// The grid.
    pub fid: Fid,
    /// The new columns.
    pub columns: Vec<NewColumn>,
}

impl Endpoint for ColumnsAppend {
    type Output = ColumnList;

    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn idempotent(&self) -> bool {
        false
    }
    fn path(&self) -> String {
        col_path(&self.fid)
    }
    fn body(&self) -> Result<Option<bytes::Bytes>, BuildError> {
        cols_body(&self.columns)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

/// `PUT …/col?uid=a,b`: replaces the data of existing columns, keeping their uids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnsReplace {
    /// The grid.
    pub fid: Fid,
    /// The uids of the columns to replace, in the order of `columns`.
    pub uids: Vec<String>,
    /// The new contents.
    pub columns: Vec<NewColumn>,
}

impl Endpoint for ColumnsReplace {
    type Output = ColumnList;

    fn method(&self) -> http::Method {
        http::Method::PUT
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        col_path(&self.fid)
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        uid_query(&self.uids)
    }
    fn body(&self) -> Result<Option<bytes::Bytes>, BuildError> {
        cols_body(&self.columns)
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<Self::Output, DecodeError> {
        json(response)
    }
}

/// `DELETE …/col?uid=a,b`: deletes columns for good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnsDelete {
    /// The grid.
    pub fid: Fid,
    /// The column uids.
    pub uids: Vec<String>,
}

impl Endpoint for ColumnsDelete {
    type Output = ();

    fn method(&self) -> http::Method {
        http::Method::DELETE
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        col_path(&self.fid)
    }
    fn query(&self) -> Result<Option<String>, BuildError> {
        uid_query(&self.uids)
    }
    fn parse(&self, _response: &http::Response<bytes::Bytes>) -> Result<(), DecodeError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    fn fid() -> Fid {
        "a:4".parse().unwrap()
    }

    #[test]
    fn get_and_delete_join_uids() {
        let uids = vec!["x1".to_owned(), "y2".to_owned()];
        assert_eq!(
            built(&ColumnsGet { fid: fid(), uids: uids.clone() }).1,
            "/v2/grids/a:4/col?uid=x1%2Cy2"
        );
        let (method, target, _) = built(&ColumnsDelete { fid: fid(), uids });
        assert_eq!((method.as_str(), target.as_str()), ("DELETE", "/v2/grids/a:4/col?uid=x1%2Cy2"));
    }

    #[test]
    fn append_and_replace_double_encode_the_columns() {
        let columns = vec![NewColumn { name: "z".to_owned(), data: vec![1.into()] }];
        let (method, _, body) = built(&ColumnsAppend { fid: fid(), columns: columns.clone() });
        assert_eq!(method, "POST");
        assert_eq!(body, r#"{"cols":"[{\"name\":\"z\",\"data\":[1]}]"}"#);
        let (method, target, _) =
            built(&ColumnsReplace { fid: fid(), uids: vec!["x1".to_owned()], columns });
        assert_eq!((method.as_str(), target.as_str()), ("PUT", "/v2/grids/a:4/col?uid=x1"));
    }
}
