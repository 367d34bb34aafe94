//! Python objects ↔ `serde_json::Value`.
//!
//! Python → JSON accepts `None`, `bool`, `int` and integer-likes with `__index__` (from -2^63 to 2^64-1),
//! finite `float`, `str`, `list`, `tuple` and mappings with `str` keys. Anything else is an error naming the
//! JSON pointer (`/network/loss`) and dotted field (`network.loss`) of the offending value — never a panic:
//! a `toron.ScenarioError` from [`to_value`] (scenarios), a `toron.CanonicalError` from [`to_canonical`]
//! (values that are diffed, hashed or stored, which must also pass `canon::check`: integers within
//! ±(2^53 - 1)), a `toron.InvalidArgumentError` from [`to_argument`] (options). All three are `ValueError`s.

use crate::errors;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};
use toron_core::{Error as CoreError, ErrorKind};

/// Deeper nesting than this is refused (it also stops a self-containing list).
const MAX_DEPTH: usize = 128;

extern "C" {
    // The UTF-8 form of a `str`, borrowed from the object (cached in it when not ASCII). Part of the stable
    // ABI from Python 3.10 and exported with this signature by every CPython since 3.3 (PEP 393), 3.9
    // included; PyO3 declares it only for builds that target 3.10 or later, and this module targets
    // abi3-py39. Without it, each string would go through a temporary `bytes` object
    // (`PyUnicode_AsUTF8String`): allocated, copied, copied again and freed — measured at about a tenth of
    // a structural diff from Python.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// The text of a `str` (or `str` subclass) without a copy, or `None` if it is not valid Unicode (a lone
/// surrogate).
#[inline]
pub(crate) fn str_of<'a>(s: &'a Bound<'_, PyString>) -> Option<&'a str> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` and we hold the GIL; the returned buffer belongs to `s`, which outlives
    // `'a`, and is valid UTF-8 of `size` bytes.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        // The UnicodeEncodeError of a lone surrogate: the caller raises its own error, with the path.
        drop(PyErr::take(s.py()));
        return None;
    }
    // SAFETY: as above; `size` is non-negative when `data` is not null.
    Some(unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(data.cast::<u8>(), size as usize)) })
}

#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

struct Walk {
    path: Vec<Seg>,
    /// The kind of error a value that cannot be converted raises.
    kind: ErrorKind,
    /// Where the value comes from, prefixed to the pointer of errors (`/keys` for the `keys` argument).
    prefix: String,
}

impl Walk {
    fn pointer(&self) -> String {
        let mut out = self.prefix.clone();
        for s in &self.path {
            match s {
                Seg::Key(k) => toron_core::canon::push_pointer_token(&mut out, k),
                Seg::Index(i) => out.push_str(&format!("/{i}")),
            }
        }
        out
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
        if self.kind == ErrorKind::Scenario {
            return errors::scenario_error(&self.pointer(), &self.dotted(), message);
        }
        let mut err = CoreError::new(self.kind, message);
        let pointer = self.pointer();
        if !pointer.is_empty() {
            err = err.with_path(pointer);
        }
        errors::map(err)
    }

    fn value(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        if self.path.len() > MAX_DEPTH {
            return Err(self.error(format!(
                "nested more than {MAX_DEPTH} levels deep (expected a plain JSON-like structure)"
            )));
        }
        // Exact built-in types first: one pointer comparison each, and nearly everything in a document.
        // What each branch does is what the general checks below would do for that type.
        if let Ok(s) = obj.cast_exact::<PyString>() {
            return self.string(s);
        }
        if let Ok(dict) = obj.cast_exact::<PyDict>() {
            return self.mapping(dict.iter());
        }
        if obj.is_exact_instance_of::<PyInt>() {
            return self.integer(obj);
        }
        if let Ok(f) = obj.cast_exact::<PyFloat>() {
            return self.float(f);
        }
        if let Ok(list) = obj.cast_exact::<PyList>() {
            return self.sequence(list.len(), list.iter());
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
            return self.float(f);
        }
        if let Ok(s) = obj.cast::<PyString>() {
            return self.string(s);
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return self.sequence(list.len(), list.iter());
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return self.sequence(tuple.len(), tuple.iter());
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

    fn string(&self, s: &Bound<'_, PyString>) -> PyResult<Value> {
        match str_of(s) {
            Some(s) => Ok(Value::String(s.to_owned())),
            None => Err(self.error("string is not valid Unicode (it contains a lone surrogate)")),
        }
    }

    fn float(&self, f: &Bound<'_, PyFloat>) -> PyResult<Value> {
        let v = f.value();
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| self.error(format!("{v} is not a finite number (expected a finite float)")))
    }

    fn integer(&self, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
        if self.kind == ErrorKind::Canonical {
            // The canonical range is checked here, with the path, rather than by `canon::check` afterwards.
            let limit = toron_core::canon::MAX_SAFE_INTEGER;
            return match obj.extract::<i64>() {
                Ok(i) if i.unsigned_abs() <= limit => Ok(Value::from(i)),
                _ => Err(self.error(format!(
                    "integer {} is beyond the canonical range (expected from -(2^53-1) to 2^53-1; \
                     JSON numbers are doubles, pass a float or a string for larger values)",
                    obj.str()?
                ))),
            };
        }
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

    fn sequence<'py>(&mut self, len: usize, items: impl Iterator<Item = Bound<'py, PyAny>>) -> PyResult<Value> {
        let mut out = Vec::with_capacity(len);
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
                Ok(s) => str_of(s)
                    .ok_or_else(|| self.error("key is not valid Unicode (it contains a lone surrogate)"))?
                    .to_owned(),
                Err(_) => {
                    let shown = k.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".into());
                    return Err(self.error(format!("key {shown} is not a string (expected str keys)")));
                }
            };
            self.path.push(Seg::Key(key));
            let value = self.value(&v)?;
            // Take the key back instead of cloning it for the path (a measurable cost on large documents).
            let Some(Seg::Key(key)) = self.path.pop() else {
                unreachable!("the segment pushed above")
            };
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

/// A Python object as a JSON value, or a `toron.ScenarioError` naming the path of what cannot be one.
pub(crate) fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    Walk {
        path: Vec::new(),
        kind: ErrorKind::Scenario,
        prefix: String::new(),
    }
    .value(obj)
}

/// A Python object as a JSON value, or an error of `kind` naming the path of what cannot be one (a
/// `toron.DatasetError` for a data-set schema).
pub(crate) fn to_value_as(obj: &Bound<'_, PyAny>, kind: ErrorKind) -> PyResult<Value> {
    Walk {
        path: Vec::new(),
        kind,
        prefix: String::new(),
    }
    .value(obj)
}

/// A Python object as a JSON value that the canonical encoding accepts (what is diffed, hashed and stored),
/// or a `toron.CanonicalError` naming the path of the first value that cannot be one: NaN, an infinity, an
/// integer beyond ±(2^53 - 1), a key that is not a `str`, a type JSON has not.
pub(crate) fn to_canonical(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let value = Walk {
        path: Vec::new(),
        kind: ErrorKind::Canonical,
        prefix: String::new(),
    }
    .value(obj)?;
    // Every number was checked on the way (the only thing `canon::check` looks at: integers within
    // ±(2^53 - 1), finite floats), so the core's own check cannot fail here. It is kept in debug builds;
    // in release it was a second walk of the whole document that sorts every object's keys, measured at
    // about 12 % of a 1 MB structural diff from Python.
    debug_assert!(toron_core::canon::check(&value).is_ok());
    Ok(value)
}

/// An argument (diff options, metadata) as a JSON value, or a `toron.InvalidArgumentError` naming
/// `/<name>/...`, the path inside the argument.
pub(crate) fn to_argument(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    let mut prefix = String::new();
    toron_core::canon::push_pointer_token(&mut prefix, name);
    Walk {
        path: Vec::new(),
        kind: ErrorKind::InvalidArgument,
        prefix,
    }
    .value(obj)
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
