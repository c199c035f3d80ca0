// Test harness: the real `alignscope serve` process, headless Chromium, screenshots and
// latency figures. Nothing here is mocked.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const screenshotDir = join(repoRoot, 'target', 'screenshots');
export const sharedDatasets = resolve(repoRoot, '..', 'shared', 'datasets');

export const binary = process.env.ALIGNSCOPE_BIN ?? join(repoRoot, 'target', 'debug', 'alignscope');
const chromiumPath = process.env.ALIGNSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const URL_LINE = /AlignScope is serving on (http:\/\/\S+)/;

/** A fresh data directory, removed by the returned function. */
export function tempHome(prefix = 'alignscope-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts `alignscope serve --port 0` on `home` and resolves once it printed its URL.
 * `stop()` asks it to end (SIGINT), `kill()` kills it hard (SIGKILL).
 */
export async function startServer({ home, demoLimit = 40, extraArgs = [] }) {
  if (!existsSync(binary)) {
    throw new Error(`${binary} does not exist: build it with \`cargo build -p alignscope\``);
  }
  const args = ['serve', '--port', '0', '--demo-limit', String(demoLimit), ...extraArgs];
  const child = spawn(binary, args, {
    env: { ...process.env, ALIGNSCOPE_HOME: home, ALIGNSCOPE_UI_DIR: join(repoRoot, 'ui', 'dist') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const url = await new Promise((found, failed) => {
    const timer = setTimeout(() => failed(new Error(`no URL within 60 s; output:\n${output}`)), 60_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const match = URL_LINE.exec(output);
      if (match) {
        clearTimeout(timer);
        found(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => {
      output += chunk.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      failed(new Error(`serve exited with ${code} before printing its URL:\n${output}`));
    });
  });
  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token'),
    output: () => output,
    stop: async () => {
      child.kill('SIGINT');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/** Calls the server's API as the UI does; fails on a non-200 answer, naming the method. */
export async function callApi(server, method, params = {}) {
  const response = await fetch(`${server.origin}/api/call`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ method, params }),
  });
  if (response.status !== 200) {
    throw new Error(`${method} answered ${response.status}: ${await response.text()}`);
  }
  return response.json();
}

/** Polls `get_run` until the run is no longer queued or running; the final run. */
export async function waitForRun(server, id, timeoutMs = 600_000) {
  const started = Date.now();
  for (;;) {
    const run = await callApi(server, 'get_run', { id });
    if (!['queued', 'running'].includes(run.status)) return run;
    if (Date.now() - started > timeoutMs) throw new Error(`run ${id} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** Waits for the server's built-in demo dataset, trains LoginMEA on it for `epochs`
 *  epochs (30% seeds, CPU) and resolves with the finished run; fails if none appears or
 *  the run does not complete. */
export async function trainedDemoRun(server, epochs) {
  let demo;
  for (let tries = 0; !demo && tries < 360; tries += 1) {
    demo = (await callApi(server, 'list_datasets')).find((d) => d.name.startsWith('emoji'));
    if (!demo) await new Promise((done) => setTimeout(done, 500));
  }
  if (!demo) throw new Error('the demo dataset was not built within 3 minutes');
  const queued = await callApi(server, 'start_run', {
    dataset: demo.id,
    settings: { epochs, eval_every: 2 },
    train_ratio: 0.3,
    device: 'cpu',
  });
  const run = await waitForRun(server, queued.id);
  if (run.status !== 'completed') throw new Error(`the demo run ended ${run.status}: ${run.error ?? ''}`);
  return run;
}

/** Headless Chromium with a fresh profile, as TESTING.md prescribes. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-window screenshot as `target/screenshots/<name>.png` after a paint. */
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  await afterPaint(page);
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Resolves after the next two animation frames (the page has painted). */
export async function afterPaint(page) {
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

/**
 * Milliseconds from an in-page action to the moment `selector` is present (containing
 * `text`, or exactly `exactText`, if given) and painted, measured inside the page with performance.now(), so the
 * test driver's round trips are not counted. The action is a click on `click`, or typing
 * `type.value` into `type.selector` (an input event, as a person's keystroke makes).
 */
export async function timeInPage(
  page,
  { click = null, clickIndex = 0, type = null, selector, text = null, exactText = null, timeoutMs = 30_000 },
) {
  return page.evaluate(
    async ({ click, clickIndex, type, selector, text, exactText, timeoutMs }) => {
      const ready = () => {
        const element = document.querySelector(selector);
        if (element === null) return false;
        const content = (element.textContent ?? '').trim();
        return (text === null || content.includes(text)) && (exactText === null || content === exactText);
      };
      const start = performance.now();
      if (click) {
        const target = document.querySelectorAll(click)[clickIndex];
        if (!target) throw new Error(`nothing to click at ${click}`);
        target.click();
      } else {
        const input = document.querySelector(type.selector);
        if (!input) throw new Error(`no input at ${type.selector}`);
        input.value = type.value;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      }
      await new Promise((done, fail) => {
        const check = () => {
          if (ready()) return done();
          if (performance.now() - start > timeoutMs) return fail(new Error(`timed out waiting for ${selector}`));
          requestAnimationFrame(check);
        };
        check();
      });
      await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      return performance.now() - start;
    },
    { click, clickIndex, type, selector, text, exactText, timeoutMs },
  );
}

/** Median of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Prints the figures as a table and writes them next to the screenshots. */
export function reportFigures(name, figures) {
  mkdirSync(screenshotDir, { recursive: true });
  writeFileSync(join(screenshotDir, `${name}.json`), JSON.stringify(figures, null, 2));
  console.log(`\n${name} (milliseconds; not asserted, see the issue's targets)`);
  for (const [what, value] of Object.entries(figures)) {
    console.log(`  ${what.padEnd(44)} ${typeof value === 'number' ? value.toFixed(1) : value}`);
  }
}
