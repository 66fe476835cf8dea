//! What the page does with the answer to a confirm: a pure decision, so
//! that its table is tested natively; the checkout component only carries
//! it out (screens, notices, navigation).

use kasse_core::api::ConfirmResponse;
use kasse_core::error::ErrorCode;

use crate::api::ApiFailure;
use crate::i18n::Text;

/// The next step after a confirm.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Paid: the receipt, then the signed redirect (in a popup, the parent
    /// hears of it at once).
    Paid {
        payment_id: String,
        redirect_url: String,
    },
    /// To the bank for 3-D Secure.
    Authenticate { redirect_url: String },
    /// The issuer said no: why, above the form, which stays; or, when the
    /// session's API sends declined customers back (`leave`), on the way there.
    Declined {
        message: String,
        leave: Option<String>,
    },
    /// Kasse refused, or was not reached: a message above the form, then
    /// `then`. `keep_card` when the server never answered, so "Try again"
    /// sends the same card.
    Refused {
        message: String,
        keep_card: bool,
        then: Then,
    },
}

/// What follows a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// The form stays.
    Stay,
    /// The session ran out: the expired screen.
    Expire,
    /// Paid meanwhile (another tab): reloading shows the receipt.
    Reload,
}

pub fn after_confirm(answer: Result<ConfirmResponse, ApiFailure>, t: &Text) -> Next {
    match answer {
        Ok(ConfirmResponse::Succeeded {
            payment_id,
            redirect_url,
        }) => Next::Paid {
            payment_id,
            redirect_url,
        },
        Ok(ConfirmResponse::RequiresAction { next_action, .. }) => Next::Authenticate {
            redirect_url: next_action.redirect_url,
        },
        Ok(ConfirmResponse::Declined {
            decline_code,
            redirect_url,
            ..
        }) => Next::Declined {
            message: t.decline(decline_code).to_string(),
            leave: redirect_url,
        },
        Err(failure) => {
            let then = match failure.code {
                Some(ErrorCode::CheckoutSessionExpired) => Then::Expire,
                Some(ErrorCode::CheckoutSessionComplete) => Then::Reload,
                _ => Then::Stay,
            };
            let message = match failure.code {
                Some(code) => t.api_error(code).map_or(failure.message, str::to_string),
                None => t.unreachable.to_string(),
            };
            Next::Refused {
                message,
                keep_card: failure.code.is_none(),
                then,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kasse_core::api::NextAction;
    use kasse_core::error::DeclineCode;

    use super::*;
    use crate::i18n::{BN, EN};

    fn refused(code: Option<ErrorCode>, message: &str) -> Result<ConfirmResponse, ApiFailure> {
        Err(ApiFailure {
            code,
            message: message.into(),
        })
    }

    #[test]
    fn every_answer_has_its_next_step() {
        let paid = Ok(ConfirmResponse::Succeeded {
            payment_id: "pay_1".into(),
            redirect_url: "https://shop.example/paid?sig=1".into(),
        });
        assert_eq!(
            after_confirm(paid, &EN),
            Next::Paid {
                payment_id: "pay_1".into(),
                redirect_url: "https://shop.example/paid?sig=1".into()
            }
        );
        let challenged = Ok(ConfirmResponse::RequiresAction {
            payment_id: "pay_2".into(),
            next_action: NextAction {
                redirect_url: "https://kasse.example/acs/pay_2#t".into(),
            },
        });
        assert_eq!(
            after_confirm(challenged, &EN),
            Next::Authenticate {
                redirect_url: "https://kasse.example/acs/pay_2#t".into()
            }
        );
        let declined = Ok(ConfirmResponse::Declined {
            payment_id: "pay_3".into(),
            decline_code: DeclineCode::InsufficientFunds,
            message: "server words".into(),
            redirect_url: None,
        });
        assert_eq!(
            after_confirm(declined, &BN),
            Next::Declined {
                message: BN.decline(DeclineCode::InsufficientFunds).into(),
                leave: None,
            },
            "in the page's language, not the server's"
        );
        let sent_back = Ok(ConfirmResponse::Declined {
            payment_id: "pay_4".into(),
            decline_code: DeclineCode::CardDeclined,
            message: "server words".into(),
            redirect_url: Some("https://kasse.example/compat/return/cs_1?outcome=fail".into()),
        });
        assert_eq!(
            after_confirm(sent_back, &EN),
            Next::Declined {
                message: EN.decline(DeclineCode::CardDeclined).into(),
                leave: Some("https://kasse.example/compat/return/cs_1?outcome=fail".into()),
            },
            "the merchant's fail page when the session's API wants it"
        );
    }

    #[test]
    fn refusals_keep_the_card_only_when_the_server_never_answered() {
        // (code, the page's words or the server's, keep the card, then)
        let table = [
            (None, EN.unreachable, true, Then::Stay),
            (
                Some(ErrorCode::CheckoutSessionExpired),
                EN.expired,
                false,
                Then::Expire,
            ),
            (
                Some(ErrorCode::CheckoutSessionComplete),
                EN.already_paid,
                false,
                Then::Reload,
            ),
            (
                Some(ErrorCode::PaymentInProgress),
                EN.in_progress,
                false,
                Then::Stay,
            ),
            (
                Some(ErrorCode::TooManyDeclines),
                EN.too_many_attempts,
                false,
                Then::Stay,
            ),
            (
                Some(ErrorCode::RateLimited),
                EN.too_many_attempts,
                false,
                Then::Stay,
            ),
            (
                Some(ErrorCode::InvalidCvc),
                "The server's own words.",
                false,
                Then::Stay,
            ),
        ];
        for (code, message, keep_card, then) in table {
            assert_eq!(
                after_confirm(refused(code, "The server's own words."), &EN),
                Next::Refused {
                    message: message.into(),
                    keep_card,
                    then
                },
                "{code:?}"
            );
        }
    }
}
