//! A merchant's fee on a payment: a percentage in basis points plus a fixed
//! amount, in integer minor units, rounded half up, never more than the
//! payment itself.

/// What a merchant pays per captured payment in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeePlan {
    /// Hundredths of a percent: 290 is 2.9 %.
    pub percent_bps: u32,
    /// Minor units per payment.
    pub fixed: i64,
    /// Whether a refund gives back its share of the fee.
    pub refund_fees: bool,
}

/// `amount × bps / 10 000`, rounded half up, exactly (no floating point).
pub fn percent_of(amount: i64, bps: u32) -> i64 {
    let product = i128::from(amount) * i128::from(bps);
    let (quotient, remainder) = (product / 10_000, product % 10_000);
    let rounded = if remainder * 2 >= 10_000 {
        quotient + 1
    } else {
        quotient
    };
    rounded as i64
}

impl FeePlan {
    /// The fee on a captured `amount`.
    pub fn fee(&self, amount: i64) -> i64 {
        if amount <= 0 {
            return 0;
        }
        (percent_of(amount, self.percent_bps) + self.fixed).clamp(0, amount)
    }

    /// The part of `charge_fee` a refund of `refunded` out of `captured`
    /// gives back: its proportional share, rounded half up, if the plan
    /// refunds fees; else none.
    pub fn refunded_fee(&self, charge_fee: i64, captured: i64, refunded: i64) -> i64 {
        if !self.refund_fees || captured <= 0 {
            return 0;
        }
        let product = i128::from(charge_fee) * i128::from(refunded);
        let (quotient, remainder) = (
            product / i128::from(captured),
            product % i128::from(captured),
        );
        let rounded = if remainder * 2 >= i128::from(captured) {
            quotient + 1
        } else {
            quotient
        };
        (rounded as i64).clamp(0, charge_fee)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_half_up_in_minor_units() {
        // 2.9 % of 1250 is 36.25 → 36; of 1750 is 50.75 → 51; of 50 is 1.45 → 1.
        assert_eq!(percent_of(1250, 290), 36);
        assert_eq!(percent_of(1750, 290), 51);
        assert_eq!(percent_of(50, 290), 1);
        // Exactly half goes up: 1.5 % of 100 is 1.5 → 2.
        assert_eq!(percent_of(100, 150), 2);
        assert_eq!(percent_of(0, 290), 0);
        // No overflow at the largest amounts.
        assert_eq!(percent_of(i64::MAX / 2, 10_000), i64::MAX / 2);
    }

    #[test]
    fn a_fee_adds_the_fixed_part_and_never_exceeds_the_payment() {
        let plan = FeePlan {
            percent_bps: 290,
            fixed: 30,
            refund_fees: false,
        };
        assert_eq!(plan.fee(1250), 66);
        assert_eq!(plan.fee(20), 20);
        assert_eq!(plan.fee(0), 0);
        assert_eq!(FeePlan::default().fee(1250), 0);
    }

    #[test]
    fn a_refund_gives_back_its_share_of_the_fee_only_if_the_plan_says_so() {
        let keeps = FeePlan {
            percent_bps: 290,
            fixed: 30,
            refund_fees: false,
        };
        assert_eq!(keeps.refunded_fee(66, 1250, 1250), 0);
        let gives = FeePlan {
            refund_fees: true,
            ..keeps
        };
        assert_eq!(gives.refunded_fee(66, 1250, 1250), 66);
        // 66 × 500 / 1250 = 26.4 → 26; 66 × 625 / 1250 = 33.
        assert_eq!(gives.refunded_fee(66, 1250, 500), 26);
        assert_eq!(gives.refunded_fee(66, 1250, 625), 33);
        // 5 × 1 / 2 = 2.5 → 3.
        assert_eq!(gives.refunded_fee(5, 2, 1), 3);
    }
}
