//! How the terminal writes tables, amounts, times and QR codes.

use kasse_terminal::format::{Span, amount, qr_lines, table, utc};

#[test]
fn times_are_written_in_utc() {
    assert_eq!(utc(0), "1970-01-01 00:00 UTC");
    assert_eq!(utc(1_795_262_400), "2026-11-21 12:00 UTC");
    assert_eq!(utc(951_825_599), "2000-02-29 11:59 UTC");
    assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
}

#[test]
fn amounts_follow_their_currency() {
    assert_eq!(amount(1250, "usd"), "$12.50");
    assert_eq!(amount(500, "JPY"), "¥500");
    assert_eq!(amount(1250, "BHD"), "BHD\u{a0}1.250");
    assert_eq!(amount(7, "???"), "7 ???");
}

#[test]
fn tables_align_columns_by_characters() {
    let rows = vec![
        vec![
            Span::plain("ID"),
            Span::plain("AMOUNT"),
            Span::plain("CARD"),
        ],
        vec![
            Span::plain("pay_1"),
            Span::plain("৳1,000.00"),
            Span::plain("Visa •••• 4242"),
        ],
    ];
    let text: Vec<String> = table(&rows)
        .iter()
        .map(|line| line.iter().map(|s| s.text.as_str()).collect())
        .collect();
    assert_eq!(text[0], "ID     AMOUNT     CARD");
    assert_eq!(text[1], "pay_1  ৳1,000.00  Visa •••• 4242");
}

#[test]
fn a_qr_code_is_square_with_a_quiet_zone() {
    let lines = qr_lines("http://127.0.0.1:8080/pay/cs_abc#cs_secret").unwrap();
    let width = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() == width));
    // Two modules per character high; a version-3 code with its quiet zone
    // is 29 + 8 modules across.
    assert!(width >= 29, "{width}");
    assert_eq!(lines.len(), width.div_ceil(2));
    // The quiet zone is light: drawn as full blocks on the dark terminal.
    assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
}
