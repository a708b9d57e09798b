//! Replies from servers that may be broken or hostile, read into `#[derive(Deserialize)]`
//! types: each field is a [`Field`], so that one missing or of another JSON type is told by
//! its own message, never a parse error that hides which one it was; and a struct is read
//! only from a JSON object ([`Obj`]).

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::marker::PhantomData;

/// A field of a reply, as the server sent it.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub(crate) enum Field<T> {
    /// Not in the reply.
    #[default]
    #[serde(skip_deserializing)]
    Absent,
    /// What was expected.
    Is(T),
    /// In the reply, but something else (null, or another JSON type).
    Other(IgnoredAny),
}

impl<T> Field<T> {
    /// The value, when it is what was expected.
    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Field::Is(v) => Some(v),
            Field::Absent | Field::Other(_) => None,
        }
    }

    /// Whether the reply has the field at all (null included).
    pub(crate) fn is_present(&self) -> bool {
        !matches!(self, Field::Absent)
    }
}

/// A struct read only from a JSON object. Serde also fills a struct from an array, by
/// position, and a hostile `["blue", …]` would then pass for `{"active": "blue", …}`.
#[derive(Debug, Default)]
pub(crate) struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Object<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Object(PhantomData)).map(Obj)
    }
}

/// A reply read as `T`, from JSON already parsed (a key sent twice is then the last one, as
/// it always was); a reply that is not a JSON object reads as `T::default()`, every field
/// absent.
pub(crate) fn decode<T: DeserializeOwned + Default>(json: &Value) -> T {
    match Field::<Obj<T>>::deserialize(json) {
        Ok(Field::Is(Obj(t))) => t,
        _ => T::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default)]
    struct Pair {
        name: Field<String>,
        size: Field<f64>,
    }

    #[test]
    fn a_field_is_absent_other_or_what_was_expected() {
        let p: Pair = decode(&json!({"name": "a", "size": "big"}));
        assert_eq!(p.name.get().map(String::as_str), Some("a"));
        assert!(p.size.get().is_none() && p.size.is_present());
        let p: Pair = decode(&json!({"name": null}));
        assert!(p.name.get().is_none() && p.name.is_present());
        assert!(!p.size.is_present());
    }

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        let p: Pair = decode(&json!(["a", 1]));
        assert!(!p.name.is_present() && !p.size.is_present());
        let p: Pair = decode(&json!("a"));
        assert!(!p.name.is_present());
        let nested: Field<Obj<Pair>> = Field::deserialize(&json!(["a", 1])).unwrap_or_default();
        assert!(matches!(nested, Field::Other(_)));
    }
}
