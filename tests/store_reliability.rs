//! Reliability of the store through the real `alignscope` binary: `kill -9` during
//! training, reads and writes while a job writes, resume from the last checkpoint, and
//! clear errors for database files that are not usable.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::alignscope;
use serde_json::Value;

fn dataset(root: &Path) -> String {
    let dir = root.join("planted");
    let pair = alignscope_models::synthetic::planted_pair(150, 8, 4, 0.1, 11);
    alignscope_datasets::write_alignscope(&pair, &dir).expect("write the generated pair");
    dir.to_string_lossy().into_owned()
}

fn json(run: &common::Run) -> Value {
    assert_eq!(
        run.code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    let line = run.stdout.lines().last().expect("output");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn runs(home: &str) -> Vec<Value> {
    json(&alignscope(&["--data-dir", home, "--json", "runs", "list"]))
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn kill_during_training_leaves_an_interrupted_resumable_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let home = tmp.path().join("home").to_string_lossy().into_owned();
    let h = home.as_str();

    // Decisions recorded before training must survive the kill.
    json(&alignscope(&[
        "--data-dir",
        h,
        "--json",
        "dataset",
        "import",
        &data,
    ]));
    for (l, r, v) in [
        ("l0", "r0", "accept"),
        ("l1", "r2", "reject"),
        ("l3", "r3", "unsure"),
    ] {
        json(&alignscope(&[
            "--data-dir",
            h,
            "--json",
            "decisions",
            "add",
            l,
            r,
            v,
        ]));
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_alignscope"))
        .args([
            "--data-dir",
            h,
            "train",
            "--dataset",
            &data,
            "--epochs",
            "200",
            "--eval-every",
            "2",
            "--seed",
            "3",
            "--json",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // While it trains (a metric row and an event per epoch), other processes read and
    // write the same database without errors.
    let started = Instant::now();
    let mut reads = 0;
    let epochs_done = loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "training never progressed"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "training ended before the kill"
        );
        let all = runs(h);
        reads += 1;
        let Some(run) = all.first() else {
            std::thread::sleep(Duration::from_millis(50));
            continue; // not queued yet
        };
        let decision = alignscope(&[
            "--data-dir",
            h,
            "--json",
            "decisions",
            "add",
            "l5",
            "r5",
            "unsure",
        ]);
        json(&decision);
        let undo = alignscope(&["--data-dir", h, "--json", "decisions", "undo"]);
        json(&undo);
        let done = run["epochs_done"].as_i64().unwrap();
        if run["status"] == "running" && done >= 6 {
            json(&alignscope(&[
                "--data-dir",
                h,
                "--json",
                "runs",
                "show",
                &run["id"].to_string(),
            ]));
            break done;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(reads > 1);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // The database opens cleanly; the run is interrupted; the decisions are intact.
    let all = runs(h);
    let run = &all[0];
    assert_eq!(run["status"], "interrupted", "{run}");
    assert!(run["error"].as_str().unwrap().contains("runs resume"));
    let id = run["id"].to_string();
    let decisions = json(&alignscope(&[
        "--data-dir",
        h,
        "--json",
        "decisions",
        "list",
    ]));
    let standing: Vec<(String, String, String)> = decisions
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["left_key"].as_str().unwrap().into(),
                d["right_key"].as_str().unwrap().into(),
                d["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        standing,
        [
            ("l0".into(), "r0".into(), "accept".into()),
            ("l1".into(), "r2".into(), "reject".into()),
            ("l3".into(), "r3".into(), "unsure".into()),
        ]
    );
    let shown = json(&alignscope(&[
        "--data-dir",
        h,
        "--json",
        "runs",
        "show",
        &id,
    ]));
    let stored_epochs = shown["epochs"].as_array().unwrap().len() as i64;
    assert!(stored_epochs >= epochs_done);

    // Resume continues after the last checkpoint (written every 2 epochs) and finishes.
    let resumed = alignscope(&["--data-dir", h, "--json", "runs", "resume", &id]);
    let result = json(&resumed);
    let first = resumed
        .stderr
        .lines()
        .find_map(|l| l.split("resuming at epoch ").nth(1))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.trim().parse::<i64>().ok())
        .unwrap_or_else(|| panic!("no resume line:\n{}", resumed.stderr));
    assert!(
        first > 1 && first <= stored_epochs + 1 && first % 2 == 1,
        "resumed at {first}"
    );
    assert_eq!(result["status"], "completed");
    assert_eq!(result["epochs"], 200);
    let history: Vec<i64> = result["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["epoch"].as_i64().unwrap())
        .collect();
    assert_eq!(history, (1..=200).collect::<Vec<_>>());
    assert_eq!(runs(h)[0]["status"], "completed");
}

#[test]
fn cancel_from_another_process_stops_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let home = tmp.path().join("home").to_string_lossy().into_owned();
    let h = home.as_str();
    let child = Command::new(env!("CARGO_BIN_EXE_alignscope"))
        .args([
            "--data-dir",
            h,
            "train",
            "--dataset",
            &data,
            "--epochs",
            "500",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut child = child;
    let id = loop {
        assert!(started.elapsed() < Duration::from_secs(300));
        assert!(
            child.try_wait().unwrap().is_none(),
            "training ended before the cancel"
        );
        let all = runs(h);
        if let Some(run) = all.first()
            && run["status"] == "running"
            && run["epochs_done"].as_i64().unwrap() >= 2
        {
            break run["id"].to_string();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    json(&alignscope(&[
        "--data-dir",
        h,
        "--json",
        "runs",
        "cancel",
        &id,
    ]));
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let result: Value = serde_json::from_str(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(result["status"], "cancelled");
    assert!(result["epochs"].as_i64().unwrap() < 500);
    assert_eq!(runs(h)[0]["status"], "cancelled");
    // A cancelled run resumes; an unknown one is refused clearly.
    let missing = alignscope(&["--data-dir", h, "runs", "resume", "77"]);
    assert_eq!(missing.code, Some(1));
    assert!(missing.stderr.contains("no run 77"), "{}", missing.stderr);
}

#[test]
fn unusable_database_files_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();

    // Not a database.
    let garbage = tmp.path().join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(garbage.join("alignscope.db"), vec![0x42u8; 8192]).unwrap();
    let run = alignscope(&["--data-dir", garbage.to_str().unwrap(), "runs", "list"]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("is not an AlignScope database"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(garbage.join("alignscope.db")).unwrap(),
        vec![0x42u8; 8192]
    );

    // Locked: another connection holds the write lock longer than the busy timeout.
    let locked = tmp.path().join("locked");
    json(&alignscope(&[
        "--data-dir",
        locked.to_str().unwrap(),
        "--json",
        "runs",
        "list",
    ]));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_pool, _conn) = runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", locked.join("alignscope.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        for sql in [
            "INSERT INTO datasets (id, name, source_path, format, fingerprint, statistics, created_at) VALUES (1, 'x', 'x', 'x', 'x', '{}', 0)",
            "INSERT INTO entities VALUES (1, 0, 0, 'a', 'a', 'a'), (1, 1, 1, 'b', 'b', 'b')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.unwrap();
        sqlx::query("INSERT INTO datasets (name, source_path, format, fingerprint, statistics, created_at) VALUES ('y', 'y', 'y', 'y', '{}', 0)")
            .execute(&mut conn)
            .await
            .unwrap();
        (pool, conn)
    });
    let run = alignscope(&[
        "--data-dir",
        locked.to_str().unwrap(),
        "decisions",
        "add",
        "a",
        "b",
        "accept",
        "--dataset",
        "1",
    ]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains("is locked by another process"),
        "{}",
        run.stderr
    );

    // Read-only: the file and its folder cannot be written (root ignores file modes, so
    // the CLI then runs as `nobody` through setpriv).
    let ro = tmp.path().join("ro");
    json(&alignscope(&[
        "--data-dir",
        ro.to_str().unwrap(),
        "--json",
        "runs",
        "list",
    ]));
    let binary = tmp.path().join("alignscope");
    std::fs::copy(env!("CARGO_BIN_EXE_alignscope"), &binary).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for (path, mode) in [
        (tmp.path().to_path_buf(), 0o755),
        (binary.clone(), 0o755),
        (ro.join("alignscope.db"), 0o444),
        (ro.clone(), 0o555),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let is_root = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    let mut command = if is_root.unwrap_or(false) {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        Command::new(&binary)
    };
    let output = command
        .args([
            "--data-dir",
            ro.to_str().unwrap(),
            "decisions",
            "add",
            "a",
            "b",
            "accept",
        ])
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&ro.join("alignscope.db").display().to_string())
            && (stderr.contains("read-only") || stderr.contains("permissions")),
        "{stderr}"
    );
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn two_processes_on_one_data_directory_take_turns_on_the_device() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(tmp.path());
    let home = tmp.path().join("home").to_string_lossy().into_owned();
    let h = home.as_str();
    json(&alignscope(&[
        "--data-dir",
        h,
        "--json",
        "dataset",
        "import",
        &data,
    ]));
    let train = |seed: &str| {
        Command::new(env!("CARGO_BIN_EXE_alignscope"))
            .args([
                "--data-dir",
                h,
                "train",
                "--dataset",
                &data,
                "--epochs",
                "6",
                "--seed",
                seed,
                "--json",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (train("1"), train("2"));
    let mut logs = String::new();
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        logs.push_str(&stderr);
    }
    let mut spans: Vec<(i64, i64)> = runs(h)
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "completed", "{r}");
            (
                r["started_at"].as_i64().unwrap(),
                r["finished_at"].as_i64().unwrap(),
            )
        })
        .collect();
    spans.sort();
    assert_eq!(spans.len(), 2);
    assert!(
        spans[1].0 >= spans[0].1,
        "both processes trained on the CPU at once: {spans:?}"
    );
    assert!(logs.contains("waiting for the cpu device"), "{logs}");
}
