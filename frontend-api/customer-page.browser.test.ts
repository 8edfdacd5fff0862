/**
 * The customer page in headless Chromium (playwright-core), against the whole system in this process: the
 * front-end serving the page and the API, the embedded AWS running the PaymentToVend machine, the task
 * Lambdas, the simulators and the database. What a customer would notice: the outcome and its words, the
 * UTRN, the payment reference, starting another top-up, and never paying twice when an answer is lost or
 * the page is reloaded.
 *
 * Skipped when no Chromium is installed (`apt-get install chromium`, or set CHROMIUM_PATH); .ci/run installs it.
 */
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PaymentSystem, startPaymentSystem } from '../system/payment-system.ts';
import { synthesizeLocalDefinition } from '../workflow/local-definition.ts';
import { buildApp } from './app.ts';
import { findChromium, freePort } from './testing/browser.ts';

const CHROMIUM = findChromium();
/** Vend retries and the slow test meter take seconds; wait on what the page shows, never on a clock. */
const OUTCOME_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 120_000;

const METERS = {
  vends: '1200000000011',
  vendsToo: '1600123456785',
  vendsAlso: '9900000000015',
  /** The vendor answers after 2 s. */
  slow: '9909000000011',
  /** The vendor fails twice, then vends. */
  transient: '9901000000017',
  notForThisDevice: '9903000000010',
} as const;

let system: PaymentSystem;
let app: FastifyInstance;
let rds: RDSDataClient;
let browser: Browser;
let baseUrl: string;

const title = CHROMIUM
  ? 'the customer page in Chromium'
  : 'the customer page in Chromium (SKIPPED: no Chromium found; apt-get install chromium, or set CHROMIUM_PATH)';

describe.skipIf(!CHROMIUM).concurrent(title, () => {
  beforeAll(async () => {
    system = await startPaymentSystem({
      port: 0,
      dataDir: null,
      simulatorsPort: 0,
      logLevel: 'SILENT',
      definition: synthesizeLocalDefinition({
        props: { vendRetryIntervalSeconds: 1, chargeRetryIntervalSeconds: 1 },
      }),
    });
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    app = await buildApp({
      config: {
        awsEndpointUrl: system.aws.endpoint,
        stateMachineArn: system.stateMachineArn,
        database: system.database,
        allowedOrigins: [baseUrl],
        rateLimitMax: 10_000,
      },
    });
    await app.listen({ port, host: '127.0.0.1' });
    rds = new RDSDataClient({
      endpoint: system.aws.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM! });
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    rds?.destroy();
    await app?.close();
    await system?.close();
  });

  /**
   * A fresh tab (its own sessionStorage) on the page, collecting what the console complains about. The tests
   * run side by side, so each tab stays open until the browser closes after the last of them.
   */
  async function openPage(): Promise<{ page: Page; complaints: string[] }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        complaints.push(`${message.type()}: ${message.text()}`);
      }
    });
    page.on('pageerror', (error) => complaints.push(`uncaught: ${error.message}`));
    await page.goto(`${baseUrl}/`);
    return { page, complaints };
  }

  async function fillTopUp(
    page: Page,
    { meterId = METERS.vends as string, amount = '20', card = 'tok_visa' } = {},
  ) {
    await page.getByLabel('Meter number').fill(meterId);
    await page.getByLabel('Amount in pounds').fill(amount);
    await page.getByLabel('Card').selectOption(card);
  }

  async function pay(page: Page) {
    await page.getByRole('button', { name: 'Pay and top up' }).click();
  }

  /** The visible text of `locator`, or '' while it is hidden (for polling). */
  async function visibleText(locator: Locator): Promise<string> {
    // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a customer reads, not the DOM property.
    return (await locator.isVisible()) ? locator.innerText() : '';
  }

  /**
   * Waits for the outcome headed `heading` and answers its text. Playwright's own wait, not expect.poll, which
   * needs to know its test and cannot while the tests run side by side.
   */
  async function waitForOutcome(page: Page, heading: string): Promise<string> {
    await page
      .locator('#outcome')
      .getByRole('heading', { name: heading, exact: true })
      .waitFor({ state: 'visible', timeout: OUTCOME_TIMEOUT_MS });
    return visibleText(page.locator('#outcome'));
  }

  async function shownReference(page: Page): Promise<string> {
    const reference = page.locator('#reference .reference');
    await reference.waitFor({ state: 'visible', timeout: OUTCOME_TIMEOUT_MS });
    return visibleText(reference);
  }

  async function paymentIdsFor(meterId: string): Promise<string[]> {
    const { records = [] } = await rds.send(
      new ExecuteStatementCommand({
        ...system.database,
        sql: 'SELECT payment_id FROM payments WHERE meter_id = :meterId ORDER BY payment_id',
        parameters: [{ name: 'meterId', value: { stringValue: meterId } }],
      }),
    );
    return records.map((record) => String(record[0]?.stringValue));
  }

  async function newPaymentIds(meterId: string, before: readonly string[]): Promise<string[]> {
    return (await paymentIdsFor(meterId)).filter((paymentId) => !before.includes(paymentId));
  }

  /** Every POST /api/payments the page sends, with its Idempotency-Key. */
  function recordPosts(page: Page): string[] {
    const keys: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/payments') {
        keys.push(request.headers()['idempotency-key'] ?? '');
      }
    });
    return keys;
  }

  it(
    'tops up a meter: the UTRN in groups of four and the reference are shown, and the customer can top up again',
    async () => {
      // Prepare
      const before = await paymentIdsFor(METERS.vends);
      const { page, complaints } = await openPage();
      await fillTopUp(page, { meterId: METERS.vends, card: 'tok_visa' });

      // Act
      await pay(page);
      const outcome = await waitForOutcome(page, 'Your top-up is done');

      // Assess
      const reference = await shownReference(page);
      expect(reference).toMatch(/^pay_/);
      expect(outcome).toContain('£20.00 of credit is on its way');
      expect(outcome).toContain(reference);
      expect(await visibleText(page.locator('#outcome .utrn'))).toMatch(/^\d{4}( \d{4}){4}$/);
      await page.getByText('Payment of £20.00 taken.').waitFor();
      expect(await newPaymentIds(METERS.vends, before)).toEqual([reference]);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);

      // Act: another top-up, on the same meter, with another card
      await page.getByRole('button', { name: 'Top up again' }).click();
      expect(await page.locator('#progress').isVisible()).toBe(false);
      expect(await page.getByLabel('Meter number').inputValue()).toBe(METERS.vends);
      await page.getByLabel('Amount in pounds').fill('12.50');
      await page.getByLabel('Card').selectOption('tok_mastercard');
      await pay(page);
      const second = await waitForOutcome(page, 'Your top-up is done');

      // Assess
      const secondReference = await shownReference(page);
      expect(secondReference).not.toBe(reference);
      expect(second).toContain('£12.50 of credit is on its way');
      expect((await newPaymentIds(METERS.vends, before)).sort()).toEqual([reference, secondReference].sort());
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a POST whose answer is lost is sent again with the same key, and the customer pays once',
    async () => {
      // Prepare: the server takes the first POST, but its answer never reaches the page
      const before = await paymentIdsFor(METERS.vendsAlso);
      const { page, complaints } = await openPage();
      const keys = recordPosts(page);
      let cut = false;
      await page.route('**/api/payments', async (route) => {
        if (cut) return route.continue();
        cut = true;
        await route.fetch();
        await route.abort('failed');
      });
      await fillTopUp(page, { meterId: METERS.vendsAlso });

      // Act
      await pay(page);
      await waitForOutcome(page, 'Your top-up is done');

      // Assess
      const reference = await shownReference(page);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      expect(new Set(keys).size).toBe(1);
      expect(await newPaymentIds(METERS.vendsAlso, before)).toEqual([reference]);
      expect(system.simulators.gateway.chargeCount(reference)).toBe(1);
      // The only complaint is the browser's own note of the answer the test cut off.
      expect(complaints.filter((complaint) => !complaint.includes('net::ERR_FAILED'))).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a reload mid-payment follows the same payment to the end, from the last event seen, without paying again',
    async () => {
      // Prepare
      const before = await paymentIdsFor(METERS.slow);
      const { page, complaints } = await openPage();
      const keys = recordPosts(page);
      const sockets: URL[] = [];
      page.on('websocket', (socket) => sockets.push(new URL(socket.url())));
      await fillTopUp(page, { meterId: METERS.slow });
      await pay(page);
      await page.getByText('Sending the credit to your meter').waitFor({ timeout: OUTCOME_TIMEOUT_MS });
      const reference = await shownReference(page);

      // Act
      await page.reload();
      const outcome = await waitForOutcome(page, 'Your top-up is done');

      // Assess
      expect(await shownReference(page)).toBe(reference);
      expect(outcome).toContain(reference);
      await page.getByText('Payment of £20.00 taken.').waitFor();
      expect(keys).toHaveLength(1);
      expect(await newPaymentIds(METERS.slow, before)).toEqual([reference]);
      expect(system.simulators.gateway.chargeCount(reference)).toBe(1);
      const afterReload = sockets.at(-1)!;
      expect(afterReload.pathname).toBe(`/api/payments/${reference}/events`);
      expect(Number(afterReload.searchParams.get('after'))).toBeGreaterThan(0);
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a reload before the POST is answered asks again with the same key and follows that one payment',
    async () => {
      // Prepare: the server takes the POST; the page is reloaded before it reads the answer
      const before = await paymentIdsFor(METERS.transient);
      const { page, complaints } = await openPage();
      const keys = recordPosts(page);
      let taken: () => void = () => undefined;
      const firstTaken = new Promise<void>((resolve) => {
        taken = resolve;
      });
      let routed = 0;
      await page.route('**/api/payments', async (route) => {
        routed += 1;
        if (routed > 1) return route.continue();
        await route.fetch();
        taken();
        // Never answered: the reload abandons it.
      });
      await fillTopUp(page, { meterId: METERS.transient });
      await pay(page);
      await firstTaken;

      // Act
      await page.reload();
      const outcome = await waitForOutcome(page, 'Your top-up is done');

      // Assess
      const reference = await shownReference(page);
      expect(outcome).toContain(reference);
      expect(keys.length).toBeGreaterThanOrEqual(2);
      expect(new Set(keys).size).toBe(1);
      expect(await newPaymentIds(METERS.transient, before)).toEqual([reference]);
      expect(system.simulators.gateway.chargeCount(reference)).toBe(1);
      await page.getByText(/trying again \(attempt 2 of \d+\)/).waitFor();
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a declined card says nothing was taken and lets the customer try again',
    async () => {
      // Prepare
      const { page, complaints } = await openPage();
      await fillTopUp(page, { meterId: METERS.vendsToo, card: 'tok_chargeDeclined' });

      // Act
      await pay(page);
      const outcome = await waitForOutcome(page, 'Your payment was declined');

      // Assess
      expect(outcome).toContain('Nothing was taken');
      expect(outcome).toContain('another card');
      expect(outcome).toContain(await shownReference(page));
      await page.getByRole('button', { name: 'Top up again' }).click();
      expect(await page.getByRole('button', { name: 'Pay and top up' }).isEnabled()).toBe(true);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a meter that rejects the credit as not for this device says the card was charged, to check the meter number, and the reference to quote',
    async () => {
      // Prepare
      const { page, complaints } = await openPage();
      await fillTopUp(page, { meterId: METERS.notForThisDevice });

      // Act
      await pay(page);
      const outcome = await waitForOutcome(page, 'We took your payment but could not credit your meter');

      // Assess
      const reference = await shownReference(page);
      expect(outcome).toContain('Your card was charged £20.00');
      expect(outcome).toContain('Quote this reference if you contact us');
      expect(outcome).toContain(reference);
      expect(outcome).toContain('emergency credit');
      // Its own words: needs the vend_failed event to carry rejectionCode.
      expect(outcome).toContain('made out for a different meter');
      expect(outcome).toContain(`check the meter number you gave, ${METERS.notForThisDevice}`);
      expect(await page.getByRole('button', { name: 'Top up again' }).isVisible()).toBe(true);
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'names the field in a person’s words, on the page’s own checks and on the server’s',
    async () => {
      // Prepare
      const { page, complaints } = await openPage();
      const keys = recordPosts(page);

      // Act: what the page can tell by itself
      await fillTopUp(page, { meterId: '12345', amount: '5' });
      await pay(page);

      // Assess
      expect(await visibleText(page.locator('#meterId-error'))).toContain('Meter number must be 13 digits');
      expect(await visibleText(page.locator('#amount-error'))).toContain(
        'Amount must be between £10 and £175',
      );
      expect(keys).toEqual([]);

      // Act: a 13-digit meter number whose check digit is wrong, which only the server checks
      await fillTopUp(page, { meterId: '1200000000012', amount: '20' });
      await pay(page);
      const meterError = page.locator('#meterId-error');
      await meterError.waitFor({ state: 'visible' });

      // Assess
      expect(await visibleText(meterError)).toContain('Meter number must be the 13 digits');
      expect(await page.locator('#amount-error').isVisible()).toBe(false);
      expect(await visibleText(page.locator('#form-error'))).toContain('check the meter number');
      expect(await visibleText(page.locator('body'))).not.toMatch(/meterId|amountPence/);
      expect(keys).toHaveLength(1);
      expect(await page.getByRole('button', { name: 'Pay and top up' }).isEnabled()).toBe(true);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      // Chromium logs every 4xx answer to fetch itself; the page adds nothing of its own.
      expect(complaints).toEqual([
        'error: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a charge that cannot be confirmed says not to pay again, keeps the reference across a reload, and lets the customer start another top-up',
    async () => {
      // Prepare
      const { page, complaints } = await openPage();
      await fillTopUp(page, { meterId: METERS.vendsToo, card: 'tok_gatewayDown' });

      // Act
      await pay(page);
      const outcome = await waitForOutcome(page, 'We could not confirm your payment');
      const reference = await shownReference(page);
      await page.reload();
      const afterReload = await waitForOutcome(page, 'We could not confirm your payment');

      // Assess
      for (const shown of [outcome, afterReload]) {
        expect(shown).toContain('Please do not pay again');
        expect(shown).toContain('Quote this reference if you contact us');
        expect(shown).toContain(reference);
      }
      await page.getByRole('button', { name: 'Top up again' }).click();
      expect(await page.getByRole('button', { name: 'Pay and top up' }).isEnabled()).toBe(true);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      expect(complaints).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it('serves its favicon, so the browser finds no missing files', async () => {
    const { page, complaints } = await openPage();
    const favicon = await page.request.get(`${baseUrl}/favicon.svg`);
    expect(favicon.status()).toBe(200);
    expect(favicon.headers()['content-type']).toContain('image/svg+xml');
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toBe('/favicon.svg');
    expect(complaints).toEqual([]);
  });
});
