// Issue 6, done when: the whole local system as `paddock up` starts it (store, audit log,
// control plane with the embedded IdP, console, channel, local provider, a supervisor for the
// demo workspace) driven by Debian's Chromium as a person would: sign in on the IdP's page,
// open a terminal into the sandboxed workspace and run a command there, and see it recorded.
// Nothing here is a stand-in.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../scripts/build-console.ts';
import { requireValidRepository } from '../../src/config/index.ts';
import {
  type LocalControlPlane,
  startLocalControlPlane,
} from '../../src/controlplane/local-control-plane.ts';

const CHROMIUM = '/usr/bin/chromium';
const CONFIG_DIR = resolve(import.meta.dirname, '../../examples/platform');
const SCREENSHOTS = resolve(import.meta.dirname, '../../tmp');

async function signIn(page: Page, origin: string, name: RegExp): Promise<void> {
  await page.goto(origin);
  await page.getByTestId('sign-in-page').waitFor();
  await page.getByTestId('sign-in').click();
  // The embedded development IdP's own page: pick a demo user.
  await page.getByRole('button', { name }).click();
  await page.getByTestId('current-user').waitFor();
}

/** The terminal's text, row by row (xterm renders rows as lines). */
async function screenText(page: Page): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps xterm's rows as lines.
  return page.getByTestId('terminal').innerText();
}

async function typeLine(page: Page, line: string): Promise<void> {
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

describe('paddock up, end to end in Chromium (real control plane, IdP, supervisor and sandbox)', () => {
  // Under /tmp: sandboxes must be able to traverse to the workspace's home (docs/workspaces.md).
  const dataDir = mkdtempSync('/tmp/paddock-e2e-');
  let plane: LocalControlPlane;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is required at ${CHROMIUM}: run scripts/setup.sh`);
    const { outDir } = await ensureConsoleBuilt();
    const { state } = await requireValidRepository(CONFIG_DIR);
    plane = await startLocalControlPlane({
      state,
      configDir: CONFIG_DIR,
      dataDir,
      port: 0,
      consoleDir: outDir,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await plane?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('Alice signs in, opens a terminal into her sandboxed workspace and runs a command', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    const origin = plane.server.publicOrigin;

    await signIn(page, origin, /Alice Engineer/);
    assert.equal(await page.getByTestId('current-user').textContent(), 'Alice Engineer');
    await page.getByTestId('workspace-page').waitFor();
    assert.equal(await page.getByTestId('workspace-id').textContent(), 'ws-alice');
    assert.equal(await page.getByTestId('workspace-state').getAttribute('data-state'), 'running');

    await page.getByTestId('terminal-open').click();
    await page.locator('[data-testid="terminal-status"][data-state="open"]').waitFor({ timeout: 20_000 });
    await page.getByTestId('terminal').click();
    // Inside the sandbox: the unprivileged agent user, its own home, no route but the gateway.
    await typeLine(page, 'echo "uid=$(id -u) home=$HOME sum=$((6*7))"');
    await page
      .getByTestId('terminal')
      .getByText('sum=42', { exact: false })
      .first()
      .waitFor({ timeout: 20_000 });
    const screen = await screenText(page);
    assert.match(screen, /^uid=(\d+) home=\/home\/agent sum=42\s*$/m);
    assert.notEqual(/^uid=(\d+)/m.exec(screen)?.[1], '0', 'the shell is not root');
    await page.screenshot({ path: join(SCREENSHOTS, 'e2e-terminal.png') });

    // Closing ends the shell; the recording is listed with its digest and plays back.
    await page.getByTestId('terminal-close').click();
    await page.getByTestId('terminal-panel').waitFor({ state: 'detached' });
    await page.reload();
    await page.getByTestId('recording-row').first().waitFor({ timeout: 15_000 });
    const listed = await page.evaluate(async () => {
      const answer = (await (await fetch('/api/recordings')).json()) as { recordings: { sha256?: string }[] };
      return answer.recordings;
    });
    assert.equal(listed.length, 1);
    assert.match(listed[0]?.sha256 ?? '', /^[0-9a-f]{64}$/, 'the recording is sealed with its SHA-256');
    await page.getByTestId('recording-open').first().click();
    await page.getByTestId('recording-player').waitFor();
    await page
      .locator('[data-testid="recording-progress"][data-state="finished"]')
      .waitFor({ timeout: 20_000 });
    await page.getByTestId('recording-player').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'e2e-recording.png') });
    await page.getByTestId('recording-terminal').getByText('sum=42', { exact: false }).first().waitFor();
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("a review-gated call in Alice's terminal waits until Bob approves it in the console, then goes through once", async () => {
    const alice = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const origin = plane.server.publicOrigin;
    await signIn(alice, origin, /Alice Engineer/);
    await alice.getByTestId('terminal-open').click();
    await alice.locator('[data-testid="terminal-status"][data-state="open"]').waitFor({ timeout: 20_000 });
    await alice.getByTestId('terminal').click();
    const write = '/etc/paddock-try POST https://api.github.com/repos/acme/app/pulls';
    await typeLine(alice, `${write}; echo "exit=$?"`);
    await alice
      .getByTestId('terminal')
      .getByText('exit=2', { exact: false })
      .first()
      .waitFor({ timeout: 20_000 });
    const held = /held for review (rv-[0-9a-f]+): waiting/.exec(await screenText(alice));
    assert.ok(held, 'the write is held for review, not run');
    const reviewId = held[1] as string;

    // Bob, a reviewer by IdP group, finds it in the console and approves it with a reason.
    const bob = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(bob, origin, /Bob Reviewer/);
    await bob.getByTestId('nav-reviews').click();
    const row = bob.locator(`[data-testid="review-row"][data-id="${reviewId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.getByTestId('review-open').click();
    await bob.getByTestId('review-detail-page').waitFor();
    assert.match((await bob.getByTestId('review-requester').textContent()) ?? '', /alice@example\.com/);
    await bob.getByTestId('review-reason').fill('A pull request on acme/app is fine.');
    await bob.getByTestId('review-approve').click();
    await bob.getByTestId('review-result').waitFor();
    await bob.screenshot({ path: join(SCREENSHOTS, 'e2e-review-approved.png') });

    // The identical call now goes through, once; the next one waits for a new review.
    await typeLine(alice, 'clear');
    await typeLine(alice, `${write}; echo "exit=$?"`);
    await alice
      .getByTestId('terminal')
      .getByText('exit=0', { exact: false })
      .first()
      .waitFor({ timeout: 20_000 });
    assert.match(await screenText(alice), /^allowed\s*$/m);
    await typeLine(alice, 'clear');
    await typeLine(alice, `${write}; echo "exit=$?"`);
    await alice
      .getByTestId('terminal')
      .getByText('exit=2', { exact: false })
      .first()
      .waitFor({ timeout: 20_000 });
    const again = /held for review (rv-[0-9a-f]+)/.exec(await screenText(alice));
    assert.ok(again && again[1] !== reviewId, 'a spent approval is not reused');
    await alice.screenshot({ path: join(SCREENSHOTS, 'e2e-review-terminal.png') });
    await alice.context().close();
    await bob.context().close();
  });

  it("Carol, signed in, cannot attach to Alice's workspace", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, plane.server.publicOrigin, /Carol Analyst/);
    const attempt = await page.evaluate(
      async (url) => {
        return new Promise<string>((resolveAttempt) => {
          const socket = new WebSocket(url);
          socket.onopen = () => resolveAttempt('open');
          socket.onerror = () => resolveAttempt('refused');
        });
      },
      `${plane.server.publicOrigin.replace('http', 'ws')}/api/workspaces/ws-alice/terminal?cols=80&rows=24`,
    );
    assert.equal(attempt, 'refused');
    const response = await page.evaluate(async () => (await fetch('/api/workspaces/ws-alice')).status);
    assert.equal(response, 403);
    await context.close();
  });
});
