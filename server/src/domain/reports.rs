//! Settlement reports, version 1: one row per ledger row of a settlement,
//! every amount both as integer minor units and as an exact decimal in the
//! currency's exponent, every time in UTC and in the merchant's zone with
//! its offset. The same settlement always gives the same bytes, whose
//! SHA-256 the answer carries. CSV is RFC 4180, and a free-text cell that a
//! spreadsheet would run as a formula is defused with a leading `'`.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use kasse_core::Currency;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::DomainError;
use super::settlements;
use crate::state::AppState;
use crate::store::{BalanceTransaction, ReportRecord, Settlement};

pub const VERSION: u32 = 1;

/// A report as sent: its bytes, their type and their SHA-256 in hex.
pub struct Report {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub file_name: String,
    pub sha256: String,
}

/// `amount` minor units as an exact decimal: `-12.50`, `500`, `1.250`.
pub fn decimal(amount: i64, currency: Currency) -> String {
    let exponent = currency.exponent() as usize;
    let digits = amount.unsigned_abs().to_string();
    let sign = if amount < 0 { "-" } else { "" };
    if exponent == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = exponent + 1);
    let (whole, fraction) = padded.split_at(padded.len() - exponent);
    format!("{sign}{whole}.{fraction}")
}

fn utc(at: i64) -> String {
    Timestamp::from_second(at)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn local(at: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(at)
        .map(|t| {
            t.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

/// A free-text cell as a spreadsheet may safely open it.
fn defused(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// One CSV field, quoted when it must be (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[derive(Serialize)]
struct Row {
    balance_transaction: String,
    #[serde(rename = "type")]
    kind: String,
    source: String,
    payment: String,
    order_reference: Option<String>,
    created_utc: String,
    created_local: String,
    currency: String,
    amount_minor: i64,
    amount: String,
    fee_minor: i64,
    fee: String,
    net_minor: i64,
    net: String,
}

#[derive(Serialize)]
struct Totals {
    charge_count: i64,
    refund_count: i64,
    gross_minor: i64,
    gross: String,
    refunded_minor: i64,
    refunded: String,
    fees_minor: i64,
    fees: String,
    carried_minor: i64,
    carried: String,
    net_minor: i64,
    net: String,
}

#[derive(Serialize)]
struct JsonReport {
    report_version: u32,
    settlement: String,
    local_date: String,
    time_zone: String,
    period_start_utc: String,
    period_start_local: String,
    period_end_utc: String,
    period_end_local: String,
    currency: String,
    rows: Vec<Row>,
    totals: Totals,
}

fn row(t: &BalanceTransaction, reference: Option<&str>, tz: &TimeZone) -> Row {
    let c = t.currency;
    Row {
        balance_transaction: t.id.clone(),
        kind: t.kind.clone(),
        source: t.source_id.clone(),
        payment: t.payment_id.clone().unwrap_or_default(),
        order_reference: reference.map(str::to_string),
        created_utc: utc(t.created),
        created_local: local(t.created, tz),
        currency: c.code().to_string(),
        amount_minor: t.amount,
        amount: decimal(t.amount, c),
        fee_minor: t.fee,
        fee: decimal(t.fee, c),
        net_minor: t.net,
        net: decimal(t.net, c),
    }
}

const CSV_HEADER: &str = "report_version,settlement,local_date,balance_transaction,type,source,payment,order_reference,created_utc,created_local,currency,amount_minor,amount,fee_minor,fee,net_minor,net";

fn csv(s: &Settlement, rows: &[Row]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                VERSION.to_string(),
                s.id.clone(),
                s.local_date.clone(),
                r.balance_transaction.clone(),
                r.kind.clone(),
                r.source.clone(),
                r.payment.clone(),
                defused(r.order_reference.as_deref().unwrap_or("")),
                r.created_utc.clone(),
                r.created_local.clone(),
                r.currency.clone(),
                r.amount_minor.to_string(),
                r.amount.clone(),
                r.fee_minor.to_string(),
                r.fee.clone(),
                r.net_minor.to_string(),
                r.net.clone(),
            ]
        })
        .collect();
    csv_table(CSV_HEADER, &cells)
}

/// The report of settlement `id` of `merchant_id`, as `format` (`csv` or
/// `json`).
pub async fn settlement_report(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
    format: &str,
) -> Result<Report, DomainError> {
    if !["csv", "json"].contains(&format) {
        return Err(DomainError::invalid(
            kasse_core::error::ErrorCode::ParameterInvalid,
            "format",
            format!("format must be csv or json; got '{format}'."),
        ));
    }
    let s = settlements::find(ctx, merchant_id, id).await?;
    let tz = TimeZone::get(&s.time_zone).unwrap_or(TimeZone::UTC);
    let rows: Vec<Row> = ctx
        .store
        .settlement_rows(&s.id)
        .await?
        .iter()
        .map(|(t, reference)| row(t, reference.as_deref(), &tz))
        .collect();
    let (body, content_type) = if format == "csv" {
        (csv(&s, &rows).into_bytes(), "text/csv; charset=utf-8")
    } else {
        let c = s.currency;
        let report = JsonReport {
            report_version: VERSION,
            settlement: s.id.clone(),
            local_date: s.local_date.clone(),
            time_zone: s.time_zone.clone(),
            period_start_utc: utc(s.period_start),
            period_start_local: local(s.period_start, &tz),
            period_end_utc: utc(s.period_end),
            period_end_local: local(s.period_end, &tz),
            currency: c.code().to_string(),
            rows,
            totals: Totals {
                charge_count: s.charge_count,
                refund_count: s.refund_count,
                gross_minor: s.gross,
                gross: decimal(s.gross, c),
                refunded_minor: s.refunded,
                refunded: decimal(s.refunded, c),
                fees_minor: s.fees,
                fees: decimal(s.fees, c),
                carried_minor: s.carried,
                carried: decimal(s.carried, c),
                net_minor: s.net,
                net: decimal(s.net, c),
            },
        };
        (
            serde_json::to_vec_pretty(&report).expect("a report serialises"),
            "application/json",
        )
    };
    let sha256 = hex::encode(Sha256::digest(&body));
    Ok(Report {
        file_name: format!("settlement-{}-{}-v{VERSION}.{format}", s.local_date, s.id),
        body,
        content_type,
        sha256,
    })
}

/// The kinds of report `POST /v1/reports` makes.
pub const KINDS: [&str; 3] = ["itemised_settlement", "balance_summary", "payouts"];

/// Up to this long an interval.
const MAX_INTERVAL: i64 = 366 * 24 * 3600;

/// Rows of cells as RFC 4180 CSV under `header`, each line ending CRLF.
fn csv_table(header: &str, rows: &[Vec<String>]) -> String {
    let mut out = format!("{header}\r\n");
    for cells in rows {
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The merchant's zone for local times: its settlement zone, else UTC.
async fn merchant_zone(ctx: &AppState, merchant_id: &str) -> Result<String, DomainError> {
    Ok(ctx
        .store
        .settlement_settings(merchant_id)
        .await?
        .map_or_else(|| "UTC".to_string(), |s| s.time_zone))
}

fn bad(param: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(
        kasse_core::error::ErrorCode::ParameterInvalid,
        param,
        message,
    )
}

const ITEMISED_HEADER: &str = "report_version,settlement,balance_transaction,type,source,payment,order_reference,created_utc,created_local,currency,amount_minor,amount,fee_minor,fee,net_minor,net";
const SUMMARY_HEADER: &str =
    "report_version,currency,category,count,amount_minor,amount,fee_minor,fee,net_minor,net";
const PAYOUTS_HEADER: &str = "report_version,payout,status,destination_type,last4,merchant_reference,purpose,settlement,created_utc,created_local,paid_utc,paid_local,currency,amount_minor,amount,failure_code";

/// One report's rows as cells, and as JSON objects keyed by the header.
fn rows_json(
    header: &str,
    rows: &[Vec<String>],
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let names: Vec<&str> = header.split(',').collect();
    rows.iter()
        .map(|cells| {
            names
                .iter()
                .zip(cells)
                .skip(1)
                .map(|(name, cell)| {
                    let value = match cell.parse::<i64>() {
                        Ok(n) if name.ends_with("_minor") || *name == "count" => n.into(),
                        _ => serde_json::Value::String(cell.clone()),
                    };
                    (name.to_string(), value)
                })
                .collect()
        })
        .collect()
}

/// Makes, and keeps, a report over an interval.
pub async fn interval_report(
    ctx: &AppState,
    merchant_id: &str,
    req: &kasse_core::api::CreateReportRequest,
) -> Result<ReportRecord, DomainError> {
    if !KINDS.contains(&req.kind.as_str()) {
        return Err(bad(
            "type",
            format!(
                "type must be one of {}; got '{}'.",
                KINDS.join(", "),
                req.kind
            ),
        ));
    }
    let format = req.format.clone().unwrap_or_else(|| "csv".into());
    if !["csv", "json"].contains(&format.as_str()) {
        return Err(bad(
            "format",
            format!("format must be csv or json; got '{format}'."),
        ));
    }
    let now = ctx.clock.now();
    let (start, end) = (req.interval_start, req.interval_end);
    if start >= end {
        return Err(bad(
            "interval_end",
            "interval_end must come after interval_start.",
        ));
    }
    if end > now {
        return Err(bad(
            "interval_end",
            "interval_end must not be in the future: a report is kept as made, so it covers only what is over.",
        ));
    }
    if end - start > MAX_INTERVAL {
        return Err(bad("interval_end", "An interval is at most 366 days."));
    }
    let zone = merchant_zone(ctx, merchant_id).await?;
    let tz = TimeZone::get(&zone).unwrap_or(TimeZone::UTC);
    let v = VERSION.to_string();
    let (header, rows): (&str, Vec<Vec<String>>) = match req.kind.as_str() {
        "itemised_settlement" => (
            ITEMISED_HEADER,
            ctx.store
                .settled_rows_between(merchant_id, start, end)
                .await?
                .iter()
                .map(|(t, reference)| {
                    let r = row(t, reference.as_deref(), &tz);
                    vec![
                        v.clone(),
                        t.settlement_id.clone().unwrap_or_default(),
                        r.balance_transaction,
                        r.kind,
                        r.source,
                        r.payment,
                        defused(r.order_reference.as_deref().unwrap_or("")),
                        r.created_utc,
                        r.created_local,
                        r.currency,
                        r.amount_minor.to_string(),
                        r.amount,
                        r.fee_minor.to_string(),
                        r.fee,
                        r.net_minor.to_string(),
                        r.net,
                    ]
                })
                .collect(),
        ),
        "balance_summary" => {
            let sums = ctx.store.ledger_summary(merchant_id, start, end).await?;
            let mut rows = Vec::new();
            let mut currencies: Vec<Currency> = sums.iter().map(|s| s.currency).collect();
            currencies.dedup();
            for c in currencies {
                let line = |category: &str, count: i64, amount: i64, fee: i64, net: i64| {
                    vec![
                        v.clone(),
                        c.code().to_string(),
                        category.to_string(),
                        count.to_string(),
                        amount.to_string(),
                        decimal(amount, c),
                        fee.to_string(),
                        decimal(fee, c),
                        net.to_string(),
                        decimal(net, c),
                    ]
                };
                let of_currency: Vec<_> = sums.iter().filter(|s| s.currency == c).collect();
                let opening = of_currency
                    .iter()
                    .find(|s| s.kind == "opening")
                    .map_or(0, |s| s.net);
                rows.push(line("opening_balance", 0, opening, 0, opening));
                let mut closing = opening;
                for s in of_currency.iter().filter(|s| s.kind != "opening") {
                    closing += s.net;
                    rows.push(line(&s.kind, s.count, s.amount, s.fee, s.net));
                }
                rows.push(line("closing_balance", 0, closing, 0, closing));
            }
            (SUMMARY_HEADER, rows)
        }
        _ => (
            PAYOUTS_HEADER,
            ctx.store
                .payouts_between(merchant_id, start, end)
                .await?
                .iter()
                .map(|p| {
                    vec![
                        v.clone(),
                        p.id.clone(),
                        p.status.clone(),
                        p.method.clone(),
                        p.last4.clone(),
                        defused(&p.merchant_reference),
                        defused(&p.purpose),
                        p.settlement_id.clone().unwrap_or_default(),
                        utc(p.created),
                        local(p.created, &tz),
                        p.paid_at.map(utc).unwrap_or_default(),
                        p.paid_at.map(|t| local(t, &tz)).unwrap_or_default(),
                        p.currency.code().to_string(),
                        p.amount.to_string(),
                        decimal(p.amount, p.currency),
                        p.failure_code.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    };
    let body = if format == "csv" {
        csv_table(header, &rows)
    } else {
        let report = serde_json::json!({
            "report_version": VERSION,
            "type": req.kind,
            "time_zone": zone,
            "interval_start_utc": utc(start),
            "interval_start_local": local(start, &tz),
            "interval_end_utc": utc(end),
            "interval_end_local": local(end, &tz),
            "rows": rows_json(header, &rows),
        });
        serde_json::to_string_pretty(&report).expect("a report serialises")
    };
    let record = ReportRecord {
        id: crate::ids::new_id("rep"),
        merchant_id: merchant_id.to_string(),
        kind: req.kind.clone(),
        version: VERSION,
        interval_start: start,
        interval_end: end,
        format,
        time_zone: zone,
        sha256: hex::encode(Sha256::digest(body.as_bytes())),
        body,
        created: now,
    };
    ctx.store.insert_report(&record).await?;
    Ok(record)
}

pub async fn find(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<ReportRecord, DomainError> {
    ctx.store
        .report(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "report",
            id: id.to_string(),
        })
}

pub fn run_view(r: &ReportRecord) -> kasse_core::api::ReportRun {
    kasse_core::api::ReportRun {
        id: r.id.clone(),
        object: "report".into(),
        kind: r.kind.clone(),
        report_version: r.version,
        interval_start: r.interval_start,
        interval_end: r.interval_end,
        format: r.format.clone(),
        time_zone: r.time_zone.clone(),
        sha256: r.sha256.clone(),
        size: r.body.len() as i64,
        url: format!("/v1/reports/{}/file", r.id),
        created: r.created,
    }
}

/// A kept report's file: the bytes it was made with.
pub fn file(r: &ReportRecord) -> Report {
    Report {
        body: r.body.clone().into_bytes(),
        content_type: if r.format == "csv" {
            "text/csv; charset=utf-8"
        } else {
            "application/json"
        },
        file_name: format!(
            "{}-{}-{}-v{}.{}",
            r.kind.replace('_', "-"),
            utc(r.interval_start).get(..10).unwrap_or(""),
            r.id,
            r.version,
            r.format
        ),
        sha256: r.sha256.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_in_each_currencys_exponent() {
        let usd = Currency::parse("USD").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let bhd = Currency::parse("BHD").unwrap();
        assert_eq!(decimal(1250, usd), "12.50");
        assert_eq!(decimal(-5, usd), "-0.05");
        assert_eq!(decimal(0, usd), "0.00");
        assert_eq!(decimal(500, jpy), "500");
        assert_eq!(decimal(1250, bhd), "1.250");
        assert_eq!(decimal(i64::MIN, jpy), "-9223372036854775808");
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\r\nlines"), "\"two\r\nlines\"");
        assert_eq!(defused("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defused("+1"), "'+1");
        assert_eq!(defused("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defused("order-17"), "order-17");
    }
}
