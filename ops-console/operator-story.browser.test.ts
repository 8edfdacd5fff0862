/**
 * The operator's story (issue #11), in headless Chromium (playwright-core) against the whole system in this
 * process, with the customer page served by the front-end and a console that may act:
 * - a customer tops up a meter whose vendor is down and reads that their meter could not be credited; an
 *   operator finds the payment in Follow-up, opens it, sees why (VendorUnavailable) and the path its execution
 *   took (Vend retried, then caught, waiting in AwaitDecision), ends the vendor's outage (the simulator's own
 *   control), re-vends with a reason, and the customer's page, kept open all along, shows the UTRN; the audit
 *   trail has the decision, who took it and why;
 * - another vendor-down payment is refunded from its page, and the customer's page says so;
 * - the graph of a flaky vendor's execution shows Vend retried twice.
 *
 * Nothing waits on a clock: each step waits for what a person would see (Playwright's auto-waiting, with
 * generous timeouts for the vend retries). The three stories run side by side, each with its own payment,
 * meter and tabs, as operators and customers would. Screenshots go to OPS_CONSOLE_SCREENSHOTS (a folder), or
 * the system's temporary folder. Skipped when no Chromium is installed (`apt-get install chromium`, or set
 * CHROMIUM_PATH).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { findChromium } from '../frontend-api/testing/browser.ts';
import { testMpan } from '../simulators/mpan.ts';
import {
  type ConsoleSystem,
  FINISH_TIMEOUT_MS,
  freshVendorDownMeter,
  MAX_VEND_ATTEMPTS,
  startConsoleSystem,
} from './testing/console-system.ts';

const CHROMIUM = findChromium();
const TEST_TIMEOUT_MS = 180_000;
/** How long a step may take to show: the vend's retries run in seconds here, but the machine may be busy. */
const SHOWN_TIMEOUT_MS = FINISH_TIMEOUT_MS;
const SCREENSHOTS = process.env.OPS_CONSOLE_SCREENSHOTS ?? join(tmpdir(), 'ops-console-screenshots');
const OPERATOR = 'story-operator';

const title = CHROMIUM
  ? 'the operator’s story in Chromium'
  : 'the operator’s story in Chromium (SKIPPED: no Chromium found; apt-get install chromium, or set CHROMIUM_PATH)';

describe.skipIf(!CHROMIUM).concurrent(title, () => {
  let env: ConsoleSystem;
  let consoleUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    env = await startConsoleSystem({ serveCustomerPage: true });
    ({ url: consoleUrl } = await env.serveConsole({
      actionsEnabled: true,
      database: env.system.consoleDatabase,
      operator: OPERATOR,
      alertsQueueName: 'ops-console-alerts-operator-story',
    }));
    browser = await chromium.launch({ executablePath: CHROMIUM! });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, TEST_TIMEOUT_MS);

  // A story's tabs stay open until the browser closes: the stories run side by side, so none may close them
  // for the others.
  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });

  /** A tab of its own (its own sessionStorage), collecting what the page's console complains about. */
  async function openTab(): Promise<{ page: Page; complaints: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        complaints.push(`${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => complaints.push(`uncaught: ${error.message}`));
    // The console asks before a decision is sent; the operator says yes.
    page.on('dialog', (dialog) => void dialog.accept());
    return { page, complaints };
  }

  /** The rendered text a person reads (not the DOM property). */
  function textOf(locator: Locator): Promise<string> {
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a person reads.
    return locator.innerText();
  }

  /** The customer tops up `meterId` with £20 on a Visa card; answers the payment reference shown. */
  async function topUp(page: Page, meterId: string): Promise<string> {
    await page.goto(`${env.customerPageUrl}/`);
    await page.getByLabel('Meter number').fill(meterId);
    await page.getByLabel('Amount in pounds').fill('20');
    await page.getByLabel('Card').selectOption('tok_visa');
    await page.getByRole('button', { name: 'Pay and top up' }).click();
    const reference = page.locator('#reference .reference');
    await reference.waitFor({ state: 'visible', timeout: SHOWN_TIMEOUT_MS });
    return textOf(reference);
  }

  /** Waits until the customer's page shows this outcome. */
  async function outcomeShown(page: Page, heading: string): Promise<string> {
    await page
      .locator('#outcome')
      .getByRole('heading', { name: heading })
      .waitFor({ state: 'visible', timeout: SHOWN_TIMEOUT_MS });
    return textOf(page.locator('#outcome'));
  }

  function executionArnOf(paymentId: string): string {
    return `${env.system.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;
  }

  function graphNode(page: Page, state: string): Locator {
    return page.locator(`#graph a.node[data-state="${state}"]`);
  }

  function decisionForm(page: Page, label: string | RegExp): Locator {
    return page.locator('form.decision').filter({ has: page.getByRole('heading', { name: label }) });
  }

  it(
    'a vendor-down payment is found in follow-up, understood, re-vended with a reason, and the customer sees the UTRN',
    async ({ expect }) => {
      // Prepare: a meter whose vendor is down until told otherwise.
      const meterId = freshVendorDownMeter();
      const customer = await openTab();
      const operator = await openTab();

      // Act: the customer tops up.
      const paymentId = await topUp(customer.page, meterId);

      // Assess: they are told their meter could not be credited.
      const told = await outcomeShown(customer.page, 'We took your payment but could not credit your meter');
      expect(told).toContain('Your card was charged £20.00');
      expect(told).toContain(paymentId);
      await customer.page.screenshot({ path: join(SCREENSHOTS, 'story-customer-vend-failed.png') });

      // Act: the operator opens Follow-up, once the payment waits for a decision (the list is read when opened).
      await env.waitUntilAwaitingDecision(executionArnOf(paymentId));
      const { page } = operator;
      await page.goto(`${consoleUrl}/`);
      await page
        .getByRole('navigation', { name: 'Sections' })
        .getByRole('link', { name: 'Follow-up' })
        .click();

      // Assess: the payment is there, open because its vend failed.
      const row = page.locator('table.open-payments tbody tr').filter({ hasText: paymentId });
      await row.waitFor();
      expect(await textOf(row)).toContain('Vend failed: charged, not credited');
      expect(await textOf(row)).toContain(meterId);
      await page.screenshot({ path: join(SCREENSHOTS, 'story-follow-up.png'), fullPage: true });

      // Act: open it.
      await row.getByRole('link', { name: paymentId }).click();

      // Assess: why it failed, every attempt, what the customer was told, and what can end it.
      await page.getByRole('heading', { level: 1, name: paymentId }).waitFor();
      await page.getByRole('heading', { name: 'Open: waiting for a decision' }).waitFor();
      const vends = page.locator('table.vends tbody tr');
      expect(await vends.count()).toBe(MAX_VEND_ATTEMPTS);
      for (const vend of await vends.all()) expect(await textOf(vend)).toContain('VendorUnavailable');
      expect(await textOf(page.locator('table.timeline tr[data-event="vend_failed"]'))).toContain(
        'VendorUnavailable',
      );
      for (const label of ['Re-vend', 'Record a UTRN', 'Refund £20.00']) {
        await page.getByRole('button', { name: label }).waitFor();
      }
      expect(await textOf(page.locator('#audit-heading + *'))).toContain('No decision has been taken');

      // Act: follow it to its execution.
      await page.locator('.facts').getByRole('link', { name: paymentId }).click();

      // Assess: waiting for a decision because the vendor was unavailable; Vend retried, then caught.
      await page.getByRole('heading', { level: 1, name: paymentId }).waitFor();
      const facts = await textOf(page.locator('#facts'));
      expect(facts).toContain('Waiting for an operator decision');
      expect(facts).toMatch(/VendorUnavailable/);
      expect(facts).toMatch(/Now in\s+AwaitDecision/i);
      const retries = MAX_VEND_ATTEMPTS - 1;
      expect(await graphNode(page, 'Vend').getAttribute('data-status')).toBe('caught');
      expect(await graphNode(page, 'Vend').locator('.badge').textContent()).toBe(`×${retries}`);
      expect(await graphNode(page, 'Vend').getAttribute('aria-label')).toContain('caught: VendorUnavailable');
      expect(await graphNode(page, 'AwaitDecision').getAttribute('data-status')).toBe('running');
      expect(
        await page.locator('#graph .edge.taken[data-from="Vend"][data-to="RecordVendFailed"]').count(),
      ).toBe(1);
      await graphNode(page, 'Vend').click();
      expect(await page.locator('#state-panel ol.attempts li').count()).toBe(retries + 1);
      await page.screenshot({ path: join(SCREENSHOTS, 'story-execution-waiting.png'), fullPage: true });

      // Act: the vendor's outage ends (the simulator's own control), and the operator re-vends.
      const ended = await fetch(`${env.system.simulators.vendorUrl}/simulator/outages/${meterId}/end`, {
        method: 'POST',
      });
      expect(ended.status).toBe(200);
      await page.locator('#facts a[data-payment-link]').click();
      await page.getByRole('heading', { name: 'Open: waiting for a decision' }).waitFor();
      const revend = decisionForm(page, 'Re-vend');
      await revend.getByLabel('Why (kept in the audit trail)').fill('the vendor says the outage is over');
      await revend.getByRole('button', { name: 'Re-vend' }).click();

      // Assess: the decision was handed over.
      await page.getByRole('status').filter({ hasText: 'was handed to the execution' }).waitFor();

      // Assess: the customer's page, never reloaded, shows the UTRN.
      const done = await outcomeShown(customer.page, 'Your top-up is done');
      expect(done).toContain(paymentId);
      const utrn = (await textOf(customer.page.locator('#outcome .utrn'))).replaceAll(' ', '');
      expect(utrn).toMatch(/^\d{20}$/);
      expect(customer.complaints).toEqual([]);
      await customer.page.screenshot({ path: join(SCREENSHOTS, 'story-customer-vended.png') });

      // Assess: the payment is vended with that UTRN, and the audit trail has who decided what and why.
      await page.reload();
      await page.getByRole('heading', { level: 1, name: paymentId }).waitFor();
      expect(await textOf(page.locator('h1 .badge-payment'))).toBe('Vended');
      expect(await textOf(page.locator('.facts code.utrn'))).toBe(utrn);
      const audit = page.locator('table.audit tbody tr');
      expect(await audit.count()).toBe(1);
      const decided = await textOf(audit);
      expect(decided).toContain('Re-vend');
      expect(decided).toContain(OPERATOR);
      expect(decided).toContain('the vendor says the outage is over');
      await page.screenshot({ path: join(SCREENSHOTS, 'story-payment-revended.png'), fullPage: true });

      // Assess: the path went from the decision back to Vend, which vended.
      await page.locator('.facts').getByRole('link', { name: paymentId }).click();
      await page.getByRole('heading', { level: 1, name: paymentId }).waitFor();
      await expect
        .poll(() => textOf(page.locator('#facts .badge-status')), { timeout: SHOWN_TIMEOUT_MS })
        .toBe('Succeeded');
      for (const [from, to] of [
        ['AwaitDecision', 'RecordDecision'],
        ['Decision', 'VendAgain'],
        ['VendAgain', 'Vend'],
        ['Vend', 'NotifyCustomerVended'],
      ]) {
        expect(
          await page.locator(`#graph .edge.taken[data-from="${from}"][data-to="${to}"]`).count(),
          `${from} to ${to}`,
        ).toBe(1);
      }
      expect(operator.complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'another vendor-down payment is refunded from its page, and the customer’s page says so',
    async ({ expect }) => {
      // Prepare
      const meterId = freshVendorDownMeter();
      const customer = await openTab();
      const operator = await openTab();
      const paymentId = await topUp(customer.page, meterId);
      await outcomeShown(customer.page, 'We took your payment but could not credit your meter');
      await env.waitUntilAwaitingDecision(executionArnOf(paymentId));
      const { page } = operator;
      await page.goto(`${consoleUrl}/payments?meterId=${meterId}`);
      await page.locator('main').getByRole('link', { name: paymentId }).click();
      await page.getByRole('heading', { name: 'Open: waiting for a decision' }).waitFor();

      // Act
      const refund = decisionForm(page, 'Refund');
      await refund
        .getByLabel('Why (kept in the audit trail)')
        .fill('the customer asked for their money back');
      await refund.getByRole('button', { name: 'Refund £20.00' }).click();
      await page.getByRole('status').filter({ hasText: 'was handed to the execution' }).waitFor();

      // Assess: the customer's page, kept open, says the payment was refunded.
      const told = await outcomeShown(customer.page, 'Your payment has been refunded');
      expect(told).toContain('We have refunded £20.00 to your card');
      expect(customer.complaints).toEqual([]);
      await customer.page.screenshot({ path: join(SCREENSHOTS, 'story-customer-refunded.png') });

      // Assess: the payment is refunded, and the audit trail has the decision.
      await page.reload();
      await page.getByRole('heading', { level: 1, name: paymentId }).waitFor();
      expect(await textOf(page.locator('h1 .badge-payment'))).toBe('Refunded');
      const decided = await textOf(page.locator('table.audit tbody tr'));
      expect(decided).toContain('Refund');
      expect(decided).toContain(OPERATOR);
      expect(decided).toContain('the customer asked for their money back');
      expect(operator.complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'the graph of a flaky vendor’s execution shows Vend retried twice',
    async ({ expect }) => {
      // Prepare: the vendor fails twice for this meter, then vends.
      const customer = await openTab();
      const paymentId = await topUp(customer.page, testMpan('01', 2));
      await outcomeShown(customer.page, 'Your top-up is done');
      const { page, complaints } = await openTab();

      // Act: find its execution by the payment id.
      await page.goto(`${consoleUrl}/`);
      await page.getByRole('link', { name: 'PaymentToVend', exact: true }).click();
      await page.getByLabel('Name (payment id)').fill(paymentId);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.locator('table.executions').getByRole('link', { name: paymentId, exact: true }).click();
      await page.getByRole('heading', { level: 1, name: paymentId }).waitFor();
      await expect
        .poll(() => textOf(page.locator('#facts .badge-status')), { timeout: SHOWN_TIMEOUT_MS })
        .toBe('Succeeded');

      // Assess
      const vend = graphNode(page, 'Vend');
      expect(await vend.getAttribute('data-status')).toBe('retried');
      expect(await vend.locator('.badge').textContent()).toBe('×2');
      expect(await vend.getAttribute('aria-label')).toBe('Vend, Task: ↻ retried ×2');
      expect(
        await page.locator('#graph .edge.taken[data-from="Vend"][data-to="NotifyCustomerVended"]').count(),
      ).toBe(1);
      expect(complaints).toEqual([]);
      await page.screenshot({ path: join(SCREENSHOTS, 'story-execution-flaky.png'), fullPage: true });
    },
    TEST_TIMEOUT_MS,
  );
});
