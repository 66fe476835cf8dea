//! The sandbox acquirer: deterministic by card number, as DESIGN.md's table says.

use std::time::Duration;

use async_trait::async_trait;
use kasse_core::error::DeclineCode;

use std::sync::Arc;

use super::{Authorization, ChallengeResult, InquiryFailed, Outcome, Processor, Verification};
use crate::store::Store;

#[derive(Clone, Default)]
pub struct SandboxAcquirer {
    /// Simulated network and issuer time, for load tests.
    pub latency: Duration,
    /// Where the sandbox keeps its own record of charges made with the
    /// customer absent, which it answers inquiries from and which
    /// outlives any crash of the Kasse that asked: the database, as a real
    /// acquirer's books would be elsewhere.
    pub books: Option<Arc<dyn Store>>,
}

impl std::fmt::Debug for SandboxAcquirer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxAcquirer")
            .field("latency", &self.latency)
            .finish_non_exhaustive()
    }
}

/// Cards that ask for 3-D Secure; the second declines even when it passes.
const CHALLENGE_APPROVES: &str = "4000000000003220";
const CHALLENGE_DECLINES: &str = "4000008400001629";
/// Asks for 3-D Secure when the customer pays (and saves it); charges made
/// later with the customer absent succeed.
const CHALLENGE_ON_SESSION: &str = "4000002500003155";
/// Asks for 3-D Secure when the customer pays; every charge with the
/// customer absent declines with `authentication_required`.
const ALWAYS_AUTHENTICATE: &str = "4000002760003184";
/// Saves fine; every later charge of the saved card declines.
const DECLINES_AFTER_SAVING: &str = "4000000000000341";

/// The card numbers that decline at once.
pub fn scripted_decline(digits: &str) -> Option<DeclineCode> {
    Some(match digits {
        "4000000000000002" => DeclineCode::CardDeclined,
        "4000000000009995" => DeclineCode::InsufficientFunds,
        "4000000000009987" => DeclineCode::LostCard,
        "4000000000009979" => DeclineCode::StolenCard,
        "4000000000000069" => DeclineCode::ExpiredCard,
        "4000000000000127" => DeclineCode::IncorrectCvc,
        "4000000000000119" => DeclineCode::ProcessingError,
        _ => return None,
    })
}

#[async_trait]
impl Processor for SandboxAcquirer {
    async fn authorize(&self, request: &Authorization<'_>) -> Outcome {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let digits = request.card.expose_digits();
        if request.off_session {
            let outcome = match digits {
                ALWAYS_AUTHENTICATE => Outcome::Declined(DeclineCode::AuthenticationRequired),
                DECLINES_AFTER_SAVING => Outcome::Declined(DeclineCode::CardDeclined),
                CHALLENGE_APPROVES | CHALLENGE_DECLINES => {
                    Outcome::Declined(DeclineCode::AuthenticationRequired)
                }
                _ => match scripted_decline(digits) {
                    Some(code) => Outcome::Declined(code),
                    None => Outcome::Approved {
                        authorization_code: authorization_code(request.reference),
                    },
                },
            };
            if let Some(books) = &self.books {
                // Kept before answering, as an acquirer's books are: if
                // Kasse dies before it records the answer, it asks.
                let kept = books
                    .record_sandbox_authorization(
                        request.reference,
                        &outcome.to_record(),
                        request.money.amount(),
                        request.money.currency().code(),
                        crate::clock::now_ms() / 1000,
                    )
                    .await;
                if let Err(error) = kept {
                    tracing::error!(%error, "the sandbox could not keep its record; it declines");
                    return Outcome::Declined(DeclineCode::ProcessingError);
                }
            }
            return outcome;
        }
        if (digits == CHALLENGE_ON_SESSION || digits == ALWAYS_AUTHENTICATE) && !request.moto {
            return Outcome::ChallengeRequired;
        }
        if digits == DECLINES_AFTER_SAVING && request.stored_credential {
            return Outcome::Declined(DeclineCode::CardDeclined);
        }
        if digits == CHALLENGE_DECLINES && request.moto {
            // What it gives after a passed challenge.
            return Outcome::Declined(DeclineCode::CardDeclined);
        }
        if (digits == CHALLENGE_APPROVES || digits == CHALLENGE_DECLINES) && !request.moto {
            return Outcome::ChallengeRequired;
        }
        match scripted_decline(digits) {
            Some(code) => Outcome::Declined(code),
            None => Outcome::Approved {
                authorization_code: authorization_code(request.reference),
            },
        }
    }

    async fn verify(&self, request: &Verification<'_>) -> Outcome {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        match scripted_decline(request.card.expose_digits()) {
            Some(code) => Outcome::Declined(code),
            None => Outcome::Approved {
                authorization_code: authorization_code(request.reference),
            },
        }
    }

    async fn inquire(&self, reference: &str) -> Result<Option<Outcome>, InquiryFailed> {
        self.inquire_books(reference).await
    }

    async fn complete_challenge(&self, result: &ChallengeResult<'_>) -> Outcome {
        let declines = CHALLENGE_DECLINES.starts_with(result.bin)
            && CHALLENGE_DECLINES.ends_with(result.last4);
        if !result.authenticated {
            Outcome::Declined(DeclineCode::AuthenticationFailed)
        } else if declines {
            Outcome::Declined(DeclineCode::CardDeclined)
        } else {
            Outcome::Approved {
                authorization_code: authorization_code(result.reference),
            }
        }
    }
}

impl SandboxAcquirer {
    async fn inquire_books(&self, reference: &str) -> Result<Option<Outcome>, InquiryFailed> {
        let Some(books) = &self.books else {
            return Ok(None);
        };
        let record = books
            .sandbox_authorization(reference)
            .await
            .map_err(|e| InquiryFailed(e.to_string()))?;
        record
            .map(|r| {
                Outcome::from_record(&r)
                    .ok_or_else(|| InquiryFailed(format!("unreadable record {r:?}")))
            })
            .transpose()
    }
}

/// A six-character code derived from the reference, as issuers print them.
fn authorization_code(reference: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(reference.as_bytes());
    hex::encode_upper(&digest[..3])
}
