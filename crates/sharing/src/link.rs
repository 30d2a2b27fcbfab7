//! Secret links: a file's `web_url` with `?share_key=KEY`, and the way back.

use chart_studio_models::Fid;
use url::Url;

/// A link that is not a Chart Studio file link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Not a URL.
    #[error("{0:?} is not a URL: {1}")]
    NotUrl(String, String),
    /// A URL, but not of a file (`.../~user/number/`).
    #[error("{0:?} is not a file link (expected .../~username/number/)")]
    NotFileLink(String),
}

/// What a file link says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLink {
    /// The file.
    pub fid: Fid,
    /// The secret key, for a secret link.
    pub share_key: Option<String>,
}

/// The secret link of a file: its `web_url`, unchanged, with `share_key=KEY` added to the query.
///
/// The trailing slash of `web_url` is kept: `.../~user/6/?share_key=...` works where
/// `.../~user/6?share_key=...` did not on the real service.
pub fn secret_link(web_url: &str, share_key: &str) -> Result<String, LinkError> {
    let mut url = Url::parse(web_url)
        .map_err(|err| LinkError::NotUrl(web_url.to_owned(), err.to_string()))?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != "share_key")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(kept).append_pair("share_key", share_key);
    Ok(url.into())
}

/// The link that opens `file` for its audience: the secret link of a secret file whose key is
/// known (to its owner), else its `web_url`.
pub fn file_link(file: &chart_studio_models::File) -> String {
    let web_url = file.web_url.clone().unwrap_or_default();
    match (crate::Sharing::of(file), file.share_key()) {
        (crate::Observed::Known(crate::Sharing::Secret), Some(key)) => {
            secret_link(&web_url, key).unwrap_or(web_url)
        }
        _ => web_url,
    }
}

/// Reads a file link (`web_url`, `embed_url` or a secret link) back into its fid and key.
///
/// ```
/// let link = chart_studio_sharing::parse_link("https://plotly.example.com/~alice/12/?share_key=k3y")?;
/// assert_eq!((link.fid.to_string(), link.share_key.as_deref()), ("alice:12".to_owned(), Some("k3y")));
/// # Ok::<(), chart_studio_sharing::LinkError>(())
/// ```
pub fn parse_link(link: &str) -> Result<ParsedLink, LinkError> {
    let url =
        Url::parse(link).map_err(|err| LinkError::NotUrl(link.to_owned(), err.to_string()))?;
    let not_file = || LinkError::NotFileLink(link.to_owned());
    let mut segments =
        url.path_segments().ok_or_else(not_file)?.skip_while(|s| !s.starts_with('~'));
    let owner = segments.next().and_then(|s| s.strip_prefix('~')).ok_or_else(not_file)?;
    let number = segments.next().ok_or_else(not_file)?;
    let number = number.strip_suffix(".embed").unwrap_or(number);
    let idlocal: u64 = number.parse().map_err(|_| not_file())?;
    let owner = percent_decode(owner);
    let fid = Fid::new(owner, idlocal).map_err(|_| not_file())?;
    // With two keys, the last one counts, as the Python client reads it.
    let share_key = url
        .query_pairs()
        .filter(|(key, _)| key == "share_key")
        .last()
        .map(|(_, value)| value.into_owned());
    Ok(ParsedLink { fid, share_key })
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_the_slash_of_web_url() {
        let link = secret_link("https://chart-studio.plotly.com/~astrofrog/6/", "abc123").unwrap();
        assert_eq!(link, "https://chart-studio.plotly.com/~astrofrog/6/?share_key=abc123");
        let bare = secret_link("http://127.0.0.1:9200/~a.b/12", "k").unwrap();
        assert_eq!(bare, "http://127.0.0.1:9200/~a.b/12?share_key=k");
        let again = secret_link(&link, "new").unwrap();
        assert_eq!(
            again, "https://chart-studio.plotly.com/~astrofrog/6/?share_key=new",
            "an old key is replaced"
        );
    }

    #[test]
    fn parses_every_link_form() {
        for (link, fid, key) in [
            ("https://chart-studio.plotly.com/~bcowden/30/", "bcowden:30", None),
            ("https://chart-studio.plotly.com/~bcowden/30", "bcowden:30", None),
            ("https://chart-studio.plotly.com/~bcowden/30.embed", "bcowden:30", None),
            ("https://plot.ly/~astrofrog/6?share_key=XYZ", "astrofrog:6", Some("XYZ")),
            (
                "https://corp.example/plotly/~tim.lichtenberg/686/?share_key=k1&x=2",
                "tim.lichtenberg:686",
                Some("k1"),
            ),
            ("https://plot.ly/~a/6/?share_key=old&share_key=new", "a:6", Some("new")),
        ] {
            let parsed = parse_link(link).unwrap();
            assert_eq!(parsed.fid.to_string(), fid, "{link}");
            assert_eq!(parsed.share_key.as_deref(), key, "{link}");
        }
        for bad in [
            "not a url",
            "https://plot.ly/",
            "https://plot.ly/~user/",
            "https://plot.ly/~user/x/",
            "https://plot.ly/~/3/",
        ] {
            assert!(parse_link(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn build_then_parse(owner in "[A-Za-z0-9._-]{1,24}", idlocal in any::<u64>(), key in "[A-Za-z0-9]{1,64}", slash in any::<bool>()) {
            let web_url = format!("https://plotly.example.com/~{owner}/{idlocal}{}", if slash { "/" } else { "" });
            let link = secret_link(&web_url, &key).unwrap();
            prop_assert!(link.starts_with(&web_url));
            let parsed = parse_link(&link).unwrap();
            prop_assert_eq!(parsed.fid.to_string(), format!("{owner}:{idlocal}"));
            prop_assert_eq!(parsed.share_key, Some(key));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,80}") {
            let _ = parse_link(&text);
            let _ = secret_link(&text, "k");
        }
    }
}
