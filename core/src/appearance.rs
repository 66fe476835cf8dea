//! The page's appearance: the `--kasse-*` design tokens a merchant or a
//! session may set, each with its default for light and dark, and the
//! checks every value passes. No raw CSS is ever accepted: a value is a
//! colour, a length or a font from the allow-list, or it is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a token's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `#rgb`, `#rgba`, `#rrggbb` or `#rrggbbaa`.
    Color,
    /// A length in `px` or `rem` between the bounds, in px (1rem = 16px).
    Length { min_px: u32, max_px: u32 },
    /// A name from [`FONTS`].
    Font,
}

/// One design token: `--kasse-{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub name: &'static str,
    pub kind: TokenKind,
    pub light: &'static str,
    pub dark: &'static str,
    pub description: &'static str,
}

const fn color(
    name: &'static str,
    light: &'static str,
    dark: &'static str,
    description: &'static str,
) -> Token {
    Token {
        name,
        kind: TokenKind::Color,
        light,
        dark,
        description,
    }
}

/// Every token, as `style/main.css` defines it (a test holds them together).
pub const TOKENS: &[Token] = &[
    color(
        "color-primary",
        "#3a4ee0",
        "#8c9bff",
        "The pay button, links and focus rings.",
    ),
    color(
        "color-primary-text",
        "#ffffff",
        "#10131c",
        "Text on the primary colour.",
    ),
    color("color-background", "#f4f5f8", "#10131c", "Behind the card."),
    color(
        "color-surface",
        "#ffffff",
        "#1b1f2b",
        "The card and the fields.",
    ),
    color("color-text", "#1d2230", "#e8eaf0", "Body text."),
    color(
        "color-text-muted",
        "#5b6273",
        "#a8aebd",
        "Labels, hints and the order reference.",
    ),
    color(
        "color-border",
        "#c9cdd8",
        "#3b4254",
        "Field and card borders.",
    ),
    color("color-danger", "#b3261e", "#ff8a80", "Errors and declines."),
    color("color-success", "#1b6e3a", "#7ddc9b", "The paid receipt."),
    Token {
        name: "font-family",
        kind: TokenKind::Font,
        light: "system-ui",
        dark: "system-ui",
        description: "The page's typeface, from the allow-list.",
    },
    Token {
        name: "font-size",
        kind: TokenKind::Length {
            min_px: 12,
            max_px: 24,
        },
        light: "16px",
        dark: "16px",
        description: "The base text size.",
    },
    Token {
        name: "radius",
        kind: TokenKind::Length {
            min_px: 0,
            max_px: 32,
        },
        light: "8px",
        dark: "8px",
        description: "Corner radius of fields and buttons (the card's is 1.5×).",
    },
    Token {
        name: "space",
        kind: TokenKind::Length {
            min_px: 4,
            max_px: 48,
        },
        light: "16px",
        dark: "16px",
        description: "The spacing unit.",
    },
];

/// Fonts a theme may name, with the stack each becomes. Only fonts the
/// customer's device has: the page loads no web fonts.
pub const FONTS: &[(&str, &str)] = &[
    (
        "system-ui",
        "system-ui, -apple-system, \"Segoe UI\", Roboto, \"Noto Sans\", \"Noto Sans Bengali\", \"Noto Sans Mongolian\", sans-serif",
    ),
    (
        "sans-serif",
        "\"Helvetica Neue\", Arial, \"Noto Sans\", \"Noto Sans Bengali\", \"Noto Sans Mongolian\", sans-serif",
    ),
    (
        "serif",
        "Georgia, \"Times New Roman\", \"Noto Serif\", \"Noto Serif Bengali\", serif",
    ),
    (
        "rounded",
        "ui-rounded, \"SF Pro Rounded\", \"Nunito\", system-ui, sans-serif",
    ),
    (
        "monospace",
        "ui-monospace, \"SF Mono\", Menlo, Consolas, \"Noto Sans Mono\", monospace",
    ),
];

pub fn token(name: &str) -> Option<&'static Token> {
    TOKENS.iter().find(|t| t.name == name)
}

/// The CSS value a font name stands for.
pub fn font_stack(name: &str) -> Option<&'static str> {
    FONTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, stack)| *stack)
}

/// CSS custom properties to set: (`--kasse-name`, value).
pub type Properties = Vec<(String, String)>;

/// Light, dark, or as the customer's device prefers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColorScheme {
    #[default]
    Auto,
    Light,
    Dark,
}

/// A merchant's default look, or a session's changes to it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Appearance {
    /// Forces light or dark; `auto` (the default) follows the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color_scheme: Option<ColorScheme>,
    /// Tokens by name without the `--kasse-` prefix, e.g. `color-primary`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
    /// Tokens for the dark scheme, where they should differ.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dark_variables: BTreeMap<String, String>,
    /// An `https` image on one of the merchant's origins, shown above the amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
}

/// Why a value was refused, naming the field as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppearanceError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for AppearanceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for AppearanceError {}

fn is_hex_color(value: &str) -> bool {
    value.strip_prefix('#').is_some_and(|hex| {
        matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A plain `px` or `rem` length, exactly: its size in px is
/// `ten_thousandths / 10_000`, or (when `inexact`) a little more, the digits
/// beyond the fourth decimal dropped. Integers only: no float parser.
struct Px {
    ten_thousandths: u128,
    inexact: bool,
}

impl Px {
    fn parse(value: &str) -> Option<Self> {
        let (number, scale) = if let Some(n) = value.strip_suffix("rem") {
            (n, 16)
        } else {
            (value.strip_suffix("px")?, 1)
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
            return None;
        }
        let whole = whole.trim_start_matches('0');
        // More than 20 digits before the point is far beyond any bound;
        // 10^20 keeps the arithmetic in range.
        let whole: u128 = if whole.len() > 20 {
            10u128.pow(20)
        } else {
            whole.parse().unwrap_or(0)
        };
        let mut ten_thousandths = whole * 10_000;
        let mut place = 1_000;
        for b in fraction.bytes().take(4) {
            ten_thousandths += u128::from(b - b'0') * place;
            place /= 10;
        }
        Some(Self {
            // 1rem is 16px exactly, and 16 divides 10,000: a rem length
            // in ten-thousandths of a px stays exact.
            ten_thousandths: ten_thousandths * scale,
            inexact: fraction.bytes().skip(4).any(|b| b != b'0'),
        })
    }

    /// Whether it lies within `min..=max` px, exactly.
    fn within(&self, min: u32, max: u32) -> bool {
        let (min, max) = (u128::from(min) * 10_000, u128::from(max) * 10_000);
        // Bounds are whole px, so a dropped tail cannot lift a length
        // below `min` up to it; it can lift one at `max` past it.
        self.ten_thousandths >= min
            && (self.ten_thousandths < max || self.ten_thousandths == max && !self.inexact)
    }
}

/// Why a token's value was refused; [`ValueProblem::words`] says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueProblem {
    NotAToken,
    RawCss,
    NotAColor,
    OutOfRange { min_px: u32, max_px: u32 },
    NotALength,
    UnknownFont,
}

impl ValueProblem {
    /// The refusal as the API words it, naming the value sent.
    pub fn words(self, name: &str, value: &str) -> String {
        let value = value.trim();
        let example = token(name).map_or("", |t| t.light);
        match self {
            ValueProblem::NotAToken => {
                let known: Vec<&str> = TOKENS.iter().map(|t| t.name).collect();
                format!("is not a design token; the tokens are {}", known.join(", "))
            }
            ValueProblem::RawCss => "must be a plain value: raw CSS is not accepted".into(),
            ValueProblem::NotAColor => {
                format!("must be a hex colour such as {example}, not {value:?}")
            }
            ValueProblem::OutOfRange { min_px, max_px } => {
                format!("must be between {min_px}px and {max_px}px")
            }
            ValueProblem::NotALength => {
                format!("must be a length in px or rem such as {example}, not {value:?}")
            }
            ValueProblem::UnknownFont => {
                let fonts: Vec<&str> = FONTS.iter().map(|(n, _)| *n).collect();
                format!("must be one of {}", fonts.join(", "))
            }
        }
    }
}

/// Checks one token's value; `Ok` holds the CSS value to set. Wordless, so
/// that the payment page, which only drops what fails, carries no
/// formatting: the API words a refusal with [`check_value`].
pub fn checked_value(name: &str, value: &str) -> Result<String, ValueProblem> {
    let token = token(name).ok_or(ValueProblem::NotAToken)?;
    let value = value.trim();
    if value.contains([';', '{', '}', '(', ')', '\\', '<', '>', '@', '/', '*']) {
        return Err(ValueProblem::RawCss);
    }
    match token.kind {
        TokenKind::Color if is_hex_color(value) => Ok(value.to_ascii_lowercase()),
        TokenKind::Color => Err(ValueProblem::NotAColor),
        TokenKind::Length { min_px, max_px } => match Px::parse(value) {
            Some(px) if px.within(min_px, max_px) => Ok(value.into()),
            Some(_) => Err(ValueProblem::OutOfRange { min_px, max_px }),
            None => Err(ValueProblem::NotALength),
        },
        TokenKind::Font => font_stack(value)
            .map(str::to_string)
            .ok_or(ValueProblem::UnknownFont),
    }
}

/// Checks one token's value; `Ok` holds the CSS value to set, `Err` says
/// what is wrong with it.
pub fn check_value(name: &str, value: &str) -> Result<String, String> {
    checked_value(name, value).map_err(|problem| problem.words(name, value))
}

/// Colour pairs that carry the amount: the card's text on the card, and
/// the pay button's label (which repeats the amount) on the button.
const LEGIBLE_PAIRS: &[(&str, &str, &str)] = &[
    (
        "color-text",
        "color-surface",
        "the amount and the text on the card",
    ),
    (
        "color-primary-text",
        "color-primary",
        "the pay button's label and amount",
    ),
];

/// WCAG 2 level AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;

/// A hex colour as red, green, blue in 0–1 and its alpha in 0–1.
fn rgba(hex: &str) -> Option<[f64; 4]> {
    let digits = hex.strip_prefix('#')?;
    let expanded: String = match digits.len() {
        3 | 4 => digits.chars().flat_map(|c| [c, c]).collect(),
        6 | 8 => digits.to_string(),
        _ => return None,
    };
    let byte = |i: usize| {
        u8::from_str_radix(expanded.get(i..i + 2)?, 16)
            .ok()
            .map(|b| f64::from(b) / 255.0)
    };
    Some([
        byte(0)?,
        byte(2)?,
        byte(4)?,
        if expanded.len() == 8 { byte(6)? } else { 1.0 },
    ])
}

/// WCAG relative luminance of an opaque colour.
fn luminance([r, g, b]: [f64; 3]) -> f64 {
    let channel = |c: f64| {
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// The contrast ratio of `foreground` drawn over `background`, each a hex
/// colour; a translucent colour is first blended over what is under it
/// (the background over the page's own, which is opaque).
pub fn contrast(foreground: &str, background: &str, page: &str) -> Option<f64> {
    let blend = |top: [f64; 4], under: [f64; 3]| -> [f64; 3] {
        let a = top[3];
        [
            top[0] * a + under[0] * (1.0 - a),
            top[1] * a + under[1] * (1.0 - a),
            top[2] * a + under[2] * (1.0 - a),
        ]
    };
    let page = rgba(page)?;
    let back = blend(rgba(background)?, [page[0], page[1], page[2]]);
    let fore = blend(rgba(foreground)?, back);
    let (l1, l2) = (luminance(fore), luminance(back));
    Some((l1.max(l2) + 0.05) / (l1.min(l2) + 0.05))
}

impl Appearance {
    /// The value of every colour token in one scheme, as the page applies
    /// them: the scheme's defaults, then `variables`, then for dark
    /// `dark_variables`.
    fn scheme_colors(&self, dark: bool) -> BTreeMap<&'static str, String> {
        let mut colors = BTreeMap::new();
        for token in TOKENS.iter().filter(|t| t.kind == TokenKind::Color) {
            let mut value = if dark { token.dark } else { token.light }.to_string();
            if let Some(v) = self.variables.get(token.name) {
                value = v.trim().to_ascii_lowercase();
            }
            if dark && let Some(v) = self.dark_variables.get(token.name) {
                value = v.trim().to_ascii_lowercase();
            }
            colors.insert(token.name, value);
        }
        colors
    }

    /// Checks that the amount stays visible in every scheme the page may
    /// show: no colour fully transparent, and the pairs that carry the
    /// amount at WCAG AA contrast (4.5:1) or better. Run on the appearance
    /// as the page will use it (a session's over its merchant's).
    pub fn check_legible(&self) -> Result<(), AppearanceError> {
        let schemes: &[bool] = match self.color_scheme.unwrap_or_default() {
            ColorScheme::Light => &[false],
            ColorScheme::Dark => &[true],
            ColorScheme::Auto => &[false, true],
        };
        for (group, variables) in [
            ("variables", &self.variables),
            ("dark_variables", &self.dark_variables),
        ] {
            for (name, value) in variables {
                if rgba(value.trim()).is_some_and(|c| c[3] == 0.0) {
                    return Err(AppearanceError {
                        field: format!("appearance.{group}.{name}"),
                        message: "must not be fully transparent: what it colours would vanish"
                            .into(),
                    });
                }
            }
        }
        for &dark in schemes {
            let colors = self.scheme_colors(dark);
            let page = &colors["color-background"];
            for (fore, back, what) in LEGIBLE_PAIRS {
                let Some(ratio) = contrast(&colors[fore], &colors[back], page) else {
                    continue;
                };
                if ratio < MIN_CONTRAST {
                    // Name the token the appearance set, of the two.
                    let set_in = |name: &str| {
                        if dark && self.dark_variables.contains_key(name) {
                            Some("dark_variables")
                        } else {
                            self.variables.contains_key(name).then_some("variables")
                        }
                    };
                    let (group, field) = set_in(fore)
                        .map(|g| (g, *fore))
                        .or_else(|| set_in(back).map(|g| (g, *back)))
                        .unwrap_or(("variables", fore));
                    let scheme = if dark { "dark" } else { "light" };
                    return Err(AppearanceError {
                        field: format!("appearance.{group}.{field}"),
                        message: format!(
                            "gives {what} ({fore} on {back}) a contrast of {ratio:.2}:1 ({} on {}) in the {scheme} scheme; \
                             at least {MIN_CONTRAST}:1 (WCAG AA) is needed",
                            colors[*fore], colors[*back]
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks every token and the logo's form (its origin is the server's
    /// to check); the first problem names its field.
    pub fn validate(&self) -> Result<(), AppearanceError> {
        for (group, variables) in [
            ("variables", &self.variables),
            ("dark_variables", &self.dark_variables),
        ] {
            for (name, value) in variables {
                check_value(name, value).map_err(|message| AppearanceError {
                    field: format!("appearance.{group}.{name}"),
                    message,
                })?;
            }
        }
        if let Some(logo) = &self.logo_url
            && (!logo.starts_with("https://") && !logo.starts_with("http://") || logo.len() > 2048)
        {
            return Err(AppearanceError {
                field: "appearance.logo_url".into(),
                message: "must be an https URL on one of your origins".into(),
            });
        }
        Ok(())
    }

    /// This appearance with `over`'s settings on top (a session over its
    /// merchant's default).
    pub fn overlaid(&self, over: &Appearance) -> Appearance {
        let mut merged = self.clone();
        merged.color_scheme = over.color_scheme.or(self.color_scheme);
        merged.logo_url = over.logo_url.clone().or_else(|| self.logo_url.clone());
        merged.variables.extend(over.variables.clone());
        merged.dark_variables.extend(over.dark_variables.clone());
        merged
    }

    /// The CSS custom properties to set, as (`--kasse-name`, value) pairs,
    /// for the light and the dark scheme. Values failing the checks are
    /// left out, so the page never sets what the server would refuse.
    pub fn properties(&self) -> (Properties, Properties) {
        let set = |variables: &BTreeMap<String, String>| {
            variables
                .iter()
                .filter_map(|(name, value)| {
                    checked_value(name, value)
                        .ok()
                        .map(|v| (["--kasse-", name].concat(), v))
                })
                .collect()
        };
        (set(&self.variables), set(&self.dark_variables))
    }
}
