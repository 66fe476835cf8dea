//! Acquirers behind one trait. Kasse ships a deterministic sandbox.

pub mod rails;
mod sandbox;

use async_trait::async_trait;
use kasse_core::error::DeclineCode;
use kasse_core::{CardNumber, Cvc, Expiry, Money};

pub use rails::{PayoutRail, SandboxRail};
pub use sandbox::SandboxAcquirer;

/// What Kasse asks an acquirer to authorise.
#[derive(Debug)]
pub struct Authorization<'a> {
    pub card: &'a CardNumber,
    pub expiry: Expiry,
    /// Absent when a saved card is charged with its customer absent.
    pub cvc: Option<&'a Cvc>,
    pub money: Money,
    /// Kasse's payment id, so the acquirer's records can be matched to ours.
    pub reference: &'a str,
    /// A mail or telephone order keyed in by staff: the cardholder is not
    /// there, so it is out of scope of 3-D Secure and never challenged.
    pub moto: bool,
    /// A card charged from the vault (a stored credential, in the card
    /// networks' words), with its customer present or not.
    pub stored_credential: bool,
    /// Charged by the merchant with the cardholder absent: never challenged;
    /// an issuer that wants authentication declines instead.
    pub off_session: bool,
}

/// A card to check without a charge.
#[derive(Debug)]
pub struct Verification<'a> {
    pub card: &'a CardNumber,
    pub expiry: Expiry,
    pub cvc: &'a Cvc,
    pub reference: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Approved {
        authorization_code: String,
    },
    Declined(DeclineCode),
    /// The issuer wants the cardholder to authenticate (3-D Secure) first.
    ChallengeRequired,
}

impl Outcome {
    pub fn decline(&self) -> Option<DeclineCode> {
        match self {
            Outcome::Declined(code) => Some(*code),
            _ => None,
        }
    }

    /// As an acquirer's books keep it: `approved:CODE`, `declined:code`,
    /// `challenge`.
    pub fn to_record(&self) -> String {
        match self {
            Outcome::Approved { authorization_code } => format!("approved:{authorization_code}"),
            Outcome::Declined(code) => format!("declined:{code}"),
            Outcome::ChallengeRequired => "challenge".into(),
        }
    }

    pub fn from_record(record: &str) -> Option<Self> {
        Some(match record.split_once(':') {
            Some(("approved", code)) => Outcome::Approved {
                authorization_code: code.to_string(),
            },
            Some(("declined", code)) => Outcome::Declined(DeclineCode::parse(code)?),
            _ if record == "challenge" => Outcome::ChallengeRequired,
            _ => return None,
        })
    }
}

/// The cardholder's answer to a 3-D Secure challenge, and the card it was
/// for, as Kasse keeps it (never the full number).
#[derive(Debug)]
pub struct ChallengeResult<'a> {
    pub reference: &'a str,
    pub bin: &'a str,
    pub last4: &'a str,
    pub authenticated: bool,
}

#[async_trait]
pub trait Processor: Send + Sync + 'static {
    async fn authorize(&self, request: &Authorization<'_>) -> Outcome;

    /// Finishes an authorisation that needed a challenge: approved or declined.
    async fn complete_challenge(&self, result: &ChallengeResult<'_>) -> Outcome;

    /// Checks that a card is good without charging it (an account
    /// verification), before it replaces a saved card: approved or declined.
    async fn verify(&self, request: &Verification<'_>) -> Outcome;

    /// What became of a charge made with the customer absent, by Kasse's
    /// reference, from the acquirer's own books: `Ok(None)` if it never
    /// reached the acquirer, so it may be made (with the same reference);
    /// `Err` if the acquirer cannot say now, so nothing may be made yet.
    async fn inquire(&self, reference: &str) -> Result<Option<Outcome>, InquiryFailed>;
}

/// The acquirer could not be asked about a charge just now.
#[derive(Debug, thiserror::Error)]
#[error("the acquirer could not be asked: {0}")]
pub struct InquiryFailed(pub String);
