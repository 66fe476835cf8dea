use std::collections::BTreeMap;

use kasse_core::appearance::{
    Appearance, ColorScheme, FONTS, MIN_CONTRAST, TOKENS, TokenKind, check_value, contrast,
    font_stack,
};

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn refused(name: &str, value: &str) -> String {
    check_value(name, value).unwrap_err()
}

#[test]
fn colours_lengths_and_fonts_are_accepted_in_their_forms() {
    assert_eq!(check_value("color-primary", "#0A7D5A").unwrap(), "#0a7d5a");
    assert_eq!(check_value("color-primary", "#fff").unwrap(), "#fff");
    assert_eq!(
        check_value("color-surface", "#ffffffcc").unwrap(),
        "#ffffffcc"
    );
    assert_eq!(check_value("radius", "0px").unwrap(), "0px");
    assert_eq!(check_value("radius", "1.25rem").unwrap(), "1.25rem");
    assert_eq!(check_value("space", " 24px ").unwrap(), "24px");
    assert!(
        check_value("font-family", "serif")
            .unwrap()
            .ends_with("serif")
    );
}

#[test]
fn lengths_are_compared_with_their_bounds_exactly() {
    // radius: 0px to 32px, that is 0rem to 2rem.
    for fits in [
        "32px",
        "32.0000px",
        "2rem",
        "2.00000000000000000000rem",
        "0.5px",
        ".5px",
        "5.px",
        "0031.9999999999999999px",
        "0.0001rem",
        "0000rem",
    ] {
        assert_eq!(check_value("radius", fits).as_deref(), Ok(fits), "{fits}");
    }
    for beyond in [
        "32.00001px",
        "32.0000000000000000001px",
        "2.0000000000000000001rem",
        "2.0625rem",
        "123456789012345678901234567890px",
    ] {
        assert!(
            refused("radius", beyond).contains("between 0px and 32px"),
            "{beyond}"
        );
    }
    // space: 4px to 48px; 0.25rem is 4px exactly, a hair less is out.
    assert_eq!(check_value("space", "0.25rem").as_deref(), Ok("0.25rem"));
    assert!(refused("space", "0.2499999999rem").contains("between 4px and 48px"));
    assert!(refused("space", "3.9999px").contains("between 4px and 48px"));
    for malformed in [
        "px", ".px", "rem", "1.2.3px", "-1px", "+1px", "1e2px", "1,5px", " px",
    ] {
        assert!(
            refused("radius", malformed).contains("px or rem"),
            "{malformed}"
        );
    }
}

#[test]
fn anything_else_is_refused_with_a_reason() {
    assert!(refused("color-primary", "red").contains("hex colour"));
    assert!(refused("color-primary", "#12345").contains("hex colour"));
    assert!(refused("color-primary", "#ggg").contains("hex colour"));
    assert!(refused("radius", "100px").contains("between 0px and 32px"));
    assert!(refused("space", "2px").contains("between 4px and 48px"));
    assert!(refused("radius", "8").contains("px or rem"));
    assert!(refused("radius", "8vh").contains("px or rem"));
    assert!(refused("font-family", "Comic Sans MS").contains("system-ui"));
    assert!(refused("colour-primary", "#fff").contains("not a design token"));
    for css in [
        "#fff; background: url(https://evil.example/x.png)",
        "red}body{display:none",
        "expression(alert(1))",
        "#fff /* */",
        "8px !important; --x: 1",
    ] {
        assert!(
            check_value("color-primary", css).is_err() && check_value("radius", css).is_err(),
            "{css}"
        );
    }
    assert!(refused("color-primary", "#fff;").contains("raw CSS"));
}

#[test]
fn an_appearance_names_the_field_it_refuses() {
    let bad = Appearance {
        dark_variables: vars(&[("color-text", "white")]),
        ..Appearance::default()
    };
    let error = bad.validate().unwrap_err();
    assert_eq!(error.field, "appearance.dark_variables.color-text");
    let logo = Appearance {
        logo_url: Some("javascript:alert(1)".into()),
        ..Appearance::default()
    };
    assert_eq!(logo.validate().unwrap_err().field, "appearance.logo_url");
    let unknown: Result<Appearance, _> =
        serde_json::from_str(r#"{"css": "body { display: none }"}"#);
    assert!(unknown.is_err(), "unknown fields are refused, not ignored");
}

#[test]
fn a_session_overlays_its_merchants_appearance() {
    let merchant = Appearance {
        color_scheme: Some(ColorScheme::Dark),
        variables: vars(&[("color-primary", "#111111"), ("radius", "4px")]),
        logo_url: Some("https://shop.example/logo.png".into()),
        ..Appearance::default()
    };
    let session = Appearance {
        variables: vars(&[("color-primary", "#222222")]),
        ..Appearance::default()
    };
    let merged = merchant.overlaid(&session);
    assert_eq!(merged.color_scheme, Some(ColorScheme::Dark));
    assert_eq!(
        merged.variables,
        vars(&[("color-primary", "#222222"), ("radius", "4px")])
    );
    assert_eq!(merged.logo_url, merchant.logo_url);
    let (light, dark) = merged.properties();
    assert_eq!(
        light,
        vec![
            ("--kasse-color-primary".to_string(), "#222222".to_string()),
            ("--kasse-radius".to_string(), "4px".to_string())
        ]
    );
    assert!(dark.is_empty());
}

/// The stylesheet defines every token with the default the table gives, for
/// light and for dark, and the theming guide lists each with its defaults.
#[test]
fn the_stylesheet_and_the_guide_agree_with_the_token_table() {
    let css =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../style/main.css")).unwrap();
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/THEMING.md"))
        .unwrap();
    let (light_block, rest) = css.split_once("prefers-color-scheme: dark").unwrap();
    let (dark_block, forced_dark_block) = rest
        .split_once(":root[data-color-scheme=\"dark\"]")
        .unwrap();
    let value_in = |block: &str, name: &str| -> Option<String> {
        let start = block.find(&format!("--kasse-{name}:"))?;
        let rest = &block[start + name.len() + 9..];
        Some(rest[..rest.find(';')?].trim().to_string())
    };
    for token in TOKENS {
        let css_value = |default: &str| match token.kind {
            TokenKind::Font => font_stack(default).unwrap().to_string(),
            _ => default.to_string(),
        };
        assert_eq!(
            value_in(light_block, token.name),
            Some(css_value(token.light)),
            "light --kasse-{}",
            token.name
        );
        if token.light != token.dark {
            for block in [dark_block, forced_dark_block] {
                assert_eq!(
                    value_in(block, token.name),
                    Some(css_value(token.dark)),
                    "dark --kasse-{}",
                    token.name
                );
            }
        }
        let row = format!(
            "| `--kasse-{}` | `{}` | `{}` |",
            token.name, token.light, token.dark
        );
        assert!(guide.contains(&row), "THEMING.md lacks {row}");
    }
    for (font, _) in FONTS {
        assert!(
            guide.contains(&format!("`{font}`")),
            "THEMING.md lacks the font {font}"
        );
    }
}

#[test]
fn contrast_follows_wcag_and_blends_translucent_colours() {
    let ratio = |f: &str, b: &str| contrast(f, b, "#ffffff").unwrap();
    assert!((ratio("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((ratio("#ffffff", "#ffffff") - 1.0).abs() < 1e-9);
    // #767676 on white is the classic AA boundary: 4.54:1.
    assert!((ratio("#767676", "#ffffff") - 4.54).abs() < 0.01);
    assert!(ratio("#777777", "#ffffff") < MIN_CONTRAST);
    // Black at 50 % over white is mid grey.
    let half = ratio("#00000080", "#ffffff");
    assert!(half > 3.0 && half < 4.5, "{half}");
    // Short forms read like long ones.
    assert_eq!(ratio("#000", "#fff"), ratio("#000000", "#ffffff"));
}

#[test]
fn the_defaults_and_the_documented_example_are_legible_and_a_hidden_amount_is_not() {
    assert!(Appearance::default().check_legible().is_ok());
    let documented = Appearance {
        variables: vars(&[("color-primary", "#0a7d5a")]),
        dark_variables: vars(&[("color-primary", "#5fd4a8")]),
        ..Appearance::default()
    };
    assert!(documented.check_legible().is_ok());
    // The shared primary alone is too dark behind the dark scheme's label…
    let shared_only = Appearance {
        variables: vars(&[("color-primary", "#0a7d5a")]),
        ..Appearance::default()
    };
    let error = shared_only.check_legible().unwrap_err();
    assert_eq!(error.field, "appearance.variables.color-primary");
    assert!(error.message.contains("dark scheme"), "{}", error.message);
    // …but fine where the page is always light.
    let light = Appearance {
        color_scheme: Some(ColorScheme::Light),
        ..shared_only
    };
    assert!(light.check_legible().is_ok());

    for (variables, field) in [
        (vars(&[("color-text", "#ffffff")]), "color-text"),
        (vars(&[("color-surface", "#1d2230")]), "color-surface"),
        (vars(&[("color-text", "#1d223000")]), "color-text"),
        (vars(&[("color-border", "#0000")]), "color-border"),
    ] {
        let appearance = Appearance {
            color_scheme: Some(ColorScheme::Light),
            variables,
            ..Appearance::default()
        };
        let error = appearance.check_legible().unwrap_err();
        assert_eq!(error.field, format!("appearance.variables.{field}"));
    }
}
