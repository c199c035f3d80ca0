//! The Tauri 2 desktop shell (`alignscope-desktop`, cargo feature `desktop`).
//!
//! Nothing here decides anything: the window's one command, `api_call`, forwards an
//! [`ApiCall`](crate::api::ApiCall) to [`Api::call`]; every job event is forwarded to the
//! window as the event `job-event`; entity images are served by the `alignscope` URI
//! scheme (`alignscope://localhost/api/image?dataset=…&side=…&key=…&index=…`), which
//! resolves the file through the API, never through a path sent by the page.
//!
//! This is the only module that uses `tauri`: the headless `alignscope` binary never links
//! WebKit. What the window may call is granted in `capabilities/default.json` and the
//! content security policy is in `tauri.conf.json`.

mod image;

use std::process::ExitCode;

use tauri::{Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::api::{Api, ApiCall, ApiError};
use crate::data_dir::DataDir;
use crate::desktop_options::{USAGE, UsageError, give_webkit_a_language, parse_args};
use crate::jobs::JobEvent;

/// The window event that carries one [`JobEvent`].
pub const JOB_EVENT: &str = "job-event";

/// The URI scheme that serves entity images to the window.
pub const IMAGE_SCHEME: &str = "alignscope";

/// Why the app could not start.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    /// The command line is wrong.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// The data directory or the database could not be opened.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The window or the webview failed.
    #[error("the desktop window failed: {0}")]
    Tauri(#[from] tauri::Error),
}

/// The binary's entry point: opens the data directory, starts the API and the demo's
/// background build, and runs the window until it is closed.
pub fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(DesktopError::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(crate::cli::EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(crate::cli::EXIT_INVALID_INPUT)
        }
    }
}

fn run(args: impl IntoIterator<Item = String>) -> Result<(), DesktopError> {
    let options = parse_args(args)?;
    // Before any thread starts (the runtime below): changing the environment is only
    // sound while the process is single-threaded.
    give_webkit_a_language();
    if options.help {
        println!("{USAGE}");
        return Ok(());
    }
    if options.version {
        println!("alignscope-desktop {}", crate::code_version());
        return Ok(());
    }

    // One multi-threaded runtime for the API, the job runner and Tauri's async commands.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    tauri::async_runtime::set(runtime.handle().clone());
    let api = runtime.block_on(async {
        let dir = DataDir::resolve(options.data_dir.as_deref()).map_err(ApiError::from)?;
        let api = Api::open(dir).await?;
        // The same start-up as `alignscope serve`: register the demo, or start building
        // it in the background (`$ALIGNSCOPE_DEMO_LIMIT` picks a small cut; the window
        // follows it through `demo_status`).
        // A demo that cannot be built does not keep the app from opening.
        match api.start_demo_in_background(None).await {
            Ok(status) => {
                if let Some(message) = status.message {
                    eprintln!("note: {message}");
                }
            }
            Err(e) => eprintln!("note: the demo dataset could not be checked: {e}"),
        }
        Ok::<_, DesktopError>(api)
    })?;

    let app = tauri::Builder::default()
        .manage(api.clone())
        .invoke_handler(tauri::generate_handler![api_call])
        .register_asynchronous_uri_scheme_protocol(IMAGE_SCHEME, |context, request, responder| {
            let api = context.app_handle().state::<Api>().inner().clone();
            tauri::async_runtime::spawn(async move {
                responder.respond(image::respond(&api, request.uri()).await);
            });
        })
        .setup(|app| {
            forward_job_events(app.handle().clone());
            Ok(())
        })
        .build(tauri::tauri_build_context!())?;
    app.run(keep_running_while_training);
    runtime.block_on(api.close());
    Ok(())
}

/// Closing the last window while this process trains does not stop the training: the app
/// stays running without a window until its runs end, then exits. Opening the app again
/// meanwhile starts a second window (process) that follows those runs live through the
/// store and can cancel them (a cancel request in the database reaches the training
/// process).
fn keep_running_while_training(app: &tauri::AppHandle, event: tauri::RunEvent) {
    // `code: None` is a request by the user (the last window closed); `app.exit` below
    // asks again with a code, and that one is let through.
    let tauri::RunEvent::ExitRequested {
        code: None,
        api: exit,
        ..
    } = event
    else {
        return;
    };
    let api = app.state::<Api>().inner().clone();
    let runs = api.active_runs();
    if runs.is_empty() {
        return;
    }
    exit.prevent_exit();
    let list = runs
        .iter()
        .map(|run| run.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "alignscope-desktop: the window is closed; training goes on (run {list}) and the app \
         exits when it ends. Open AlignScope again to follow or cancel it."
    );
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        api.wait_for_jobs().await;
        app.exit(0);
    });
}

/// The window's one command: a call of the backend API. The argument is read here rather
/// than by Tauri so that a malformed call rejects with the same `invalid_input`
/// [`ApiError`] as the HTTP server's `POST /api/call`.
#[tauri::command]
async fn api_call(
    api: tauri::State<'_, Api>,
    call: serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    api.call(ApiCall::from_json(call)?).await
}

/// Sends every job event to the window as `job-event`, for as long as the app runs.
fn forward_job_events(app: tauri::AppHandle) {
    let mut events = app.state::<Api>().subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => emit(&app, &event),
                // The window fell behind: the skipped events are progress it can do
                // without (every state change is in the store, and the next event or a
                // reload shows it).
                Err(RecvError::Lagged(skipped)) => {
                    eprintln!("alignscope-desktop: the window missed {skipped} job events");
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn emit(app: &tauri::AppHandle, event: &JobEvent) {
    if let Err(e) = app.emit(JOB_EVENT, event) {
        eprintln!("alignscope-desktop: cannot send a job event to the window: {e}");
    }
}
