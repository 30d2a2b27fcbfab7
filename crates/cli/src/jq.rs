//! `--jq EXPR`: filters a command's JSON in-process with jaq, a jq implementation in Rust.

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;

/// Why an expression could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JqError {
    /// The expression does not parse, or calls something that does not exist.
    #[error("--jq {expr:?} is not a valid jq expression: {why}")]
    Invalid {
        /// The expression.
        expr: String,
        /// What is wrong with it.
        why: String,
    },
    /// The expression failed on this input, such as `.[0]` on an object.
    #[error("--jq {expr:?} failed: {why}")]
    Failed {
        /// The expression.
        expr: String,
        /// The error jq raised.
        why: String,
    },
}

/// What is wrong with an expression that does not parse, in words: `expected closing bracket
/// at character 2`.
fn syntax_errors<'a>(
    expr: &str,
    errors: impl Iterator<Item = jaq_core::load::Error<&'a str>>,
) -> String {
    // Each error points into the expression: its position is its offset there.
    let at = |piece: &str| {
        let offset = (piece.as_ptr() as usize).saturating_sub(expr.as_ptr() as usize);
        if offset >= expr.len() {
            "at the end".to_owned()
        } else {
            format!("at character {}", offset + 1)
        }
    };
    let mut said = Vec::new();
    for error in errors {
        match error {
            jaq_core::load::Error::Lex(found) => said.extend(
                found
                    .iter()
                    .map(|(expected, rest)| format!("expected {} {}", expected.as_str(), at(rest))),
            ),
            jaq_core::load::Error::Parse(found) => {
                said.extend(found.iter().map(|(expected, token)| {
                    format!("expected {} {}", expected.as_str(), at(token))
                }));
            }
            jaq_core::load::Error::Io(found) => said.extend(found.into_iter().map(|(_, why)| why)),
        }
    }
    said.join("; ")
}

/// Checks that `expr` compiles, so that a typo is reported before a command changes anything.
pub(crate) fn check(expr: &str) -> Result<(), JqError> {
    run(expr, &serde_json::Value::Null).map(drop).or_else(|err| match err {
        JqError::Failed { .. } => Ok(()),
        invalid @ JqError::Invalid { .. } => Err(invalid),
    })
}

/// Runs `expr` on `input`; each result as a line: strings as they are, anything else as
/// compact JSON (as `gh --jq` and `jq -r` print them).
pub(crate) fn run(expr: &str, input: &serde_json::Value) -> Result<Vec<String>, JqError> {
    let invalid = |why: String| JqError::Invalid { expr: expr.to_owned(), why };
    let defs = jaq_core::defs().chain(jaq_std::defs()).chain(jaq_json::defs());
    let funs = jaq_core::funs().chain(jaq_std::funs()).chain(jaq_json::funs());
    let arena = Arena::default();
    let modules = Loader::new(defs)
        .load(&arena, File { code: expr, path: () })
        .map_err(|errors| invalid(syntax_errors(expr, errors.into_iter().map(|(_, e)| e))))?;
    let filter = Compiler::default().with_funs(funs).compile(modules).map_err(|errors| {
        let names: Vec<String> = errors
            .into_iter()
            .flat_map(|(_, undefined)| undefined)
            .map(|(name, _)| format!("{name} is not defined"))
            .collect();
        invalid(names.join(", "))
    })?;
    let text = serde_json::to_vec(input).map_err(|err| invalid(err.to_string()))?;
    let input = jaq_json::read::parse_single(&text).map_err(|err| invalid(err.to_string()))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([]));
    filter
        .id
        .run((ctx, input))
        .map(unwrap_valr)
        .map(|result| match result {
            Ok(Val::TStr(text)) => Ok(String::from_utf8_lossy(&text).into_owned()),
            Ok(value) => Ok(value.to_string()),
            Err(err) => Err(JqError::Failed { expr: expr.to_owned(), why: err.to_string() }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn syntax_errors_read_as_words() {
        for (expr, expected) in [
            (".[", "expected closing bracket"),
            (".a |", "expected term at the end"),
            ("{a: 1", "expected closing brace"),
        ] {
            let err = check(expr).unwrap_err().to_string();
            assert!(
                err.contains(expected) && !err.contains("Lex") && !err.contains("Delim"),
                "{err}"
            );
        }
    }

    #[test]
    fn filters_objects_and_lists() {
        let files = json!([{"fid": "a:1", "views": 3}, {"fid": "a:2", "views": 0}]);
        assert_eq!(run(".[] | select(.views > 0) | .fid", &files).unwrap(), ["a:1"]);
        assert_eq!(run("map(.views) | add", &files).unwrap(), ["3"]);
        assert_eq!(run("{n: length}", &files).unwrap(), [r#"{"n":2}"#]);
        assert_eq!(run(".fid", &json!({"fid": "a:3"})).unwrap(), ["a:3"]);
    }

    #[test]
    fn bad_expressions_are_named() {
        assert!(matches!(check(".["), Err(JqError::Invalid { .. })));
        assert!(check("nosuchfunction(1)").unwrap_err().to_string().contains("nosuchfunction"));
        assert!(check(".fid").is_ok());
        assert!(matches!(run(".a.b", &json!({"a": 1})), Err(JqError::Failed { .. })));
    }
}
