#!/usr/bin/env node
// Smoke test of the real desktop app (alignscope-desktop) through WebKitWebDriver.
//
// Plain W3C WebDriver over HTTP (Node's fetch), no npm dependencies. Expects a running
// `WebKitWebDriver --port=PORT` started with TAURI_WEBVIEW_AUTOMATION=true on an X display
// (scripts/desktop-smoke.sh sets all that up, with a data directory holding the demo).
//
// It opens the app's window, waits until the home view lists the demo dataset, checks
// that the window can call the backend (`api_call`), load an entity image through the
// `alignscope:` scheme, and nothing the capabilities do not grant, waits for paint and
// saves a screenshot.
//
// Environment:
//   ALIGNSCOPE_DESKTOP_BIN  the app binary (required, absolute path)
//   WEBDRIVER_URL           default http://127.0.0.1:4445
//   SCREENSHOT              default target/screenshots/desktop-home.png
//   SMOKE_TIMEOUT_S         how long to wait for the demo to be listed, default 180
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const webdriver = process.env.WEBDRIVER_URL ?? "http://127.0.0.1:4445";
const app = process.env.ALIGNSCOPE_DESKTOP_BIN;
const screenshot = resolve(process.env.SCREENSHOT ?? "target/screenshots/desktop-home.png");
const timeoutMs = Number(process.env.SMOKE_TIMEOUT_S ?? 180) * 1000;
// The home view's rows (ui/README.md lists the test hooks).
const DATASET_ROW = "[data-testid=dataset-row]";

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const log = (message) => console.log(`[desktop-smoke ${elapsed()}] ${message}`);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

class WebDriverError extends Error {}

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
  let failed = false;
  try {
    log(`session ${id}: window open`);
    const title = await request("GET", `/session/${id}/title`);
    log(`document title: ${JSON.stringify(title)}`);

    // The home view lists the demo (registered at start-up from the data directory).
    const rows = await waitFor(`the demo in ${DATASET_ROW}`, timeoutMs, async () => {
      const found = await request("POST", `/session/${id}/elements`, { using: "css selector", value: DATASET_ROW });
      const texts = [];
      for (const element of found) {
        texts.push(await request("GET", `/session/${id}/element/${element[ELEMENT]}/text`));
      }
      return texts.some((text) => /emoji/i.test(text)) ? texts : null;
    });
    log(`home lists ${rows.length} dataset(s): ${rows.map((t) => JSON.stringify(t.split("\n")[0])).join(", ")}`);

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

    // Wait for paint, then the screenshot.
    await runAsync("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));");
    const size = await run("return [window.innerWidth, window.innerHeight, document.body.innerText.length];");
    const png = Buffer.from(await request("GET", `/session/${id}/screenshot`), "base64");
    if (png.length < 1000 || png.subarray(1, 4).toString() !== "PNG") throw new Error(`the screenshot is no PNG (${png.length} bytes)`);
    mkdirSync(dirname(screenshot), { recursive: true });
    writeFileSync(screenshot, png);
    log(`viewport ${size[0]}x${size[1]}, ${size[2]} characters of text; screenshot ${screenshot} (${png.length} bytes)`);
  } catch (error) {
    failed = true;
    // Keep what the window showed, to see why.
    try {
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
