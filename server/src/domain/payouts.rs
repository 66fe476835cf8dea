//! Payouts: money sent from a merchant's available balance to a card or a
//! bank account. Making one reserves its amount in the same transaction
//! (never more than is available, however many are made at once); one at
//! or above the merchant's threshold waits for an admin other than its
//! maker. A payout is given to the rail once: a claim (`pending →
//! in_transit`, `sending`) is a guarded write, and a send that got no
//! answer is resolved by asking the rail, never by sending again.

use kasse_core::api::{self, CreatePayoutRequest, EventType, PayoutDestinationInput};
use kasse_core::error::ErrorCode;
use kasse_core::{CardNumber, Money};
use zeroize::Zeroizing;

use super::DomainError;
use super::events::new_event;
use super::input::{money_params, text_field};
use super::saved_cards;
use super::settlements;
use crate::ids::new_id;
use crate::processor::rails::{RETURN_WINDOW, RailStatus, Transfer, TransferTo};
use crate::state::AppState;
use crate::store::{NewEvent, PaymentMethodStatus, Payout, PayoutRefused};
use crate::vault::{Vault, VaultError};

/// A claim on a payout (`sending`) is taken to be abandoned after this
/// long without an answer recorded (the process died): the rail is asked.
const CLAIM_SECONDS: i64 = 300;
/// How soon a payout whose send got no answer is asked about.
const ASK_AGAIN_SECONDS: i64 = 60;
const DAY: i64 = 24 * 3600;

pub fn view(p: &Payout) -> api::Payout {
    api::Payout {
        id: p.id.clone(),
        object: "payout".into(),
        amount: p.amount,
        currency: p.currency.code().to_string(),
        status: p.status.clone(),
        destination: api::PayoutDestination {
            kind: p.method.clone(),
            payment_method: p.payment_method_id.clone(),
            brand: p.brand.clone(),
            last4: p.last4.clone(),
            bank_code: p.bank_code.clone(),
            account_holder: p.account_holder.clone(),
            country: p.country.clone(),
        },
        merchant_reference: p.merchant_reference.clone(),
        purpose: p.purpose.clone(),
        settlement: p.settlement_id.clone(),
        created_by: p.created_by.clone(),
        approved_by: p.approved_by.clone(),
        failure_code: p.failure_code.clone(),
        failure_message: p.failure_message.clone(),
        arrival_date: p.arrival_date,
        paid_at: p.paid_at,
        returned_at: p.returned_at,
        created: p.created,
        updated: p.updated,
    }
}

pub async fn find(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Payout, DomainError> {
    ctx.store
        .payout(merchant_id, id)
        .await?
        .ok_or_else(|| DomainError::NotFound {
            kind: "payout",
            id: id.to_string(),
        })
}

/// Where the payout goes, checked, as the payout row keeps it.
struct Destination {
    method: &'static str,
    payment_method_id: Option<String>,
    brand: Option<String>,
    last4: String,
    exp: Option<(i64, i64)>,
    /// The number to seal: a card typed in, or a bank account's.
    secret: Option<Zeroizing<String>>,
    bank_code: Option<String>,
    account_holder: Option<String>,
    country: Option<String>,
}

fn invalid(param: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(ErrorCode::ParameterInvalid, param, message)
}

async fn destination(
    ctx: &AppState,
    merchant_id: &str,
    input: &PayoutDestinationInput,
) -> Result<Destination, DomainError> {
    let given = [
        input.payment_method.is_some(),
        input.card.is_some(),
        input.bank_account.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(invalid(
            "destination",
            "Give exactly one of destination.payment_method (a saved card), destination.card or destination.bank_account.",
        ));
    }
    if let Some(pm) = &input.payment_method {
        let card = saved_cards::find(ctx, merchant_id, pm).await?;
        if card.status != PaymentMethodStatus::Active {
            return Err(DomainError::Conflict {
                code: ErrorCode::PaymentMethodDetached,
                message: format!(
                    "{pm} is {}: only an active saved card can receive a payout.",
                    card.status.as_str()
                ),
            });
        }
        return Ok(Destination {
            method: "card",
            payment_method_id: Some(card.id.clone()),
            brand: Some(card.card_brand.as_str().to_string()),
            last4: card.card_last4.clone(),
            exp: Some((
                i64::from(card.card_exp_month),
                i64::from(card.card_exp_year),
            )),
            secret: None,
            bank_code: None,
            account_holder: None,
            country: None,
        });
    }
    if let Some(card) = &input.card {
        let (number, expiry) = super::checkout::parse_number_and_expiry(
            "destination.card",
            card.number.expose(),
            card.exp_month,
            card.exp_year,
            ctx.clock.year_month(),
        )?;
        text_field("destination.card.name", card.name.clone(), 100)?;
        return Ok(Destination {
            method: "card",
            payment_method_id: None,
            brand: Some(number.brand().as_str().to_string()),
            last4: number.last4().to_string(),
            exp: Some((i64::from(expiry.month), i64::from(expiry.year))),
            secret: Some(Zeroizing::new(number.expose_digits().to_string())),
            bank_code: None,
            account_holder: None,
            country: None,
        });
    }
    let bank = input.bank_account.as_ref().expect("one was given");
    let number: String = bank
        .account_number
        .expose()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(4..=34).contains(&number.len()) || !number.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(
            "destination.bank_account.account_number",
            "An account number is 4 to 34 letters and digits (an IBAN or a local number).",
        ));
    }
    let bank_code = bank.bank_code.trim().to_ascii_uppercase();
    if !(2..=20).contains(&bank_code.len()) || !bank_code.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(invalid(
            "destination.bank_account.bank_code",
            "A bank code is 2 to 20 letters and digits (a routing code or a SWIFT/BIC).",
        ));
    }
    let holder = text_field(
        "destination.bank_account.account_holder",
        Some(bank.account_holder.clone()),
        100,
    )?
    .expect("given");
    let country = bank.country.trim().to_ascii_uppercase();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(invalid(
            "destination.bank_account.country",
            "The country is a two-letter ISO 3166-1 code, such as BD, MN or DE.",
        ));
    }
    Ok(Destination {
        method: "bank_account",
        payment_method_id: None,
        brand: None,
        last4: number[number.len() - 4..].to_string(),
        exp: None,
        secret: Some(Zeroizing::new(number)),
        bank_code: Some(bank_code),
        account_holder: Some(holder),
        country: Some(country),
    })
}

/// The vault's name for what a payout seals: only its own row opens it.
fn sealed_name(payout_id: &str) -> String {
    format!("{payout_id}/destination")
}

/// Makes a payout for `merchant_id`, by `created_by` (`api` or a member
/// of staff's id): reserved from the available balance, then, unless it
/// waits for approval, given to the rail at once.
pub async fn create(
    ctx: &AppState,
    merchant_id: &str,
    created_by: &str,
    req: CreatePayoutRequest,
) -> Result<Payout, DomainError> {
    let reference =
        text_field("merchant_reference", Some(req.merchant_reference), 64)?.expect("given");
    let purpose = text_field("purpose", Some(req.purpose), 140)?.expect("given");
    let settlement = match &req.settlement {
        Some(id) => Some(settlements::find(ctx, merchant_id, id).await?),
        None => None,
    };
    let (amount, currency) = match &settlement {
        Some(s) => {
            if s.net <= 0 {
                return Err(invalid(
                    "settlement",
                    format!("{} has nothing to pay out: its net is {}.", s.id, s.net),
                ));
            }
            if req.amount.is_some_and(|a| a != s.net)
                || req
                    .currency
                    .as_deref()
                    .is_some_and(|c| !c.eq_ignore_ascii_case(s.currency.code()))
            {
                return Err(invalid(
                    "amount",
                    format!(
                        "A settlement's payout is its net, {} {}; leave amount and currency out.",
                        s.net,
                        s.currency.code()
                    ),
                ));
            }
            (s.net, s.currency.code().to_string())
        }
        None => (
            req.amount.ok_or_else(|| {
                DomainError::invalid(
                    ErrorCode::ParameterMissing,
                    "amount",
                    "Missing required parameter: amount.",
                )
            })?,
            req.currency.clone().ok_or_else(|| {
                DomainError::invalid(
                    ErrorCode::ParameterMissing,
                    "currency",
                    "Missing required parameter: currency.",
                )
            })?,
        ),
    };
    let money: Money = money_params(&currency, amount)?;
    let dest = destination(ctx, merchant_id, &req.destination).await?;
    if let Some(existing) = ctx
        .store
        .payout_by_reference(merchant_id, &reference)
        .await?
    {
        return Err(reference_taken(&reference, &existing.id));
    }
    let id = new_id("po");
    let sealed = match &dest.secret {
        Some(secret) => {
            let key = saved_cards::data_key(ctx, merchant_id).await?;
            Some(Vault::seal_card(
                &key,
                merchant_id,
                &sealed_name(&id),
                secret,
            ))
        }
        None => {
            // A saved card needs the vault to be opened later.
            saved_cards::vault(ctx)?;
            None
        }
    };
    let threshold = ctx
        .store
        .payout_threshold(merchant_id, money.currency().code())
        .await?;
    let waits = threshold.is_some_and(|t| money.amount() >= t);
    let now = ctx.clock.now();
    let payout = Payout {
        id,
        merchant_id: merchant_id.to_string(),
        amount: money.amount(),
        currency: money.currency(),
        status: if waits {
            "requires_approval"
        } else {
            "pending"
        }
        .into(),
        method: dest.method.into(),
        payment_method_id: dest.payment_method_id,
        brand: dest.brand,
        last4: dest.last4,
        exp_month: dest.exp.map(|e| e.0),
        exp_year: dest.exp.map(|e| e.1),
        sealed,
        bank_code: dest.bank_code,
        account_holder: dest.account_holder,
        country: dest.country,
        merchant_reference: reference.clone(),
        purpose,
        settlement_id: settlement.as_ref().map(|s| s.id.clone()),
        created_by: created_by.to_string(),
        approved_by: None,
        failure_code: None,
        failure_message: None,
        rail_state: None,
        check_after: (!waits).then_some(now),
        arrival_date: None,
        paid_at: None,
        returned_at: None,
        created: now,
        updated: now,
    };
    let event = new_event(
        ctx,
        merchant_id,
        EventType::PayoutCreated,
        &view(&payout),
        None,
    );
    match ctx.store.create_payout(&payout, &[event]).await? {
        Ok(()) => {}
        Err(PayoutRefused::Insufficient { available }) => {
            return Err(DomainError::Conflict {
                code: ErrorCode::BalanceInsufficient,
                message: format!(
                    "The available balance is {} {c}, less than the payout's {} {c}.",
                    super::reports::decimal(available, money.currency()),
                    super::reports::decimal(money.amount(), money.currency()),
                    c = money.currency().code()
                ),
            });
        }
        Err(PayoutRefused::ReferenceTaken(existing)) => {
            return Err(reference_taken(&reference, &existing));
        }
        Err(PayoutRefused::SettlementTaken) => {
            return Err(DomainError::Conflict {
                code: ErrorCode::PayoutInvalidStatus,
                message: format!(
                    "{} is being paid out, or was, already.",
                    req.settlement.unwrap_or_default()
                ),
            });
        }
    }
    tracing::info!(payout = %payout.id, amount = payout.amount, currency = %payout.currency.code(),
        method = %payout.method, status = %payout.status, "payout made");
    if waits {
        return Ok(payout);
    }
    Ok(advance(ctx, payout).await)
}

fn reference_taken(reference: &str, existing: &str) -> DomainError {
    DomainError::Conflict {
        code: ErrorCode::PayoutReferenceReused,
        message: format!(
            "Payout {existing} already has merchant_reference '{reference}'; a reference is never used twice, so that a retried payout cannot pay twice."
        ),
    }
}

/// Approves a payout waiting for it, by admin `staff_id`, who must not be
/// the one who made it; then gives it to the rail.
pub async fn approve(
    ctx: &AppState,
    merchant_id: &str,
    id: &str,
    staff_id: Option<&str>,
) -> Result<Payout, DomainError> {
    let Some(staff_id) = staff_id else {
        return Err(DomainError::Forbidden {
            code: ErrorCode::ApprovalNotAllowed,
            message: "A payout is approved by a person: an admin logged in to the terminal, not a secret key.".into(),
        });
    };
    let payout = find(ctx, merchant_id, id).await?;
    if payout.created_by == staff_id {
        return Err(DomainError::Forbidden {
            code: ErrorCode::ApprovalNotAllowed,
            message: "You made this payout; another admin must approve it.".into(),
        });
    }
    if payout.status != "requires_approval" {
        return Err(not_now(&payout, "approved"));
    }
    let now = ctx.clock.now();
    let approved = Payout {
        status: "pending".into(),
        approved_by: Some(staff_id.to_string()),
        check_after: Some(now),
        updated: now,
        ..payout.clone()
    };
    let event = new_event(
        ctx,
        merchant_id,
        EventType::PayoutApproved,
        &view(&approved),
        None,
    );
    if !ctx
        .store
        .change_payout(&payout, &approved, &[event])
        .await?
    {
        let now = find(ctx, merchant_id, id).await?;
        return Err(not_now(&now, "approved"));
    }
    tracing::info!(payout = %id, approver = %staff_id, "payout approved");
    Ok(advance(ctx, approved).await)
}

/// Cancels a payout that has not gone to the rail yet: its money is
/// available again.
pub async fn cancel(ctx: &AppState, merchant_id: &str, id: &str) -> Result<Payout, DomainError> {
    let payout = find(ctx, merchant_id, id).await?;
    if !(payout.status == "requires_approval"
        || (payout.status == "pending" && payout.rail_state.is_none()))
    {
        return Err(not_now(&payout, "canceled"));
    }
    let now = ctx.clock.now();
    let canceled = Payout {
        status: "canceled".into(),
        check_after: None,
        updated: now,
        ..payout.clone()
    };
    let mut events = vec![new_event(
        ctx,
        merchant_id,
        EventType::PayoutCanceled,
        &view(&canceled),
        None,
    )];
    events.extend(settlement_event(ctx, &canceled).await?);
    if !ctx.store.change_payout(&payout, &canceled, &events).await? {
        let now = find(ctx, merchant_id, id).await?;
        return Err(not_now(&now, "canceled"));
    }
    Ok(canceled)
}

fn not_now(p: &Payout, what: &str) -> DomainError {
    DomainError::Conflict {
        code: ErrorCode::PayoutInvalidStatus,
        message: format!("{} is {}, so it cannot be {what}.", p.id, p.status),
    }
}

/// The settlement's event when a payout's new status settles its fate.
async fn settlement_event(ctx: &AppState, p: &Payout) -> Result<Option<NewEvent>, DomainError> {
    let Some(id) = &p.settlement_id else {
        return Ok(None);
    };
    let (kind, status) = match p.status.as_str() {
        "paid" => (EventType::SettlementPaidOut, "paid_out"),
        "failed" | "canceled" | "returned" => (EventType::SettlementPayoutFailed, "payout_failed"),
        _ => return Ok(None),
    };
    let Some(s) = ctx.store.settlement(&p.merchant_id, id).await? else {
        return Ok(None);
    };
    let s = crate::store::Settlement {
        status: status.into(),
        ..s
    };
    Ok(Some(new_event(
        ctx,
        &p.merchant_id,
        kind,
        &settlements::view(&s),
        None,
    )))
}

/// Moves a payout on as far as it can go now, logging what stops it: a
/// failure here leaves it for the sweeper.
async fn advance(ctx: &AppState, payout: Payout) -> Payout {
    let id = payout.id.clone();
    match step(ctx, payout.clone()).await {
        Ok(p) => p,
        Err(error) => {
            tracing::error!(payout = %id, %error, "payout left for the sweeper");
            ctx.store
                .payout(&payout.merchant_id, &id)
                .await
                .ok()
                .flatten()
                .unwrap_or(payout)
        }
    }
}

/// One step of a due payout: a pending one is claimed and sent; one whose
/// send went unanswered, or whose claim was abandoned, is asked about;
/// one on its way, or paid to a bank that may send it back, is asked how
/// it stands. Answers what the payout is now.
async fn step(ctx: &AppState, p: Payout) -> Result<Payout, DomainError> {
    let now = ctx.clock.now();
    match (p.status.as_str(), p.rail_state.as_deref()) {
        ("pending", _) => send(ctx, p).await,
        ("in_transit", Some("sending" | "unknown")) => {
            match ctx.rail.inquire(&p.id, now).await {
                // Never received: sending it is not sending it again.
                Ok(None) => send(ctx, p).await,
                Ok(Some(status)) => record(ctx, p, status).await,
                Err(error) => {
                    tracing::warn!(payout = %p.id, %error, "the rail could not be asked; again later");
                    later(ctx, p, now + ASK_AGAIN_SECONDS).await
                }
            }
        }
        ("in_transit" | "paid", _) => match ctx.rail.inquire(&p.id, now).await {
            Ok(Some(status)) => record(ctx, p, status).await,
            Ok(None) => {
                tracing::error!(payout = %p.id, "the rail has no record of a payout it accepted");
                later(ctx, p, now + ASK_AGAIN_SECONDS).await
            }
            Err(error) => {
                tracing::warn!(payout = %p.id, %error, "the rail could not be asked; again later");
                later(ctx, p, now + ASK_AGAIN_SECONDS).await
            }
        },
        _ => Ok(p),
    }
}

/// Asks again at `at`, nothing else changed.
async fn later(ctx: &AppState, p: Payout, at: i64) -> Result<Payout, DomainError> {
    let next = Payout {
        check_after: Some(at),
        ..p.clone()
    };
    ctx.store.change_payout(&p, &next, &[]).await?;
    Ok(next)
}

/// Claims a payout for sending (a guarded write: one sender), sends it,
/// and records the answer, or that none came.
async fn send(ctx: &AppState, p: Payout) -> Result<Payout, DomainError> {
    let now = ctx.clock.now();
    let claimed = Payout {
        status: "in_transit".into(),
        rail_state: Some("sending".into()),
        check_after: Some(now + CLAIM_SECONDS),
        updated: now,
        ..p.clone()
    };
    if !ctx.store.change_payout(&p, &claimed, &[]).await? {
        // Another instance has it.
        return find(ctx, &p.merchant_id, &p.id).await;
    }
    let answer = {
        let secret = open_destination(ctx, &claimed).await?;
        let card;
        let to = match (&claimed.method[..], &claimed.bank_code) {
            ("bank_account", Some(bank_code)) => TransferTo::Bank {
                account_number: &secret,
                bank_code,
            },
            _ => {
                card = CardNumber::parse(&secret)
                    .map_err(|_| saved_cards::vault_failure(VaultError::Damaged))?;
                TransferTo::Card(&card)
            }
        };
        let money = Money::new(claimed.amount, claimed.currency).expect("checked when made");
        ctx.rail
            .send(
                &Transfer {
                    reference: &claimed.id,
                    money,
                    to,
                },
                now,
            )
            .await
    };
    match answer {
        Ok(status) => record(ctx, claimed, status).await,
        Err(error) => {
            tracing::warn!(payout = %claimed.id, %error, "no answer from the rail: it will be asked, not sent again");
            let unknown = Payout {
                rail_state: Some("unknown".into()),
                check_after: Some(now + ASK_AGAIN_SECONDS),
                ..claimed.clone()
            };
            ctx.store.change_payout(&claimed, &unknown, &[]).await?;
            Ok(unknown)
        }
    }
}

/// The number a payout goes to, out of the vault.
async fn open_destination(ctx: &AppState, p: &Payout) -> Result<Zeroizing<String>, DomainError> {
    if let Some(pm) = &p.payment_method_id {
        let card = saved_cards::find(ctx, &p.merchant_id, pm).await?;
        let number = saved_cards::card_number(ctx, &card).await?;
        return Ok(Zeroizing::new(number.expose_digits().to_string()));
    }
    let sealed = p
        .sealed
        .as_deref()
        .ok_or_else(|| DomainError::Unprocessable {
            code: ErrorCode::VaultUnavailable,
            message: format!("{} has no destination sealed.", p.id),
        })?;
    let key = saved_cards::data_key(ctx, &p.merchant_id).await?;
    Vault::open_card(&key, &p.merchant_id, &sealed_name(&p.id), sealed)
        .map_err(saved_cards::vault_failure)
}

/// Writes what the rail says of payout `p`, with its events.
async fn record(ctx: &AppState, p: Payout, status: RailStatus) -> Result<Payout, DomainError> {
    if let RailStatus::Returned { paid_at, .. } = &status
        && p.status != "paid"
    {
        // Paid first, then back: two changes, in order.
        let paid = Box::pin(record(ctx, p, RailStatus::Paid { at: *paid_at })).await?;
        if paid.status != "paid" {
            return Ok(paid);
        }
        return Box::pin(record(ctx, paid, status)).await;
    }
    let now = ctx.clock.now();
    let accepted = Some("accepted".to_string());
    let (next, kind) = match status {
        RailStatus::InTransit { arrival } => {
            let first = p.rail_state != accepted;
            (
                Payout {
                    status: "in_transit".into(),
                    rail_state: accepted,
                    arrival_date: Some(arrival),
                    // Past its arrival and still on its way: asked again soon.
                    check_after: Some(if arrival > now {
                        arrival
                    } else {
                        now + ASK_AGAIN_SECONDS
                    }),
                    ..p.clone()
                },
                first.then_some(EventType::PayoutInTransit),
            )
        }
        RailStatus::Paid { at } if p.status == "paid" => {
            // Still paid: ask daily until it can no longer come back.
            let until = at + RETURN_WINDOW;
            (
                Payout {
                    check_after: (now < until).then_some((now + DAY).min(until)),
                    ..p.clone()
                },
                None,
            )
        }
        RailStatus::Paid { at } => (paid(&p, at, now), Some(EventType::PayoutPaid)),
        RailStatus::Failed { code, message } => (
            Payout {
                status: "failed".into(),
                rail_state: accepted,
                failure_code: Some(code),
                failure_message: Some(message),
                check_after: None,
                ..p.clone()
            },
            Some(EventType::PayoutFailed),
        ),
        RailStatus::Returned {
            at, code, message, ..
        } => (
            Payout {
                status: "returned".into(),
                failure_code: Some(code),
                failure_message: Some(message),
                returned_at: Some(at),
                check_after: None,
                ..p.clone()
            },
            Some(EventType::PayoutReturned),
        ),
    };
    if next == p {
        return Ok(p);
    }
    let next = Payout {
        updated: now,
        ..next
    };
    let mut events = Vec::new();
    if let Some(kind) = kind {
        events.push(new_event(ctx, &p.merchant_id, kind, &view(&next), None));
    }
    if next.status != p.status {
        events.extend(settlement_event(ctx, &next).await?);
    }
    if !ctx.store.change_payout(&p, &next, &events).await? {
        // Another instance recorded it first.
        return find(ctx, &p.merchant_id, &p.id).await;
    }
    if next.status != p.status {
        tracing::info!(payout = %p.id, from = %p.status, to = %next.status, "payout moved");
    }
    Ok(next)
}

fn paid(p: &Payout, at: i64, now: i64) -> Payout {
    // A bank can send the money back for a few days: it is asked daily.
    let returnable = p.method == "bank_account" && now < at + RETURN_WINDOW;
    Payout {
        status: "paid".into(),
        rail_state: Some("accepted".into()),
        paid_at: Some(at),
        arrival_date: p.arrival_date.or(Some(at)),
        check_after: returnable.then_some((now + DAY).min(at + RETURN_WINDOW)),
        ..p.clone()
    }
}

/// Moves every due payout on; how many changed status.
pub async fn sweep(ctx: &AppState) -> Result<u32, DomainError> {
    let now = ctx.clock.now();
    let mut moved = 0;
    for p in ctx.store.due_payouts(now, 100).await? {
        let before = p.status.clone();
        match step(ctx, p).await {
            Ok(after) if after.status != before => moved += 1,
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "a payout could not be moved on"),
        }
    }
    Ok(moved)
}

/// Adds money to a merchant's available balance, in the sandbox only.
pub async fn top_up(
    ctx: &AppState,
    merchant_id: &str,
    amount: i64,
    currency: &str,
) -> Result<api::TopUp, DomainError> {
    if ctx.live {
        return Err(DomainError::Forbidden {
            code: ErrorCode::SandboxOnly,
            message: "Top-ups are a sandbox tool; this Kasse handles real money (--live).".into(),
        });
    }
    let money = money_params(currency, amount)?;
    let id = new_id("tu");
    let now = ctx.clock.now();
    let txn = ctx
        .store
        .top_up(
            merchant_id,
            &id,
            money.currency().code(),
            money.amount(),
            now,
        )
        .await?;
    Ok(api::TopUp {
        id,
        object: "top_up".into(),
        amount: money.amount(),
        currency: money.currency().code().to_string(),
        balance_transaction: txn,
        created: now,
    })
}
