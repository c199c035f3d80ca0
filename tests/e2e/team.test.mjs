// Review by a team against one `alignscope serve`: two reviewers in two browser contexts
// (each with its own reviewer identity), a second opinion that hides the first, Cohen's
// kappa on the run page against the hand count, adjudication that is final, the server
// killed hard right after an adjudication, and blind mode showing nothing of the model.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { callApi, launchBrowser, screenshot, startServer, tempHome, trainedDemoRun } from './harness.mjs';

const byTestId = (id) => `[data-testid="${id}"]`;

/** Ann's and Bob's verdicts on the same six pairs, as keys pressed. */
const ANN = ['a', 'a', 'a', 'a', 'r', 'u'];
const BOB = ['a', 'a', 'r', 'a', 'r', 'a'];
/** Hand count (rows Ann, columns Bob; accept, reject, unsure): [[3, 1, 0], [0, 1, 0],
 *  [1, 0, 0]]: p_o = 4/6; p_e = (4/6)(4/6) + (1/6)(2/6) + 0 = 1/2; kappa = 1/3. */
const HAND_KAPPA = (4 / 6 - 1 / 2) / (1 - 1 / 2);

/** The pair painted in the pair view, as [left, right]. */
async function shownPair(page) {
  const view = page.locator(`${byTestId('pair-view')}[data-shown]`);
  await view.waitFor({ timeout: 30_000 });
  return [await view.getAttribute('data-left'), await view.getAttribute('data-right')];
}

/** Presses `key` on the shown pair; resolves with that pair once another one (or the end
 *  of the queue) is painted. */
async function decideShown(page, key) {
  const pair = await shownPair(page);
  await page.keyboard.press(key);
  await page.waitForFunction(
    ([left, right]) => {
      if (document.querySelector('[data-testid="review-done"]')) return true;
      const view = document.querySelector('[data-testid="pair-view"]');
      return Boolean(view?.dataset.shown) && (view.dataset.left !== left || view.dataset.right !== right);
    },
    pair,
    { timeout: 30_000 },
  );
  return pair;
}

async function settled(page) {
  await page.locator(byTestId('review-saving')).waitFor({ state: 'detached', timeout: 30_000 });
}

async function chooseReviewer(page, name) {
  await page.locator(byTestId('reviewer-change')).click();
  await page.locator(byTestId('reviewer-input')).fill(name);
  await page.locator(byTestId('reviewer-save')).click();
  await page.locator(byTestId('reviewer-name'), { hasText: name }).waitFor();
}

describe('two reviewers, agreement, adjudication and blind mode against alignscope serve', () => {
  let home;
  let server;
  let browser;
  let ann;
  let bob;
  let run;
  /** The six pairs Ann decided, in order, as [left, right]. */
  let pairs = [];
  const consoleErrors = [];

  const open = async (page, hash) => {
    await page.goto(server.url);
    await page.goto(`${server.origin}/${hash}`);
  };

  before(async () => {
    home = tempHome('alignscope-team-');
    server = await startServer({ home: home.dir, demoLimit: 40 });
    browser = await launchBrowser();
    // Two browser contexts: two people with their own storage, one server.
    for (const name of ['ann', 'bob']) {
      const context = await browser.newContext({
        viewport: { width: 1360, height: 900 },
        reducedMotion: 'reduce',
        acceptDownloads: true,
      });
      const page = await context.newPage();
      page.on('console', (message) => {
        const expected = /Failed to load resource|net::ERR_CONNECTION_REFUSED|EventSource|status of 409/;
        if (message.type() === 'error' && !expected.test(message.text())) consoleErrors.push(message.text());
      });
      page.on('pageerror', (error) => consoleErrors.push(error.message));
      if (name === 'ann') ann = page;
      else bob = page;
    }
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    home?.remove();
  });

  test('a trained demo run', async () => {
    run = await trainedDemoRun(server, 2);
  });

  test('Ann reviews six pairs; an invalid ORCID iD is refused', async () => {
    await open(ann, `#/runs/${run.id}/review?strategy=random`);
    await ann.locator(byTestId('reviewer-change')).click();
    await ann.locator(byTestId('reviewer-input')).fill('0000-0002-1825-0098');
    await ann.locator(byTestId('reviewer-save')).click();
    await ann.getByRole('alert').filter({ hasText: 'should be 7' }).waitFor();
    // Typing in the field decides nothing: the shortcuts stay quiet there.
    await ann.locator(byTestId('reviewer-input')).fill('Ann');
    await ann.locator(byTestId('reviewer-save')).click();
    await ann.locator(byTestId('reviewer-name'), { hasText: 'Ann' }).waitFor();
    assert.equal((await callApi(server, 'decision_history', { dataset: run.dataset_id })).length, 0);
    for (const key of ANN) pairs.push(await decideShown(ann, key));
    await settled(ann);
    const rows = await callApi(server, 'decision_history', { dataset: run.dataset_id });
    assert.deepEqual(
      rows.map((r) => [r.author, r.left_key, r.right_key, r.verdict[0]]),
      pairs.map(([l, r], i) => ['Ann', l, r, ANN[i]]),
    );
  });

  test('Bob gives a second opinion without seeing Ann’s verdicts', async () => {
    await open(bob, `#/runs/${run.id}/review?strategy=random&scope=second_opinion`);
    await chooseReviewer(bob, 'Bob');
    const seen = [];
    for (const key of BOB) {
      const reason = await bob.locator(`${byTestId('review-current')} .reason`).textContent();
      assert.match(reason, /before you see theirs/);
      assert.equal(await bob.locator(byTestId('review-verdicts')).count(), 0, 'Ann’s verdicts are hidden');
      seen.push(await decideShown(bob, key));
    }
    await settled(bob);
    assert.deepEqual(seen, pairs, 'the pairs Ann decided, oldest first');
    // Once his verdict is in, Ann's is shown: the last pair is Bob's accept against her unsure.
    await bob
      .locator(byTestId('review-last-reveal'), { hasText: 'Ann said unsure — a disagreement' })
      .waitFor({ timeout: 30_000 });
    // Once his verdict is in, going back shows what the others said.
    await bob.keyboard.press('p');
    await bob.locator(byTestId('review-revealed'), { hasText: 'Ann' }).waitFor({ timeout: 30_000 });
    await screenshot(bob, 'e2e-team-second-opinion');
  });

  test('the run page shows Cohen’s kappa equal to the hand count', async () => {
    await bob.goto(`${server.origin}/#/runs/${run.id}`);
    const pair = bob.locator(byTestId('agreement-pair'));
    await pair.waitFor({ timeout: 30_000 });
    await pair.scrollIntoViewIfNeeded();
    const kappa = Number(await pair.getAttribute('data-kappa'));
    assert.ok(Math.abs(kappa - HAND_KAPPA) < 1e-9, `kappa ${kappa} against ${HAND_KAPPA}`);
    assert.equal((await bob.locator(byTestId('agreement-kappa')).textContent()).trim(), '0.333');
    assert.match(await bob.locator(byTestId('agreement-disputed')).textContent(), /^2 disputed/);
    await screenshot(bob, 'e2e-team-agreement');
  });

  test('Ann adjudicates: final, and a hard kill right after loses nothing', async () => {
    await open(ann, `#/runs/${run.id}/review?strategy=random&scope=disagreements`);
    const verdicts = ann.locator(byTestId('review-verdicts'));
    await verdicts.waitFor({ timeout: 30_000 });
    assert.match(await verdicts.textContent(), /Ann[\s\S]*accept[\s\S]*Bob[\s\S]*reject/);
    // The disputed pairs are the third (accept / reject) and the sixth (unsure / accept).
    assert.deepEqual(await decideShown(ann, 'a'), pairs[2]);
    await settled(ann);
    const [left, right] = pairs[2];
    const reviews = await callApi(server, 'pair_reviews', { dataset: run.dataset_id, left, right });
    assert.equal(reviews.adjudication?.reviewer, 'Ann');
    assert.equal(reviews.adjudication?.verdict, 'accept');
    await assert.rejects(
      callApi(server, 'record_decision', {
        dataset: run.dataset_id,
        left,
        right,
        verdict: 'reject',
        author: 'Bob',
      }),
      /409[\s\S]*final/,
      'an adjudicated pair takes no more reviews',
    );
    // The second adjudication, then the server is killed as soon as it is stored.
    assert.deepEqual(await decideShown(ann, 'r'), pairs[5]);
    await settled(ann);
    await server.kill();
    server = await startServer({ home: home.dir, demoLimit: 40 });
    const history = await callApi(server, 'decision_history', { dataset: run.dataset_id });
    assert.equal(history.length, 14, '6 + 6 reviews and 2 adjudications');
    assert.deepEqual(
      history.filter((r) => r.adjudication).map((r) => [r.left_key, r.verdict]),
      [
        [pairs[2][0], 'accept'],
        [pairs[5][0], 'reject'],
      ],
    );
    const agreement = await callApi(server, 'review_agreement', { dataset: run.dataset_id });
    assert.equal(agreement.disputed, 0);
    assert.equal(agreement.adjudicated, 2);
    await open(ann, `#/runs/${run.id}/review?strategy=random&scope=disagreements`);
    await ann.locator(byTestId('review-empty'), { hasText: 'No disagreements' }).waitFor({ timeout: 30_000 });
  });

  test('blind mode shows no score, rank, gold badge or breakdown', async () => {
    await open(bob, `#/runs/${run.id}/review?strategy=lowest_margin`);
    // The restarted server has another port, so another origin and storage: Bob says
    // who he is again (until then the data directory's reviewer, Ann, shows in the header).
    await bob.locator(byTestId('reviewer-name'), { hasText: 'Ann' }).waitFor();
    await chooseReviewer(bob, 'Bob');
    const summary = bob.locator(byTestId('pair-summary'));
    await bob.locator(`${byTestId('pair-view')}[data-shown]`).waitFor({ timeout: 30_000 });
    await summary.filter({ hasText: 'score' }).waitFor({ timeout: 30_000 });
    await bob.locator(byTestId('review-blind')).check();
    await bob.locator(byTestId('pair-blind')).waitFor({ timeout: 30_000 });
    await bob.locator(`${byTestId('pair-view')}[data-shown]`).waitFor({ timeout: 30_000 });
    assert.doesNotMatch(await summary.textContent(), /score|rank/);
    assert.equal(await bob.locator(byTestId('pair-gold')).count(), 0);
    assert.equal(await bob.locator(byTestId('score-breakdown')).count(), 0);
    assert.doesNotMatch(await bob.locator(byTestId('review-current')).textContent(), /margin \d/);
    await screenshot(bob, 'e2e-team-blind');
    // A blind decision is counted as such.
    await decideShown(bob, 'a');
    await settled(bob);
    const history = await callApi(server, 'decision_history', { dataset: run.dataset_id });
    assert.equal(history.at(-1).blind, true);
    assert.equal(history.at(-1).author, 'Bob');
    await bob.locator(byTestId('review-blind')).uncheck();
    await bob.locator(byTestId('pair-gold')).or(summary.filter({ hasText: 'score' })).first().waitFor();
  });

  test('an entity accepted with two partners shows in the conflicts queue, with the clash', async () => {
    // Bob accepts a second partner for the left entity of the first pair.
    const [left, right] = pairs[0];
    const other = pairs[1][1];
    await callApi(server, 'record_decision', {
      dataset: run.dataset_id,
      left,
      right: other,
      verdict: 'accept',
      author: 'Bob',
    });
    await open(bob, `#/runs/${run.id}/review?strategy=lowest_margin&scope=conflicts`);
    const related = bob.locator(byTestId('review-related'));
    await related.waitFor({ timeout: 30_000 });
    const shown = await shownPair(bob);
    assert.equal(shown[0], left);
    assert.ok([right, other].includes(shown[1]), `${shown} is one of the two partners`);
    const clash = shown[1] === right ? other : right;
    assert.match(await related.textContent(), new RegExp(`${left} ↔ ${clash}`));
    assert.match(await bob.locator(`${byTestId('review-current')} .reason`).textContent(), /one-to-one/);
    await screenshot(bob, 'e2e-team-conflict');
    // Rejecting the second partner settles that clash (the demo run's other accepted
    // pairs may clash among themselves: its predictions share candidates).
    const clashes = async () =>
      (await callApi(server, 'review_queue', { run: run.id, strategy: 'lowest_margin', scope: 'conflicts' }))
        .filter((i) => i.left.key === left)
        .map((i) => [i.right.key, i.related.some(([l, r]) => l === left && r === other)]);
    const before = await clashes();
    assert.ok(before.some(([r]) => r === other), 'the second partner is in the queue');
    assert.ok(before.some(([r, withOther]) => r === right && withOther), 'the first names the second');
    await callApi(server, 'record_decision', {
      dataset: run.dataset_id,
      left,
      right: other,
      verdict: 'reject',
      author: 'Bob',
    });
    const after = await clashes();
    assert.ok(!after.some(([r, withOther]) => r === other || withOther), JSON.stringify(after));
  });

  test('the keys are listed on "?" and can be rebound', async () => {
    await open(bob, `#/runs/${run.id}/review?strategy=lowest_margin`);
    await shownPair(bob);
    await bob.keyboard.press('?');
    const help = bob.locator(byTestId('shortcut-help'));
    await help.waitFor();
    assert.equal(await help.locator(byTestId('shortcut-key-accept')).textContent(), 'A');
    // A key another action has is refused; a free one is taken and stored.
    await help.locator(byTestId('shortcut-change-accept')).click();
    await bob.keyboard.press('r');
    await help.getByRole('alert').filter({ hasText: 'already the key for reject' }).waitFor();
    await help.locator(byTestId('shortcut-change-accept')).click();
    await bob.keyboard.press('y');
    await help.locator(byTestId('shortcut-key-accept'), { hasText: 'Y' }).waitFor();
    assert.deepEqual((await callApi(server, 'review_settings')).shortcuts, { accept: 'y' });
    await bob.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    // The old key does nothing now; the new one accepts.
    const before = (await callApi(server, 'decision_history', { dataset: run.dataset_id })).length;
    await bob.keyboard.press('a');
    await settled(bob);
    assert.equal((await callApi(server, 'decision_history', { dataset: run.dataset_id })).length, before);
    const [left, right] = await decideShown(bob, 'y');
    await settled(bob);
    const last = (await callApi(server, 'decision_history', { dataset: run.dataset_id })).at(-1);
    assert.deepEqual([last.left_key, last.right_key, last.verdict, last.author], [left, right, 'accept', 'Bob']);
    await screenshot(bob, 'e2e-team-keys');
    await bob.locator(byTestId('shortcut-open')).click();
    await help.locator(byTestId('shortcut-defaults')).click();
    await help.locator(byTestId('shortcut-key-accept'), { hasText: 'A' }).waitFor();
    await help.locator(byTestId('shortcut-close')).click();
    assert.deepEqual((await callApi(server, 'review_settings')).shortcuts, {});
  });

  test('the SSSOM download names the reviewers and carries the rejections', async () => {
    await bob.goto(`${server.origin}/#/runs/${run.id}`);
    const panel = bob.locator(byTestId('export-panel'));
    await panel.waitFor({ timeout: 30_000 });
    await panel.locator(byTestId('export-negatives')).check();
    const [download] = await Promise.all([
      bob.waitForEvent('download'),
      panel.locator(byTestId('export-button')).click(),
    ]);
    const text = readFileSync(await download.path(), 'utf8');
    const [columns, ...rows] = text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.split('\t'));
    const at = (row, name) => row[columns.indexOf(name)];
    const negated = rows.filter((r) => at(r, 'predicate_modifier') === 'Not');
    // Both rejected the fifth pair; Ann adjudicated the sixth to reject; Bob rejected the
    // second partner of the conflicts test.
    assert.deepEqual(negated.map((r) => at(r, 'author_label')).sort(), ['Ann', 'Ann|Bob', 'Bob']);
    const accepted = rows.filter((r) => at(r, 'predicate_modifier') === '');
    assert.ok(accepted.length >= 4, 'the agreed and adjudicated accepts');
    for (const row of rows) assert.match(at(row, 'mapping_date'), /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(consoleErrors, []);
  });

  test('calibrated confidence: a reliability diagram, then accept above p as one undoable step', async () => {
    // Carol reviews more pairs of the random order against the gold badge's truth.
    const queue = await callApi(server, 'review_queue', { run: run.id, strategy: 'random', limit: 12 });
    for (const item of queue) {
      const { candidates } = await callApi(server, 'candidates', { run: run.id, side: 'left', key: item.left.key });
      await callApi(server, 'record_decision', {
        dataset: run.dataset_id,
        left: item.left.key,
        right: item.right.key,
        verdict: candidates[0].is_true ? 'accept' : 'reject',
        run: run.id,
        strategy: 'random',
        author: 'Carol',
      });
    }
    // The run page was open already (the export): load it afresh.
    await bob.goto(`${server.origin}/#/runs/${run.id}`);
    await bob.reload();
    const panel = bob.locator(byTestId('calibration'));
    await panel.waitFor({ timeout: 30_000 });
    await panel.scrollIntoViewIfNeeded();
    assert.ok((await bob.locator(byTestId('reliability-bin')).count()) >= 1, 'reliability bins drawn');
    assert.ok(Number(await panel.getAttribute('data-ece')) >= 0);
    await bob.locator(byTestId('accept-threshold')).fill('0.3');
    const preview = bob.locator(byTestId('accept-preview'));
    await preview.waitFor();
    const count = Number((await preview.locator('b').first().textContent()).trim());
    const before = (await callApi(server, 'decision_history', { dataset: run.dataset_id })).length;
    assert.equal(before, (await callApi(server, 'decision_history', { dataset: run.dataset_id })).length);
    await screenshot(bob, 'e2e-team-calibration');
    if (count > 0) {
      await bob.locator(byTestId('accept-above')).click();
      await bob.locator(byTestId('accept-recorded')).waitFor();
      const after = await callApi(server, 'decision_history', { dataset: run.dataset_id });
      assert.equal(after.length, before + count, 'one decision per previewed pair');
      assert.ok(after.slice(before).every((r) => r.source === 'model' && r.batch && r.author === 'Bob'));
      await bob.locator(byTestId('accept-undo')).click();
      await bob.locator(byTestId('accept-recorded')).waitFor({ state: 'detached' });
      const undone = await callApi(server, 'decision_history', { dataset: run.dataset_id });
      assert.equal(undone.length, before + 2 * count, 'one undo row per accepted pair');
    }
    assert.deepEqual(consoleErrors, []);
  });
});
