#!/usr/bin/env node
// Smoke test of the real desktop app (alignscope-desktop) through WebKitWebDriver.
//
// Plain W3C WebDriver over HTTP (Node's fetch), no npm dependencies. Expects a running
// `WebKitWebDriver --port=PORT` started with TAURI_WEBVIEW_AUTOMATION=true on an X display
// (scripts/desktop-smoke.sh sets all that up, with a data directory holding the demo).
//
// It opens the app's window and, through the UI as a person would:
//  1. waits until the home view lists the demo dataset, checks that the window can call
//     the backend (`api_call`), load an entity image through the `alignscope:` scheme,
//     and nothing the capabilities do not grant (screenshot desktop-home.png);
//  2. opens the demo, searches, clicks a result and waits for the entity card with its
//     neighbourhood graph (desktop-entity.png);
//  3. trains a 2-epoch run from the training form and follows it to `completed` in the
//     run monitor, counting the `job-event`s the app forwarded (desktop-training.png),
//     then RREA and GCN-Align from the same form rendered from their schemas
//     (desktop-training-baselines.png), then finds the first run in the runs table and opens its page (desktop-runs.png,
//     desktop-run-page.png); reviews by keyboard (accept, reject, undo), then as a named
//     reviewer in blind mode, and opens the keys on "?" (desktop-review-keys.png);
//  4. starts a longer run, closes the window while it trains, and checks that the app
//     keeps training without a window, the run ends `completed` (read with the CLI from
//     the same data directory), and the app then exits by itself.
//
// Environment:
//   ALIGNSCOPE_DESKTOP_BIN  the app binary (required, absolute path)
//   ALIGNSCOPE_CLI_BIN      the `alignscope` CLI binary (required, absolute path)
//   ALIGNSCOPE_HOME         the app's data directory (the CLI reads the runs there)
//   DISPLAY                 the X display the app runs on (close-window.py closes it there)
//   WEBDRIVER_URL           default http://127.0.0.1:4445
//   SCREENSHOT              default target/screenshots/desktop-home.png (the other
//                           screenshots go beside it)
//   SMOKE_TIMEOUT_S         how long to wait for the demo to be listed, default 180
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const webdriver = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4445";
const app = process.env.ALIGNSCOPE_DESKTOP_BIN;
const cli = process.env.ALIGNSCOPE_CLI_BIN;
const closeWindow = fileURLToPath(new URL("close-window.py", import.meta.url));
const screenshot = resolve(process.env.SCREENSHOT ?? "target/screenshots/desktop-home.png");
const timeoutMs = Number(process.env.SMOKE_TIMEOUT_S ?? 180) * 1000;
// The UI's test hooks (ui/README.md lists them).
const DATASET_ROW = "[data-testid=dataset-row]";
const testId = (name) => `[data-testid=${name}]`;

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (message) => console.log(`[desktop-smoke ${elapsed()}] ${message}`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

class WebDriverError extends Error {}

/** A run's status in the store, read with the CLI (as another process would). */
function storedStatus(runId) {
  const out = execFileSync(cli, ["--json", "runs", "show", String(runId)], { encoding: "utf8" });
  return JSON.parse(out).run.status;
}

/** Whether a process is still running (and not a zombie). */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** One WebDriver request; retried when the connection drops (the driver restarts it). */
async function request(method, path, body) {
  for (let attempt = 1; ; attempt++) {
    let response;
    try {
      response = await fetch(`${webdriver}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (attempt >= 5) throw new WebDriverError(`${method} ${path}: ${error.cause?.message ?? error.message}`);
      await sleep(500 * attempt);
      continue;
    }
    const text = await response.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      throw new WebDriverError(`${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 300)}`);
    }
    if (!response.ok) {
      const { error, message } = json.value ?? {};
      throw new WebDriverError(`${method} ${path}: HTTP ${response.status} ${error}: ${message}`);
    }
    return json.value;
  }
}

async function waitFor(what, timeout, probe) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error.message;
    }
    await sleep(500);
  }
  throw new Error(`timed out after ${timeout / 1000} s waiting for ${what} (last: ${JSON.stringify(last)})`);
}

async function main() {
  if (!app) throw new Error("set ALIGNSCOPE_DESKTOP_BIN to the app binary");
  if (!cli) throw new Error("set ALIGNSCOPE_CLI_BIN to the alignscope CLI binary");
  await waitFor("WebKitWebDriver", 30_000, async () => (await request("GET", "/status")).ready !== undefined);

  log(`starting ${app}`);
  const session = await request("POST", "/session", {
    capabilities: {
      alwaysMatch: { "webkitgtk:browserOptions": { binary: app, args: [] } },
    },
  });
  const id = session.sessionId;
  const run = (script, args = []) => request("POST", `/session/${id}/execute/sync`, { script, args });
  const runAsync = (script, args = []) => request("POST", `/session/${id}/execute/async`, { script, args });
  const findAll = async (selector, from = null) => {
    const path = from ? `/session/${id}/element/${from}/elements` : `/session/${id}/elements`;
    return (await request("POST", path, { using: "css selector", value: selector })).map((e) => e[ELEMENT]);
  };
  const find = async (selector) => {
    const [element] = await findAll(selector);
    if (!element) throw new Error(`no ${selector} in the window`);
    return element;
  };
  const textOf = async (selector) => request("GET", `/session/${id}/element/${await find(selector)}/text`);
  const attributeOf = async (selector, name) =>
    request("GET", `/session/${id}/element/${await find(selector)}/attribute/${name}`);
  const click = async (selector) => {
    const element = await waitFor(selector, 30_000, () => find(selector));
    await request("POST", `/session/${id}/element/${element}/click`, {});
  };
  const clickIn = async (parent, selector) => {
    const [element] = await findAll(selector, parent);
    if (!element) throw new Error(`no ${selector} in that element`);
    await request("POST", `/session/${id}/element/${element}/click`, {});
  };
  const typeInto = async (selector, text) => {
    const element = await waitFor(selector, 30_000, () => find(selector));
    await request("POST", `/session/${id}/element/${element}/clear`, {});
    await request("POST", `/session/${id}/element/${element}/value`, { text });
  };
  /** Counts the forwarded job events of one run by kind (`progress`, `finished`, ...). */
  const jobEventKinds = async (runId) =>
    run(`const counts = {};
      for (const e of window.__smokeJobEvents ?? []) if (e.run === arguments[0]) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
      return counts;`, [runId]);
  /** Waits for paint and saves a screenshot beside the home one. */
  const shoot = async (name) => {
    await runAsync("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));");
    const size = await run("return [window.innerWidth, window.innerHeight, document.body.innerText.length];");
    const png = Buffer.from(await request("GET", `/session/${id}/screenshot`), "base64");
    if (png.length < 1000 || png.subarray(1, 4).toString() !== "PNG") throw new Error(`the screenshot is no PNG (${png.length} bytes)`);
    const file = join(dirname(screenshot), name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, png);
    log(`viewport ${size[0]}x${size[1]}, ${size[2]} characters of text; screenshot ${file} (${png.length} bytes)`);
  };
  let failed = false;
  let windowClosed = false;
  try {
    log(`session ${id}: window open`);
    const title = await request("GET", `/session/${id}/title`);
    log(`document title: ${JSON.stringify(title)}`);

    // 1. The home view lists the demo (registered at start-up from the data directory).
    const rowsFound = await waitFor(`the demo in ${DATASET_ROW}`, timeoutMs, async () => {
      const rows = [];
      for (const element of await findAll(DATASET_ROW)) {
        rows.push({ element, text: await request("GET", `/session/${id}/element/${element}/text`) });
      }
      return rows.some((row) => /emoji/i.test(row.text)) ? rows : null;
    });
    log(`home lists ${rowsFound.length} dataset(s): ${rowsFound.map((r) => JSON.stringify(r.text.split("\n")[0])).join(", ")}`);

    // The window reaches the backend through the one command, and images through the
    // `alignscope:` scheme; a command the capabilities do not grant is refused.
    const probe = await runAsync(`
      const done = arguments[arguments.length - 1];
      const invoke = window.__TAURI_INTERNALS__.invoke;
      (async () => {
        const out = {};
        const datasets = await invoke("api_call", { call: { method: "list_datasets" } });
        const demo = datasets.find((d) => /emoji/i.test(d.name));
        out.demo = demo && demo.name;
        out.demoId = demo && demo.id;
        try {
          await invoke("api_call", { call: { method: "no_such_method" } });
        } catch (error) {
          out.badCall = error;
        }
        try {
          await invoke("plugin:app|version");
          out.notGranted = "allowed";
        } catch (error) {
          out.notGranted = String(error).slice(0, 120);
        }
        const load = (src) => new Promise((settle) => {
          const img = new Image();
          img.onload = () => settle({ ok: true, width: img.naturalWidth });
          img.onerror = () => settle({ ok: false });
          img.src = src;
        });
        const entities = await invoke("api_call", {
          call: { method: "search_entities", params: { dataset: demo.id, query: "face", limit: 20 } },
        });
        for (const entity of entities) {
          const detail = await invoke("api_call", {
            call: { method: "entity_detail", params: { dataset: demo.id, side: entity.side, key: entity.key } },
          });
          if (detail.images.length === 0) continue;
          const query = new URLSearchParams({ dataset: String(demo.id), side: entity.side, key: entity.key, index: "0" });
          out.image = { entity: entity.label, ...(await load("alignscope://localhost/api/image?" + query)) };
          out.outsideImage = await load("alignscope://localhost/api/image?" +
            new URLSearchParams({ dataset: String(demo.id), side: entity.side, key: "../../../etc/passwd", index: "0" }));
          break;
        }
        return out;
      })().then(done, (error) => done({ error: String(error) }));
    `);
    log(`in the window: ${JSON.stringify(probe)}`);
    const problems = [];
    if (probe.error) problems.push(`the probe failed: ${probe.error}`);
    if (!probe.demo) problems.push("api_call list_datasets has no demo");
    if (probe.badCall?.code !== "invalid_input") problems.push(`a bad call rejected with ${JSON.stringify(probe.badCall)}, not an invalid_input ApiError`);
    if (probe.notGranted === "allowed") problems.push("plugin:app|version was allowed: the capabilities grant too much");
    if (!probe.image?.ok || !(probe.image.width > 0)) problems.push(`an entity image did not load through alignscope: (${JSON.stringify(probe.image)})`);
    if (probe.outsideImage?.ok) problems.push("an image outside the dataset loaded");
    if (problems.length) throw new Error(problems.join("; "));
    const demoId = probe.demoId;

    await shoot(basename(screenshot));

    // 2. The demo's explorer: search, click a result, the entity card with its graph.
    const demoRow = rowsFound.find((row) => /emoji/i.test(row.text));
    await clickIn(demoRow.element, testId("dataset-link"));
    await typeInto(testId("entity-search"), "face");
    await waitFor("search results", 30_000, async () => (await findAll(testId("search-result"))).length > 0);
    const firstResult = (await findAll(testId("search-result")))[0];
    const picked = await request("GET", `/session/${id}/element/${firstResult}/text`);
    await request("POST", `/session/${id}/element/${firstResult}/click`, {});
    const label = await waitFor("the entity card", 30_000, () => textOf(testId("entity-label")));
    const graph = await waitFor("the neighbourhood graph drawn", 30_000, async () => {
      const [nodes, canvases] = await Promise.all([
        attributeOf(testId("neighbourhood-graph"), "data-nodes"),
        findAll(`${testId("neighbourhood-graph")} canvas`),
      ]);
      return canvases.length > 0 && Number(nodes) > 1 ? { nodes: Number(nodes) } : null;
    });
    log(`entity card for ${JSON.stringify(picked.split("\n")[0])}: ${JSON.stringify(label)}, graph of ${graph.nodes} nodes`);
    await shoot("desktop-entity.png");

    // 3. Train from the form; the run monitor follows the forwarded job events to the end.
    await runAsync(`
      const done = arguments[arguments.length - 1];
      window.__smokeJobEvents = [];
      const internals = window.__TAURI_INTERNALS__;
      const handler = internals.transformCallback((event) => window.__smokeJobEvents.push(event.payload));
      internals.invoke("plugin:event|listen", { event: "job-event", target: { kind: "Any" }, handler })
        .then(() => done(true), (error) => done(String(error)));
    `);
    await run(`location.hash = "#/train?dataset=" + arguments[0];`, [demoId]);
    await typeInto(`${testId("train-form")} input[name=epochs]`, "2");
    await click(testId("train-start"));
    const trainedRun = Number(await waitFor("the run monitor", 30_000, () => attributeOf(testId("run-monitor"), "data-run-id")));
    const status = await waitFor(`run ${trainedRun} completed in the run monitor`, 300_000, async () => {
      const shown = await textOf(`${testId("run-monitor")} ${testId("run-status")}`);
      if (/failed|cancelled|interrupted/.test(shown)) throw new Error(`the run ended ${shown}`);
      return shown === "completed" ? shown : null;
    });
    const kinds = await jobEventKinds(trainedRun);
    log(`run ${trainedRun} ${status}; job events forwarded to the window: ${JSON.stringify(kinds)}`);
    if (!kinds.progress || !kinds.metric || !kinds.finished) {
      throw new Error(`the window did not get progress, metric and finished events for run ${trainedRun}`);
    }
    await shoot("desktop-training.png");

    // The baselines train from the same form, rendered from their schemas.
    for (const model of ["rrea", "gcn-align"]) {
      await click(testId("train-another"));
      await waitFor("the training form", 30_000, async () => (await findAll(testId("train-form"))).length > 0);
      await run(`
        const select = document.querySelector('select[name="model"]');
        select.value = arguments[0];
        select.dispatchEvent(new Event("change", { bubbles: true }));
      `, [model]);
      const widthField = model === "rrea" ? "dim" : "structure_dim";
      await waitFor(`the ${model} fields`, 30_000, async () => (await findAll(`[data-field="${widthField}"]`)).length > 0);
      await typeInto(`${testId("train-form")} input[name=epochs]`, "2");
      await click(testId("train-start"));
      const baselineRun = Number(await waitFor(`the ${model} run monitor`, 30_000, async () => {
        const id = await attributeOf(testId("run-monitor"), "data-run-id");
        return id && Number(id) !== trainedRun ? id : null;
      }));
      await waitFor(`${model} run ${baselineRun} completed`, 300_000, async () => {
        const shown = await textOf(`${testId("run-monitor")} ${testId("run-status")}`);
        if (/failed|cancelled|interrupted/.test(shown)) throw new Error(`the ${model} run ended ${shown}`);
        return shown === "completed" ? shown : null;
      });
      log(`${model} run ${baselineRun} completed from the schema-rendered form`);
    }
    await shoot("desktop-training-baselines.png");

    // The runs table lists it; its page shows the final metrics.
    await click(testId("nav-runs"));
    await waitFor(`run ${trainedRun} in the runs table`, 30_000, async () => {
      const rows = await findAll(`${testId("run-row")}[data-run-id="${trainedRun}"]`);
      return rows.length > 0;
    });
    await shoot("desktop-runs.png");
    await clickIn(await find(`${testId("run-row")}[data-run-id="${trainedRun}"]`), testId("run-link"));
    const metrics = await waitFor("the run page's metrics", 30_000, async () => {
      const text = await textOf(`${testId("run-page")} ${testId("run-metrics")}`);
      return /%/.test(text) ? text : null;
    });
    log(`run page of run ${trainedRun}: ${JSON.stringify(metrics.replace(/\s+/g, " ").slice(0, 160))}`);
    await shoot("desktop-run-page.png");

    // The inspector: a query's candidates and the pair view with its score breakdown.
    await click(testId("run-inspect"));
    await click(`${testId("query-list")} li button`);
    await waitFor("the pair view with its breakdown", 60_000, async () =>
      (await findAll(`${testId("pair-view")}[data-render-ms] ${testId("score-breakdown")}`)).length > 0);
    log(`inspector: pair view painted in ${await attributeOf(testId("pair-view"), "data-render-ms")} ms`);
    await shoot("desktop-inspector.png");

    // The review queue by keyboard: accept, reject, undo; the store has what is standing.
    await run(`location.hash = "#/runs/" + arguments[0] + "/review?strategy=random";`, [trainedRun]);
    const shownPair = () =>
      run(`const v = document.querySelector("[data-testid=pair-view]");
        return v && v.dataset.renderMs ? v.dataset.left + "\u0000" + v.dataset.right : null;`);
    const press = async (key) => {
      const before = await waitFor("a pair in the queue", 30_000, shownPair);
      await request("POST", `/session/${id}/actions`, {
        actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: key }, { type: "keyUp", value: key }] }],
      });
      await waitFor(`the pair after "${key}"`, 30_000, async () => {
        const now = await shownPair();
        return now && now !== before ? now : null;
      });
      return before;
    };
    const accepted = await press("a");
    await press("r");
    await press("z");
    const standing = await waitFor("the undo stored", 30_000, async () => {
      const rows = JSON.parse(execFileSync(cli, ["--json", "decisions", "list"], { encoding: "utf8" }));
      return rows.length === 1 ? rows : null;
    });
    const [left, right] = accepted.split("\u0000");
    if (standing[0].left_key !== left || standing[0].right_key !== right || standing[0].verdict !== "accept") {
      throw new Error(`standing decisions after accept, reject, undo: ${JSON.stringify(standing)}`);
    }
    log(`review queue: accept, reject, undo by keyboard; stored: ${left} = ${right} accepted`);
    await shoot("desktop-review.png");

    // Review by a named reviewer in blind mode; the keys listed on "?".
    await click(testId("reviewer-change"));
    await typeInto(testId("reviewer-input"), "Desk Reviewer");
    await click(testId("reviewer-save"));
    await waitFor("the reviewer's name", 30_000, async () =>
      (await textOf(testId("reviewer-name"))) === "Desk Reviewer" ? true : null);
    await click(testId("review-blind"));
    await waitFor("blind mode", 30_000, async () => (await findAll(testId("pair-blind"))).length > 0);
    if ((await findAll(testId("pair-gold"))).length > 0) throw new Error("blind mode shows the gold badge");
    const blindPair = await press("a");
    const blindRow = await waitFor("the blind decision stored", 30_000, async () => {
      const rows = JSON.parse(execFileSync(cli, ["--json", "decisions", "list", "--history"], { encoding: "utf8" }));
      const last = rows.at(-1);
      return last && `${last.left_key}\u0000${last.right_key}` === blindPair ? last : null;
    });
    if (blindRow.author !== "Desk Reviewer" || blindRow.blind !== true) {
      throw new Error(`the blind decision was stored as ${JSON.stringify(blindRow)}`);
    }
    await request("POST", `/session/${id}/actions`, {
      actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: "?" }, { type: "keyUp", value: "?" }] }],
    });
    await waitFor("the review keys on ?", 30_000, async () => (await findAll(testId("shortcut-help"))).length > 0);
    await shoot("desktop-review-keys.png");
    await click(testId("shortcut-close"));
    await click(testId("review-blind"));
    log("team review: a named reviewer's blind decision stored as such; the keys listed on ?");

    // Export from the run page: the desktop app saves the file in the data folder.
    await run(`location.hash = "#/runs/" + arguments[0];`, [trainedRun]);
    await click(testId("export-button"));
    const saved = (await waitFor("the export saved", 30_000, () => textOf(testId("export-result")))).replace(/^Saved to /, "");
    if (!existsSync(saved) || !readFileSync(saved, "utf8").startsWith("# curie_map:")) {
      throw new Error(`no SSSOM file at ${saved}`);
    }
    log(`export saved to ${saved}`);

    // Train again with the decision: a new run, then its before/after table.
    await click(testId("retrain-with-decisions"));
    const retrained = Number(await waitFor("the new run's page", 30_000, async () => {
      const hash = await run("return location.hash;");
      const match = /^#\/runs\/(\d+)$/.exec(hash);
      return match && Number(match[1]) !== trainedRun ? match[1] : null;
    }));
    await waitFor(`run ${retrained} completed`, 300_000, async () => storedStatus(retrained) === "completed");
    await waitFor("the before/after table", 60_000, async () => (await findAll(`${testId("before-after")} table`)).length > 0);
    log(`run ${retrained} trained with the decisions; before/after shown`);
    await shoot("desktop-retrained.png");

    // 4. Closing the window while a run trains: the app trains on without it, then exits.
    const longRun = await runAsync(`
      const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke("api_call", { call: { method: "start_run", params: {
        dataset: arguments[0], train_ratio: 0.3, device: "cpu", settings: { epochs: 12 },
      } } }).then((run) => done(run.id), (error) => done({ error: String(error) }));
    `, [demoId]);
    if (typeof longRun !== "number") throw new Error(`start_run failed: ${JSON.stringify(longRun)}`);
    await waitFor(`run ${longRun} training`, 120_000, async () => (await jobEventKinds(longRun)).progress > 0);
    const appPid = Number(execFileSync("pgrep", ["-n", "-f", `^${app}`], { encoding: "utf8" }).trim());
    log(`run ${longRun} is training in the app (pid ${appPid}); closing the window`);
    // As the window manager's close button does (WebKitWebDriver's own "close window"
    // would end the session and kill the app).
    log(execFileSync("/usr/bin/python3", [closeWindow, String(appPid)], { encoding: "utf8" }).trim());
    windowClosed = true;
    let trainedWithoutWindow = false;
    await waitFor(`run ${longRun} completed after the window closed`, 300_000, async () => {
      const runStatus = storedStatus(longRun);
      if (runStatus === "completed") return true;
      if (runStatus !== "running" && runStatus !== "queued") throw new Error(`run ${longRun} is ${runStatus}, not trained on`);
      if (!alive(appPid)) throw new Error(`the app exited while run ${longRun} was ${runStatus}`);
      trainedWithoutWindow = true;
      return null;
    });
    if (!trainedWithoutWindow) throw new Error(`run ${longRun} had ended before the window closed: nothing was tested`);
    await waitFor(`the app (pid ${appPid}) to exit after the run`, 60_000, () => !alive(appPid));
    log(`run ${longRun} completed with the window closed, and the app exited by itself`);
  } catch (error) {
    failed = true;
    // Keep what the window showed, to see why.
    try {
      if (windowClosed) throw new Error("no window");
      const png = Buffer.from(await request("GET", `/session/${id}/screenshot`), "base64");
      const file = screenshot.replace(/\.png$/, "-failed.png");
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, png);
      log(`screenshot of the failure: ${file}`);
    } catch {
      // no screenshot: the window is gone
    }
    throw error;
  } finally {
    await request("DELETE", `/session/${id}`).catch((error) => log(`closing the session: ${error.message}`));
    log(failed ? "FAILED" : "ok");
  }
}

main().catch((error) => {
  console.error(`[desktop-smoke] error: ${error.message}`);
  process.exit(1);
});
