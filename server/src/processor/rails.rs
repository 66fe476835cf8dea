//! Payout rails: how money leaves for a card (a credit to it) or a bank
//! account, behind one trait. Kasse ships a deterministic sandbox rail
//! whose books live in the database, as an acquirer's would elsewhere.

use std::sync::Arc;

use async_trait::async_trait;
use kasse_core::{CardNumber, Money};

use super::InquiryFailed;
use crate::store::Store;

/// Where a transfer goes.
pub enum TransferTo<'a> {
    Card(&'a CardNumber),
    Bank {
        account_number: &'a str,
        bank_code: &'a str,
    },
}

/// One payout as the rail receives it.
pub struct Transfer<'a> {
    /// The payout's id: the rail's key, so that asking finds it.
    pub reference: &'a str,
    pub money: Money,
    pub to: TransferTo<'a>,
}

/// What became of a transfer, as the rail knows it at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RailStatus {
    /// Accepted; the money is expected at `arrival` (Unix seconds).
    InTransit {
        arrival: i64,
    },
    Paid {
        at: i64,
    },
    Failed {
        code: String,
        message: String,
    },
    /// Paid at `paid_at`, then sent back by the recipient's bank at `at`.
    Returned {
        paid_at: i64,
        at: i64,
        code: String,
        message: String,
    },
}

/// No answer came: the rail may or may not have received the transfer.
#[derive(Debug, thiserror::Error)]
#[error("the payout rail did not answer: {0}")]
pub struct NoAnswer(pub String);

#[async_trait]
pub trait PayoutRail: Send + Sync + 'static {
    /// Sends a transfer, at Kasse's time `now`; `Err` when no answer came,
    /// after which Kasse asks ([`PayoutRail::inquire`]) and never sends
    /// the same payout again unless the rail says it never received it.
    async fn send(&self, transfer: &Transfer<'_>, now: i64) -> Result<RailStatus, NoAnswer>;

    /// What became of the transfer `reference` as of `now`: `Ok(None)` if
    /// the rail never received it.
    async fn inquire(&self, reference: &str, now: i64)
    -> Result<Option<RailStatus>, InquiryFailed>;
}

/// A card the sandbox cannot credit: card payouts to it fail with
/// `card_not_eligible`.
pub const INELIGIBLE_CARD: &str = "4000000000005126";

/// How long after a bank payout is paid it can still come back.
pub const RETURN_WINDOW: i64 = 5 * 24 * 3600;

/// The sandbox's banks settle once an hour, on the hour (UTC).
const BANK_CYCLE: i64 = 3600;

const DAY: i64 = 24 * 3600;

/// The sandbox rail. By the last four digits of a bank account: `0000`
/// (and any other) paid at the next bank cycle, `1111` failed then
/// (`account_closed`), `2222` paid then and returned a day later
/// (`account_frozen`), `9999` received but never answered (the inquiry
/// finds it, and it is paid at the next cycle). Cards are paid at once,
/// except [`INELIGIBLE_CARD`].
#[derive(Clone)]
pub struct SandboxRail {
    pub books: Arc<dyn Store>,
}

impl std::fmt::Debug for SandboxRail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxRail").finish_non_exhaustive()
    }
}

/// What the sandbox's books keep of a transfer's destination: `card`,
/// `card_ineligible`, or a bank account's last four digits.
fn book_entry(to: &TransferTo<'_>) -> String {
    match to {
        TransferTo::Card(card) if card.expose_digits() == INELIGIBLE_CARD => {
            "card_ineligible".into()
        }
        TransferTo::Card(_) => "card".into(),
        TransferTo::Bank { account_number, .. } => {
            let n = account_number.len();
            account_number[n.saturating_sub(4)..].to_string()
        }
    }
}

/// A transfer's status from what the books say, at `now`.
fn status_of(entry: &str, received: i64, now: i64) -> RailStatus {
    match entry {
        "card" => RailStatus::Paid { at: received },
        "card_ineligible" => RailStatus::Failed {
            code: "card_not_eligible".into(),
            message: "This card cannot receive payouts.".into(),
        },
        last4 => {
            let cycle = (received / BANK_CYCLE + 1) * BANK_CYCLE;
            if now < cycle {
                return RailStatus::InTransit { arrival: cycle };
            }
            match last4 {
                "1111" => RailStatus::Failed {
                    code: "account_closed".into(),
                    message: "The bank account is closed.".into(),
                },
                "2222" if now >= cycle + DAY => RailStatus::Returned {
                    paid_at: cycle,
                    at: cycle + DAY,
                    code: "account_frozen".into(),
                    message: "The recipient's bank sent the money back: the account is frozen."
                        .into(),
                },
                _ => RailStatus::Paid { at: cycle },
            }
        }
    }
}

#[async_trait]
impl PayoutRail for SandboxRail {
    async fn send(&self, transfer: &Transfer<'_>, now: i64) -> Result<RailStatus, NoAnswer> {
        let entry = book_entry(&transfer.to);
        // Kept before answering, as a rail's books are.
        self.books
            .record_sandbox_transfer(
                transfer.reference,
                &entry,
                transfer.money.amount(),
                transfer.money.currency().code(),
                now,
            )
            .await
            .map_err(|e| NoAnswer(e.to_string()))?;
        if entry == "9999" {
            return Err(NoAnswer(
                "the sandbox bank timed out (account …9999)".into(),
            ));
        }
        Ok(status_of(&entry, now, now))
    }

    async fn inquire(
        &self,
        reference: &str,
        now: i64,
    ) -> Result<Option<RailStatus>, InquiryFailed> {
        let received = self
            .books
            .sandbox_transfers(reference)
            .await
            .map_err(|e| InquiryFailed(e.to_string()))?;
        Ok(received
            .first()
            .map(|(entry, at)| status_of(entry, *at, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_accounts_follow_the_cycle_by_their_last_four_digits() {
        let at = 10 * BANK_CYCLE + 5;
        let next = 11 * BANK_CYCLE;
        assert_eq!(
            status_of("0000", at, at),
            RailStatus::InTransit { arrival: next }
        );
        assert_eq!(status_of("0000", at, next), RailStatus::Paid { at: next });
        assert!(matches!(
            status_of("1111", at, next),
            RailStatus::Failed { code, .. } if code == "account_closed"
        ));
        assert_eq!(
            status_of("2222", at, next + DAY - 1),
            RailStatus::Paid { at: next }
        );
        assert!(matches!(
            status_of("2222", at, next + DAY),
            RailStatus::Returned { paid_at, at, .. } if paid_at == next && at == next + DAY
        ));
        assert_eq!(status_of("card", at, at), RailStatus::Paid { at });
        assert!(matches!(
            status_of("card_ineligible", at, at),
            RailStatus::Failed { code, .. } if code == "card_not_eligible"
        ));
    }
}
