//! `/v2/users`: the signed-in user and other users by name.

use chart_studio_models::{DecodeError, User};
use serde::{Deserialize, Serialize};

use crate::{Endpoint, endpoint::json, query};

/// `GET /v2/users/current`: the user the credentials belong to (a cheap credentials check).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Current {}

impl Endpoint for Current {
    type Output = User;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        "/v2/users/current".to_owned()
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<User, DecodeError> {
        json(response)
    }
}

/// `GET /v2/users/{username}`: a user's public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByName {
    /// The username.
    pub username: String,
}

impl Endpoint for ByName {
    type Output = User;

    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn idempotent(&self) -> bool {
        true
    }
    fn path(&self) -> String {
        format!("/v2/users/{}", query::segment(&self.username))
    }
    fn parse(&self, response: &http::Response<bytes::Bytes>) -> Result<User, DecodeError> {
        json(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::built;

    #[test]
    fn builds() {
        assert_eq!(built(&Current {}).1, "/v2/users/current");
        assert_eq!(
            built(&ByName { username: "tim.lichtenberg".to_owned() }).1,
            "/v2/users/tim.lichtenberg"
        );
    }
}
