//! Python objects ↔ `serde_json::Value`.
//!
//! Python → JSON accepts `None`, `bool`, `int` and integer-likes with `__index__` (from -2^63 to 2^64-1),
//! finite `float`, `str`, `list`, `tuple` and mappings with `str` keys. Anything else is a
//! `toron.ScenarioError` (a `ValueError`) naming the JSON pointer (`/network/loss`) and dotted field
//! (`network.loss`) of the offending value — never a panic.

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deeper nesting than this is refused (it also stops a self-containing list).
const MAX_DEPTH: usize = 128;

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

struct Walk {
    path: Vec<Seg>,
}

impl Walk {
    fn pointer(&self) -> String {
        self.path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                Seg::Index(i) => format!("/{i}"),
            })
            .collect()
    }

    fn dotted(&self) -> String {
        let mut out = String::new();
        for s in &self.path {
            match s {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn error(&self, message: impl Into<String>) -> PyErr {
        errors::scenario_error(&self.pointer(), &self.dotted(), message)
    }

    fn value(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        if self.path.len() > MAX_DEPTH {
            return Err(self.error(format!(
                "nested more than {MAX_DEPTH} levels deep (expected a plain JSON-like structure)"
            )));
        }
        if obj.is_none() {
            return Ok(Value::Null);
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return Ok(Value::Bool(b.is_true()));
        }
        if obj.is_instance_of::<PyInt>() {
            return self.integer(obj);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            let v = f.value();
            return Number::from_f64(v)
                .map(Value::Number)
                .ok_or_else(|| self.error(format!("{v} is not a finite number (expected a finite float)")));
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return match s.to_cow() {
                Ok(s) => Ok(Value::String(s.into_owned())),
                Err(_) => Err(self.error("string is not valid Unicode (it contains a lone surrogate)")),
            };
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return self.sequence(list.iter());
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return self.sequence(tuple.iter());
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            return self.mapping(dict.iter());
        }
        if let Ok(mapping) = obj.cast::<PyMapping>() {
            let items = mapping.items()?;
            let mut pairs = Vec::new();
            for item in items.iter() {
                pairs.push(item.extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()?);
            }
            return self.mapping(pairs.into_iter());
        }
        if obj.hasattr("__index__")? {
            // Integer-like objects that are not ints (numpy integers, ...).
            return self.integer(&obj.call_method0("__index__")?);
        }
        let type_name = obj
            .get_type()
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| "?".into());
        Err(self.error(format!(
            "unsupported type {type_name} (expected dict, list, tuple, str, int, float, bool or None)"
        )))
    }

    fn integer(&self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        Err(self.error(format!(
            "integer {} is out of range (expected from -2^63 to 2^64-1)",
            obj.str()?
        )))
    }

    fn sequence<'py>(&mut self, items: impl Iterator<Item = Bound<'py, PyAny>>) -> PyResult<Value> {
        let mut out = Vec::new();
        for (i, item) in items.enumerate() {
            self.path.push(Seg::Index(i));
            let v = self.value(&item)?;
            self.path.pop();
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn mapping<'py>(&mut self, items: impl Iterator<Item = (Bound<'py, PyAny>, Bound<'py, PyAny>)>) -> PyResult<Value> {
        let mut out = Map::new();
        for (k, v) in items {
            let key = match k.cast::<PyString>() {
                Ok(s) => s
                    .to_cow()
                    .map_err(|_| self.error("key is not valid Unicode (it contains a lone surrogate)"))?
                    .into_owned(),
                Err(_) => {
                    let shown = k.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".into());
                    return Err(self.error(format!("key {shown} is not a string (expected str keys)")));
                }
            };
            self.path.push(Seg::Key(key.clone()));
            let value = self.value(&v)?;
            self.path.pop();
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A Python object as a JSON value, or a `toron.ScenarioError` naming the path of what cannot be one.
pub(crate) fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    Walk { path: Vec::new() }.value(obj)
}

/// A JSON value as Python objects (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub(crate) fn from_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_value(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A serializable core value as Python objects.
pub(crate) fn to_python<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(value)
        .map_err(|e| errors::map(toron_core::Error::new(toron_core::ErrorKind::Json, e.to_string())))?;
    from_value(py, &value)
}

/// A string as a Python literal in single quotes, for `__repr__`.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}
