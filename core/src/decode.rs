//! The page API's answers read straight from the browser's `JSON.parse`d
//! values, field by field (the `wire` feature): what the payment page and
//! the card update page read, without serde.
//!
//! Through serde ([`crate::wire::from_js`]) each struct's derived reader is
//! a state machine over its field names, with a duplicate and a missing
//! check per field, all inlined into one function per type: 15 KB of the
//! payment page's wasm. Here a struct is the list of its fields' names, each
//! read with one call, and the reading code is built once per field *type*.
//! The server still writes with serde; the page's tests (`tests/wire.rs`)
//! read back what serde_json writes, for every type and every variant.
//!
//! The rules are serde's, as the server's types declare them: a missing
//! `Option` is `None`; a missing `#[serde(default)]` field is its default;
//! `null` only stands for `None`; integers are whole, within their type and
//! what a JavaScript number holds exactly; a struct is an object (not the
//! array of its fields) and a list an array; fields this build does not know
//! are skipped, in an [`Appearance`] too (the server refuses them there in
//! requests, but the page reads what a newer server writes).

use std::collections::BTreeMap;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::api::{
    FutureUsage, NextAction, PayError, PaySession, SaveCard, SavedCard, UpdatePage, UpdateResponse,
};
use crate::appearance::{Appearance, ColorScheme};
use crate::error::{DeclineCode, ErrorCode};
use crate::wire::{self, Invalid};
use crate::{CardBrand, RequestedLocale, SessionStatus};

/// A type read from a `JSON.parse`d value.
pub trait Decode: Sized {
    /// `None` when `value` does not fit.
    fn decode(value: JsValue) -> Option<Self>;
}

/// Reads `value` (as `JSON.parse` made it) into `T`.
pub fn decode<T: Decode>(value: JsValue) -> Result<T, Invalid> {
    T::decode(value).ok_or(Invalid)
}

/// An answer's body, parsed by the browser (`Response.json()`) and read
/// into `T`.
pub async fn read<T: Decode>(response: &web_sys::Response) -> Result<T, Invalid> {
    decode(wire::read_value(response).await?)
}

/// An object's fields, by name.
pub struct Fields(JsValue);

impl Fields {
    /// `value` if it is an object and not an array.
    pub fn of(value: JsValue) -> Option<Self> {
        (value.is_object() && !Array::is_array(&value)).then_some(Fields(value))
    }

    fn raw(&self, name: &str) -> JsValue {
        Reflect::get(&self.0, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// The field `name`; missing is an error unless `T` is an `Option`.
    pub fn get<T: Decode>(&self, name: &str) -> Option<T> {
        T::decode(self.raw(name))
    }

    /// A `#[serde(default)]` field: its default when missing.
    pub fn or_default<T: Decode + Default>(&self, name: &str) -> Option<T> {
        let value = self.raw(name);
        if value.is_undefined() {
            Some(T::default())
        } else {
            T::decode(value)
        }
    }
}

/// A nested object read by hand.
impl Decode for Fields {
    fn decode(value: JsValue) -> Option<Self> {
        Fields::of(value)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: JsValue) -> Option<Self> {
        if value.is_null() || value.is_undefined() {
            Some(None)
        } else {
            T::decode(value).map(Some)
        }
    }
}

impl Decode for String {
    fn decode(value: JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl Decode for i64 {
    fn decode(value: JsValue) -> Option<Self> {
        wire::exact_integer(value.as_f64()?)
    }
}

macro_rules! narrow_integers {
    ($($ty:ty)*) => {$(
        impl Decode for $ty {
            fn decode(value: JsValue) -> Option<Self> {
                i64::decode(value)?.try_into().ok()
            }
        }
    )*};
}

narrow_integers!(u8 u16);

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: JsValue) -> Option<Self> {
        if !Array::is_array(&value) {
            return None;
        }
        let mut items = Vec::new();
        for item in value.unchecked_into::<Array>().iter() {
            items.push(T::decode(item)?);
        }
        Some(items)
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode(value: JsValue) -> Option<Self> {
        let Fields(object) = Fields::of(value)?;
        let mut map = BTreeMap::new();
        for entry in Object::entries(object.unchecked_ref()).iter() {
            let entry: Array = entry.unchecked_into();
            map.insert(entry.get(0).as_string()?, T::decode(entry.get(1))?);
        }
        Some(map)
    }
}

/// Enums written as their snake_case names, read with their own `parse`.
macro_rules! by_name {
    ($($ty:ty => $parse:expr;)*) => {$(
        impl Decode for $ty {
            fn decode(value: JsValue) -> Option<Self> {
                $parse(value.as_string()?.as_str())
            }
        }
    )*};
}

by_name! {
    CardBrand => CardBrand::parse;
    DeclineCode => DeclineCode::parse;
    SessionStatus => SessionStatus::parse;
    SaveCard => SaveCard::parse;
    FutureUsage => FutureUsage::parse;
    RequestedLocale => |tag| RequestedLocale::parse(tag).ok();
    // A code newer than this build reads as `Unknown` (serde's `other`).
    ErrorCode => |code| Some(ErrorCode::parse(code).unwrap_or(ErrorCode::Unknown));
    ColorScheme => |scheme| match scheme {
        "auto" => Some(ColorScheme::Auto),
        "light" => Some(ColorScheme::Light),
        "dark" => Some(ColorScheme::Dark),
        _ => None,
    };
}

/// A struct read from an object, each field under its own name (the
/// server's types rename none), `(default)` marking a `#[serde(default)]`
/// field.
macro_rules! by_fields {
    ($($ty:ident { $($field:ident $(($default:ident))?),* $(,)? })*) => {$(
        impl Decode for $ty {
            fn decode(value: JsValue) -> Option<Self> {
                let f = Fields::of(value)?;
                Some($ty { $($field: by_fields!(@read f $field $($default)?)?),* })
            }
        }
    )*};
    (@read $f:ident $field:ident) => { $f.get(stringify!($field)) };
    (@read $f:ident $field:ident default) => { $f.or_default(stringify!($field)) };
}

by_fields! {
    PaySession {
        id,
        merchant_name,
        amount,
        currency,
        status,
        accepted_brands,
        cancel_url,
        order_reference,
        customer_name,
        expires_at,
        redirect_url,
        last_error,
        merchant_origins,
        appearance (default),
        locale (default),
        payment_id,
        save_card (default),
        setup_future_usage (default),
        saved_cards (default),
    }
    SavedCard { id, brand, last4, exp_month, exp_year }
    PayError { decline_code, message }
    Appearance {
        color_scheme,
        variables (default),
        dark_variables (default),
        logo_url,
    }
    NextAction { redirect_url }
    UpdatePage {
        id,
        merchant_name,
        card,
        status,
        return_url,
        appearance (default),
        locale (default),
        accepted_brands,
    }
    UpdateResponse { card, return_url }
}
