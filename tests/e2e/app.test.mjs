// The browser twin end to end: the real `alignscope serve` (real SQLite, real demo build,
// real training) driven through headless Chromium. Screenshots and latency figures go to
// target/screenshots/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { appendFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  binary,
  callApi,
  launchBrowser,
  median,
  reportFigures,
  screenshot,
  sharedDatasets,
  startServer,
  tempHome,
  timeInPage,
  waitForRun,
} from './harness.mjs';

const zhEn = join(sharedDatasets, 'dbp15k', 'zh_en');
const requireShared = process.env.ALIGNSCOPE_REQUIRE_SHARED === '1';
const haveShared = existsSync(join(zhEn, 'ent_ids_1'));
if (!haveShared && requireShared) {
  throw new Error(`${zhEn} is missing and ALIGNSCOPE_REQUIRE_SHARED=1`);
}

const byTestId = (id) => `[data-testid="${id}"]`;
const figures = {};

/** Runs a test body; on failure saves `<name>-failed.png` of the page, then fails. */
const shootOnFailure = (name, body) => async () => {
  try {
    await body();
  } catch (error) {
    await screenshot(pageForFailures, `${name}-failed`).catch(() => {});
    throw error;
  }
};
let pageForFailures;

describe('browser twin against alignscope serve', () => {
  let home;
  let server;
  let browser;
  let page;
  const consoleErrors = [];

  before(async () => {
    home = tempHome();
    server = await startServer({ home: home.dir, demoLimit: 40 });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
    pageForFailures = page;
    page.on('console', (message) => {
      // Chromium logs every non-2xx answer; the invalid import answers 400 on purpose.
      const expected = /Failed to load resource: the server responded with a status of 400/;
      if (message.type() === 'error' && !expected.test(message.text())) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    home?.remove();
    reportFigures('e2e-latencies', figures);
  });

  test('requests without the token are refused', async () => {
    const bare = await fetch(`${server.origin}/`);
    assert.equal(bare.status, 401);
    const wrong = await fetch(`${server.origin}/api/call`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-the-token', 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'list_datasets', params: {} }),
    });
    assert.equal(wrong.status, 401);
  });

  test('home lists the demo on first start', async () => {
    await page.goto(server.url);
    const demoRow = page.locator(byTestId('dataset-row'), { hasText: 'emoji' });
    await demoRow.first().waitFor({ timeout: 180_000 });
    await screenshot(page, 'e2e-home');
  });

  test('the token leaves the address bar; the page is hardened', async () => {
    assert.ok(!page.url().includes('token='), `the address bar still shows the token: ${page.url()}`);
    // A reload (token kept in the page's storage, not in the URL) still reaches the API.
    await page.reload();
    await page.locator(byTestId('dataset-row'), { hasText: 'emoji' }).first().waitFor();
    const response = await fetch(server.url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  });

  test('a page on another port of the same host cannot act with the cookie', async () => {
    const [demo] = await callApi(server, 'list_datasets');
    const target = `${server.origin}/api/call`;
    const imageUrl = `${server.origin}/api/image?dataset=${demo.id}&side=left&key=x`;
    // The attacker's page: same host, other port, so same-site with the UI and sent its
    // cookie (SameSite=Strict does not stop that). It forges a decision with a "simple"
    // request (text/plain, no preflight) and one with a JSON type, and loads an image.
    const attack = `<!doctype html><script>
      const body = JSON.stringify({ method: 'record_decision', params: { dataset: ${demo.id}, left: 'a', right: 'b', verdict: 'accept' } });
      Promise.allSettled([
        fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body }),
        fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body }),
        new Promise((done) => { const img = new Image(); img.onload = () => done('loaded'); img.onerror = () => done('refused'); img.src = ${JSON.stringify(imageUrl)}; }),
      ]).then((results) => { window.attackResults = results.map((r) => r.status === 'fulfilled' ? String(r.value?.type ?? r.value) : 'rejected'); });
    </script>`;
    const foreign = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(attack);
    });
    await new Promise((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    // The user's browser: it holds the token cookie of the page they opened.
    const userBrowser = await browser.newContext();
    await userBrowser.addCookies([
      { name: 'alignscope_token', value: server.token, url: server.origin, httpOnly: true, sameSite: 'Strict' },
    ]);
    const attackerPage = await userBrowser.newPage();
    const seen = [];
    attackerPage.on('response', (r) => {
      if (r.url().startsWith(server.origin)) seen.push(`${r.request().method()} ${r.status()}`);
    });
    try {
      await attackerPage.goto(`http://127.0.0.1:${foreign.address().port}/`);
      await attackerPage.waitForFunction(() => window.attackResults !== undefined, null, { timeout: 10_000 });
      const results = await attackerPage.evaluate(() => window.attackResults);
      // The image is refused; the JSON fetch is blocked by the browser (CORS preflight
      // unanswered) or by the server; the no-cors one reaches the server and gets 403.
      assert.equal(results[2], 'refused', `the foreign page loaded an API image: ${results}`);
      assert.ok(seen.includes('POST 403'), `the server did not refuse the forged POST: ${seen}`);
    } finally {
      await userBrowser.close();
      await new Promise((resolve) => foreign.close(resolve));
    }
    const history = await callApi(server, 'decision_history', { dataset: demo.id });
    assert.deepEqual(history, [], 'a forged request recorded a decision');
  });

  test('an invalid folder shows its validation error with file and line', async () => {
    const broken = join(home.dir, 'broken-dataset');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'ent_ids_1'), '0\thttp://a/A\nnot-a-number\thttp://a/B\n');
    writeFileSync(join(broken, 'ent_ids_2'), '10\thttp://b/A\n');
    writeFileSync(join(broken, 'triples_1'), '0\t0\t0\n');
    writeFileSync(join(broken, 'triples_2'), '10\t5\t10\n');
    writeFileSync(join(broken, 'ref_ent_ids'), '0\t10\n');
    await page.locator(byTestId('import-path')).fill(broken);
    await page.locator(byTestId('import-submit')).click();
    const error = page.locator(byTestId('import-error'));
    await error.waitFor({ timeout: 30_000 });
    const text = await error.textContent();
    assert.match(text, /ent_ids_1:2/, `the error names file and line: ${text}`);
    await screenshot(page, 'e2e-import-error');
  });

  test('labels that look like HTML are shown as text', shootOnFailure('e2e-html-labels', async () => {
    const folder = join(home.dir, 'html-labels');
    mkdirSync(folder, { recursive: true });
    // No underscores: labels show them as spaces.
    const entity = '<img src=x onerror=document.body.dataset.xss=1>';
    writeFileSync(join(folder, 'ent_ids_1'), `0\thttp://a/${entity}\n1\thttp://a/B\n`);
    writeFileSync(join(folder, 'ent_ids_2'), '10\thttp://b/A\n11\thttp://b/C\n');
    writeFileSync(join(folder, 'triples_1'), '0\t0\t1\n');
    writeFileSync(join(folder, 'triples_2'), '10\t5\t11\n');
    writeFileSync(join(folder, 'ref_ent_ids'), '0\t10\n1\t11\n');
    const name = '<img src=x onerror=document.body.dataset.xss=2>';
    await callApi(server, 'import_dataset', { path: folder, name });
    await page.goto(`${server.origin}/#/`);
    await page.reload();
    const row = page.locator(byTestId('dataset-row'), { hasText: name });
    await row.first().waitFor({ timeout: 30_000 });
    await row.first().locator(byTestId('dataset-link')).click();
    await page.locator(byTestId('entity-search')).fill('img');
    const result = page.locator(byTestId('search-result')).first();
    await result.waitFor({ timeout: 30_000 });
    const shown = await result.textContent();
    // (The label is the URI's last segment; a closing `>` is taken as N-Triples' bracket.)
    assert.ok(shown.includes(entity.slice(0, -1)), `the label is shown as its text: ${shown}`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'a label became an <img> element');
    assert.equal(await page.evaluate(() => document.body.dataset.xss), undefined);
    await screenshot(page, 'e2e-html-labels');
    await page.goto(`${server.origin}/#/`);
  }));

  test('import the real DBP15K zh_en pair', { skip: !haveShared && 'shared datasets absent' }, async () => {
    await page.locator(byTestId('import-path')).fill(zhEn);
    const started = Date.now();
    await page.locator(byTestId('import-submit')).click();
    await page.locator(byTestId('dataset-row'), { hasText: 'zh_en' }).first().waitFor({ timeout: 180_000 });
    figures['import zh_en (wall, incl. loading 38,960 entities)'] = Date.now() - started;
    assert.equal(await page.locator(byTestId('import-error')).count(), 0);
  });

  test('explore zh_en: charts, search, entity card, navigation', { skip: !haveShared && 'shared datasets absent' }, shootOnFailure('e2e-explorer', async () => {
    await page.locator(byTestId('dataset-row'), { hasText: 'zh_en' }).first().locator(byTestId('dataset-link')).click();
    await page.locator(byTestId('degree-chart')).waitFor({ timeout: 30_000 });
    await page.locator(byTestId('coverage-chart')).waitFor();
    await screenshot(page, 'e2e-explorer');

    // Search latency: a keystroke's input event until the matching result is painted.
    await page.locator(byTestId('entity-search')).focus();
    const searchTimes = [];
    for (const query of ['Beijing', 'Shanghai', 'Berlin', 'Tokyo', 'Paris', 'London', 'Taiwan', 'Singapore']) {
      searchTimes.push(
        await timeInPage(page, {
          type: { selector: byTestId('entity-search'), value: query },
          selector: byTestId('search-result'),
          text: query,
        }),
      );
    }
    figures['search on zh_en: input to painted results, median of 8'] = median(searchTimes);
    figures['search on zh_en: slowest of 8'] = Math.max(...searchTimes);

    // Entity card latency: click on a result until the card with that entity is painted.
    await timeInPage(page, {
      type: { selector: byTestId('entity-search'), value: 'Beijing' },
      selector: byTestId('search-result'),
      text: 'Beijing',
    });
    const results = page.locator(byTestId('search-result'));
    const cardTime = async (i) => {
      const key = (await results.nth(i).locator('.key').textContent()).trim();
      return timeInPage(page, { click: byTestId('search-result'), clickIndex: i, selector: byTestId('entity-key'), exactText: key });
    };
    const shown = await results.count();
    // Cold: results never highlighted (the first one is: the list prefetches the
    // highlighted result's detail), clicked without a hover.
    const cold = [];
    for (const i of [1, 2, 3, 4, 5].filter((i) => i < shown)) cold.push(await cardTime(i));
    figures[`entity card: click to painted card, cold, median of ${cold.length}`] = median(cold);
    // As a mouse user: the pointer rests on the result 150 ms before the click.
    const hovered = [];
    for (const i of [6, 7, 8].filter((i) => i < shown)) {
      await results.nth(i).hover();
      await page.waitForTimeout(150);
      hovered.push(await cardTime(i));
    }
    if (hovered.length > 0) {
      figures[`entity card: click to painted card after a 150 ms hover, median of ${hovered.length}`] = median(hovered);
    }

    const card = page.locator(byTestId('entity-card'));
    await card.locator(byTestId('neighbourhood-graph')).locator('canvas').first().waitFor();
    await screenshot(page, 'e2e-entity-card');

    // A relation link navigates to the other entity's card.
    const before = page.url();
    await card.locator(byTestId('relation-link')).first().click();
    await page.waitForFunction((old) => location.href !== old, before);
    await page.locator(byTestId('entity-card')).waitFor();
  }));

  test('train from the GUI: progress, curves, the run in the table', shootOnFailure('e2e-training', async () => {
    await page.goto(`${server.origin}/#/train`);
    const form = page.locator(byTestId('train-form'));
    await form.waitFor({ timeout: 30_000 });
    const demoOption = form.locator('select[name="dataset"] option', { hasText: 'emoji' }).first();
    await form.locator('select[name="dataset"]').selectOption(await demoOption.getAttribute('value'));
    await form.locator('input[name="epochs"]').fill('3');
    await screenshot(page, 'e2e-train-form');
    figures['training: click Start to first progress painted'] = await timeInPage(page, {
      click: byTestId('train-start'),
      selector: `${byTestId('run-progress')}[data-state="progress"]`,
      timeoutMs: 60_000,
    });
    await page.locator(byTestId('run-status'), { hasText: 'completed' }).waitFor({ timeout: 300_000 });
    await page.locator(byTestId('loss-chart')).locator('canvas').first().waitFor();
    await screenshot(page, 'e2e-training');

    await page.goto(`${server.origin}/#/runs`);
    const rows = page.locator(byTestId('run-row'));
    await rows.first().waitFor({ timeout: 30_000 });
    assert.ok((await rows.count()) >= 1);
    await rows.filter({ hasText: 'completed' }).first().waitFor();
    await screenshot(page, 'e2e-runs');
    await rows.first().locator('a').first().click();
    await page.locator(byTestId('run-page')).waitFor();
    await screenshot(page, 'e2e-run-page');
  }));

  test('the form is rendered from each model\'s schema: baselines, TMEA, MPSEA, EVA, MCLEA and MEAformer train, bad values are refused, the leaderboard ranks them', shootOnFailure('e2e-train-baselines', async () => {
    await page.goto(`${server.origin}/#/train`);
    const form = page.locator(byTestId('train-form'));
    await form.waitFor({ timeout: 30_000 });
    const demoOption = form.locator('select[name="dataset"] option', { hasText: 'emoji' }).first();
    const demoId = await demoOption.getAttribute('value');
    // Model, its width setting, the width's least value, a small width it accepts (MPSEA's
    // must divide by its 5 heads and 10 image positions).
    const models = [
      ['rrea', 'dim', 1, '16'],
      ['gcn-align', 'structure_dim', 1, '16'],
      ['tmea', 'dim', 2, '16'],
      ['mpsea', 'dim', 1, '20'],
      ['eva', 'structure_hidden', 1, '16'],
      ['mclea', 'structure_dim', 1, '16'],
      ['meaformer', 'dim', 1, '16'],
    ];
    for (const [model, widthKey, least, small] of models) {
      await form.locator('select[name="dataset"]').selectOption(demoId);
      await form.locator('select[name="model"]').selectOption(model);
      const width = form.locator(`[data-field="${widthKey}"]`);
      await width.waitFor();
      assert.match(await width.getAttribute('title'), new RegExp(`Allowed: a whole number from ${least} to 4096`));
      await form.locator(`input[name="${widthKey}"]`).fill('0');
      await page.locator(byTestId('train-start')).click();
      await width.locator('.field-error', { hasText: `at least ${least}` }).waitFor();
      await page.locator(byTestId('train-errors')).waitFor();
      await form.locator(`input[name="${widthKey}"]`).fill(small);
      await form.locator('input[name="epochs"]').fill('4');
      await form.locator('input[name="eval_every"]').fill('2');
      await form.locator('input[name="valid_ratio"]').fill('0.1');
      await screenshot(page, `e2e-train-form-${model}`);
      await page.locator(byTestId('train-start')).click();
      const live = page.locator(byTestId('train-live'));
      await live.locator('h2', { hasText: model }).waitFor({ timeout: 30_000 });
      await page.locator(byTestId('run-status'), { hasText: 'completed' }).waitFor({ timeout: 300_000 });
      await page.locator(byTestId('loss-chart')).locator('canvas').first().waitFor();
      if (model === 'tmea') {
        // Each of TMEA's loss terms is a line of its own.
        const legend = await page.locator(byTestId('loss-chart')).locator('.u-legend').innerText();
        for (const term of ['contrastive', 'transe', 'vae', 'latent', 'cross_reconstruction', 'orthogonal']) {
          assert.ok(legend.includes(term), `no ${term} line in the legend: ${legend}`);
        }
        // TransE's summed margins dwarf the other terms: the axis turns logarithmic.
        assert.ok(await page.locator(byTestId('loss-log-scale')).isChecked(), 'a log axis for TMEA\'s loss terms');
        await screenshot(page, 'e2e-run-tmea');
      }
      if (model === 'mpsea') {
        // Each loss term is a line, and the policy's figures are drawn as diagnostics.
        const legend = await page.locator(byTestId('loss-chart')).locator('.u-legend').innerText();
        for (const term of ['joint', 'modal_adaptive', 'mi_critic', 'mutual_information', 'policy']) {
          assert.ok(legend.includes(term), `no ${term} line in the legend: ${legend}`);
        }
        const diagnostics = page.locator(byTestId('diagnostics-chart'));
        await diagnostics.locator('canvas').first().waitFor();
        const figures = await diagnostics.locator('.u-legend').innerText();
        for (const figure of ['reward', 'policy entropy', 'late fusion share']) {
          assert.ok(figures.includes(figure), `no ${figure} line among the diagnostics: ${figures}`);
        }
        await screenshot(page, 'e2e-run-mpsea');
      }
      await page.locator(byTestId('train-another')).click();
      await form.waitFor();
    }
    const runs = await callApi(server, 'list_runs');
    for (const [model] of models) {
      const run = runs.find((r) => r.model === model && r.status === 'completed');
      assert.ok(run, `a completed ${model} run`);
      assert.equal(run.config.settings.epochs, 4, 'the form\'s value is stored resolved');
      assert.equal(run.config.split.valid_ratio, 0.1);
    }
    // RREA once more at another seed ratio, through the API: its curve of H@1 against
    // the seed ratio can be drawn.
    const rrea = runs.find((r) => r.model === 'rrea' && r.status === 'completed');
    const queued = await callApi(server, 'start_run', {
      dataset: Number(demoId),
      model: 'rrea',
      settings: { ...rrea.config.settings, seed: 2 },
      train_ratio: 0.1,
      valid_ratio: 0.1,
      device: 'cpu',
    });
    const second = await waitForRun(server, queued.id);
    assert.equal(second.status, 'completed', second.error ?? '');
    assert.ok(second.seconds_per_epoch > 0, 'seconds per epoch derived from the stored epochs');
    assert.ok(second.peak_memory_mib > 0, 'peak memory measured');
    assert.ok(second.best_hits_at_1 !== null, 'the best epoch\'s metrics');
    await page.goto(`${server.origin}/#/datasets/${demoId}`);
    const board = page.locator(byTestId('leaderboard'));
    await board.locator(byTestId('leaderboard-row')).first().waitFor({ timeout: 30_000 });
    const curves = board.locator(byTestId('ratio-curves'));
    await curves.locator('canvas').first().waitFor({ timeout: 30_000 });
    const legend = await curves.locator('.u-legend').innerText();
    assert.ok(legend.includes('rrea, 4 epochs'), `an RREA curve: ${legend}`);
    await curves.scrollIntoViewIfNeeded();
    await screenshot(page, 'e2e-leaderboard-ratios');
    await board.locator(byTestId('leaderboard-model')).selectOption('rrea');
    assert.equal(await board.locator(byTestId('leaderboard-row')).count(), 2, 'RREA at 10% and 30%');
    const cells = await board.locator(byTestId('leaderboard-row')).first().locator('td').allInnerTexts();
    assert.match(cells[7], /^\d+\.\d\d$/, `seconds per epoch: ${cells}`);
    assert.match(cells[8], /^\d+$/, `peak MiB: ${cells}`);
    await screenshot(page, 'e2e-leaderboard');
  }));

  test('cancel a run from the GUI, then resume it to the end', shootOnFailure('e2e-cancel-resume', async () => {
    await page.goto(`${server.origin}/#/train`);
    const form = page.locator(byTestId('train-form'));
    await form.waitFor({ timeout: 30_000 });
    const demoOption = form.locator('select[name="dataset"] option', { hasText: 'emoji' }).first();
    await form.locator('select[name="dataset"]').selectOption(await demoOption.getAttribute('value'));
    await form.locator('input[name="epochs"]').fill('40');
    await page.locator(byTestId('train-start')).click();
    await page.locator(`${byTestId('run-progress')}[data-state="progress"]`).waitFor({ timeout: 60_000 });
    await page.locator(byTestId('run-cancel')).click();
    await page.locator(byTestId('run-status'), { hasText: 'cancelled' }).waitFor({ timeout: 60_000 });
    const epochsAtCancel = await page.locator(byTestId('run-epoch')).textContent();
    await screenshot(page, 'e2e-cancelled');
    await page.locator(byTestId('run-resume')).click();
    await page.locator(byTestId('run-status'), { hasText: 'completed' }).waitFor({ timeout: 300_000 });
    const epochsAtEnd = await page.locator(byTestId('run-epoch')).textContent();
    assert.match(epochsAtEnd, /40\s*\/\s*40/, `resumed to the last epoch (was ${epochsAtCancel} at cancel)`);
  }));

  test('a run trained by another process (the CLI) shows live on its run page', shootOnFailure('e2e-cli-run', async () => {
    const call = (method, params) => callApi(server, method, params);
    const known = new Set((await call('list_runs')).map((run) => run.id));
    const demo = (await call('list_datasets')).find((d) => d.name.startsWith('emoji'));
    const cli = spawn(binary, ['train', '--dataset', demo.source_path, '--epochs', '20', '--eval-every', '5'], {
      env: { ...process.env, ALIGNSCOPE_HOME: home.dir },
      stdio: 'ignore',
    });
    const cliExit = new Promise((done) => cli.on('exit', done));
    let run;
    for (let tries = 0; !run && tries < 300; tries += 1) {
      run = (await call('list_runs')).find((r) => !known.has(r.id));
      if (!run) await new Promise((done) => setTimeout(done, 200));
    }
    assert.ok(run, 'the CLI registered its run');
    await page.goto(`${server.origin}/#/runs/${run.id}`);
    await page.locator(byTestId('run-page')).waitFor();
    // The page hears no events from the other process: it must still follow the run to
    // its end (so it must not have been over when the page opened).
    const epochText = () => page.locator(byTestId('run-epoch')).textContent();
    const firstEpochs = await epochText();
    assert.doesNotMatch(firstEpochs, /20\s*\/\s*20/, 'the page opened while the run was going');
    await page.locator(byTestId('run-status'), { hasText: 'completed' }).waitFor({ timeout: 300_000 });
    assert.equal(await cliExit, 0, 'the CLI run ended well');
    assert.match(await epochText(), /20\s*\/\s*20/, `from ${firstEpochs}`);
    await screenshot(page, 'e2e-cli-run');
  }));

  test('import a folder of image files: a progress bar while they are encoded, then remove the dataset', shootOnFailure('e2e-import-images', async () => {
    // The demo's pictures in our format without feature files; one byte added to each
    // picture (still decodable) so that none is in the cache the demo build filled.
    const folder = join(home.dir, 'emoji-pictures');
    const demoDir = join(home.dir, 'demo', 'emoji-en-zh-first40');
    const convert = spawn(binary, ['dataset', 'convert', demoDir, '--to', folder, '--without-image-features'], {
      stdio: 'ignore',
    });
    assert.equal(await new Promise((done) => convert.on('exit', done)), 0, 'convert ran');
    for (const side of ['left', 'right']) {
      const images = join(folder, side, 'images');
      for (const file of readdirSync(images)) appendFileSync(join(images, file), Buffer.from([0]));
    }
    await page.goto(`${server.origin}/#/`);
    await page.locator(byTestId('import-path')).fill(folder);
    await page.locator(byTestId('import-name')).fill('emoji pictures');
    await page.locator(byTestId('import-submit')).click();
    await page.locator(byTestId('image-encoding-progress')).waitFor({ timeout: 60_000 });
    await page.locator(byTestId('image-encoding-count')).waitFor({ timeout: 60_000 });
    await screenshot(page, 'e2e-import-images-progress');
    const done = page.locator(byTestId('image-encoding-done'));
    await done.waitFor({ timeout: 300_000 });
    const text = await done.textContent();
    assert.match(text, /Image features for \d+ left and\s+\d+ right entities/, text);
    assert.doesNotMatch(text, /for 0 left/, text);
    // Where it ran: the CPU by default on a machine without a GPU, so no device chooser.
    assert.match(text, /on cpu\./, text);
    assert.equal(await page.locator(byTestId('image-encoding-device-choice')).count(), 0);
    // Then the attribute statements and names are embedded, with their own panel.
    const textDone = page.locator(byTestId('text-encoding-done'));
    await textDone.waitFor({ timeout: 300_000 });
    await screenshot(page, 'e2e-import-text-done');
    const embedded = await textDone.textContent();
    const counts = /attribute statements of\s+[\d,]+\s+left and\s+[\d,]+\s+right entities/;
    assert.match(embedded, counts, embedded);
    assert.doesNotMatch(embedded, /of\s+0\s+left/, embedded);
    const dataset = (await callApi(server, 'list_datasets')).find((d) => d.name === 'emoji pictures');
    for (const side of ['left', 'right']) {
      const graph = dataset.statistics[side];
      assert.equal(graph.entities_with_image_features, graph.entities_with_image_files, side);
      assert.ok(graph.entities_with_attribute_text_features > 0, side);
    }

    // Remove it from its page, after the confirmation.
    await page.goto(`${server.origin}/#/datasets/${dataset.id}`);
    await page.locator(byTestId('dataset-remove')).click();
    await page.locator(byTestId('dataset-remove-confirm')).waitFor();
    await screenshot(page, 'e2e-remove-confirm');
    await page.locator(byTestId('dataset-remove-yes')).click();
    await page.locator(byTestId('datasets-table')).waitFor();
    const listed = (await callApi(server, 'list_datasets')).map((d) => d.id);
    assert.ok(!listed.includes(dataset.id), `dataset ${dataset.id} is still listed`);
    assert.equal(
      await page.locator(byTestId('dataset-row'), { hasText: 'emoji pictures' }).count(),
      0,
      'the home table still shows the removed dataset',
    );
  }));

  test('no errors in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
