//! The objects the API shows, and events carry, made from what the store
//! keeps.

use kasse_core::PaymentStatus;
use kasse_core::api::{self, CheckoutSession, PaymentCard, PaymentChannel};

use crate::domain::schedule::Schedule;
use crate::state::AppState;
use crate::store::{
    Customer, Mandate, Payment, PaymentMethod, PaymentMethodStatus, Refund, Session, Subscription,
};

/// The merchant's view of a session.
pub fn session(ctx: &AppState, s: &Session) -> CheckoutSession {
    CheckoutSession {
        id: s.id.clone(),
        object: "checkout.session".into(),
        url: hosted_page_url(ctx, s),
        client_secret: s.client_secret.clone(),
        status: s.status_at(ctx.clock.now()),
        amount: s.amount,
        currency: s.currency.code().to_string(),
        success_url: s.success_url.clone(),
        cancel_url: s.cancel_url.clone(),
        fail_url: s.fail_url.clone(),
        order_reference: s.order_reference.clone(),
        customer_name: s.customer_name.clone(),
        customer_email: s.customer_email.clone(),
        metadata: s.metadata.clone(),
        capture_method: s.capture_method,
        notification_url: s.notification_url.clone(),
        appearance: s.appearance.clone(),
        locale: s.locale,
        payment_id: s.payment_id.clone(),
        created: s.created,
        expires_at: s.expires_at,
        customer: s.customer_id.clone(),
        save_card: s.save_card,
    }
}

/// The session as events show it: without its client secret, in the URL
/// or beside it. Events are kept in the outbox and sent to every endpoint;
/// only the merchant that created the session needs the secret, and it has
/// it from the creation's answer.
pub fn session_event(ctx: &AppState, s: &Session) -> serde_json::Value {
    let mut object = serde_json::to_value(session(ctx, s)).expect("a session serialises");
    if let Some(fields) = object.as_object_mut() {
        fields.remove("client_secret");
        fields.insert("url".into(), page_url(ctx, s).as_str().into());
    }
    object
}

/// `…/pay/{id}`: the session's hosted page.
fn page_url(ctx: &AppState, s: &Session) -> url::Url {
    ctx.public_url
        .join(&format!("pay/{}", s.id))
        .expect("ids are URL-safe")
}

/// `…/pay/{id}#{client_secret}`: the secret rides in the fragment, which
/// browsers send to no server and put in no `Referer`.
pub fn hosted_page_url(ctx: &AppState, s: &Session) -> String {
    let mut url = page_url(ctx, s);
    url.set_fragment(Some(&s.client_secret));
    url.into()
}

pub fn payment(p: &Payment) -> api::Payment {
    api::Payment {
        id: p.id.clone(),
        object: "payment".into(),
        status: p.status,
        amount: p.amount,
        amount_capturable: if p.status == PaymentStatus::RequiresCapture {
            p.amount - p.amount_captured
        } else {
            0
        },
        amount_captured: p.amount_captured,
        amount_refunded: p.amount_refunded,
        currency: p.currency.code().to_string(),
        capture_method: p.capture_method,
        channel: p.channel,
        checkout_session: p.session_id.clone(),
        order_reference: p.order_reference.clone(),
        card: PaymentCard {
            brand: p.card_brand,
            bin: p.card_bin.clone(),
            last4: p.card_last4.clone(),
            exp_month: p.card_exp_month,
            exp_year: p.card_exp_year,
            fingerprint: (p.channel == PaymentChannel::Checkout)
                .then(|| p.card_fingerprint.clone()),
        },
        decline_code: p.decline_code,
        created: p.created,
        customer: p.customer_id.clone(),
        payment_method: p.payment_method_id.clone(),
        mandate: p.mandate_id.clone(),
        off_session: p.off_session,
        recovery_session: p.recovery_session_id.clone(),
        recovery_url: None,
        settlement: None,
        settlement_status: None,
    }
}

pub fn refund(r: &Refund) -> api::Refund {
    api::Refund {
        id: r.id.clone(),
        object: "refund".into(),
        payment_id: r.payment_id.clone(),
        amount: r.amount,
        currency: r.currency.code().to_string(),
        status: r.status,
        reason: r.reason.clone(),
        created: r.created,
    }
}

pub fn customer(c: &Customer) -> api::Customer {
    api::Customer {
        id: c.id.clone(),
        object: "customer".into(),
        email: c.email.clone(),
        name: c.name.clone(),
        phone: c.phone.clone(),
        reference: c.reference.clone(),
        locale: c.locale.clone(),
        metadata: c.metadata.clone(),
        created: c.created,
    }
}

pub fn payment_method(m: &PaymentMethod) -> api::PaymentMethod {
    api::PaymentMethod {
        id: m.id.clone(),
        object: "payment_method".into(),
        kind: "card".into(),
        customer: (m.status != PaymentMethodStatus::Detached).then(|| m.customer_id.clone()),
        status: m.status.as_str().into(),
        card: PaymentCard {
            brand: m.card_brand,
            bin: m.card_bin.clone(),
            last4: m.card_last4.clone(),
            exp_month: m.card_exp_month,
            exp_year: m.card_exp_year,
            fingerprint: Some(m.card_fingerprint.clone()),
        },
        usage: m.usage,
        created: m.created,
    }
}

pub fn mandate(m: &Mandate) -> api::Mandate {
    api::Mandate {
        id: m.id.clone(),
        object: "mandate".into(),
        customer: m.customer_id.clone(),
        payment_method: m.payment_method_id.clone(),
        status: m.status.as_str().into(),
        currency: m.currency.code().into(),
        max_amount: m.max_amount,
        frequency: m.frequency.clone(),
        customer_acceptance: api::CustomerAcceptance {
            text: m.consent_text.clone(),
            text_version: m.consent_version.clone(),
            locale: m.consent_locale.clone(),
            accepted_at: m.accepted_at,
            ip_address: m.ip_address.clone(),
            user_agent: m.user_agent.clone(),
            channel: m.channel.clone(),
        },
        payment: m.payment_id.clone(),
        created: m.created,
        revoked: m.revoked,
    }
}

pub fn subscription(s: &Subscription, schedule: &Schedule) -> api::Subscription {
    api::Subscription {
        id: s.id.clone(),
        object: "subscription".into(),
        customer: s.customer_id.clone(),
        payment_method: s.payment_method_id.clone(),
        mandate: s.mandate_id.clone(),
        amount: s.amount,
        currency: s.currency.code().into(),
        description: s.description.clone(),
        metadata: s.metadata.clone(),
        interval: s.interval_unit.clone(),
        interval_count: s.interval_count,
        time_zone: s.time_zone.clone(),
        anchor_day: schedule.anchor_day,
        status: s.status.as_str().into(),
        current_cycle: s.next_cycle,
        cycles_paid: s.cycles_paid,
        end_after_cycles: s.end_after_cycles,
        next_charge_at: s.next_attempt_at,
        created: s.created,
    }
}
