//! Task IDs: where they come from (arguments, `-`, stdin as text or JSON), validation and dedupe.
//!
//! Pure: the caller reads stdin and passes the bytes in, so every rule is tested without a process.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use crate::listing::Skipped;

/// The longest task ID accepted, in bytes.
pub const MAX_ID_BYTES: usize = 1024;

/// More task IDs than this in one run is a mistake (a wrong file, a runaway pipe), not a
/// backlog: 48 hours of a busy shipper's tasks are far fewer.
pub const MAX_IDS: usize = 1_000_000;

/// The most stdin that is read, in bytes.
pub const MAX_STDIN_BYTES: u64 = 128 * 1024 * 1024;

/// A task ID that passed validation: non-empty, at most 1024 bytes, no whitespace or control
/// characters. Whether it exists is for the service to say.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct TaskId(String);

impl TaskId {
    pub fn parse(text: &str) -> Result<TaskId, &'static str> {
        if text.is_empty() {
            Err("it is empty")
        } else if text.len() > MAX_ID_BYTES {
            Err("it is longer than 1024 bytes")
        } else if text.chars().any(char::is_control) {
            Err("it contains a control character")
        } else if text.chars().any(char::is_whitespace) {
            Err("it contains whitespace")
        } else {
            Ok(TaskId(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a candidate ID was found, so an error can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Argument(usize),
    StdinLine(usize),
    StdinJson(usize),
    StdinTask(usize),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Argument(n) => write!(f, "argument {n}"),
            Origin::StdinLine(n) => write!(f, "stdin line {n}"),
            Origin::StdinJson(n) => write!(f, "stdin JSON element {n}"),
            Origin::StdinTask(n) => write!(f, "failed task {n} of the stdin documents"),
        }
    }
}

/// The IDs of a run, in input order, without duplicates.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub ids: Vec<TaskId>,
    /// How many repeated IDs were dropped (the first occurrence is kept).
    pub duplicates: usize,
    /// When stdin held GetShipperStatus documents: what else they held.
    pub documents: Option<FromDocuments>,
}

/// What GetShipperStatus documents on stdin held besides the IDs of their failed tasks.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FromDocuments {
    /// Tasks listed in all, whatever their status.
    pub listed: usize,
    /// Tasks the documents say they cover (see `listing::Documents::claimed`).
    pub claimed: usize,
    /// Failed tasks whose ID could not be sent back.
    pub skipped: Vec<Skipped>,
}

/// Does this argument list need stdin? (`-` among the arguments.)
pub fn wants_stdin(args: &[String]) -> bool {
    args.iter().any(|a| a == "-")
}

/// Gather the IDs from the positional arguments and, where a `-` stands (or when `args` is empty
/// and the caller decided stdin is to be read), from `stdin`.
///
/// Every invalid ID is an error here, before anything can be sent.
pub fn collect(args: &[String], stdin: Option<&[u8]>) -> Result<Collected, String> {
    let mut found: Vec<(String, Origin)> = Vec::new();
    let mut stdin_used = false;
    let mut documents = None;
    let mut read_stdin = |found: &mut Vec<(String, Origin)>| -> Result<(), String> {
        if stdin_used {
            return Err("'-' (read stdin) is given more than once; give it once".into());
        }
        stdin_used = true;
        let bytes = stdin.ok_or("stdin is not available")?;
        let (ids, from_documents) = parse_stdin(bytes)?;
        found.extend(ids);
        documents = from_documents;
        Ok(())
    };
    if args.is_empty() && stdin.is_some() {
        read_stdin(&mut found)?;
    }
    for (i, arg) in args.iter().enumerate() {
        if arg == "-" {
            read_stdin(&mut found)?;
        } else {
            found.push((arg.clone(), Origin::Argument(i + 1)));
        }
    }
    let mut collected = validate(found)?;
    collected.documents = documents;
    Ok(collected)
}

/// The IDs a GetShipperStatus listing returned (already valid), without duplicates.
pub fn from_listing(listed: Vec<TaskId>) -> Collected {
    dedupe(listed)
}

fn validate(found: Vec<(String, Origin)>) -> Result<Collected, String> {
    if found.len() > MAX_IDS {
        return Err(format!(
            "{} task ids is more than the {MAX_IDS} one run takes; split the input",
            found.len()
        ));
    }
    let mut invalid = found
        .iter()
        .filter_map(|(text, origin)| TaskId::parse(text).err().map(|why| (text, origin, why)));
    if let Some((text, origin, why)) = invalid.next() {
        let more = invalid.count();
        let more = match more {
            0 => String::new(),
            1 => " (and 1 more invalid id)".to_string(),
            n => format!(" (and {n} more invalid ids)"),
        };
        return Err(format!(
            "invalid task id \"{}\" at {origin}: {why}{more}; fix the input, nothing was sent",
            crate::untrusted::excerpt(text, 60)
        ));
    }
    Ok(dedupe(
        found.into_iter().map(|(text, _)| TaskId(text)).collect(),
    ))
}

/// Drop repeated IDs, keeping the first of each, in order.
fn dedupe(ids: Vec<TaskId>) -> Collected {
    // Borrowed keys: a copy of every ID only to find duplicates would double the memory of a
    // large input.
    let first: Vec<bool> = {
        let mut seen = HashSet::with_capacity(ids.len());
        ids.iter().map(|id| seen.insert(id.as_str())).collect()
    };
    let mut collected = Collected::default();
    collected.ids.reserve(ids.len());
    for (id, first) in ids.into_iter().zip(first) {
        if first {
            collected.ids.push(id);
        } else {
            collected.duplicates += 1;
        }
    }
    collected
}

/// IDs and, for GetShipperStatus documents, what else they held.
type FromStdin = (Vec<(String, Origin)>, Option<FromDocuments>);

/// Detect the stdin format and read it. A byte-order mark, blank lines and `#` comment lines at
/// the top are skipped first; the next character decides: `{` means GetShipperStatus documents,
/// `[` a JSON array of strings, anything else IDs separated by whitespace (blank lines and `#`
/// comment lines skipped throughout).
fn parse_stdin(bytes: &[u8]) -> Result<FromStdin, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "stdin is not valid UTF-8 (at byte {}); task ids must be text",
            e.valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (json, first) = match json_start(text) {
        Some((json, first)) => (json, first),
        None => return Ok((parse_lines(text), None)),
    };
    if first == '{' {
        let documents = crate::listing::failed_in_documents(&json)?;
        let ids = documents.failed.tasks.into_iter().enumerate();
        let ids = ids.map(|(i, task)| (task.id.0, Origin::StdinTask(i + 1)));
        let rest = FromDocuments {
            listed: documents.listed,
            claimed: documents.claimed,
            skipped: documents.failed.skipped,
        };
        let ids = ids.collect();
        Ok((ids, Some(rest)))
    } else {
        Ok((parse_json_array(&json)?, None))
    }
}

/// When the first character after the leading blank and `#` comment lines is `[` or `{`: the
/// JSON text with those comment lines blanked (so a JSON error's line number is still the
/// input's), and that character.
fn json_start(text: &str) -> Option<(Cow<'_, str>, char)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) {
            break;
        }
        offset += line.len();
    }
    let first = text[offset..].trim_start().chars().next()?;
    if first != '[' && first != '{' {
        return None;
    }
    let comments = text[..offset].bytes().filter(|&b| b == b'\n').count();
    Some(if text[..offset].contains('#') {
        let blanked = "\n".repeat(comments) + &text[offset..];
        (Cow::Owned(blanked), first)
    } else {
        (Cow::Borrowed(text), first)
    })
}

fn parse_lines(text: &str) -> Vec<(String, Origin)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.extend(
            line.split_whitespace()
                .map(|id| (id.to_string(), Origin::StdinLine(n + 1))),
        );
    }
    out
}

fn parse_json_array(text: &str) -> Result<Vec<(String, Origin)>, String> {
    let values: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|e| {
        format!("stdin starts like a JSON array but is not one ({e}); give a JSON array of strings or one id per line")
    })?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            serde_json::Value::String(s) => Ok((s, Origin::StdinJson(i + 1))),
            other => Err(format!(
                "stdin JSON element {} is not a string ({}); the array must hold task id strings",
                i + 1,
                kind(&other)
            )),
        })
        .collect()
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn ids(c: &Collected) -> Vec<&str> {
        c.ids.iter().map(TaskId::as_str).collect()
    }

    #[test]
    fn arguments_in_order() {
        let c = collect(&args(&["a", "b", "c"]), None).unwrap();
        assert_eq!(ids(&c), ["a", "b", "c"]);
    }

    #[test]
    fn dash_reads_stdin_in_place() {
        let c = collect(&args(&["a", "-", "z"]), Some(b"b\nc\n")).unwrap();
        assert_eq!(ids(&c), ["a", "b", "c", "z"]);
    }

    #[test]
    fn no_arguments_reads_stdin_lines_comments_and_blanks() {
        let input = b"# failed tasks\n\n  t1 t2\tt3\r\n#t4 is a comment\n t5\n";
        let c = collect(&[], Some(input)).unwrap();
        assert_eq!(ids(&c), ["t1", "t2", "t3", "t5"]);
    }

    #[test]
    fn json_array_of_strings() {
        let c = collect(&[], Some(br#" ["x", "y","z"] "#)).unwrap();
        assert_eq!(ids(&c), ["x", "y", "z"]);
        let c = collect(&[], Some("[\"任务-01\"]".as_bytes())).unwrap();
        assert_eq!(ids(&c), ["任务-01"]);
    }

    #[test]
    fn leading_comments_blanks_and_a_bom_do_not_decide_the_format() {
        let c = collect(
            &[],
            Some(b"# failed ids\n[\n  \"t-aaa\",\n  \"t-bbb\"\n]\n"),
        )
        .unwrap();
        assert_eq!(ids(&c), ["t-aaa", "t-bbb"]);
        let c = collect(
            &[],
            Some("\u{feff}\r\n  \n\t# x\n{\"tasks\": []}".as_bytes()),
        )
        .unwrap();
        assert_eq!(c.documents.unwrap().listed, 0);
        let c = collect(&[], Some(b"# a comment\n\nt-1 t-2\n# [not json]\nt-3")).unwrap();
        assert_eq!(ids(&c), ["t-1", "t-2", "t-3"]);
        let err = collect(&[], Some(b"#\n#\n[1]")).unwrap_err();
        assert!(err.contains("element 1 is not a string"), "{err}");
    }

    #[test]
    fn json_that_is_not_an_array_of_strings() {
        let err = collect(&[], Some(br#"["x", 5]"#)).unwrap_err();
        assert!(
            err.contains("element 2 is not a string (a number)"),
            "{err}"
        );
        let err = collect(&[], Some(b"[\"x\",")).unwrap_err();
        assert!(err.contains("not one"), "{err}");
    }

    #[test]
    fn commas_are_not_separators() {
        let c = collect(&args(&["a,b"]), None).unwrap();
        assert_eq!(ids(&c), ["a,b"]);
    }

    #[test]
    fn duplicates_dropped_first_kept() {
        let c = collect(&args(&["a", "b", "a", "-"]), Some(b"b\nc\na")).unwrap();
        assert_eq!(ids(&c), ["a", "b", "c"]);
        assert_eq!(c.duplicates, 3);
    }

    #[test]
    fn invalid_ids_anywhere_name_the_place() {
        let err = collect(&args(&["ok", "bad\u{7}id"]), None).unwrap_err();
        assert!(err.contains("\"bad\\u{7}id\" at argument 2"), "{err}");
        assert!(err.contains("control character"), "{err}");

        let err = collect(&args(&["ok", "-"]), Some(b"a\nb\n\nc\x01\nd\x02")).unwrap_err();
        assert!(err.contains("at stdin line 4"), "{err}");
        assert!(err.contains("and 1 more invalid id"), "{err}");

        let long = "x".repeat(1025);
        let err = collect(&args(&[&long]), None).unwrap_err();
        assert!(err.contains("longer than 1024"), "{err}");
        assert!(err.len() < 300, "long ids are shortened in the message");
        assert!(collect(&args(&[&"x".repeat(1024)]), None).is_ok());

        let err = collect(&args(&[""]), None).unwrap_err();
        assert!(err.contains("empty"), "{err}");
        let err = collect(&[], Some(br#"["a b"]"#)).unwrap_err();
        assert!(
            err.contains("whitespace") && err.contains("JSON element 1"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn stdin_twice_or_not_utf8() {
        let err = collect(&args(&["-", "-"]), Some(b"a")).unwrap_err();
        assert!(err.contains("more than once"), "{err}");
        let err = collect(&[], Some(b"ok\n\xff\xfe")).unwrap_err();
        assert!(err.contains("not valid UTF-8 (at byte 3)"), "{err}");
    }

    #[test]
    fn get_shipper_status_documents_give_their_failed_tasks() {
        let doc = r#"{"count": 3, "total": 3, "tasks": [
            {"id": "f1", "taskStatus": "fail"}, {"id": "s1", "taskStatus": "success"},
            {"id": "f2", "taskStatus": "fail"}]}
            {"count": 1, "total": 4, "tasks": [{"id": "f3", "taskStatus": "fail"}]}"#;
        let c = collect(&[], Some(doc.as_bytes())).unwrap();
        assert_eq!(ids(&c), ["f1", "f2", "f3"]);
        let documents = c.documents.unwrap();
        assert_eq!((documents.listed, documents.claimed), (4, 4));
        assert!(documents.skipped.is_empty());

        // A document comes from the service: an ID it should never have handed out is set
        // aside (and said by the caller), the others go ahead.
        let c = collect(
            &[],
            Some(br#"{"tasks": [{"id": "bad id", "taskStatus": "fail"}, {"id": "ok", "taskStatus": "fail"}]}"#),
        )
        .unwrap();
        assert_eq!(ids(&c), ["ok"]);
        let skipped = &c.documents.unwrap().skipped;
        assert_eq!(skipped.len(), 1);
        assert_eq!(
            skipped[0].describe(),
            "skipped task id \"bad id\" from the listing: it contains whitespace"
        );
    }

    #[test]
    fn a_sane_maximum_of_ids() {
        let many: String = (0..=MAX_IDS).map(|i| format!("{i:x}\n")).collect();
        let err = collect(&[], Some(many.as_bytes())).unwrap_err();
        assert!(
            err.contains("1000001 task ids is more than the 1000000 one run takes"),
            "{err}"
        );
    }

    #[test]
    fn empty_input_is_no_ids() {
        assert_eq!(
            collect(&[], Some(b"\n# nothing\n")).unwrap(),
            Collected::default()
        );
        assert_eq!(collect(&[], Some(b"[]")).unwrap(), Collected::default());
    }
}
