//! The front ends' calls to the API (the `wire` feature; wasm32 at run
//! time): [`fetch`], and bodies as the browser's own values: the API types'
//! serde derives read a `JSON.parse`d value and write one for
//! `JSON.stringify`, so a page ships no JSON parser or printer.
//!
//! A value that does not fit its type is [`Invalid`], which keeps no
//! message: the payment page only ever says "we could not reach the payment
//! server", and a message would pull Rust's whole formatter (floats
//! included) into the customer's download.

use js_sys::{Array, Object, Reflect};
use serde::de::{self, DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use serde::ser::{self, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A body that does not fit its type; deliberately without words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invalid;

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid body")
    }
}

impl std::error::Error for Invalid {}

impl de::Error for Invalid {
    #[inline]
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Invalid
    }
}

impl ser::Error for Invalid {
    #[inline]
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Invalid
    }
}

/// Reads `value` (as `JSON.parse` made it) into `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, Invalid> {
    T::deserialize(Value(value))
}

/// Writes `value` as a plain JavaScript value, for `JSON.stringify`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, Invalid> {
    value.serialize(Writer)
}

/// Writes `value` as JSON text.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Invalid> {
    js_sys::JSON::stringify(&to_js(value)?)
        .ok()
        .and_then(|text| text.as_string())
        .ok_or(Invalid)
}

/// `fetch(url)` with `method`, `headers` and, when given, a JSON `body`
/// (its `Content-Type` set); the browser's error when nothing answered.
pub async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<web_sys::Response, JsValue> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let sent = web_sys::Headers::new()?;
    for (name, value) in headers {
        sent.set(name, value)?;
    }
    if let Some(body) = body {
        sent.set("Content-Type", "application/json")?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&sent);
    let window = web_sys::window().ok_or(JsValue::NULL)?;
    let answer = JsFuture::from(window.fetch_with_str_and_init(url, &init)).await?;
    Ok(answer.unchecked_into())
}

/// An answer's body: the browser parses the JSON (`Response.json()`), and
/// [`from_js`] types it.
pub async fn read_json<T: DeserializeOwned>(response: &web_sys::Response) -> Result<T, Invalid> {
    from_js(read_value(response).await?)
}

/// An answer's body as the browser parses it (`Response.json()`), untyped.
pub async fn read_value(response: &web_sys::Response) -> Result<JsValue, Invalid> {
    JsFuture::from(response.json().map_err(|_| Invalid)?)
        .await
        .map_err(|_| Invalid)
}

/// The largest integer a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// `n` as an integer, when it is whole and a JavaScript number holds it
/// exactly; what both readers (serde's here, [`crate::decode`]'s) take as
/// an integer.
pub(crate) fn exact_integer(n: f64) -> Option<i64> {
    (n.fract() == 0.0 && n.abs() <= MAX_SAFE).then_some(n as i64)
}

struct Value(JsValue);

/// `deserialize_i8` … `deserialize_u64`: as `deserialize_i64`.
macro_rules! read_integers {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
            self.deserialize_i64(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Invalid;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        let value = self.0;
        if value.is_null() || value.is_undefined() {
            visitor.visit_unit()
        } else if let Some(b) = value.as_bool() {
            visitor.visit_bool(b)
        } else if let Some(n) = value.as_f64() {
            visit_number(n, visitor)
        } else if value.is_string() {
            Value(value).deserialize_string(visitor)
        } else if Array::is_array(&value) {
            Value(value).deserialize_seq(visitor)
        } else if value.is_object() {
            Value(value).deserialize_map(visitor)
        } else {
            Err(Invalid)
        }
    }

    // Each type asks for what it reads, and gets only that: a struct's
    // visitor is called with a map and never with a sequence, a field name's
    // only with a string. Through `deserialize_any`, every visitor's every
    // method (a struct's `visit_seq` too) would be built into the page.

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_bool(self.0.as_bool().ok_or(Invalid)?)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visit_number(self.0.as_f64().ok_or(Invalid)?, visitor)
    }

    read_integers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_f64(self.0.as_f64().ok_or(Invalid)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_string(self.0.as_string().ok_or(Invalid)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        self.deserialize_string(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_unit()
        } else {
            Err(Invalid)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        if !Array::is_array(&self.0) {
            return Err(Invalid);
        }
        visitor.visit_seq(Items(Cursor::new(self.0.unchecked_into())))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        if !self.0.is_object() || Array::is_array(&self.0) {
            return Err(Invalid);
        }
        visitor.visit_map(Entries {
            entries: Cursor::new(Object::entries(self.0.unchecked_ref())),
            value: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        self.deserialize_map(visitor)
    }

    /// A value no field wants (one a newer server added) is skipped unread.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        visitor.visit_newtype_struct(self)
    }

    /// A unit variant as its name, or a variant with data as an object of
    /// one key, the variant's name (serde's default, external tagging).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        if let Some(name) = self.0.as_string() {
            return visitor.visit_enum(IntoDeserializer::<Invalid>::into_deserializer(name));
        }
        let entries = if self.0.is_object() && !Array::is_array(&self.0) {
            Object::entries(self.0.unchecked_ref())
        } else {
            return Err(Invalid);
        };
        if entries.length() != 1 {
            return Err(Invalid);
        }
        let entry: Array = entries.get(0).unchecked_into();
        visitor.visit_enum(Tagged {
            name: entry.get(0).as_string().ok_or(Invalid)?,
            value: entry.get(1),
        })
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Invalid> {
        self.deserialize_string(visitor)
    }

    serde::forward_to_deserialize_any! { i128 u128 bytes byte_buf unit_struct tuple_struct }
}

/// A number as the narrowest of serde's kinds that holds it: an integer a
/// JavaScript number holds exactly as `u64` or `i64`, anything else `f64`.
fn visit_number<'de, V: Visitor<'de>>(n: f64, visitor: V) -> Result<V::Value, Invalid> {
    match exact_integer(n) {
        None => visitor.visit_f64(n),
        Some(whole) if whole < 0 => visitor.visit_i64(whole),
        Some(whole) => visitor.visit_u64(whole as u64),
    }
}

/// An externally tagged variant: its name, then its data.
struct Tagged {
    name: String,
    value: JsValue,
}

impl<'de> de::EnumAccess<'de> for Tagged {
    type Error = Invalid;
    type Variant = Value;

    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Value), Invalid> {
        let name = seed.deserialize(IntoDeserializer::<Invalid>::into_deserializer(self.name))?;
        Ok((name, Value(self.value)))
    }
}

impl<'de> de::VariantAccess<'de> for Value {
    type Error = Invalid;

    fn unit_variant(self) -> Result<(), Invalid> {
        Ok(())
    }

    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, Invalid> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Invalid> {
        self.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Invalid> {
        self.deserialize_map(visitor)
    }
}

/// A JavaScript array read one item at a time.
struct Cursor {
    array: Array,
    next: u32,
}

impl Cursor {
    fn new(array: Array) -> Self {
        Self { array, next: 0 }
    }

    fn take(&mut self) -> Option<JsValue> {
        (self.next < self.array.length()).then(|| {
            self.next += 1;
            self.array.get(self.next - 1)
        })
    }
}

struct Items(Cursor);

impl<'de> de::SeqAccess<'de> for Items {
    type Error = Invalid;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Invalid> {
        self.0
            .take()
            .map(|item| seed.deserialize(Value(item)))
            .transpose()
    }
}

/// An object's own `[key, value]` pairs, in order.
struct Entries {
    entries: Cursor,
    value: Option<JsValue>,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = Invalid;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Invalid> {
        let Some(entry) = self.entries.take() else {
            return Ok(None);
        };
        let entry: Array = entry.unchecked_into();
        self.value = Some(entry.get(1));
        seed.deserialize(Value(entry.get(0))).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Invalid> {
        seed.deserialize(Value(self.value.take().ok_or(Invalid)?))
    }
}

/// Writes serde's data model as plain JavaScript values: structs and maps
/// as objects, sequences as arrays, `None` as `null`, unit variants as
/// their names. Integers must fit a JavaScript number exactly.
struct Writer;

/// Integers become numbers; one a number cannot hold exactly is refused.
macro_rules! integers {
    ($($method:ident: $integer:ty),*) => {$(
        fn $method(self, v: $integer) -> Result<JsValue, Invalid> {
            number(v as f64)
        }
    )*};
}

fn number(n: f64) -> Result<JsValue, Invalid> {
    if n.abs() > MAX_SAFE {
        Err(Invalid)
    } else {
        Ok(JsValue::from_f64(n))
    }
}

impl ser::Serializer for Writer {
    type Ok = JsValue;
    type Error = Invalid;
    type SerializeSeq = ArrayWriter;
    type SerializeTuple = ArrayWriter;
    type SerializeTupleStruct = ArrayWriter;
    type SerializeTupleVariant = VariantWriter<ArrayWriter>;
    type SerializeMap = ObjectWriter;
    type SerializeStruct = ObjectWriter;
    type SerializeStructVariant = VariantWriter<ObjectWriter>;

    fn serialize_bool(self, v: bool) -> Result<JsValue, Invalid> {
        Ok(JsValue::from_bool(v))
    }
    integers!(
        serialize_i8: i8,
        serialize_i16: i16,
        serialize_i32: i32,
        serialize_i64: i64,
        serialize_u8: u8,
        serialize_u16: u16,
        serialize_u32: u32,
        serialize_u64: u64
    );
    fn serialize_f32(self, v: f32) -> Result<JsValue, Invalid> {
        Ok(JsValue::from_f64(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<JsValue, Invalid> {
        Ok(JsValue::from_f64(v))
    }
    fn serialize_char(self, v: char) -> Result<JsValue, Invalid> {
        Ok(JsValue::from_str(v.encode_utf8(&mut [0; 4])))
    }
    fn serialize_str(self, v: &str) -> Result<JsValue, Invalid> {
        Ok(JsValue::from_str(v))
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<JsValue, Invalid> {
        Err(Invalid)
    }
    fn serialize_none(self) -> Result<JsValue, Invalid> {
        Ok(JsValue::NULL)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<JsValue, Invalid> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<JsValue, Invalid> {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<JsValue, Invalid> {
        Ok(JsValue::NULL)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<JsValue, Invalid> {
        Ok(JsValue::from_str(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<JsValue, Invalid> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<JsValue, Invalid> {
        let object = Object::new();
        set(&object, &JsValue::from_str(variant), value.serialize(self)?)?;
        Ok(object.into())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<ArrayWriter, Invalid> {
        Ok(ArrayWriter(Array::new()))
    }
    fn serialize_tuple(self, _: usize) -> Result<ArrayWriter, Invalid> {
        Ok(ArrayWriter(Array::new()))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<ArrayWriter, Invalid> {
        Ok(ArrayWriter(Array::new()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Invalid> {
        Ok(VariantWriter {
            variant,
            inner: ArrayWriter(Array::new()),
        })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<ObjectWriter, Invalid> {
        Ok(ObjectWriter::default())
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<ObjectWriter, Invalid> {
        Ok(ObjectWriter::default())
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Invalid> {
        Ok(VariantWriter {
            variant,
            inner: ObjectWriter::default(),
        })
    }
}

fn set(object: &Object, key: &JsValue, value: JsValue) -> Result<(), Invalid> {
    Reflect::set(object, key, &value)
        .map(drop)
        .map_err(|_| Invalid)
}

struct ArrayWriter(Array);

impl ArrayWriter {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Invalid> {
        self.0.push(&value.serialize(Writer)?);
        Ok(())
    }
}

/// serde's three sequence traits: each element pushed, the array at the end.
macro_rules! array_writer {
    ($($serialize:ident :: $element:ident),*) => {$(
        impl ser::$serialize for ArrayWriter {
            type Ok = JsValue;
            type Error = Invalid;
            fn $element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Invalid> {
                self.push(value)
            }
            fn end(self) -> Result<JsValue, Invalid> {
                Ok(self.0.into())
            }
        }
    )*};
}

array_writer!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

#[derive(Default)]
struct ObjectWriter {
    object: Object,
    key: Option<JsValue>,
}

impl ser::SerializeMap for ObjectWriter {
    type Ok = JsValue;
    type Error = Invalid;
    /// Object keys are strings: a key that writes as anything else is refused.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Invalid> {
        let key = key.serialize(Writer)?;
        if !key.is_string() {
            return Err(Invalid);
        }
        self.key = Some(key);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Invalid> {
        let key = self.key.take().ok_or(Invalid)?;
        set(&self.object, &key, value.serialize(Writer)?)
    }
    fn end(self) -> Result<JsValue, Invalid> {
        Ok(self.object.into())
    }
}

impl ser::SerializeStruct for ObjectWriter {
    type Ok = JsValue;
    type Error = Invalid;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Invalid> {
        set(
            &self.object,
            &JsValue::from_str(key),
            value.serialize(Writer)?,
        )
    }
    fn end(self) -> Result<JsValue, Invalid> {
        Ok(self.object.into())
    }
}

/// A tuple or struct variant: `{"Variant": [..]}` or `{"Variant": {..}}`.
struct VariantWriter<W> {
    variant: &'static str,
    inner: W,
}

impl<W> VariantWriter<W> {
    fn wrap(variant: &'static str, value: JsValue) -> Result<JsValue, Invalid> {
        let object = Object::new();
        set(&object, &JsValue::from_str(variant), value)?;
        Ok(object.into())
    }
}

impl ser::SerializeTupleVariant for VariantWriter<ArrayWriter> {
    type Ok = JsValue;
    type Error = Invalid;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Invalid> {
        self.inner.push(value)
    }
    fn end(self) -> Result<JsValue, Invalid> {
        Self::wrap(self.variant, self.inner.0.into())
    }
}

impl ser::SerializeStructVariant for VariantWriter<ObjectWriter> {
    type Ok = JsValue;
    type Error = Invalid;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Invalid> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<JsValue, Invalid> {
        Self::wrap(self.variant, self.inner.object.into())
    }
}
