//! `kasse`: serve, migrate, and manage merchants.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use kasse_core::api::StaffRole;
use kasse_core::origin::MerchantOrigin;

use crate::clock::{Clock, SystemClock};
use crate::compat;
use crate::config::{Config, Limits, WebhookConfig, database_url};
use crate::merchants::{self, Credentials};
use crate::secrets::ServerSecret;
use crate::staff;
use crate::startup::Application;
use crate::store;
use crate::vault::Vault;

#[derive(Debug, Parser)]
#[command(
    name = "kasse",
    version,
    about = "Kasse: a self-hostable payment gateway"
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// `text` for people, or `json`: one object per line (timestamp, level,
    /// target, message and fields, and the request's span with its id).
    #[arg(
        long,
        env = "KASSE_LOG_FORMAT",
        default_value = "text",
        value_parser = ["text", "json"],
        global = true
    )]
    pub log_format: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// The database: a SQLite file path or sqlite:// URL (created if missing),
    /// or a postgres:// URL for several instances (then set KASSE_SECRET).
    #[arg(
        long = "database",
        env = "KASSE_DATABASE_URL",
        default_value = "data/kasse.db",
        global = true
    )]
    pub database: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the payment page and (with --demo) the demo shop.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage the staff who log in to the terminal (/terminal).
    #[command(subcommand)]
    User(UserCommand),
    /// The card vault's keys (KASSE_VAULT_KEY or KASSE_VAULT_KEY_FILE).
    #[command(subcommand)]
    Vault(VaultCommand),
    /// Copy a SQLite database consistently while Kasse serves it (without
    /// the server secret or the vault key). For PostgreSQL, use pg_dump.
    Backup {
        /// Where to write the copy; it must not exist.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Print a new random key-encryption key (64 hex digits).
    GenerateKey,
    /// Re-wrap every merchant's data key under the first key of
    /// KASSE_VAULT_KEY: give the new key first and the old one after it
    /// (`KASSE_VAULT_KEY=new,old`), run this, then drop the old key. Saved
    /// cards keep working throughout; their numbers are not re-encrypted.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a member of a merchant's staff. The password is asked for at the
    /// terminal, or read as one line from standard input.
    Create {
        /// The merchant's id, `mer_…`.
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        email: String,
        /// viewer reads; operator also charges, captures, voids and refunds;
        /// admin also manages webhooks and resends events.
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, env = "KASSE_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The URL customers reach Kasse at, if not http://ADDR (e.g. behind a proxy).
    #[arg(long, env = "KASSE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The built front end (trunk's output).
    #[arg(long, env = "KASSE_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,
    /// Create a demo merchant and serve its shop at /.
    #[arg(long)]
    pub demo: bool,
    /// Simulated acquirer latency in milliseconds, for load tests.
    #[arg(long, env = "KASSE_SANDBOX_LATENCY_MS", default_value_t = 0)]
    pub sandbox_latency_ms: u64,
    /// This Kasse handles real money: refuse the sandbox's tools (balance
    /// top-ups).
    #[arg(long, env = "KASSE_LIVE")]
    pub live: bool,
    /// Ask scrapers of /metrics for `Authorization: Bearer TOKEN`.
    #[arg(long, env = "KASSE_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// On SIGTERM or Ctrl-C, stop accepting and give the requests in
    /// flight this long to finish, then exit.
    #[arg(long, env = "KASSE_SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
    /// A session refuses to confirm after this many declined attempts.
    #[arg(long, env = "KASSE_MAX_DECLINED_ATTEMPTS", default_value_t = 5)]
    pub max_declined_attempts: u32,
    /// Confirm attempts one client (IPv6: one /64) may make per minute,
    /// counted across every instance.
    #[arg(long, env = "KASSE_CONFIRMS_PER_MINUTE", default_value_t = 20)]
    pub confirms_per_minute: u32,
    /// Declined card payments of one merchant per minute after which its
    /// card payments pause (card testing across many sessions).
    #[arg(
        long,
        env = "KASSE_DECLINES_PER_MERCHANT_PER_MINUTE",
        default_value_t = 60
    )]
    pub declines_per_merchant_per_minute: u32,
    /// Keyed payments one merchant may make per minute.
    #[arg(
        long,
        env = "KASSE_KEYED_PAYMENTS_PER_MERCHANT_PER_MINUTE",
        default_value_t = 60
    )]
    pub keyed_payments_per_merchant_per_minute: u32,
    /// Keyed payments one member of staff may make per minute.
    #[arg(
        long,
        env = "KASSE_KEYED_PAYMENTS_PER_STAFF_PER_MINUTE",
        default_value_t = 20
    )]
    pub keyed_payments_per_staff_per_minute: u32,
    /// Terminal login attempts per minute from one client.
    #[arg(
        long,
        env = "KASSE_LOGINS_PER_ADDRESS_PER_MINUTE",
        default_value_t = 10
    )]
    pub logins_per_address_per_minute: u32,
    /// Terminal login attempts per minute to one account, from anywhere.
    #[arg(long, env = "KASSE_LOGINS_PER_ACCOUNT_PER_MINUTE", default_value_t = 5)]
    pub logins_per_account_per_minute: u32,
    /// Password checks (memory-hard) this instance runs at once; more
    /// logins at once are answered 503 with Retry-After.
    #[arg(long, env = "KASSE_CONCURRENT_PASSWORD_CHECKS", default_value_t = 4)]
    pub concurrent_password_checks: usize,
    /// Hours after which an uncaptured authorisation is voided.
    #[arg(long, env = "KASSE_AUTHORIZATION_TTL_HOURS", default_value_t = 7 * 24)]
    pub authorization_ttl_hours: i64,
    /// A load balancer's address whose X-Forwarded-For header names the
    /// client (repeat, or comma-separated in the variable).
    #[arg(
        long = "trusted-proxy",
        env = "KASSE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How often expired sessions, stale authorisations and subscriptions'
    /// due cycles are swept, in milliseconds.
    #[arg(long, env = "KASSE_SWEEP_INTERVAL_MS", default_value_t = 30_000)]
    pub sweep_interval_ms: u64,
    /// How long one instance holds a subscription cycle it is charging,
    /// in seconds; after that another instance asks the acquirer what
    /// became of the charge (never charging again).
    #[arg(long, env = "KASSE_SUBSCRIPTION_LEASE_SECONDS", default_value_t = 120)]
    pub subscription_lease_seconds: i64,
    /// The first webhook retry waits this many milliseconds; each next one twice as long.
    #[arg(long, env = "KASSE_WEBHOOK_RETRY_BASE_MS", default_value_t = 30_000)]
    pub webhook_retry_base_ms: u64,
    /// The longest wait between webhook retries, in milliseconds.
    #[arg(long, env = "KASSE_WEBHOOK_RETRY_MAX_MS", default_value_t = 6 * 3600 * 1000)]
    pub webhook_retry_max_ms: u64,
    /// Give a webhook delivery up after this many hours (it stays resendable).
    #[arg(long, env = "KASSE_WEBHOOK_GIVE_UP_HOURS", default_value_t = 72)]
    pub webhook_give_up_hours: u64,
    /// Milliseconds one webhook attempt may take.
    #[arg(long, env = "KASSE_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,
    /// Let webhooks go to loopback, private and link-local addresses, and
    /// over plain http to loopback: for the demo and tests, never in production.
    #[arg(long, env = "KASSE_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
    /// A PEM file of CA certificates to trust for webhook endpoints besides
    /// the web's roots (a private CA).
    #[arg(long, env = "KASSE_WEBHOOK_CA_FILE")]
    pub webhook_ca_file: Option<PathBuf>,
    /// The mail server for payment links' emails, reminders and receipts:
    /// `smtp://user:password@host:587` (STARTTLS, required) or
    /// `smtps://user:password@host:465`. Without it Kasse sends no email.
    #[arg(long, env = "KASSE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of every email, e.g. `Shop <billing@shop.example>`.
    #[arg(long, env = "KASSE_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// A PEM file of CA certificates to trust for the mail server besides
    /// the web's roots (a private CA, or the demo's mail sink).
    #[arg(long, env = "KASSE_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// The first retry of an email the server deferred (4xx) waits this
    /// long, each next one twice as long, up to an hour.
    #[arg(long, env = "KASSE_MAIL_RETRY_BASE_MS", default_value_t = 60_000)]
    pub mail_retry_base_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum MerchantCommand {
    /// Create a merchant and print its keys (shown only once).
    Create {
        #[arg(long)]
        name: String,
        /// An origin the merchant's redirect URLs may use, e.g. https://shop.example.
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Issue a store_id and store_passwd for the SSLCOMMERZ-compatible API
    /// (the password is shown only once); the merchant's earlier pair stops
    /// working.
    CompatCredentials {
        /// The merchant's id, `mer_…`.
        #[arg(long)]
        merchant: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Register the "Base URL" the simple checkout API compares
    /// `client_base_url` with, exactly as the merchant's code sends it.
    ClientBaseUrl {
        /// The merchant's id, `mer_…`.
        #[arg(long)]
        merchant: String,
        /// e.g. https://shop.example/api
        #[arg(long)]
        url: String,
    },
    /// Set what a merchant pays per captured payment in one currency (or
    /// `*`, any other): a percentage in basis points plus a fixed amount in
    /// minor units, rounded half up per payment.
    Fees {
        /// The merchant's id, `mer_…`.
        #[arg(long)]
        merchant: String,
        /// An ISO 4217 code, or `*` for every currency without its own plan.
        #[arg(long, default_value = "*")]
        currency: String,
        /// Hundredths of a percent: 290 is 2.9 %.
        #[arg(long, default_value_t = 0)]
        percent_bps: u32,
        /// Minor units per payment, e.g. 30 for 0.30 USD.
        #[arg(long, default_value_t = 0)]
        fixed: i64,
        /// Refunds give back their share of the fee.
        #[arg(long)]
        refund_fees: bool,
    },
    /// Set when a merchant's money settles: the day's cut-off in its time
    /// zone, and how many days after a capture its money becomes available.
    Settlement {
        /// The merchant's id, `mer_…`.
        #[arg(long)]
        merchant: String,
        /// An IANA zone, e.g. Asia/Dhaka.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// HH:MM, local.
        #[arg(long, default_value = "00:00")]
        cutoff: String,
        #[arg(long, default_value_t = 2)]
        delay_days: i64,
    },
    /// Set the amount at or above which a merchant's payouts in one
    /// currency wait for an admin's approval in the terminal.
    Payouts {
        /// The merchant's id, `mer_…`.
        #[arg(long)]
        merchant: String,
        /// An ISO 4217 code.
        #[arg(long)]
        currency: String,
        /// Minor units, e.g. 50000 for 500.00 USD.
        #[arg(long, conflicts_with = "no_approval")]
        approval_threshold: Option<i64>,
        /// No payout in this currency waits for approval.
        #[arg(long)]
        no_approval: bool,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Vault(VaultCommand::GenerateKey) = cli.command {
        println!("{}", Vault::generate_key());
        return Ok(());
    }
    let url = database_url(&cli.db.database);
    if let Command::Backup { to } = &cli.command {
        // Before the secret: a backup makes nothing, not even a secret.
        let backup = crate::backup::sqlite(&url, to).await?;
        println!(
            "Backed up {} payments ({} bytes) to {}.",
            backup.payments,
            backup.bytes,
            backup.database.display()
        );
        println!(
            "Neither KASSE_SECRET (or kasse.secret) nor the vault key is in it, by design: \
             restore it with the same ones, kept apart."
        );
        return Ok(());
    }
    let secret = server_secret(&url)?;
    match cli.command {
        Command::Serve(args) => {
            let vault = Vault::from_env(sqlite_dir(&url).as_deref())?;
            serve(*args, url, secret, vault).await
        }
        Command::Vault(VaultCommand::GenerateKey) | Command::Backup { .. } => {
            unreachable!("answered above")
        }
        Command::Vault(VaultCommand::Rotate) => {
            let vault = Vault::from_env(sqlite_dir(&url).as_deref())?.context(
                "set KASSE_VAULT_KEY (or KASSE_VAULT_KEY_FILE) to the new key, a comma, and the old key",
            )?;
            let store = store::connect(&url, &secret).await?;
            let rotated =
                crate::domain::saved_cards::rotate(store.as_ref(), &vault, SystemClock.now())
                    .await?;
            println!(
                "Re-wrapped {} data key(s) under key {}; {} already were. Cards saved before still charge; the old key may now be dropped from KASSE_VAULT_KEY.",
                rotated.rewrapped,
                vault.current_kek_id(),
                rotated.current
            );
            Ok(())
        }
        Command::Migrate => {
            store::connect(&url, &secret).await?;
            println!("Database {url} is up to date.");
            Ok(())
        }
        Command::Merchant(MerchantCommand::Create {
            name,
            origins,
            json,
        }) => {
            let name = name.trim();
            anyhow::ensure!(!name.is_empty(), "--name must not be empty");
            let origins = origins
                .iter()
                .map(|o| MerchantOrigin::parse(o))
                .collect::<Result<Vec<_>, _>>()?;
            let store = store::connect(&url, &secret).await?;
            let credentials =
                merchants::create(store.as_ref(), &secret, name, origins, SystemClock.now())
                    .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&credentials)?);
            } else {
                print_credentials(&credentials);
            }
            Ok(())
        }
        Command::Merchant(MerchantCommand::CompatCredentials { merchant, json }) => {
            let store = store::connect(&url, &secret).await?;
            anyhow::ensure!(
                store.merchant(&merchant).await?.is_some(),
                "No merchant {merchant}: create it first with `kasse merchant create`."
            );
            let issued =
                compat::credentials::issue(store.as_ref(), &secret, &merchant, SystemClock.now())
                    .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&issued)?);
            } else {
                println!(
                    "SSLCOMMERZ-compatible credentials for {merchant} ({} mode):",
                    issued.mode
                );
                println!("  store_id:      {}", issued.store_id);
                println!(
                    "  store_passwd:  {}  (shown only this once)",
                    issued.store_passwd
                );
                println!("Any earlier pair of this merchant no longer works.");
            }
            Ok(())
        }
        Command::Merchant(MerchantCommand::ClientBaseUrl {
            merchant,
            url: base,
        }) => {
            let base = base.trim();
            let parsed = url::Url::parse(base)
                .map_err(|e| anyhow::anyhow!("--url '{base}' is not a URL: {e}"))?;
            anyhow::ensure!(
                matches!(parsed.scheme(), "https" | "http"),
                "--url must be an http(s) URL; got '{base}'"
            );
            let store = store::connect(&url, &secret).await?;
            anyhow::ensure!(
                store.set_client_base_url(&merchant, Some(base)).await?,
                "No merchant {merchant}: create it first with `kasse merchant create`."
            );
            println!("The simple checkout API now takes client_base_url = {base} for {merchant}.");
            Ok(())
        }
        Command::Merchant(MerchantCommand::Fees {
            merchant,
            currency,
            percent_bps,
            fixed,
            refund_fees,
        }) => {
            let currency = match currency.trim() {
                "*" => "*".to_string(),
                code => kasse_core::Currency::parse(code)
                    .map_err(|e| anyhow::anyhow!("--currency: {e}"))?
                    .code()
                    .to_string(),
            };
            anyhow::ensure!(
                percent_bps <= 10_000,
                "--percent-bps is at most 10000 (100 %); got {percent_bps}"
            );
            anyhow::ensure!(fixed >= 0, "--fixed may not be negative; got {fixed}");
            let store = store::connect(&url, &secret).await?;
            anyhow::ensure!(
                store.merchant(&merchant).await?.is_some(),
                "No merchant {merchant}: create it first with `kasse merchant create`."
            );
            let plan = kasse_core::fees::FeePlan {
                percent_bps,
                fixed,
                refund_fees,
            };
            store
                .set_fee_plan(&merchant, &currency, &plan, SystemClock.now())
                .await?;
            println!(
                "{merchant} pays {}.{:02} % + {fixed} minor units per captured payment in {currency}; refunds {} the fee.",
                percent_bps / 100,
                percent_bps % 100,
                if refund_fees {
                    "give back their share of"
                } else {
                    "keep"
                }
            );
            Ok(())
        }
        Command::Merchant(MerchantCommand::Settlement {
            merchant,
            time_zone,
            cutoff,
            delay_days,
        }) => {
            jiff::tz::TimeZone::get(&time_zone).map_err(|_| {
                anyhow::anyhow!("--time-zone '{time_zone}' is not an IANA zone such as Asia/Dhaka")
            })?;
            anyhow::ensure!(
                cutoff.parse::<jiff::civil::Time>().is_ok() && cutoff.len() == 5,
                "--cutoff is HH:MM, e.g. 18:00; got '{cutoff}'"
            );
            anyhow::ensure!(
                (0..=30).contains(&delay_days),
                "--delay-days is 0 to 30; got {delay_days}"
            );
            let store = store::connect(&url, &secret).await?;
            anyhow::ensure!(
                store.merchant(&merchant).await?.is_some(),
                "No merchant {merchant}: create it first with `kasse merchant create`."
            );
            store
                .set_settlement_settings(
                    &crate::store::SettlementSettings {
                        merchant_id: merchant.clone(),
                        time_zone: time_zone.clone(),
                        cutoff: cutoff.clone(),
                        delay_days,
                    },
                    SystemClock.now(),
                )
                .await?;
            println!(
                "{merchant} settles at {cutoff} {time_zone}; captures are available {delay_days} day(s) after."
            );
            Ok(())
        }
        Command::Merchant(MerchantCommand::Payouts {
            merchant,
            currency,
            approval_threshold,
            no_approval,
        }) => {
            let currency = kasse_core::Currency::parse(&currency)
                .map_err(|e| anyhow::anyhow!("--currency: {e}"))?;
            anyhow::ensure!(
                approval_threshold.is_some() || no_approval,
                "give --approval-threshold AMOUNT, or --no-approval"
            );
            anyhow::ensure!(
                approval_threshold.is_none_or(|t| t > 0),
                "--approval-threshold is a positive amount in minor units"
            );
            let store = store::connect(&url, &secret).await?;
            anyhow::ensure!(
                store.merchant(&merchant).await?.is_some(),
                "No merchant {merchant}: create it first with `kasse merchant create`."
            );
            store
                .set_payout_threshold(
                    &merchant,
                    currency.code(),
                    approval_threshold,
                    SystemClock.now(),
                )
                .await?;
            match approval_threshold {
                Some(t) => println!(
                    "{merchant}'s payouts of {} {} or more wait for an admin's approval.",
                    crate::domain::reports::decimal(t, currency),
                    currency.code()
                ),
                None => println!(
                    "{merchant}'s payouts in {} need no approval.",
                    currency.code()
                ),
            }
            Ok(())
        }
        Command::User(UserCommand::Create {
            merchant,
            email,
            role,
        }) => {
            let role = StaffRole::parse(&role).context("unknown role")?;
            let email = staff::normalise_email(&email)?;
            let password = read_password()?;
            let store = store::connect(&url, &secret).await?;
            let user = staff::create_user(
                store.as_ref(),
                &merchant,
                &email,
                role,
                &password,
                SystemClock.now(),
            )
            .await?;
            println!(
                "Created {} ({}) for merchant {}: log in at /terminal.",
                user.email,
                user.role.as_str(),
                user.merchant_id
            );
            Ok(())
        }
    }
}

/// At a terminal, asked twice without echo; otherwise one line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    anyhow::ensure!(
        !password.is_empty(),
        "no password on standard input: pipe one in, or run at a terminal to be asked"
    );
    Ok(password)
}

async fn serve(
    args: ServeArgs,
    database_url: String,
    secret: ServerSecret,
    vault: Option<Vault>,
) -> anyhow::Result<()> {
    let addr = args.addr;
    let config = Config {
        addr: args.addr,
        public_url: args.public_url,
        database_url,
        static_dir: args.static_dir,
        secret,
        demo: args.demo,
        sandbox_latency: Duration::from_millis(args.sandbox_latency_ms),
        live: args.live,
        metrics_token: args.metrics_token,
        shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        limits: Limits {
            max_declined_attempts: args.max_declined_attempts,
            confirms_per_minute: args.confirms_per_minute,
            declines_per_merchant_per_minute: args.declines_per_merchant_per_minute,
            keyed_payments_per_merchant_per_minute: args.keyed_payments_per_merchant_per_minute,
            keyed_payments_per_staff_per_minute: args.keyed_payments_per_staff_per_minute,
            link_sends_per_minute: Limits::default().link_sends_per_minute,
            logins_per_address_per_minute: args.logins_per_address_per_minute,
            logins_per_account_per_minute: args.logins_per_account_per_minute,
            concurrent_password_checks: args.concurrent_password_checks.max(1),
            authorization_ttl: args.authorization_ttl_hours * 3600,
            sweep_interval: Duration::from_millis(args.sweep_interval_ms.max(10)),
            subscription_lease: args.subscription_lease_seconds.max(1),
            trusted_proxies: args.trusted_proxies,
        },
        webhooks: WebhookConfig {
            retry_base: Duration::from_millis(args.webhook_retry_base_ms),
            retry_max: Duration::from_millis(args.webhook_retry_max_ms),
            give_up_after: Duration::from_secs(args.webhook_give_up_hours * 3600),
            attempt_timeout: Duration::from_millis(args.webhook_timeout_ms),
            allow_private_addresses: args.webhook_allow_private,
            ca_file: args.webhook_ca_file,
            ..WebhookConfig::default()
        },
        vault,
        mail: match (args.smtp_url, args.mail_from) {
            (Some(url), Some(from)) => Some(crate::mail::MailConfig {
                ca_file: args.smtp_ca_file,
                retry_base: Duration::from_millis(args.mail_retry_base_ms.max(10)),
                ..crate::mail::MailConfig::new(url, from)
            }),
            (None, None) => None,
            (Some(_), None) => {
                anyhow::bail!("KASSE_SMTP_URL is set but KASSE_MAIL_FROM is not: name the sender")
            }
            (None, Some(_)) => anyhow::bail!(
                "KASSE_MAIL_FROM is set but KASSE_SMTP_URL is not: name the mail server"
            ),
        },
    };
    let app = Application::build(config)
        .await
        .context("could not start Kasse")?;
    let base = app.base_url().clone();
    let listening = SocketAddr::new(addr.ip(), app.port());
    if base.as_str() == format!("http://{listening}/") {
        println!("Kasse is serving on {base}");
    } else {
        // Behind a proxy: where customers reach it, and where it listens.
        println!("Kasse is serving on {base} (listening on {listening})");
    }
    println!("  health:   {base}healthz");
    println!("  API reference: {base}docs  (OpenAPI: {base}openapi.json)");
    if let Some(demo) = &app.demo {
        println!("  demo shop: {base}  (pay with 4242 4242 4242 4242, any future expiry, any CVC)");
        println!();
        println!("Demo merchant (new keys on every start):");
        print_credentials(demo);
    }
    if let Some((email, password)) = &app.demo_staff {
        println!();
        println!("Merchant terminal: {base}terminal");
        println!("  log in as {email} with the password {password}  (new on every start)");
    }
    app.run_until_stopped().await?;
    Ok(())
}

fn print_credentials(c: &Credentials) {
    let origins: Vec<&str> = c.origins.iter().map(|o| o.as_str()).collect();
    println!("  merchant id:     {}", c.merchant_id);
    println!("  name:            {}", c.name);
    println!("  origins:         {}", origins.join(", "));
    println!("  secret key:      {}", c.secret_key);
    println!("  publishable key: {}", c.publishable_key);
    println!("  signing secret:  {}", c.signing_secret);
    if let Some(secret) = &c.webhook_secret {
        println!("  webhook secret:  {secret}  (for sessions' notification_url)");
    }
}

/// The directory of a SQLite database file, where no vault key may be kept.
fn sqlite_dir(database_url: &str) -> Option<std::path::PathBuf> {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = Path::new(path.split('?').next().unwrap_or(path));
    Some(match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    })
}

/// `KASSE_SECRET`, or for a SQLite file a `kasse.secret` beside it, made on
/// first use. Keys hashed under one secret do not verify under another.
fn server_secret(database_url: &str) -> anyhow::Result<ServerSecret> {
    if let Ok(file) = std::env::var("KASSE_SECRET_FILE") {
        // A file only its service may read, as systemd's credentials are.
        let secret = std::fs::read_to_string(&file)
            .with_context(|| format!("could not read KASSE_SECRET_FILE {file}"))?;
        let secret = secret.trim();
        anyhow::ensure!(
            secret.len() >= 32,
            "the secret in {file} must have at least 32 characters"
        );
        return Ok(ServerSecret::new(secret.as_bytes().to_vec()));
    }
    if let Ok(secret) = std::env::var("KASSE_SECRET") {
        anyhow::ensure!(
            secret.len() >= 32,
            "KASSE_SECRET must have at least 32 characters"
        );
        return Ok(ServerSecret::new(secret.into_bytes()));
    }
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .filter(|p| !p.is_empty() && !p.contains(":memory:"))
        .map(|p| Path::new(p).with_file_name("kasse.secret"));
    let Some(path) = path else {
        anyhow::bail!("set KASSE_SECRET (32+ characters) for this database");
    };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(ServerSecret::new(existing.trim().as_bytes().to_vec()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let fresh = crate::ids::new_secret("");
    write_private(&path, &fresh).with_context(|| format!("could not write {}", path.display()))?;
    Ok(ServerSecret::new(fresh.into_bytes()))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}
