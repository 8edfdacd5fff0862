/**
 * The console's pages in headless Chromium (playwright-core), against the whole system in this process. What
 * an operator sees: an execution followed live until the flaky vendor's Vend is marked retried ×2 on the graph
 * with the path taken coloured, a state's details on selecting it (by mouse or keyboard), the list's reasons
 * (a payment waiting for a decision, with why and a link to decide) and search, and the stop and redrive
 * buttons working from the page.
 *
 * Screenshots go to OPS_CONSOLE_SCREENSHOTS (a folder), or the system's temporary folder.
 * Skipped when no Chromium is installed (`apt-get install chromium`, or set CHROMIUM_PATH).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStateMachineCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { FastifyInstance } from 'fastify';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findChromium } from '../frontend-api/testing/browser.ts';
import {
  CARDS,
  type ConsoleSystem,
  FINISH_TIMEOUT_MS,
  METERS,
  startConsoleSystem,
} from './testing/console-system.ts';

const CHROMIUM = findChromium();
const TEST_TIMEOUT_MS = 120_000;
const SCREENSHOTS = process.env.OPS_CONSOLE_SCREENSHOTS ?? join(tmpdir(), 'ops-console-screenshots');

let env: ConsoleSystem;
let readOnly: FastifyInstance;
let acting: FastifyInstance;
let browser: Browser;

const title = CHROMIUM
  ? 'the console’s pages in Chromium'
  : 'the console’s pages in Chromium (SKIPPED: no Chromium found; apt-get install chromium, or set CHROMIUM_PATH)';

describe.skipIf(!CHROMIUM)(title, () => {
  beforeAll(async () => {
    env = await startConsoleSystem();
    readOnly = await env.buildConsole();
    acting = await env.buildConsole({ actionsEnabled: true });
    await readOnly.listen({ port: 0, host: '127.0.0.1' });
    await acting.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM! });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  let context: BrowserContext | undefined;
  afterEach(async () => {
    await context?.close();
    context = undefined;
  });

  function baseUrl(app: FastifyInstance): string {
    const address = app.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  /** A fresh tab, collecting what the page's console complains about. */
  async function openTab(): Promise<{ page: Page; complaints: string[] }> {
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        complaints.push(`${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => complaints.push(`uncaught: ${error.message}`));
    return { page, complaints };
  }

  function node(page: Page, state: string): Locator {
    return page.locator(`#graph a.node[data-state="${state}"]`);
  }

  /** The rendered text a person reads (not the DOM property). */
  function textOf(locator: Locator): Promise<string> {
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text an operator reads.
    return locator.innerText();
  }

  it(
    'follows the flaky-vendor execution live: Vend ends marked retried ×2, the path taken coloured, its details on selecting it',
    async () => {
      // Prepare: a card the gateway takes 2 s to charge, so the execution still runs when the page opens (the
      // Vend retries' waits alone are jittered, FULL, and can all but vanish).
      const { executionArn } = await env.pay({ meterId: METERS.flaky, paymentToken: 'tok_slow' });
      const { page, complaints } = await openTab();

      // Act: open the page while the execution runs, and wait on what it shows, without reloading.
      await page.goto(`${baseUrl(readOnly)}/executions/${encodeURIComponent(executionArn)}`);
      const openedRunning = await page.locator('.execution').getAttribute('data-running');
      await expect
        .poll(() => node(page, 'Vend').getAttribute('data-status'), { timeout: FINISH_TIMEOUT_MS })
        .toBe('retried');
      await expect
        .poll(() => page.locator('.execution').getAttribute('data-running'), { timeout: FINISH_TIMEOUT_MS })
        .toBe('false');

      // Assess: it was running when opened, and the page kept up by itself.
      expect(openedRunning).toBe('true');
      expect(await textOf(page.locator('#facts .badge-status'))).toBe('Succeeded');
      // An SVG node is read by its label; its drawn text says the same.
      expect(await node(page, 'Vend').getAttribute('aria-label')).toBe('Vend, Task: ↻ retried ×2');
      expect(await node(page, 'Vend').locator('.node-status').textContent()).toBe('↻ retried ×2');
      expect(await node(page, 'Vend').locator('.badge').textContent()).toBe('×2');
      expect(await node(page, 'Charge').getAttribute('data-status')).toBe('succeeded');
      expect(await node(page, 'Vended').getAttribute('data-status')).toBe('succeeded');
      expect(await node(page, 'RecordVendFailed').getAttribute('data-status')).toBe('not-reached');
      const taken = page.locator('#graph .edge.taken');
      expect(await taken.count()).toBeGreaterThanOrEqual(8);
      expect(
        await page.locator('#graph .edge.taken[data-from="Vend"][data-to="NotifyCustomerVended"]').count(),
      ).toBe(1);
      expect(
        await page.locator('#graph .edge.taken[data-from="Vend"][data-to="RecordVendFailed"]').count(),
      ).toBe(0);

      // Act: select Vend with the mouse.
      await node(page, 'Vend').click();

      // Assess
      const panel = page.locator('#state-panel');
      const shown = await textOf(panel);
      expect(shown).toContain('Vend');
      expect(shown).toContain('retried ×2');
      expect(shown).toContain('VendorUnavailable');
      expect(shown).toMatch(/"utrn": "\d{20}"/);
      expect(await panel.locator('ol.attempts li').count()).toBe(3);
      expect(page.url()).toMatch(/#state-Vend$/);
      await page.screenshot({ path: join(SCREENSHOTS, 'execution-flaky-vendor.png'), fullPage: true });
      await node(page, 'Vend').screenshot({
        path: join(SCREENSHOTS, 'execution-flaky-vendor-vend-node.png'),
      });

      // Act: select Charge from the keyboard.
      await node(page, 'Charge').focus();
      await page.keyboard.press('Enter');

      // Assess
      await expect.poll(() => textOf(panel)).toContain('Charge');
      expect(await textOf(panel)).toContain('✓ succeeded');
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'lists executions with the real reason each failed or waits for a decision, and finds one by its payment id',
    async () => {
      // Prepare: a rejected vend waits for an operator's decision; a declined charge ends.
      const rejected = await env.pay({ meterId: METERS.notForThisDevice });
      const declined = await env.pay({ meterId: METERS.vends, paymentToken: CARDS.declined });
      await Promise.all([
        env.waitUntilAwaitingDecision(rejected.executionArn),
        env.waitUntilFinished(declined.executionArn),
      ]);
      const { page, complaints } = await openTab();

      // Act
      await page.goto(`${baseUrl(readOnly)}/`);
      await page.getByRole('link', { name: 'PaymentToVend', exact: true }).click();
      const byStatus = page.getByRole('navigation', { name: 'Executions by status' });
      await byStatus.getByRole('link', { name: 'Running' }).click();

      // Assess: the open payment, with why it is open and a link to decide on it.
      const rows = page.locator('table.executions tbody tr');
      const rejectedRow = rows.filter({ hasText: rejected.paymentId });
      await rejectedRow.waitFor();
      expect(await textOf(rejectedRow)).toContain('VendRejected: NOT_FOR_THIS_DEVICE');
      expect(await textOf(rejectedRow)).toContain('Waiting for an operator decision');
      expect(
        await rejectedRow
          .getByRole('link', { name: `decide on payment ${rejected.paymentId}` })
          .getAttribute('href'),
      ).toBe(`/payments/${rejected.paymentId}`);
      await page.screenshot({ path: join(SCREENSHOTS, 'executions-awaiting-decision.png'), fullPage: true });

      // Act
      await byStatus.getByRole('link', { name: 'Failed' }).click();

      // Assess
      await rows.filter({ hasText: declined.paymentId }).waitFor();
      expect(await textOf(rows.filter({ hasText: declined.paymentId }))).toContain('Card declined');
      expect(await rows.filter({ hasText: rejected.paymentId }).count()).toBe(0);
      await page.screenshot({ path: join(SCREENSHOTS, 'executions-failed.png'), fullPage: true });

      // Act: search by the payment id, and open it.
      await page.getByLabel('Status', { exact: true }).selectOption('');
      await page.getByLabel('Name (payment id)').fill(rejected.paymentId);
      await page.getByRole('button', { name: 'Search' }).click();

      // Assess
      await expect.poll(() => rows.count()).toBe(1);
      await rows.getByRole('link', { name: rejected.paymentId, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: rejected.paymentId }).waitFor();
      const facts = await textOf(page.locator('#facts'));
      expect(facts).toContain('VendRejected');
      expect(facts).toContain('NOT_FOR_THIS_DEVICE');
      expect(facts).toMatch(/Now in\s+AwaitDecision/i);
      expect(await page.locator('#facts a[data-payment-link]').getAttribute('href')).toBe(
        `/payments/${rejected.paymentId}`,
      );

      // Assess: while it waits, the page's refreshes leave what did not change where it is, so a click on the
      // payment link is never lost to a swap of the facts under the pointer.
      const pageUrl = page.url();
      let refreshes = 0;
      page.on('response', (response) => {
        if (response.url() === pageUrl) refreshes += 1;
      });
      await page
        .locator('#facts')
        .evaluate((facts) => facts.setAttribute('data-seen', 'before the refreshes'));
      await expect.poll(() => refreshes, { timeout: FINISH_TIMEOUT_MS }).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#facts').getAttribute('data-seen')).toBe('before the refreshes');
      expect(await node(page, 'Vend').getAttribute('data-status')).toBe('caught');
      expect(await node(page, 'AwaitDecision').getAttribute('data-status')).toBe('running');
      expect(
        await page
          .locator('#graph .edge.taken[data-from="NotifyCustomerVendFailed"][data-to="AwaitDecision"]')
          .count(),
      ).toBe(1);
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'stops a running execution and redrives it from its page, when actions are enabled',
    async () => {
      // Prepare: an execution that waits an hour.
      const { stateMachineArn } = await env.sfn.send(
        new CreateStateMachineCommand({
          name: 'OpsConsolePageWaiter',
          definition: JSON.stringify({
            StartAt: 'WaitAnHour',
            States: { WaitAnHour: { Type: 'Wait', Seconds: 3600, End: true } },
          }),
          roleArn: 'arn:aws:iam::000000000000:role/test',
        }),
      );
      const { executionArn } = await env.sfn.send(
        new StartExecutionCommand({ stateMachineArn, name: 'waiting-on-a-page', input: '{}' }),
      );
      const { page, complaints } = await openTab();
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(`${baseUrl(acting)}/executions/${encodeURIComponent(executionArn!)}`);
      expect(await node(page, 'WaitAnHour').getAttribute('data-status')).toBe('running');

      // Act
      await page.getByRole('button', { name: 'Stop execution' }).click();

      // Assess
      await expect
        .poll(() => textOf(page.locator('#facts .badge-status')), { timeout: FINISH_TIMEOUT_MS })
        .toBe('Aborted');
      expect(await node(page, 'WaitAnHour').getAttribute('data-status')).toBe('aborted');

      // Act
      await page.getByRole('button', { name: 'Redrive execution' }).click();

      // Assess
      await expect
        .poll(() => textOf(page.locator('#facts .badge-status')), { timeout: FINISH_TIMEOUT_MS })
        .toBe('Running');
      expect(await textOf(page.locator('#facts'))).toMatch(/Redrives\s+1/i);
      expect(complaints).toEqual([]);
      await env.sfn.send(new StopExecutionCommand({ executionArn }));
    },
    TEST_TIMEOUT_MS,
  );
});
