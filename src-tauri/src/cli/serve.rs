//! `alignscope serve`: the API and the built UI over HTTP for a browser (see
//! [`crate::server`]).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::Args;

use super::CliError;
use crate::api::Api;
use crate::server::{self, ServerError};

/// Options of `alignscope serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on (0: any free port; the URL printed says which).
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Address to listen on. Anyone who can reach it and has the token can use the API:
    /// keep the default unless the network is trusted.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub host: IpAddr,
    /// Another name this server may be reached by (a host name on the network), checked
    /// against each request's Host header; repeatable. Its own address and `localhost`
    /// always work.
    #[arg(long = "allow-host", value_name = "NAME")]
    pub allow_hosts: Vec<String>,
    /// The built UI (a folder with index.html) [default: $ALIGNSCOPE_UI_DIR, else
    /// ui/dist of the source tree, else ui/ beside the executable].
    #[arg(long)]
    pub ui_dir: Option<PathBuf>,
    /// Build the demo from the first N emoji only (a small, quick pair) [default:
    /// $ALIGNSCOPE_DEMO_LIMIT, else all].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub demo_limit: Option<u32>,
}

impl From<ServerError> for CliError {
    fn from(e: ServerError) -> Self {
        match e {
            ServerError::Io(e) => CliError::Output(e),
            other => CliError::Api(crate::api::ApiError::new(
                crate::api::ErrorCode::Io,
                other.to_string(),
            )),
        }
    }
}

/// Runs the server until Ctrl-C.
pub async fn serve(api: &Api, args: &ServeArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let ui = match server::locate_ui(args.ui_dir.as_deref()) {
        Ok(dir) => Some(dir),
        Err(looked) => {
            let looked: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
            eprintln!(
                "note: no built UI found (looked in {}); the API works, pages answer with \
                 how to build the UI (`npm ci --prefix ui && npm run build --prefix ui`)",
                looked.join(", ")
            );
            None
        }
    };
    if !args.host.is_loopback() {
        eprintln!(
            "warning: serving on {} over plain HTTP: the token and everything the API \
             answers travel in clear over the network; anyone who can read that traffic can \
             use the API. Use it only on a network you trust, or keep the default \
             127.0.0.1 and reach it through an SSH tunnel (ssh -L {port}:127.0.0.1:{port} \
             HOST).",
            args.host,
            port = args.port
        );
    }
    match api
        .start_demo_in_background(args.demo_limit.map(|n| n as usize))
        .await
    {
        Ok(status) => {
            if let Some(message) = status.message {
                eprintln!("note: {message}");
            }
        }
        Err(e) => eprintln!("note: the demo dataset could not be checked: {e}"),
    }
    server::serve(
        api.clone(),
        SocketAddr::new(args.host, args.port),
        &args.allow_hosts,
        ui,
        out,
        server::ctrl_c(),
    )
    .await?;
    writeln!(out, "AlignScope stopped.")?;
    Ok(())
}
