//! Source locations for scenario values: turns a parsed TOML or JSON text into a JSON value plus a table from
//! RFC 6901 pointer to 1-based (line, column), so an error found after parsing still names the line.

use crate::{Error, ErrorKind, Result};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;

/// Pointer → (line, column) of the key (or the array element) that holds the value.
#[derive(Debug, Default, Clone)]
pub(crate) struct Locations {
    map: BTreeMap<String, (usize, usize)>,
}

impl Locations {
    /// The location of `pointer`, or of its nearest ancestor that has one.
    pub(crate) fn find(&self, pointer: &str) -> Option<(usize, usize)> {
        let mut p = pointer;
        loop {
            if let Some(loc) = self.map.get(p) {
                return Some(*loc);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Escape one pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }
    fn at(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = text
            .get(start..offset.min(text.len()))
            .map(|s| s.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }
}

/// Parse TOML into a JSON value with locations. Syntax errors name line and column.
pub(crate) fn toml_to_json(text: &str) -> Result<(Value, Locations)> {
    toml_to_json_with(text, true)
}

/// [`toml_to_json`] locating only the elements of arrays of tables (`[[suite.case]]`) unless `full`: a
/// manifest of a thousand cases is parsed on every run, and only its errors need every key's location (its
/// caller re-parses with `full` then).
pub(crate) fn toml_to_json_with(text: &str, full: bool) -> Result<(Value, Locations)> {
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let idx = LineIndex::new(text);
        let mut err = Error::new(ErrorKind::Scenario, format!("invalid TOML: {}", e.message()));
        if let Some(span) = e.span() {
            let (l, c) = idx.at(text, span.start);
            err = err.with_line(l, Some(c));
        }
        err
    })?;
    let mut w = TomlWalker {
        text,
        idx: LineIndex::new(text),
        locs: Locations::default(),
        full,
    };
    let table = doc
        .as_item()
        .as_table()
        .ok_or_else(|| Error::new(ErrorKind::Scenario, "expected a TOML table"))?;
    let value = w.table(table, "")?;
    Ok((value, w.locs))
}

/// The locations of the elements of arrays of tables (each `[[suite.case]]` header's line), as
/// [`toml_to_json_with`] finds them when not `full`, of a document already parsed with `toml`'s parser (several
/// times faster than `toml_edit`'s, which keeps every token for editing).
pub(crate) fn table_array_locations(doc: &toml::de::DeTable<'_>, text: &str) -> Locations {
    use toml::de::DeValue;
    fn walk(table: &toml::de::DeTable<'_>, ptr: &str, text: &str, idx: &LineIndex, locs: &mut Locations) {
        for (key, value) in table.iter() {
            let DeValue::Array(items) = value.get_ref() else {
                if let DeValue::Table(t) = value.get_ref() {
                    walk(t, &format!("{ptr}/{}", escape(key.get_ref())), text, idx, locs);
                }
                continue;
            };
            let p = format!("{ptr}/{}", escape(key.get_ref()));
            for (i, item) in items.iter().enumerate() {
                // An element of an array of tables is spanned by its `[[...]]` header; one of an inline array
                // by its `{`: only the former are located (as toml_edit's walk does).
                if let DeValue::Table(t) = item.get_ref() {
                    if text.get(item.span()).is_some_and(|s| s.starts_with("[[")) {
                        let ip = format!("{p}/{i}");
                        locs.map.entry(ip.clone()).or_insert(idx.at(text, item.span().start));
                        walk(t, &ip, text, idx, locs);
                    }
                }
            }
        }
    }
    let mut locs = Locations::default();
    walk(doc, "", text, &LineIndex::new(text), &mut locs);
    locs
}

struct TomlWalker<'a> {
    text: &'a str,
    idx: LineIndex,
    locs: Locations,
    /// Locate every key and value, not only the elements of arrays of tables.
    full: bool,
}

impl TomlWalker<'_> {
    fn mark(&mut self, pointer: &str, span: Option<std::ops::Range<usize>>) {
        if self.full {
            self.mark_always(pointer, span);
        }
    }

    fn mark_always(&mut self, pointer: &str, span: Option<std::ops::Range<usize>>) {
        if let Some(span) = span {
            let loc = self.idx.at(self.text, span.start);
            self.locs.map.entry(pointer.to_string()).or_insert(loc);
        }
    }

    fn table(&mut self, table: &toml_edit::Table, ptr: &str) -> Result<Value> {
        let mut map = Map::new();
        for (key, item) in table.iter() {
            let p = format!("{ptr}/{}", escape(key));
            if let Some((k, _)) = table.get_key_value(key) {
                self.mark(&p, k.span());
            }
            map.insert(key.to_string(), self.item(item, &p)?);
        }
        Ok(Value::Object(map))
    }

    fn item(&mut self, item: &toml_edit::Item, ptr: &str) -> Result<Value> {
        use toml_edit::Item;
        self.mark(ptr, item.span());
        match item {
            Item::None => Ok(Value::Null),
            Item::Value(v) => self.value(v, ptr),
            Item::Table(t) => self.table(t, ptr),
            Item::ArrayOfTables(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, t) in a.iter().enumerate() {
                    let p = format!("{ptr}/{i}");
                    self.mark_always(&p, t.span());
                    out.push(self.table(t, &p)?);
                }
                Ok(Value::Array(out))
            }
        }
    }

    fn value(&mut self, v: &toml_edit::Value, ptr: &str) -> Result<Value> {
        use toml_edit::Value as T;
        self.mark(ptr, v.span());
        Ok(match v {
            T::String(s) => Value::String(s.value().clone()),
            T::Integer(i) => Value::Number((*i.value()).into()),
            T::Float(f) => {
                let x = *f.value();
                match Number::from_f64(x) {
                    Some(n) => Value::Number(n),
                    None => {
                        let (l, c) = self.locs.find(ptr).unwrap_or((0, 0));
                        return Err(Error::new(
                            ErrorKind::Scenario,
                            format!("{x} is not allowed (expected a finite number)"),
                        )
                        .with_line(l, Some(c))
                        .with_field(ptr.trim_start_matches('/').replace('/', "."))
                        .with_path(ptr));
                    }
                }
            }
            T::Boolean(b) => Value::Bool(*b.value()),
            T::Datetime(d) => Value::String(d.value().to_string()),
            T::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for (i, v) in a.iter().enumerate() {
                    out.push(self.value(v, &format!("{ptr}/{i}"))?);
                }
                Value::Array(out)
            }
            T::InlineTable(t) => {
                let mut map = Map::new();
                for (key, v) in t.iter() {
                    let p = format!("{ptr}/{}", escape(key));
                    if let Some((k, _)) = t.get_key_value(key) {
                        self.mark(&p, k.span());
                    }
                    map.insert(key.to_string(), self.value(v, &p)?);
                }
                Value::Object(map)
            }
        })
    }
}

/// Parse JSON (strictly, with serde_json) into a value; syntax errors name line and column.
pub(crate) fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        Error::new(ErrorKind::Scenario, format!("invalid JSON: {e}")).with_line(e.line(), Some(e.column()))
    })
}

/// Locations for a JSON text that already parsed (only computed when an error needs one).
pub(crate) fn json_locations(text: &str) -> Locations {
    let mut locs = Locations::default();
    let opts = jsonc_parser::ParseOptions::default();
    let Ok(parsed) = jsonc_parser::parse_to_ast(text, &Default::default(), &opts) else {
        return locs;
    };
    let idx = LineIndex::new(text);
    fn walk(v: &jsonc_parser::ast::Value<'_>, ptr: &str, text: &str, idx: &LineIndex, locs: &mut Locations) {
        use jsonc_parser::ast::{ObjectPropName, Value as A};
        match v {
            A::Object(o) => {
                for prop in &o.properties {
                    let name = match &prop.name {
                        ObjectPropName::String(s) => s.value.to_string(),
                        ObjectPropName::Word(w) => w.value.to_string(),
                    };
                    let p = format!("{ptr}/{}", escape(&name));
                    locs.map.entry(p.clone()).or_insert(idx.at(text, prop.range.start));
                    walk(&prop.value, &p, text, idx, locs);
                }
            }
            A::Array(a) => {
                for (i, e) in a.elements.iter().enumerate() {
                    let p = format!("{ptr}/{i}");
                    let start = match e {
                        A::Object(o) => o.range.start,
                        A::Array(a) => a.range.start,
                        A::StringLit(s) => s.range.start,
                        A::NumberLit(n) => n.range.start,
                        A::BooleanLit(b) => b.range.start,
                        A::NullKeyword(n) => n.range.start,
                    };
                    locs.map.entry(p.clone()).or_insert(idx.at(text, start));
                    walk(e, &p, text, idx, locs);
                }
            }
            _ => {}
        }
    }
    if let Some(v) = &parsed.value {
        walk(v, "", text, &idx, &mut locs);
    }
    locs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_locations_point_at_keys() {
        let text = "name = \"x\"\n\n[[node]]\nid = \"a\"\n\n[[node]]\nid = \"b\"\nparams = { servers = 2 }\n";
        let (v, locs) = toml_to_json(text).unwrap();
        assert_eq!(v["node"][1]["params"]["servers"], 2);
        assert_eq!(locs.find("/node/1/id"), Some((7, 1)));
        assert_eq!(locs.find("/node/1/params/servers").map(|l| l.0), Some(8));
        assert_eq!(locs.find("/node/1/missing").map(|l| l.0), Some(6));
    }

    #[test]
    fn toml_nan_is_an_error_with_a_line() {
        let err = toml_to_json("a = 1\nloss = nan\n").unwrap_err();
        assert_eq!(err.line(), Some(2));
    }

    #[test]
    fn json_locations_point_at_keys() {
        let text = "{\n  \"name\": \"x\",\n  \"node\": [\n    {\"id\": \"a\"}\n  ]\n}";
        let locs = json_locations(text);
        assert_eq!(locs.find("/node/0/id"), Some((4, 6)));
    }
}
