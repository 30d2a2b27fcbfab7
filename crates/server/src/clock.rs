//! The server's only access to the wall clock, and the timestamp formats of the API.

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, in microseconds since the Unix epoch.
#[allow(
    clippy::disallowed_methods,
    reason = "the server's one clock read; everything else takes times from here"
)]
pub(crate) fn now_micros() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1000).unwrap_or(i64::MAX)
}

fn at(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `creation_time`: `2019-06-17T22:51:45.856936Z` (microseconds).
pub(crate) fn creation_time(micros: i64) -> String {
    at(micros)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        ))
        .unwrap_or_default()
}

/// `date_modified`: `2019-06-18T16:30:43.259Z` (milliseconds).
pub(crate) fn date_modified(micros: i64) -> String {
    at(micros)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// `date_joined`: `2019-06-14 20:28:28`.
pub(crate) fn date_joined(micros: i64) -> String {
    at(micros)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"))
        .unwrap_or_default()
}

/// Parses a `creation_time` back into microseconds (seeding captured files).
pub(crate) fn parse_creation_time(text: &str) -> Option<i64> {
    let parsed =
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_captured_responses() {
        let micros = parse_creation_time("2019-06-17T22:51:45.856936Z").unwrap();
        assert_eq!(creation_time(micros), "2019-06-17T22:51:45.856936Z");
        assert_eq!(date_modified(micros), "2019-06-17T22:51:45.856Z");
        assert_eq!(date_joined(micros), "2019-06-17 22:51:45");
    }
}
