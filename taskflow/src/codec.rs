//! [`Codec`]: how the values of one task turn into JSON and back. `#[task]` finds out at
//! compile time, with no bound on the task's type, whether its value type implements
//! `serde::Serialize` and `serde::de::DeserializeOwned` (as it finds out whether a type is
//! `Clone`): a value that does not encode is shown by its type name only.

use std::any::type_name;
use std::io;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::xcom::Value;

/// Encodes a value to JSON, as a tree or written to a sink.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Encoder {
    to_json: fn(&Value) -> Result<serde_json::Value, String>,
    write: fn(&Value, &mut dyn io::Write) -> Result<(), String>,
}

/// Decodes a value from JSON.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Decoder(fn(serde_json::Value) -> Result<Value, String>);

/// How a task's value type crosses a boundary: its JSON encoder and decoder when it has
/// them, and its shallow size (`size_of`), which every type has.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct Codec {
    encoder: Option<Encoder>,
    decoder: Option<Decoder>,
    shallow_size: usize,
    type_name: &'static str,
}

impl Codec {
    /// No encoder, no decoder, no size: what a body that says nothing has.
    pub const NONE: Codec = Codec {
        encoder: None,
        decoder: None,
        shallow_size: 0,
        type_name: "",
    };

    /// The codec of `T` from what the probes found.
    pub fn of<T>(encoder: Option<Encoder>, decoder: Option<Decoder>) -> Self {
        Self {
            encoder,
            decoder,
            shallow_size: size_of::<T>(),
            type_name: type_name::<T>(),
        }
    }

    /// The shallow size and name of `T` only (a `multiple_outputs` tuple, whose parts
    /// each have their own codec).
    pub fn shallow<T>() -> Self {
        Self::of::<T>(None, None)
    }

    /// `size_of` the type.
    pub(crate) fn shallow_size(&self) -> usize {
        self.shallow_size
    }

    /// The value as JSON; `None` if the type does not encode. A panic in the type's
    /// `Serialize` is an error, not passed on.
    pub(crate) fn encode(&self, value: &Value) -> Option<Result<serde_json::Value, String>> {
        let encoder = self.encoder?;
        Some(crate::quiet::catch(|| (encoder.to_json)(value)).and_then(|encoded| encoded))
    }

    /// Writes the value as compact JSON to `sink`; `None` if the type does not encode.
    pub(crate) fn write(
        &self,
        value: &Value,
        sink: &mut dyn io::Write,
    ) -> Option<Result<(), String>> {
        let encoder = self.encoder?;
        Some(crate::quiet::catch(|| (encoder.write)(value, sink)).and_then(|written| written))
    }

    /// A value of this type from JSON; `None` if the type does not decode.
    pub(crate) fn decode(&self, json: serde_json::Value) -> Option<Result<Value, String>> {
        let decoder = self.decoder?;
        Some(crate::quiet::catch(|| (decoder.0)(json)).and_then(|decoded| decoded))
    }

    /// The Rust name of the type (empty for [`Codec::NONE`]).
    pub(crate) fn type_name(&self) -> &'static str {
        self.type_name
    }
}

/// `value` as a `&T`, or an error naming `T`.
fn typed<T: 'static>(value: &Value) -> Result<&T, String> {
    value
        .downcast_ref::<T>()
        .ok_or_else(|| format!("the value is not a `{}`", type_name::<T>()))
}

fn to_json<T: Serialize + 'static>(value: &Value) -> Result<serde_json::Value, String> {
    serde_json::to_value(typed::<T>(value)?).map_err(|error| error.to_string())
}

fn write<T: Serialize + 'static>(value: &Value, sink: &mut dyn io::Write) -> Result<(), String> {
    serde_json::to_writer(sink, typed::<T>(value)?).map_err(|error| error.to_string())
}

/// Decodes a `T` from an owned JSON tree, which deserializes for any lifetime: every
/// `DeserializeOwned` type decodes, and a type that only borrows from its input (`&'static
/// str`) fails at run time instead of being rejected by the probe (see [`DeserializeProbe`]).
fn from_json<T: Deserialize<'static> + Send + Sync + 'static>(
    json: serde_json::Value,
) -> Result<Value, String> {
    T::deserialize(json)
        .map(Value::new)
        .map_err(|error| error.to_string())
}

/// Picks an [`Encoder`] when `T: Serialize` and `None` otherwise, on concrete types in
/// generated code (method resolution prefers the `&&Probe` impl, which only exists for
/// types that encode).
#[doc(hidden)]
pub struct SerializeProbe<T>(pub PhantomData<T>);

#[doc(hidden)]
pub trait ViaSerialize {
    fn encoder(&self) -> Option<Encoder>;
}

impl<T: Serialize + 'static> ViaSerialize for &SerializeProbe<T> {
    fn encoder(&self) -> Option<Encoder> {
        Some(Encoder {
            to_json: to_json::<T>,
            write: write::<T>,
        })
    }
}

#[doc(hidden)]
pub trait ViaNoSerialize {
    fn encoder(&self) -> Option<Encoder>;
}

impl<T> ViaNoSerialize for SerializeProbe<T> {
    fn encoder(&self) -> Option<Encoder> {
        None
    }
}

/// Picks a [`Decoder`] when `T: Deserialize<'static>` and `None` otherwise, like
/// [`SerializeProbe`]. The probe asks for `Deserialize<'static>` rather than
/// `DeserializeOwned`: method resolution ignores lifetimes, so a higher-ranked bound would
/// pick the decoder for `&'static str` and then fail to compile the user's task.
#[doc(hidden)]
pub struct DeserializeProbe<T>(pub PhantomData<T>);

#[doc(hidden)]
pub trait ViaDeserialize {
    fn decoder(&self) -> Option<Decoder>;
}

impl<T: Deserialize<'static> + Send + Sync + 'static> ViaDeserialize for &DeserializeProbe<T> {
    fn decoder(&self) -> Option<Decoder> {
        Some(Decoder(from_json::<T>))
    }
}

#[doc(hidden)]
pub trait ViaNoDeserialize {
    fn decoder(&self) -> Option<Decoder>;
}

impl<T> ViaNoDeserialize for DeserializeProbe<T> {
    fn decoder(&self) -> Option<Decoder> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Opaque;

    #[derive(serde::Serialize)]
    struct WriteOnly {
        rows: u32,
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the double borrow is the probe
    fn probes_tell_encodable_and_decodable_types_apart() {
        #[allow(unused_imports)]
        use super::{ViaDeserialize, ViaNoDeserialize, ViaNoSerialize, ViaSerialize};
        let vec = Codec::of::<Vec<u32>>(
            (&&SerializeProbe::<Vec<u32>>(PhantomData)).encoder(),
            (&&DeserializeProbe::<Vec<u32>>(PhantomData)).decoder(),
        );
        assert!(vec.encoder.is_some() && vec.decoder.is_some());
        assert_eq!(vec.shallow_size(), size_of::<Vec<u32>>());
        let opaque = Codec::of::<Opaque>(
            (&&SerializeProbe::<Opaque>(PhantomData)).encoder(),
            (&&DeserializeProbe::<Opaque>(PhantomData)).decoder(),
        );
        assert!(opaque.encoder.is_none() && opaque.decoder.is_none());
        assert!(opaque.encode(&Value::new(Opaque)).is_none());
        let write_only = Codec::of::<WriteOnly>(
            (&&SerializeProbe::<WriteOnly>(PhantomData)).encoder(),
            (&&DeserializeProbe::<WriteOnly>(PhantomData)).decoder(),
        );
        assert!(write_only.encoder.is_some() && write_only.decoder.is_none());
        let encoded = write_only.encode(&Value::new(WriteOnly { rows: 3 }));
        assert_eq!(encoded, Some(Ok(serde_json::json!({"rows": 3}))));
        assert!(
            (&&SerializeProbe::<&'static str>(PhantomData))
                .encoder()
                .is_some()
        );
        // A type that borrows from its input probes as decodable and fails at run time.
        let text = Codec::of::<&'static str>(
            (&&SerializeProbe::<&'static str>(PhantomData)).encoder(),
            (&&DeserializeProbe::<&'static str>(PhantomData)).decoder(),
        );
        let decoded = text.decode(serde_json::json!("borrowed")).unwrap();
        assert!(decoded.unwrap_err().contains("borrowed string"));
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the double borrow is the probe
    fn a_codec_round_trips_a_value_and_names_a_value_of_another_type() {
        #[allow(unused_imports)]
        use super::{ViaDeserialize, ViaNoDeserialize, ViaNoSerialize, ViaSerialize};
        let codec = Codec::of::<Vec<u32>>(
            (&&SerializeProbe::<Vec<u32>>(PhantomData)).encoder(),
            (&&DeserializeProbe::<Vec<u32>>(PhantomData)).decoder(),
        );
        let json = codec.encode(&Value::new(vec![1u32, 2])).unwrap().unwrap();
        let back = codec.decode(json).unwrap().unwrap();
        assert_eq!(back.downcast_ref::<Vec<u32>>(), Some(&vec![1, 2]));
        let wrong = codec.encode(&Value::new("text")).unwrap().unwrap_err();
        assert_eq!(wrong, "the value is not a `alloc::vec::Vec<u32>`");
        let mut bytes = Vec::new();
        codec
            .write(&Value::new(vec![7u32]), &mut bytes)
            .unwrap()
            .unwrap();
        assert_eq!(bytes, b"[7]");
    }
}
