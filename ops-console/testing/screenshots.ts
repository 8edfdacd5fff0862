/**
 * `npm run screenshots`: the README's pictures of the customer page and the operator console, made afresh.
 *
 * Starts the whole system in this process on spare ports with a fresh temporary data directory (the embedded
 * AWS with short vend retries, the simulators, the front-end serving the customer page, and a console that may
 * act), makes a few payments through the customer page (one vended, one whose vendor stays down, one whose
 * vendor fails twice), lets an operator try a re-vend while the vendor is still down, and saves PNGs (viewport
 * 1280×800) of: the customer page vended and not credited, the follow-up list, that payment's page (its
 * decisions and audit trail), the executions list, and the flaky vendor's execution graph. Then it stops
 * everything and deletes the data directory.
 *
 *   npm run screenshots                              # into docs/screenshots/
 *   npm run screenshots -- --out /tmp/shots
 *
 * Needs Chromium (`apt-get install chromium`, or set CHROMIUM_PATH). Exits 1 when a step fails, naming it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { findChromium } from '../../frontend-api/testing/browser.ts';
import { testMpan } from '../../simulators/mpan.ts';
import { type ConsoleSystem, freshVendorDownMeter, startConsoleSystem } from './console-system.ts';

const USAGE = 'usage: npm run screenshots [-- --out <folder>]   (default docs/screenshots)';
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };
/** How long any one thing may take to show: vend retries run in seconds here. */
const SHOWN_TIMEOUT_MS = 60_000;

const { values } = (() => {
  try {
    return parseArgs({
      options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const outDir = resolve(values.out ?? join(REPOSITORY, 'docs', 'screenshots'));
const executablePath = findChromium();
if (executablePath === undefined) {
  console.error('No Chromium found: apt-get install chromium, or set CHROMIUM_PATH');
  process.exit(1);
}

const saved: string[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'payment-to-vend-screenshots-'));
let env: ConsoleSystem | undefined;
let browser: Browser | undefined;
let step = 'starting the system';

try {
  mkdirSync(outDir, { recursive: true });
  env = await startConsoleSystem({ serveCustomerPage: true, dataDir });
  const { url: consoleUrl } = await env.serveConsole({
    actionsEnabled: true,
    database: env.system.consoleDatabase,
    operator: 'alex.operator',
    alertsQueueName: 'ops-console-alerts-screenshots',
  });
  browser = await chromium.launch({ executablePath });
  const newPage = async () => (await browser!.newContext({ viewport: VIEWPORT })).newPage();
  const save = async (page: Page, name: string, options: Parameters<Page['screenshot']>[0] = {}) => {
    const path = join(outDir, name);
    await page.screenshot({ ...options, path });
    saved.push(path);
  };
  const system = env;

  /** A customer tops up `meterId` with £20 and waits for the page to say how it went. */
  const topUp = async (meterId: string, outcome: string): Promise<{ page: Page; paymentId: string }> => {
    const page = await newPage();
    await page.goto(`${system.customerPageUrl}/`);
    await page.getByLabel('Meter number').fill(meterId);
    await page.getByLabel('Amount in pounds').fill('20');
    await page.getByLabel('Card').selectOption('tok_visa');
    await page.getByRole('button', { name: 'Pay and top up' }).click();
    await page
      .locator('#outcome')
      .getByRole('heading', { name: outcome })
      .waitFor({ state: 'visible', timeout: SHOWN_TIMEOUT_MS });
    // biome-ignore lint/performance/useDomNodeTextContent: the reference as the customer reads it.
    const paymentId = await page.locator('#reference .reference').innerText();
    return { page, paymentId };
  };
  const executionArnOf = (paymentId: string) =>
    `${system.system.stateMachineArn.replace(':stateMachine:', ':execution:')}:${paymentId}`;

  step = 'paying: a meter that vends';
  const vended = await topUp('1600123456785', 'Your top-up is done');
  await vended.page.locator('#outcome .utrn').waitFor();
  await save(vended.page, 'customer-vended.png');

  step = 'paying: a meter whose vendor fails twice, then vends';
  const flaky = await topUp(testMpan('01', 7), 'Your top-up is done');

  step = 'paying: meters whose vendor stays down, and a charge the gateway never confirms';
  const [down, downAgain] = await Promise.all([
    topUp(freshVendorDownMeter(), 'We took your payment but could not credit your meter'),
    topUp(freshVendorDownMeter(), 'We took your payment but could not credit your meter'),
    system
      .pay({ paymentToken: 'tok_gatewayDown' })
      .then(({ executionArn }) => system.waitUntilAwaitingDecision(executionArn)),
  ]);
  await save(down.page, 'customer-vend-failed.png');
  await Promise.all(
    [down, downAgain].map(({ paymentId }) => system.waitUntilAwaitingDecision(executionArnOf(paymentId))),
  );

  step = 're-vending while the vendor is still down';
  const operator = await newPage();
  operator.on('dialog', (dialog) => void dialog.accept());
  await operator.goto(`${consoleUrl}/payments/${downAgain.paymentId}`);
  const revend = operator
    .locator('form.decision')
    .filter({ has: operator.getByRole('heading', { name: 'Re-vend' }) });
  await revend
    .getByLabel('Why (kept in the audit trail)')
    .fill('Vendor status page says service restored; trying again');
  await revend.getByRole('button', { name: 'Re-vend' }).click();
  await operator.getByRole('status').filter({ hasText: 'was handed to the execution' }).waitFor();
  // The re-vend fails as well: the payment waits for a decision again, with the first one in its audit trail.
  await system.waitUntilAwaitingDecision(executionArnOf(downAgain.paymentId), { visits: 2 });
  await operator.goto(`${consoleUrl}/payments/${downAgain.paymentId}`);
  await operator.getByRole('heading', { name: 'Open: waiting for a decision' }).waitFor();
  await operator.locator('table.audit').waitFor();
  // From the top of the page to the end of the audit trail: the decisions and who took which.
  // (the page is at its top, so the box's viewport coordinates are the document's).
  const audit = await operator.locator('section[aria-labelledby="audit-heading"]').boundingBox();
  const auditBottom = audit === null ? VIEWPORT.height : audit.y + audit.height;
  await save(operator, 'console-payment.png', {
    fullPage: true,
    clip: { x: 0, y: 0, width: VIEWPORT.width, height: Math.ceil(auditBottom) + 16 },
  });

  step = 'the follow-up list';
  await operator.goto(`${consoleUrl}/follow-up`);
  await operator.locator('table.open-payments').waitFor();
  await save(operator, 'console-follow-up.png');

  step = 'the executions list';
  await system.waitUntilFinished(executionArnOf(flaky.paymentId));
  await operator.goto(`${consoleUrl}/`);
  await operator.getByRole('link', { name: 'PaymentToVend', exact: true }).click();
  await operator.locator('table.executions').waitFor();
  await save(operator, 'console-executions.png');

  step = 'the flaky vendor’s execution graph';
  await operator.goto(`${consoleUrl}/executions/${encodeURIComponent(executionArnOf(flaky.paymentId))}`);
  const vend = operator.locator('#graph a.node[data-state="Vend"]');
  await vend.click();
  await operator.locator('#state-panel ol.attempts').waitFor();
  await vend.evaluate((node) => node.scrollIntoView({ block: 'center' }));
  await save(operator, 'console-execution-graph.png');

  console.log(`saved ${saved.length} screenshots:`);
  for (const path of saved) console.log(`  ${relative(process.cwd(), path) || path}`);
} catch (error) {
  console.error(
    `screenshots failed while ${step}: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
} finally {
  await browser?.close();
  await env?.close();
  rmSync(dataDir, { recursive: true, force: true });
}
