//! Dashboards and spectacle presentations: a file object plus a JSON document, sent and kept
//! as a string, whose boxes and slides show plots by fid (dashboards) or by link
//! (presentations).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Fid, File, FileType};

/// A dashboard or a presentation as `/v2/dashboards` and `/v2/spectacle-presentations` return
/// it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Document {
    /// The metadata every file has (unknown fields end up in `file.extra`).
    #[serde(flatten)]
    pub file: File,
    /// The document, as a JSON string: a dashboard's `{"layout", "settings", "version"}`, a
    /// presentation's `{"presentation": {"slides": [...]}}`.
    #[serde(default)]
    pub content: Option<String>,
}

impl Document {
    /// A document around a file object with no content yet.
    pub fn new(file: File) -> Self {
        Self { file, content: None }
    }
}

/// A plot shown by a dashboard box or a presentation slide, with the share key that opens it
/// when it is secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotLink {
    /// The plot.
    pub fid: Fid,
    /// The secret plot's share key, when the document carries one.
    pub share_key: Option<String>,
}

/// Calls `visit` with every plot that `content` (a document of kind `kind`) shows, in
/// document order, and writes back what `visit` leaves in the link. Dashboards name plots in
/// boxes (`{"type": "box", "boxType": "plot", "fileId", "shareKey"}`) anywhere in their split
/// `layout`; presentations in `Plotly` slide children whose `props.src` is the plot's link
/// (`…/~USER/N.embed?…share_key=KEY`). Anything else is left alone.
pub fn visit_plots(kind: &FileType, content: &mut Value, mut visit: impl FnMut(&mut PlotLink)) {
    match kind {
        FileType::Dashboard => {
            // The layout is a tree of splits; walked without recursion, so depth costs nothing.
            let mut stack: Vec<&mut Value> = content.get_mut("layout").into_iter().collect();
            while let Some(node) = stack.pop() {
                let Some(node) = node.as_object_mut() else { continue };
                let is_plot = node.get("boxType").and_then(Value::as_str) == Some("plot");
                let fid = node.get("fileId").and_then(Value::as_str).and_then(|f| f.parse().ok());
                if let (true, Some(fid)) = (is_plot, fid) {
                    let share_key = node.get("shareKey").and_then(Value::as_str).map(str::to_owned);
                    let mut link = PlotLink { fid, share_key };
                    visit(&mut link);
                    node.insert("fileId".to_owned(), link.fid.to_string().into());
                    node.insert(
                        "shareKey".to_owned(),
                        link.share_key.map_or(Value::Null, Value::from),
                    );
                }
                let (first, second) = split_children(node);
                stack.extend(second);
                stack.extend(first);
            }
        }
        FileType::Presentation => {
            let slides = content
                .pointer_mut("/presentation/slides")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten();
            let children = slides
                .filter_map(|slide| slide.get_mut("children").and_then(Value::as_array_mut))
                .flatten();
            for child in children {
                if child.get("type").and_then(Value::as_str) != Some("Plotly") {
                    continue;
                }
                let Some(src) = child.pointer_mut("/props/src") else { continue };
                let Some(text) = src.as_str() else { continue };
                let Some(mut link) = plot_link_in_url(text) else { continue };
                visit(&mut link);
                *src = Value::String(with_plot_link(text, &link));
            }
        }
        _ => {}
    }
}

/// The plots `content` shows, in document order (see [`visit_plots`]).
pub fn plots_in(kind: &FileType, content: &Value) -> Vec<PlotLink> {
    let mut found = Vec::new();
    let mut copy = content.clone();
    visit_plots(kind, &mut copy, |link| found.push(link.clone()));
    found
}

/// A split's two halves.
fn split_children(
    node: &mut serde_json::Map<String, Value>,
) -> (Option<&mut Value>, Option<&mut Value>) {
    let mut first = None;
    let mut second = None;
    for (key, value) in node.iter_mut() {
        match key.as_str() {
            "first" => first = Some(value),
            "second" => second = Some(value),
            _ => {}
        }
    }
    (first, second)
}

/// The plot a Chart Studio link names (`…/~USER/N…`), with its `share_key` parameter.
pub fn plot_link_in_url(url: &str) -> Option<PlotLink> {
    let (start, end) = plot_segment(url)?;
    let segment = &url[start..end];
    let (owner, number) = segment.trim_start_matches("/~").split_once('/')?;
    let fid = Fid::new(owner, number.parse().ok()?).ok()?;
    let share_key = query_of(url)
        .split('&')
        .find_map(|pair| pair.strip_prefix("share_key="))
        .filter(|key| !key.is_empty())
        .map(str::to_owned);
    Some(PlotLink { fid, share_key })
}

/// `url` naming `link`'s plot and share key instead of the ones it named.
fn with_plot_link(url: &str, link: &PlotLink) -> String {
    let Some((start, end)) = plot_segment(url) else { return url.to_owned() };
    let (before_query, query) = url.split_once('?').unwrap_or((url, ""));
    let rest = &before_query[end..];
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("share_key="))
        .map(str::to_owned)
        .collect();
    if let Some(key) = &link.share_key {
        pairs.push(format!("share_key={key}"));
    }
    let query = if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) };
    format!("{}/~{}/{}{rest}{query}", &url[..start], link.fid.owner(), link.fid.idlocal())
}

/// Where `/~USER/N` lies in `url`'s path, as byte offsets.
fn plot_segment(url: &str) -> Option<(usize, usize)> {
    let path = url.split(['?', '#']).next()?;
    let start = path.find("/~")?;
    let after_owner = start + 2 + path[start + 2..].find('/')?;
    let digits = path[after_owner + 1..].bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0).then_some((start, after_owner + 1 + digits))
}

/// The query of `url`, without its fragment.
fn query_of(url: &str) -> &str {
    let without_fragment = url.split('#').next().unwrap_or_default();
    without_fragment.split_once('?').map_or("", |(_, query)| query)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn link(fid: &str, key: Option<&str>) -> PlotLink {
        PlotLink { fid: fid.parse().unwrap(), share_key: key.map(str::to_owned) }
    }

    #[test]
    fn a_dashboard_names_its_plots_in_its_split_tree_in_order() {
        let mut content = json!({"layout": {"type": "split", "first": {"type": "box", "boxType": "plot", "fileId": "a:1", "shareKey": null},
            "second": {"type": "split", "first": {"type": "box", "boxType": "text", "text": "hi"},
                       "second": {"type": "box", "boxType": "plot", "fileId": "b:2", "shareKey": "k"}}}});
        assert_eq!(
            plots_in(&FileType::Dashboard, &content),
            [link("a:1", None), link("b:2", Some("k"))]
        );
        visit_plots(&FileType::Dashboard, &mut content, |link| {
            link.fid = Fid::new("c", link.fid.idlocal() + 10).unwrap();
            link.share_key = Some("new".to_owned());
        });
        assert_eq!(content["layout"]["first"]["fileId"], "c:11");
        assert_eq!(content["layout"]["second"]["second"]["shareKey"], "new");
        assert_eq!(
            content["layout"]["second"]["first"],
            json!({"type": "box", "boxType": "text", "text": "hi"})
        );
    }

    #[test]
    fn a_presentation_names_its_plots_by_link_and_keeps_the_rest_of_the_link() {
        let mut content = json!({"presentation": {"slides": [
            {"children": [{"type": "Text", "children": ["t"]},
                          {"type": "Plotly", "props": {"src": "https://plotly.com/~alice/4.embed?link=false"}}]},
            {"children": [{"type": "Plotly", "props": {"src": "https://plotly.com/~bob/7?share_key=abc"}}]}]}});
        assert_eq!(
            plots_in(&FileType::Presentation, &content),
            [link("alice:4", None), link("bob:7", Some("abc"))]
        );
        visit_plots(&FileType::Presentation, &mut content, |link| {
            link.fid = Fid::new("carol", 2).unwrap();
            link.share_key = Some("xyz".to_owned());
        });
        let slides = &content["presentation"]["slides"];
        assert_eq!(
            slides[0]["children"][1]["props"]["src"],
            "https://plotly.com/~carol/2.embed?link=false&share_key=xyz"
        );
        assert_eq!(
            slides[1]["children"][0]["props"]["src"],
            "https://plotly.com/~carol/2?share_key=xyz"
        );
    }

    #[test]
    fn links_without_a_plot_are_not_plots() {
        for url in ["https://plotly.com/", "https://plotly.com/~alice/", "/~alice/x", "", "~a/1"] {
            assert_eq!(plot_link_in_url(url), None, "{url}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_document_is_walked_without_panicking(text in ".{0,200}", depth in 0usize..300) {
            let mut nested = json!({"type": "box", "boxType": "plot", "fileId": text.clone()});
            for _ in 0..depth {
                nested = json!({"type": "split", "first": nested, "second": {"fileId": "a:1", "boxType": "plot"}});
            }
            let mut dashboard = json!({"layout": nested});
            let links = plots_in(&FileType::Dashboard, &dashboard);
            proptest::prop_assert!(links.len() >= depth);
            visit_plots(&FileType::Dashboard, &mut dashboard, |_| {});
            let _ = plot_link_in_url(&text);
            let mut presentation = json!({"presentation": {"slides": [{"children": [{"type": "Plotly", "props": {"src": text}}]}]}});
            visit_plots(&FileType::Presentation, &mut presentation, |link| link.share_key = None);
        }
    }
}
