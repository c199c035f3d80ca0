// The inspect → review → retrain → export loop end to end: the real `alignscope serve`
// (real SQLite, a real demo run) driven through headless Chromium by keyboard, with the
// server killed mid-review. On the real DBP15K zh_en pair (a one-epoch run trained by the
// CLI meanwhile) it measures how fast the pair view and the next queued pair paint.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
  trainedDemoRun,
  waitForRun,
} from './harness.mjs';

const zhEn = join(sharedDatasets, 'dbp15k', 'zh_en');
const haveShared = existsSync(join(zhEn, 'ent_ids_1'));
const byTestId = (id) => `[data-testid="${id}"]`;
const figures = {};

/** The pair the pair view shows now: `left\u0000right`, or null while none is painted. */
async function shownPair(page) {
  return page.evaluate(() => {
    const view = document.querySelector('[data-testid="pair-view"]');
    return view?.dataset.shown ? `${view.dataset.left}\u0000${view.dataset.right}` : null;
  });
}

/**
 * Presses `key` (a real key press) and resolves with the milliseconds, measured in the
 * page, from the keydown event to the moment a different pair than `previous` is painted
 * in the pair view (or `[data-testid="review-done"]` shows).
 */
async function pressForNextPair(page, key, previous) {
  await page.evaluate(() => {
    window.__keyAt = null;
    window.addEventListener('keydown', () => (window.__keyAt = performance.now()), { capture: true, once: true });
  });
  await page.keyboard.press(key);
  return page.evaluate(async (previous) => {
    const done = () => {
      if (document.querySelector('[data-testid="review-done"]')) return true;
      const view = document.querySelector('[data-testid="pair-view"]');
      return Boolean(view?.dataset.shown) && `${view.dataset.left}\u0000${view.dataset.right}` !== previous;
    };
    const started = performance.now();
    while (!done()) {
      if (performance.now() - started > 30_000) throw new Error('the next pair did not paint within 30 s');
      await new Promise((next) => requestAnimationFrame(next));
    }
    await new Promise((next) => requestAnimationFrame(() => requestAnimationFrame(next)));
    return performance.now() - window.__keyAt;
  }, previous);
}

/**
 * Clicks `selector` (index `index`) in the page; resolves with the milliseconds until the
 * pair view shows `right` painted (`pair`) and until its neighbourhood graph is drawn
 * (`graph`), both measured in the page.
 */
async function clickForPair(page, selector, index, right) {
  return page.evaluate(
    async ({ selector, index, right }) => {
      const start = performance.now();
      const until = async (ready, what) => {
        while (!ready()) {
          if (performance.now() - start > 30_000) throw new Error(`${what} of ${right} did not paint`);
          await new Promise((next) => requestAnimationFrame(next));
        }
        await new Promise((next) => requestAnimationFrame(() => requestAnimationFrame(next)));
        return performance.now() - start;
      };
      document.querySelectorAll(selector)[index].click();
      const view = () => document.querySelector('[data-testid="pair-view"]');
      const pair = await until(() => view()?.dataset.shown && view().dataset.right === right, 'pair view');
      const graph = await until(
        () => view()?.dataset.right === right && document.querySelector('[data-testid="pair-graph"][data-drawn]'),
        'graph',
      );
      return { pair, graph };
    },
    { selector, index, right },
  );
}

describe('inspect, review, retrain and export against alignscope serve', () => {
  let home;
  let server;
  let browser;
  let page;
  let demoRun;
  let zhEnTraining = null;
  let zhEnProcess = null;
  const consoleErrors = [];
  /** Every decision made through the UI: `left\u0000right` -> verdict. */
  const made = new Map();

  before(async () => {
    home = tempHome('alignscope-review-');
    server = await startServer({ home: home.dir, demoLimit: 40 });
    browser = await launchBrowser();
    page = await browser.newPage({
      viewport: { width: 1360, height: 900 },
      reducedMotion: 'reduce',
      acceptDownloads: true,
    });
    page.on('console', (message) => {
      // The killed server's connections fail while it is down; that is the point.
      const expected = /Failed to load resource|net::ERR_CONNECTION_REFUSED|EventSource/;
      if (message.type() === 'error' && !expected.test(message.text())) consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    if (haveShared) {
      // A one-epoch zh_en run, trained by another process while the demo loop runs.
      const cli = spawn(binary, ['train', '--dataset', zhEn, '--epochs', '1', '--json'], {
        env: { ...process.env, ALIGNSCOPE_HOME: home.dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      zhEnProcess = cli;
      let out = '';
      cli.stdout.on('data', (chunk) => (out += chunk));
      cli.stderr.on('data', (chunk) => (out += chunk));
      zhEnTraining = new Promise((done, failed) =>
        cli.on('exit', (code) => {
          if (code !== 0) return failed(new Error(`zh_en training exited with ${code}:\n${out.slice(-2000)}`));
          done(JSON.parse(out.trim().split('\n').at(-1)).run_id);
        }),
      );
      zhEnTraining.catch(() => {});
    }
  });

  after(async () => {
    if (zhEnProcess && zhEnProcess.exitCode === null) zhEnProcess.kill('SIGKILL');
    await browser?.close();
    await server?.stop();
    home?.remove();
    reportFigures('review-latencies', figures);
  });

  test('a trained demo run to work on', async () => {
    demoRun = await trainedDemoRun(server, 4);
    await page.goto(server.url);
  });

  test('inspector: a query, its candidates and weights, the pair side by side with its breakdown', async () => {
    await page.goto(`${server.origin}/#/runs/${demoRun.id}/inspect`);
    const list = page.locator(byTestId('query-list'));
    await list.waitFor({ timeout: 30_000 });
    await list.locator('li button').first().click();
    await page.locator(byTestId('candidate-table')).waitFor();
    assert.ok((await page.locator(byTestId('candidate-row')).count()) >= 5, 'ranked candidates listed');
    await page.locator(`${byTestId('pair-view')}[data-shown]`).waitFor();
    const breakdown = page.locator(byTestId('score-breakdown'));
    await breakdown.waitFor();
    assert.ok(Number(await breakdown.getAttribute('data-steps')) >= 2, 'one waterfall step per modality');
    assert.equal(await breakdown.getAttribute('data-exact'), 'true', 'the run exports the exact parts');
    const residual = Math.abs(Number(await breakdown.getAttribute('data-residual')));
    assert.ok(residual < 1e-4, `the parts and CSLS's correction add up to the score (off by ${residual})`);
    assert.ok((await breakdown.locator('g.occlusion').count()) >= 1, 'occlusion bars for the mixed modalities');
    await page.locator(byTestId('modality-weights')).waitFor();
    await page.locator(byTestId('pair-attributes')).or(page.getByText('Neither entity has attributes')).first().waitFor();
    await page.locator(byTestId('pair-graph')).waitFor({ timeout: 30_000 });
    await page.locator(`${byTestId('pair-graph')} canvas`).first().waitFor({ timeout: 30_000 });
    // Another candidate by click: the pair view follows.
    const second = page.locator(byTestId('candidate-row')).nth(1);
    const rightLabel = (await second.locator('td').nth(1).textContent()).trim();
    await second.click();
    await page.locator(byTestId('pair-right-label'), { hasText: rightLabel }).waitFor();
    await screenshot(page, 'e2e-inspector');
  });

  test('review 20 pairs by keyboard, the server killed mid-review, one undone', async () => {
    await page.goto(`${server.origin}/#/runs/${demoRun.id}/review?strategy=random`);
    await page.locator(`${byTestId('pair-view')}[data-shown]`).waitFor({ timeout: 30_000 });
    const nextTimes = [];
    const reviewSome = async (count) => {
      for (let i = 0; i < count; i += 1) {
        const pair = await shownPair(page);
        assert.ok(pair, 'a pair is shown');
        const gold = (await page.locator(byTestId('pair-gold')).count()) > 0;
        const verdict = made.size % 5 === 4 ? 'unsure' : gold ? 'accept' : 'reject';
        made.set(pair, verdict);
        nextTimes.push(await pressForNextPair(page, verdict[0], pair));
      }
      await page.locator(byTestId('review-saving')).waitFor({ state: 'detached', timeout: 30_000 });
    };
    const standing = async () =>
      new Map(
        (await callApi(server, 'standing_decisions', { dataset: demoRun.dataset_id })).map((d) => [
          `${d.left_key}\u0000${d.right_key}`,
          d.verdict,
        ]),
      );

    await reviewSome(10);
    // Killed hard mid-review, then started again on the same data folder.
    await server.kill();
    server = await startServer({ home: home.dir, demoLimit: 40 });
    assert.deepEqual(await standing(), made, 'every decision made before the kill is stored');
    await page.goto(server.url);
    await page.goto(`${server.origin}/#/runs/${demoRun.id}/review?strategy=random`);
    await page.locator(byTestId('review-decided'), { hasText: '10' }).waitFor({ timeout: 30_000 });
    await page.locator(`${byTestId('pair-view')}[data-shown]`).waitFor({ timeout: 30_000 });
    assert.ok(!made.has(await shownPair(page)), 'the queue goes on with undecided pairs');

    await reviewSome(10);
    assert.equal(made.size, 20);
    assert.deepEqual(await standing(), made);
    await screenshot(page, 'e2e-review');

    // Undo: the last decision is taken back and its pair is shown again, unmarked.
    const last = [...made.keys()].at(-1);
    await page.keyboard.press('z');
    await page.waitForFunction(
      (last) => {
        const view = document.querySelector('[data-testid="pair-view"]');
        return view?.dataset.shown && `${view.dataset.left}\u0000${view.dataset.right}` === last;
      },
      last,
      { timeout: 30_000 },
    );
    await page.locator(byTestId('review-saving')).waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await page.locator(byTestId('review-mark')).count(), 0, 'the undone pair is unmarked');
    made.delete(last);
    assert.deepEqual(await standing(), made, 'the undo is stored');

    // The precision estimate: the share accepted among the accepted and rejected samples.
    const verdicts = [...made.values()];
    const accepted = verdicts.filter((v) => v === 'accept').length;
    const rejected = verdicts.filter((v) => v === 'reject').length;
    const progress = await callApi(server, 'review_progress', { run: demoRun.id });
    assert.equal(progress.random_sample.accepted, accepted);
    assert.equal(progress.random_sample.rejected, rejected);
    const expected = `${((100 * accepted) / (accepted + rejected)).toFixed(2)}%`;
    await page.locator(byTestId('precision-estimate'), { hasText: expected }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'e2e-review-undone');

    // Decided pairs are marked on the dataset explorer's entity cards too, on both sides.
    const [pairKey, verdict] = [...made.entries()][0];
    const [left, right] = pairKey.split('\u0000');
    for (const [side, key, other] of [['left', left, right], ['right', right, left]]) {
      await page.goto(`${server.origin}/#/datasets/${demoRun.dataset_id}/entity/${side}/${encodeURIComponent(key)}`);
      const marks = page.locator(byTestId('entity-decisions'));
      await marks.waitFor({ timeout: 30_000 });
      const text = await marks.textContent();
      assert.ok(text.includes(verdict) && text.includes(other), `${side} card shows ${verdict} ↔ ${other}: ${text}`);
    }
    figures['demo: key press to next pair painted (median of 20)'] = median(nextTimes);
    figures['demo: key press to next pair painted (slowest)'] = Math.max(...nextTimes);
  });

  test('export SSSOM from the run page and validate it', async () => {
    await page.goto(`${server.origin}/#/runs/${demoRun.id}`);
    const panel = page.locator(byTestId('export-panel'));
    await panel.waitFor({ timeout: 30_000 });
    await panel.locator(byTestId('export-format')).selectOption('sssom');
    await panel.locator(byTestId('export-with-predictions')).check();
    await panel.locator('input[aria-label="Score threshold"]').fill('0.3');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      panel.locator(byTestId('export-button')).click(),
    ]);
    const text = readFileSync(await download.path(), 'utf8');
    const expected = await callApi(server, 'export_pairs', {
      dataset: demoRun.dataset_id,
      format: 'sssom',
      run: demoRun.id,
      min_score: 0.3,
    });
    assert.equal(text, expected, 'the download is the API export');

    const header = text.split('\n').filter((l) => l.startsWith('#'));
    const yaml = header.map((l) => l.slice(2)).join('\n');
    for (const key of ['curie_map:', 'mapping_set_id:', 'license:']) assert.ok(yaml.includes(key), `${key} in the header`);
    const prefixes = new Set([...yaml.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]));
    const [columns, ...rows] = text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split('\t'));
    for (const c of ['subject_id', 'predicate_id', 'object_id', 'mapping_justification', 'confidence']) {
      assert.ok(columns.includes(c), `column ${c}`);
    }
    const at = (row, name) => row[columns.indexOf(name)];
    const justifications = { manual: 0, model: 0 };
    for (const row of rows) {
      assert.equal(row.length, columns.length);
      assert.equal(at(row, 'predicate_id'), 'owl:sameAs');
      for (const id of [at(row, 'subject_id'), at(row, 'object_id')]) {
        assert.ok(prefixes.has(id.split(':')[0]), `${id}'s prefix is in the curie map`);
      }
      const justification = at(row, 'mapping_justification');
      if (justification === 'semapv:ManualMappingCuration') justifications.manual += 1;
      else {
        assert.equal(justification, 'semapv:SemanticSimilarityThresholdMatching');
        assert.ok(Number(at(row, 'confidence')) >= 0.3, 'predictions above the threshold only');
        justifications.model += 1;
      }
    }
    const accepted = [...made.values()].filter((v) => v === 'accept').length;
    assert.equal(justifications.manual, accepted, 'every accepted pair, as a manual mapping');
    await screenshot(page, 'e2e-export');
  });

  test('train again with the decisions: a new run, before and after, the changed pairs', async () => {
    const seeds = await callApi(server, 'seeds_for_new_run', { run: demoRun.id });
    await page.locator(byTestId('retrain-with-decisions')).click();
    await page.waitForFunction((old) => !location.hash.endsWith(`/runs/${old}`), demoRun.id);
    const newId = Number(/#\/runs\/(\d+)/.exec(page.url())[1]);
    assert.notEqual(newId, demoRun.id);
    const retrained = await waitForRun(server, newId);
    assert.equal(retrained.status, 'completed', retrained.error ?? '');
    assert.equal(retrained.seeds_from, demoRun.id);
    assert.equal(retrained.config.split.train, seeds.pairs.length, 'trained on the original seeds plus accepted pairs');
    const beforeAfter = page.locator(byTestId('before-after'));
    await beforeAfter.locator('table').waitFor({ timeout: 60_000 });
    await screenshot(page, 'e2e-retrained');
    await beforeAfter.locator(byTestId('before-after-compare')).click();
    await page.locator(byTestId('compare-metrics')).waitFor({ timeout: 30_000 });
    const flips = page.locator(byTestId('flip'));
    if ((await flips.count()) > 0) {
      await flips.first().click();
      await page.locator(`${byTestId('compare-pair')} ${byTestId('pair-view')}[data-shown]`).waitFor();
    }
    await screenshot(page, 'e2e-compare');

    // The disagreement order against the new run: pairs whose top-1 the two runs differ on.
    await page.goto(`${server.origin}/#/runs/${demoRun.id}/review?strategy=disagreement&other=${newId}`);
    // The other run is picked in the select once the runs are listed.
    await page.waitForFunction(
      (id) => document.querySelector('[data-testid="review-other"]')?.value === String(id),
      newId,
      { timeout: 30_000 },
    );
    const queue = await callApi(server, 'review_queue', {
      run: demoRun.id,
      strategy: 'disagreement',
      other: newId,
    });
    if (queue.length > 0) {
      await page.locator(byTestId('review-current'), { hasText: 'the other run does not agree' }).waitFor();
    } else {
      await page.getByText('Nothing to review in this order').waitFor();
    }
  });

  test('corpus views: both similarities, H@1 by degree and modality, hubs, the projection with hover', async () => {
    await page.goto(`${server.origin}/#/runs/${demoRun.id}/analysis`);
    const metrics = page.locator(byTestId('similarity-metrics'));
    await metrics.waitFor({ timeout: 30_000 });
    assert.equal(await metrics.locator('tbody tr').count(), 4, 'cosine and CSLS, both directions');
    await page.locator(`${byTestId('hits-by-degree')} canvas`).first().waitFor();
    assert.equal(await page.locator(`${byTestId('hits-by-modality')} tbody tr`).count(), 3);
    const plot = page.locator(byTestId('projection-plot'));
    await plot.waitFor({ timeout: 30_000 });
    const points = Number(await plot.getAttribute('data-points'));
    const run = await callApi(server, 'get_run', { id: demoRun.id });
    assert.equal(points, 2 * run.config.split.test, 'every test entity of both graphs');
    // Hover over the plot until a point is under the pointer: its label and image show.
    // The plot sits below the fold: the pointer reaches only what is in the viewport.
    await plot.scrollIntoViewIfNeeded();
    const box = await plot.boundingBox();
    // The whole plot on a 10-pixel grid (a point answers within 6 pixels), rows from the
    // middle outwards: points may sit anywhere.
    const step = 10;
    const rows = [];
    for (let d = 0; d <= box.height / 2; d += step) rows.push(...(d === 0 ? [0] : [-d, d]));
    let tip = false;
    for (const dy of rows) {
      for (let x = step / 2; !tip && x < box.width; x += step) {
        await page.mouse.move(box.x + x, box.y + box.height / 2 + dy);
        tip = (await page.locator(byTestId('projection-tip')).count()) > 0;
      }
      if (tip) break;
    }
    assert.ok(tip, 'hovering the plot finds a point');
    assert.ok((await page.locator(`${byTestId('projection-tip')} b`).textContent()).length > 0);
    await screenshot(page, 'e2e-analysis');
  });

  test('one-to-one decoding on the analysis page, then the review order and the export that use it', async () => {
    await page.goto(`${server.origin}/#/runs/${demoRun.id}/analysis`);
    const panel = page.locator(byTestId('decoding'));
    await page.locator(`${byTestId('decoding')}[data-state="idle"]`).waitFor({ timeout: 30_000 });
    await panel.locator(byTestId('decode-start')).click();
    await page.locator(`${byTestId('decoding')}[data-state="done"]`).waitFor({ timeout: 180_000 });
    const rows = panel.locator(`${byTestId('decoding-table')} tbody tr`);
    assert.equal(await rows.count(), 4, 'ranking, greedy, Hungarian and Sinkhorn');
    const saved = await callApi(server, 'decoding', { run: demoRun.id });
    assert.equal(saved.state, 'done');
    const hungarian = saved.result.outcomes.find((o) => o.method === 'hungarian');
    assert.ok(hungarian.one_to_one && hungarian.paired === saved.result.test_pairs, 'Hungarian pairs every test entity');
    const shown = await panel.locator(byTestId('decoding-hits-hungarian')).textContent();
    assert.equal(shown, `${(hungarian.hits_at_1 * 100).toFixed(2)}%`, 'the table shows the saved H@1');
    await panel.locator(`${byTestId('decoding-curve')} canvas`).first().waitFor();
    await screenshot(page, 'e2e-decoding');

    // The review order it feeds: least confident Sinkhorn pairs first.
    await panel.locator(byTestId('decoding-review')).click();
    const current = page.locator(byTestId('review-current'));
    await current.waitFor({ timeout: 30_000 });
    assert.match(await current.locator('.reason').textContent(), /Sinkhorn .*one-to-one pair of confidence/);
    assert.equal(await page.locator(byTestId('review-strategy')).inputValue(), 'one_to_one');

    // The export of its pairs with the decoder's confidence.
    await page.goto(`${server.origin}/#/runs/${demoRun.id}`);
    const exportPanel = page.locator(byTestId('export-panel'));
    await exportPanel.locator(byTestId('export-decoded')).check({ timeout: 30_000 });
    await exportPanel.locator(byTestId('export-decoder')).selectOption('sinkhorn');
    await exportPanel.locator('input[aria-label="Confidence threshold"]').fill('0');
    await exportPanel.locator(byTestId('export-format')).selectOption('tsv');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      exportPanel.locator(byTestId('export-button')).click(),
    ]);
    const text = readFileSync(await download.path(), 'utf8');
    const expected = await callApi(server, 'export_pairs', {
      dataset: demoRun.dataset_id,
      format: 'tsv',
      run: demoRun.id,
      min_score: 0,
      decoder: 'sinkhorn',
    });
    assert.equal(text, expected, 'the download is the API export');
    const rights = text
      .trim()
      .split('\n')
      .slice(1)
      .filter((l) => l.includes('SemanticSimilarity'))
      .map((l) => l.split('\t')[1]);
    assert.ok(rights.length > 0, 'model pairs exported');
    assert.equal(new Set(rights).size, rights.length, 'each right entity once');
  });

  test('zh_en: click to pair view and key to next pair', { skip: !haveShared && 'shared datasets absent' }, async () => {
    const run = await zhEnTraining;
    await page.goto(`${server.origin}/#/runs/${run}/inspect`);
    await page.locator(`${byTestId('query-list')} li button`).first().click();
    await page.locator(`${byTestId('pair-view')}[data-shown]`).waitFor({ timeout: 60_000 });
    const clicks = [];
    const graphs = [];
    for (let i = 1; i <= 5; i += 1) {
      const row = page.locator(byTestId('candidate-row')).nth(i);
      const right = await page.evaluate(
        (i) => document.querySelectorAll('[data-testid="candidate-row"]')[i].dataset.key,
        i,
      );
      await row.hover();
      await page.waitForTimeout(150);
      const { pair, graph } = await clickForPair(page, byTestId('candidate-row'), i, right);
      clicks.push(pair);
      graphs.push(graph);
    }
    figures['zh_en: candidate click to pair view painted (median of 5)'] = median(clicks);
    figures['zh_en: candidate click to both neighbourhoods drawn (median of 5)'] = median(graphs);
    await screenshot(page, 'e2e-inspector-zh_en');

    await page.goto(`${server.origin}/#/runs/${run}/review?strategy=lowest_margin`);
    await page.locator(`${byTestId('pair-view')}[data-shown]`).waitFor({ timeout: 60_000 });
    const nexts = [];
    for (let i = 0; i < 10; i += 1) {
      // A reviewer reads the pair for a moment: the queue prefetches the next ones meanwhile.
      await page.waitForTimeout(300);
      nexts.push(await pressForNextPair(page, 's', await shownPair(page)));
    }
    figures['zh_en: key press to next queued pair painted (median of 10)'] = median(nexts);
    figures['zh_en: key press to next queued pair painted (slowest)'] = Math.max(...nexts);
    // A reviewer who also looks at the neighbourhoods: the key comes once they are drawn.
    const afterGraph = [];
    for (let i = 0; i < 5; i += 1) {
      await page.locator(`${byTestId('pair-graph')}[data-drawn]`).waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1000);
      afterGraph.push(await pressForNextPair(page, 's', await shownPair(page)));
    }
    figures['zh_en: key press to next pair, neighbourhoods looked at first (median of 5)'] =
      median(afterGraph);
    await screenshot(page, 'e2e-review-zh_en');
  });

  test('no errors in the browser console', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
