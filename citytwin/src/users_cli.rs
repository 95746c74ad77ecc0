//! `citytwin users add|list|disable|enable|passwd|secret|remove --data-dir DIR`: the accounts in
//! `<data-dir>/users.json` (argon2id password hashes, SHA-256 of device secrets). A running
//! server picks changes up within seconds.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rand::rngs::OsRng;
use twin_auth::service::USERS_FILE;
use twin_auth::{Role, UserStore};
use twin_core::AgencyId;

#[derive(Debug, Args)]
pub struct UsersArgs {
    /// The server's data directory.
    #[arg(long, default_value = "./citytwin-data", global = true)]
    pub data_dir: PathBuf,
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a person (password read from stdin, or prompted) or a device/client (a secret is
    /// generated and printed once).
    Add {
        name: String,
        /// admin | leader | operator | analyst | device
        #[arg(long)]
        role: String,
        /// The agency of an operator (any role may have one).
        #[arg(long)]
        agency: Option<String>,
        /// Ingest sources a device may write (`observations`, `osmand`, `osmand:<tracker id>`,
        /// `reports`, `mqtt`); repeat for several.
        #[arg(long = "source")]
        sources: Vec<String>,
        /// A client with a generated secret (client_credentials), even for a non-device role
        /// (a wall in kiosk mode).
        #[arg(long)]
        client: bool,
    },
    /// List accounts (no hashes).
    List,
    Disable {
        name: String,
    },
    Enable {
        name: String,
    },
    /// Set a new password (read from stdin).
    Passwd {
        name: String,
    },
    /// A new secret for a device or client (printed once; the old one stops working).
    Secret {
        name: String,
    },
    Remove {
        name: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    eprintln!("password (one line on stdin):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn parse_role(s: &str) -> anyhow::Result<Role> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .with_context(|| format!("--role: `{s}` is not one of admin, leader, operator, analyst, device"))
}

pub fn run(args: UsersArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data dir {}", args.data_dir.display()))?;
    let path = args.data_dir.join(USERS_FILE);
    let mut store = UserStore::load(&path).with_context(|| format!("reading {}", path.display()))?;
    match args.command {
        UsersCommand::List => {
            for a in store.list() {
                let kind = if a.secret_hash.is_some() { "client" } else { "person" };
                println!(
                    "{}\t{}\t{}\t{}\t{}{}",
                    a.name,
                    a.role.as_str(),
                    a.agency.as_ref().map_or("-", AgencyId::as_str),
                    kind,
                    if a.disabled { "disabled" } else { "enabled" },
                    if a.sources.is_empty() { String::new() } else { format!("\tsources={}", a.sources.join(",")) }
                );
            }
            return Ok(());
        }
        UsersCommand::Add { name, role, agency, sources, client } => {
            let role = parse_role(&role)?;
            let agency = agency.map(AgencyId);
            if role == Role::Device || client {
                let secret = store.add_client(&name, role, agency, sources, &mut OsRng)?;
                save(&store, &path)?;
                println!("{name}: secret {secret}");
                eprintln!(
                    "the secret is shown once; store it in the device (client_secret, OsmAnd key=, MQTT password)"
                );
                return Ok(());
            }
            if !sources.is_empty() {
                bail!("--source: only devices and clients have ingest sources");
            }
            store.add_user(&name, role, agency, &read_password()?, &mut OsRng)?;
        }
        UsersCommand::Disable { name } => store.set_disabled(&name, true)?,
        UsersCommand::Enable { name } => store.set_disabled(&name, false)?,
        UsersCommand::Passwd { name } => store.set_password(&name, &read_password()?, &mut OsRng)?,
        UsersCommand::Secret { name } => {
            let secret = store.rotate_secret(&name, &mut OsRng)?;
            save(&store, &path)?;
            println!("{name}: secret {secret}");
            return Ok(());
        }
        UsersCommand::Remove { name } => {
            store.remove(&name)?;
        }
    }
    save(&store, &path)
}

fn save(store: &UserStore, path: &Path) -> anyhow::Result<()> {
    store.save(path).with_context(|| format!("writing {}", path.display()))
}

/// The device account the demo's simulated trackers report as.
pub const DEMO_TRACKERS: &str = "demo-trackers";

/// What [`demo_accounts`] set up.
pub struct DemoAccounts {
    /// People created now (existing ones are kept as they are).
    pub created: Vec<String>,
    /// A fresh secret of [`DEMO_TRACKERS`] (rotated at every start; only its hash is stored).
    pub trackers_secret: String,
}

/// The demo's accounts: `admin`, `leader` and one operator per agency of the config, each with
/// `password`, and the trackers' device account.
pub fn demo_accounts(data_dir: &Path, agencies: &[twin_auth::Agency], password: &str) -> anyhow::Result<DemoAccounts> {
    let path = data_dir.join(USERS_FILE);
    let mut store = UserStore::load(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut wanted = vec![("admin".to_owned(), Role::Admin, None), ("leader".to_owned(), Role::Leader, None)];
    wanted.extend(agencies.iter().map(|a| (a.id.as_str().to_owned(), Role::Operator, Some(a.id.clone()))));
    let mut created = Vec::new();
    for (name, role, agency) in wanted {
        if store.get(&name).is_none() {
            store.add_demo_user(&name, role, agency, password, &mut OsRng)?;
            created.push(name);
        }
    }
    let trackers_secret = if store.get(DEMO_TRACKERS).is_some() {
        store.rotate_secret(DEMO_TRACKERS, &mut OsRng)?
    } else {
        store.add_client(DEMO_TRACKERS, Role::Device, None, vec!["osmand".into()], &mut OsRng)?
    };
    save(&store, &path)?;
    Ok(DemoAccounts { created, trackers_secret })
}
