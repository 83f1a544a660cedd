// The console in a real Chromium (playwright-core, Debian's chromium) against a STAND-IN for
// the control plane (./stand-in-control-plane.ts): real HTTP, a real WebSocket and a real
// shell in a pty, the control plane's routes and JSON, but no real identity provider. The
// end-to-end test against the real server replaces the stand-in with it; these selectors are
// the ones docs/console.md lists.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { ReviewView } from '../../src/policy/review/types.ts';
import { ensureConsoleBuilt } from '../../scripts/build-console.ts';
import {
  type StandInControlPlane,
  type StandInUser,
  type StandInWorkspace,
  startStandInControlPlane,
} from './stand-in-control-plane.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = new URL('../../tmp/', import.meta.url).pathname;

const ALICE: StandInUser = {
  id: 'alice@example.com',
  displayName: 'Alice Example',
  groups: ['developers', 'reviewers', 'platform-admins'],
  admin: true,
  reviewer: true,
};

function workspaces(): StandInWorkspace[] {
  const now = Date.now();
  return [
    {
      id: 'ws-alice-1',
      owner: ALICE.id,
      profile: 'python-dev',
      provider: 'local',
      state: 'running',
      stateVersion: 3,
      createdAt: now,
      updatedAt: now,
      connected: true,
    },
    {
      id: 'ws-bob-1',
      owner: 'bob@example.com',
      profile: 'node-dev',
      provider: 'local',
      state: 'stopped',
      stateVersion: 2,
      createdAt: now,
      updatedAt: now,
      connected: false,
    },
  ];
}

function review(id: string, overrides: Partial<ReviewView> = {}): ReviewView {
  return {
    id,
    status: 'pending',
    requester: 'bob@example.com',
    workspaceId: 'ws-bob-1',
    sessionId: 'agent-session-1',
    harness: 'claude-code',
    blueprint: 'node-dev@3',
    tool: 'github/create_pull_request',
    action: 'mcp_call',
    resource: 'github/create_pull_request',
    arguments: { repo: 'acme/widgets', title: 'Bump deps', token: '[REDACTED]' },
    digest: 'sha256:' + 'ab'.repeat(32),
    ruleIds: ['mcp.github.create_pull_request.review'],
    reviewers: ['group:reviewers'],
    minApprovals: 1,
    onTimeout: 'deny',
    createdAt: new Date(Date.now() - 120_000).toISOString(),
    expiresAt: new Date(Date.now() + 4 * 3600_000).toISOString(),
    decidedAt: null,
    decidedBy: null,
    decisionReason: null,
    timedOut: false,
    consumedAt: null,
    approvals: [],
    ...overrides,
  };
}

/** CSP violations and uncaught errors the page reported. */
interface PageProblems {
  readonly errors: string[];
}

async function watch(page: Page): Promise<PageProblems> {
  const problems: PageProblems = { errors: [] };
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A signed-out /api/me answers 401 by design; Chromium logs that as a failed load.
    if (message.type() === 'error' && !message.text().includes('status of 401'))
      problems.errors.push(`console: ${message.text()}`);
  });
  await page.exposeFunction('reportCspViolation', (text: string) => problems.errors.push(`csp: ${text}`));
  // Runs in the page (a string: this file is type-checked without the DOM library).
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) =>
      window.reportCspViolation(event.violatedDirective + ' blocked ' + event.blockedURI));`,
  });
  return problems;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
}

describe('web console in Chromium against a stand-in for the control plane', () => {
  let browser: Browser;
  let standIn: StandInControlPlane;
  let shellHome: string;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is required at ${CHROMIUM}: run scripts/setup.sh`);
    const { outDir } = await ensureConsoleBuilt();
    shellHome = mkdtempSync(join(tmpdir(), 'paddock-console-shell-'));
    standIn = await startStandInControlPlane({
      consoleDir: outDir,
      user: ALICE,
      workspaces: workspaces(),
      reviews: [
        review('rev-1'),
        review('rev-xss', {
          tool: '<img src=x onerror="window.pwned=1">',
          arguments: { body: '<script>window.pwned=2</script>' },
        }),
        review('rev-own', { requester: ALICE.id, workspaceId: 'ws-alice-1', tool: 'Bash' }),
      ],
      shell: ['bash', '--norc', '--noprofile'],
      shellCwd: shellHome,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
  });

  after(async () => {
    await browser?.close();
    await standIn?.close();
    if (shellHome) rmSync(shellHome, { recursive: true, force: true });
  });

  it('signs in, runs a command in a terminal, plays it back, approves a review and revokes as admin', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = await watch(page);

    // Signed out: the sign-in page, whose button goes through /auth/login.
    await page.goto(standIn.url + '/');
    await page.getByTestId('sign-in-page').waitFor();
    await screenshot(page, 'sign-in');
    await page.getByTestId('sign-in').click();

    // My workspace.
    await page.getByTestId('workspace-page').waitFor();
    assert.equal(await page.getByTestId('current-user').textContent(), 'Alice Example');
    assert.equal(await page.getByTestId('workspace-id').textContent(), 'ws-alice-1');
    assert.equal(await page.getByTestId('workspace-state').getAttribute('data-state'), 'running');
    await page.getByTestId('activity-row').first().waitFor();

    // A terminal: a real shell behind a real WebSocket.
    await page.getByTestId('terminal-open').click();
    await page.locator('[data-testid="terminal-status"][data-state="open"]').waitFor();
    await page.getByTestId('terminal').click();
    await page.keyboard.type('echo hello-$((6*7))');
    await page.keyboard.press('Enter');
    await page.getByTestId('terminal').getByText('hello-42', { exact: false }).first().waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps xterm's rows as lines.
    const screen = await page.getByTestId('terminal').innerText();
    assert.match(screen, /echo hello-\$\(\(6\*7\)\)/, 'the typed command is echoed');
    assert.match(screen, /^hello-42\s*$/m, 'the shell printed the result on its own line');
    await screenshot(page, 'workspace-terminal');

    // Closing ends the shell; the recording appears and plays back with its output.
    await page.getByTestId('terminal-close').click();
    await page.getByTestId('terminal-panel').waitFor({ state: 'detached' });
    await page.getByTestId('nav-reviews').click();
    await page.getByTestId('reviews-page').waitFor();
    await page.getByTestId('nav-workspace').click();
    await page.getByTestId('recording-row').first().waitFor();
    await page.getByTestId('recording-open').first().click();
    await page
      .locator('[data-testid="recording-progress"][data-state="finished"]')
      .waitFor({ timeout: 15_000 });
    assert.match((await page.getByTestId('recording-terminal').textContent()) ?? '', /hello-42/);
    await screenshot(page, 'workspace-recording');
    // Restart clears the screen and plays it again from the start (once, not on top).
    await page.getByTestId('recording-restart').click();
    await page
      .locator('[data-testid="recording-progress"][data-state="finished"]')
      .waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300);
    const replayed = (await page.getByTestId('recording-terminal').textContent()) ?? '';
    assert.equal(replayed.split('hello-42').length - 1, 1, `one hello-42 after a restart: ${replayed}`);

    // The reviewer inbox: the pending list, the detail, a reason is required, then approve.
    await page.getByTestId('nav-reviews').click();
    await page.locator('[data-testid="review-row"][data-id="rev-1"]').waitFor();
    assert.equal(await page.getByTestId('review-row').count(), 3);
    assert.match(
      (await page.locator('[data-testid="review-row"][data-id="rev-own"]').textContent()) ?? '',
      /your request/,
    );
    await screenshot(page, 'reviews');
    await page.locator('[data-testid="review-row"][data-id="rev-1"] [data-testid="review-open"]').click();
    await page.getByTestId('review-detail-page').waitFor();
    assert.equal(await page.getByTestId('review-tool').textContent(), 'github/create_pull_request');
    assert.match((await page.getByTestId('review-arguments').textContent()) ?? '', /"token": "\[REDACTED\]"/);
    assert.equal(await page.getByTestId('review-digest').textContent(), 'sha256:' + 'ab'.repeat(32));
    assert.match((await page.getByTestId('review-rule').textContent()) ?? '', /create_pull_request\.review/);

    await page.getByTestId('review-approve').click();
    await page.getByTestId('reason-missing').waitFor();
    assert.equal(
      standIn.changes.filter((change) => change.path.startsWith('/api/reviews/')).length,
      0,
      'nothing is sent without a reason',
    );
    await page.getByTestId('review-reason').fill('Checked the diff with Bob; fine to open.');
    await screenshot(page, 'review-detail');
    await page.getByTestId('review-approve').click();
    await page.getByTestId('review-result').waitFor();
    // The status re-renders from the server's answer, a moment after the result shows.
    await page.locator('[data-testid="review-status"][data-state="approved"]').waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId('review-status').getAttribute('data-state'), 'approved');

    const approval = standIn.changes.find((change) => change.path === '/api/reviews/rev-1/approve');
    assert.ok(approval, 'the stand-in received the approval');
    assert.deepEqual(approval.body, { reason: 'Checked the diff with Bob; fine to open.' });
    assert.equal(approval.userId, ALICE.id);
    assert.equal(approval.origin, standIn.url, 'the browser sent its Origin');
    assert.match(approval.contentType ?? '', /^application\/json/);
    assert.equal(standIn.reviews.find((candidate) => candidate.id === 'rev-1')?.status, 'approved');

    // Back to the inbox: the approved request is gone from the pending list.
    await page.getByTestId('reviews-back').click();
    await page.locator('[data-testid="review-row"][data-id="rev-xss"]').waitFor();
    await page.locator('[data-testid="review-row"][data-id="rev-1"]').waitFor({ state: 'detached' });

    // Admin: every workspace; revoke asks first, then reaches the server.
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-page').waitFor();
    assert.equal(await page.getByTestId('admin-workspace-row').count(), 2);
    await page.getByTestId('admin-session-row').first().waitFor();
    const bobRow = page.locator('[data-testid="admin-workspace-row"][data-id="ws-bob-1"]');
    await bobRow.getByTestId('admin-workspace-revoke').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await screenshot(page, 'admin-confirm');
    await page.getByTestId('confirm-cancel').click();
    assert.equal(standIn.changes.filter((change) => change.path.endsWith('/actions/revoke')).length, 0);
    await bobRow.getByTestId('admin-workspace-revoke').click();
    await page.getByTestId('confirm-accept').click();
    await bobRow.locator('[data-testid="admin-workspace-state"][data-state="revoked"]').waitFor();
    assert.ok(standIn.changes.some((change) => change.path === '/api/workspaces/ws-bob-1/actions/revoke'));
    await screenshot(page, 'admin');

    // Sign out: the session cookie is gone and the sign-in page is back.
    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-in-page').waitFor();

    assert.deepEqual(problems.errors, [], 'no CSP violation, page error or console error');
    assert.deepEqual(standIn.refused, [], 'every change the console sent passed the Origin and JSON checks');
    await context.close();
  });

  it('resizes the remote terminal with the window and reports how the shell ended', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(standIn.url + '/auth/login?return=%2F');
    await page.getByTestId('terminal-open').click();
    await page.locator('[data-testid="terminal-status"][data-state="open"]').waitFor();
    const before = standIn.resizes.length;
    await page.setViewportSize({ width: 800, height: 900 });
    await until(() => standIn.resizes.length > before, 'a resize message reaches the stand-in');
    await page.getByTestId('terminal').click();
    // The shell sees the new width (the resize reached the pty), then exits with a code.
    await page.keyboard.type('echo cols=$(tput cols); exit 3');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="terminal-status"][data-state="ended"]').waitFor();
    assert.equal(await page.getByTestId('terminal-status').textContent(), 'The shell exited with code 3.');
    const last = standIn.resizes.at(-1);
    assert.ok(last && last.cols < 100, `narrower after the window shrank: ${JSON.stringify(last)}`);
    assert.match((await page.getByTestId('terminal').textContent()) ?? '', new RegExp(`cols=${last.cols}`));
    await context.close();
  });

  it('shows hostile review content as text and never runs it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = await watch(page);
    await page.goto(standIn.url + '/auth/login?return=' + encodeURIComponent('/reviews/rev-xss'));
    await page.getByTestId('review-detail-page').waitFor();
    assert.equal(await page.getByTestId('review-tool').textContent(), '<img src=x onerror="window.pwned=1">');
    assert.match(
      (await page.getByTestId('review-arguments').textContent()) ?? '',
      /<script>window.pwned=2<\/script>/,
    );
    assert.equal(await page.evaluate('window.pwned'), undefined);
    assert.equal(await page.locator('#root img').count(), 0, 'no element was created from the content');
    assert.deepEqual(problems.errors, []);
    await context.close();
  });

  it("offers no approve or deny on the reviewer's own request", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(standIn.url + '/auth/login?return=' + encodeURIComponent('/reviews/rev-own'));
    await page.getByTestId('review-own-request').waitFor();
    assert.equal(await page.getByTestId('review-approve').count(), 0);
    assert.equal(await page.getByTestId('review-deny').count(), 0);
    await context.close();
  });

  it('sends a signed-out visitor to sign in and back to the page asked for', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(standIn.url + '/admin');
    await page.getByTestId('sign-in-page').waitFor();
    assert.equal(await page.getByTestId('sign-in').getAttribute('href'), '/auth/login?return=%2Fadmin');
    await page.getByTestId('sign-in').click();
    await page.getByTestId('admin-page').waitFor();
    await context.close();
  });

  it('explains a failed sign-in and does not carry the failure into the next attempt', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(standIn.url + '/?login_error=user_disabled');
    await page.getByTestId('login-error').waitFor();
    assert.match((await page.getByTestId('login-error').textContent()) ?? '', /disabled/);
    assert.equal(await page.getByTestId('sign-in').getAttribute('href'), '/auth/login?return=%2F');
    // An unknown code (or markup in it) gets the generic text, never the code itself.
    await page.goto(standIn.url + '/?login_error=' + encodeURIComponent('<b>x</b>'));
    assert.match((await page.getByTestId('login-error').textContent()) ?? '', /did not sign you in/);
    await context.close();
  });

  it('returns to the sign-in page when the session is revoked while the console is open', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(standIn.url + '/auth/login?return=%2Freviews');
    await page.getByTestId('reviews-page').waitFor();
    // Another admin ends this session (the stand-in's session list is the server's truth).
    const cookies = await context.cookies();
    const sessionId = cookies.find((cookie) => cookie.name === 'paddock_session')?.value;
    assert.ok(sessionId);
    const response = await fetch(`${standIn.url}/api/sessions/${sessionId}`, {
      method: 'DELETE',
      headers: { cookie: `paddock_session=${sessionId}`, origin: standIn.url },
    });
    assert.equal(response.status, 204);
    // The inbox polls every few seconds; its next request answers 401.
    await page.getByTestId('session-ended').waitFor({ timeout: 10_000 });
    await page.getByTestId('sign-in-page').waitFor();
    await context.close();
  });
});
