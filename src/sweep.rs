//! Sweeps: the names of the project's logstores (ListLogStores) and of a logstore's shippers
//! (ListShipper), each read page after page. Both answer `{"count", "total", "<key>": [names]}`.
//! A name that could not go into a request path is set aside, as a listing's bad task IDs are.

use std::collections::HashSet;

use serde_json::Value;

use crate::names::ResourceName;

/// The largest page either listing serves.
pub const NAMES_PAGE_SIZE: usize = 500;

/// More pages than this means the server is not converging; stop rather than loop forever.
const MAX_PAGES: usize = 1_000;

/// One page of names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamesPage {
    pub count: usize,
    pub total: usize,
    pub names: Vec<String>,
}

/// Every name of a listing, in the order served, and those that could not be used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    pub names: Vec<ResourceName>,
    /// As served (escape before printing), with why each cannot be used.
    pub unusable: Vec<(String, String)>,
}

/// Parse one page whose names are under `key` (`logstores`, `shipper`). `null` or no list at
/// all is an empty page.
pub fn parse_page(doc: &Value, key: &str) -> Result<NamesPage, String> {
    let Value::Object(doc) = doc else {
        return Err("not a JSON object".into());
    };
    let names = match doc.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => (items.iter())
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("its \"{key}\" holds something other than names"))?,
        Some(_) => return Err(format!("its \"{key}\" is not an array")),
    };
    let number = |field: &str, default: usize| match doc.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => (v.as_u64())
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| format!("its \"{field}\" is not a count")),
    };
    let count = number("count", names.len())?;
    let total = number("total", count)?;
    Ok(NamesPage {
        count,
        total,
        names,
    })
}

/// Read every page with `fetch(offset)`: `offset += count` until `offset >= total`, a page is
/// empty, or a page brings no name not already seen. `what` (`logstore`, `shipper`) is how a
/// name is checked and named.
pub fn read_all<E>(
    what: &str,
    mut fetch: impl FnMut(usize) -> Result<NamesPage, E>,
) -> Result<Names, E> {
    let mut seen = HashSet::new();
    let mut all = Names::default();
    let mut offset = 0;
    for _ in 0..MAX_PAGES {
        let page = fetch(offset)?;
        let before = seen.len();
        for name in page.names.iter().filter(|n| seen.insert(n.to_string())) {
            match ResourceName::parse(what, name) {
                Ok(name) => all.names.push(name),
                Err(why) => all.unusable.push((name.clone(), why)),
            }
        }
        offset += page.count.max(page.names.len());
        if page.names.is_empty() || offset >= page.total || seen.len() == before {
            break;
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_are_read_until_the_total_and_names_checked() {
        let served = ["a", "b", "c", "bad/name", "e"];
        let names = read_all::<()>("shipper", |offset| {
            let names: Vec<String> = served
                .iter()
                .skip(offset)
                .take(2)
                .map(|s| s.to_string())
                .collect();
            Ok(NamesPage {
                count: names.len(),
                total: served.len(),
                names,
            })
        })
        .unwrap();
        let good: Vec<&str> = names.names.iter().map(ResourceName::as_str).collect();
        assert_eq!(good, ["a", "b", "c", "e"]);
        assert_eq!(names.unusable.len(), 1);
        assert_eq!(names.unusable[0].0, "bad/name");
    }

    #[test]
    fn a_server_that_repeats_itself_is_not_asked_forever() {
        let mut asked = 0;
        let names = read_all::<()>("logstore", |_| {
            asked += 1;
            Ok(NamesPage {
                count: 1,
                total: 1_000_000,
                names: vec!["same".into()],
            })
        })
        .unwrap();
        assert_eq!((asked, names.names.len()), (2, 1));
    }

    #[test]
    fn documents_are_read_as_the_service_writes_them() {
        let page = parse_page(
            &json!({"count": 2, "total": 9, "logstores": ["a", "b"]}),
            "logstores",
        );
        assert_eq!(
            page.unwrap(),
            NamesPage {
                count: 2,
                total: 9,
                names: vec!["a".into(), "b".into()]
            }
        );
        let empty = parse_page(&json!({"count": 0, "total": 0, "shipper": null}), "shipper");
        assert_eq!(empty.unwrap().names, Vec::<String>::new());
        for (doc, says) in [
            (json!([]), "not a JSON object"),
            (json!({"shipper": "a"}), "is not an array"),
            (json!({"shipper": [1]}), "something other than names"),
            (
                json!({"shipper": [], "total": -1}),
                "\"total\" is not a count",
            ),
        ] {
            assert!(
                parse_page(&doc, "shipper").unwrap_err().contains(says),
                "{doc}"
            );
        }
    }
}
