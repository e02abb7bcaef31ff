//! `claystack dvt` subcommands.

use clap::Subcommand;

/// `claystack dvt` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {}

/// Runs a `claystack dvt` subcommand.
pub(crate) async fn run(command: Command) -> eyre::Result<()> {
    match command {}
}
