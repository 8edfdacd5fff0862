/**
 * The simulators' state in a data directory, closed and opened again in this process: the first reopen folds
 * the journal's log into a snapshot, and the second reads the state back from that snapshot.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testMpan } from './mpan.ts';
import { type RunningSimulators, simulatorsJournalDir, startSimulators } from './start-simulators.ts';
import { getJson, postJson } from './testing.ts';

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function newDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'simulators-state-'));
  dataDirs.push(dir);
  return dir;
}

/** Opens the simulators on `dataDir`, runs `use`, and closes them. */
async function withSimulators<T>(
  dataDir: string,
  use: (simulators: RunningSimulators) => Promise<T>,
): Promise<T> {
  const simulators = await startSimulators({ port: 0, dataDir });
  try {
    return await use(simulators);
  } finally {
    await simulators.close();
  }
}

function charge(simulators: RunningSimulators, key: string, paymentToken: string) {
  return postJson(
    `${simulators.gatewayUrl}/v1/charges`,
    { amountPence: 2000, currency: 'GBP', paymentToken, reference: key },
    { 'Idempotency-Key': key },
  );
}

function vend(simulators: RunningSimulators, transactionId: string, meterId: string) {
  return postJson(`${simulators.vendorUrl}/v1/vends`, { transactionId, meterId, amountPence: 2000 });
}

describe('the simulators on a data directory', () => {
  it('keep charges, refunds, vends, kept answers and counters across closing and opening twice', async () => {
    // Prepare
    const dataDir = newDataDir();
    const before = await withSimulators(dataDir, async (simulators) => {
      const charged = await charge(simulators, 'pay_state_visa', 'tok_visa');
      const refund = await postJson(
        `${simulators.gatewayUrl}/v1/refunds`,
        { charge: charged.json.id, amountPence: 500 },
        { 'Idempotency-Key': 'refund_state' },
      );
      return {
        charged,
        declined: await charge(simulators, 'pay_state_declined', 'tok_chargeDeclined'),
        refund,
        outage: await charge(simulators, 'pay_state_outage', 'tok_gatewayOutage'),
        vended: await vend(simulators, 'pay_state_vend', testMpan('00')),
        rejected: await vend(simulators, 'pay_state_rejected', testMpan('03')),
        flaky: await vend(simulators, 'pay_state_flaky', testMpan('01')),
        charges: simulators.gateway.charges(),
        refunds: simulators.gateway.refunds(),
        vends: simulators.vendor.vends(),
      };
    });
    await withSimulators(dataDir, async () => undefined);

    // Act
    const after = await withSimulators(dataDir, async (simulators) => ({
      charges: simulators.gateway.charges(),
      refunds: simulators.gateway.refunds(),
      vends: simulators.vendor.vends(),
      charged: await charge(simulators, 'pay_state_visa', 'tok_visa'),
      declined: await charge(simulators, 'pay_state_declined', 'tok_chargeDeclined'),
      outage: await charge(simulators, 'pay_state_outage', 'tok_gatewayOutage'),
      outageEnds: await charge(simulators, 'pay_state_outage', 'tok_gatewayOutage'),
      refund: await postJson(
        `${simulators.gatewayUrl}/v1/refunds`,
        { charge: before.charged.json.id, amountPence: 500 },
        { 'Idempotency-Key': 'refund_state' },
      ),
      vended: await vend(simulators, 'pay_state_vend', testMpan('00')),
      rejected: await vend(simulators, 'pay_state_rejected', testMpan('03')),
      flaky: await vend(simulators, 'pay_state_flaky', testMpan('01')),
      flakyEnds: await vend(simulators, 'pay_state_flaky', testMpan('01')),
      description: await getJson(simulators.gatewayUrl),
    }));

    // Assess
    const journalFiles = readdirSync(simulatorsJournalDir(dataDir)).map((file) =>
      file.replace(/\.\d+\./, '.'),
    );
    expect(journalFiles.sort()).toEqual([
      'payment-gateway.log.jsonl',
      'payment-gateway.snapshot.jsonl',
      'vending-vendor.log.jsonl',
      'vending-vendor.snapshot.jsonl',
    ]);
    expect(after.charges).toEqual(before.charges);
    expect(after.refunds).toEqual(before.refunds);
    expect(after.vends).toEqual(before.vends);
    for (const replay of ['charged', 'declined', 'refund', 'vended', 'rejected'] as const) {
      expect(after[replay].text, replay).toBe(before[replay].text);
      expect(after[replay].headers.get('idempotent-replayed'), replay).toBe('true');
    }
    expect([before.outage.status, after.outage.status, after.outageEnds.status]).toEqual([503, 503, 200]);
    expect([before.flaky.status, after.flaky.status, after.flakyEnds.status]).toEqual([503, 503, 200]);
    expect(after.description.json.state).toMatch(/data directory/);
  });

  it('forget what reset forgets, for good', async () => {
    // Prepare
    const dataDir = newDataDir();
    const first = await withSimulators(dataDir, async (simulators) => {
      const charged = await charge(simulators, 'pay_state_reset', 'tok_visa');
      await vend(simulators, 'pay_state_reset', testMpan('00'));
      simulators.reset();
      return charged;
    });

    // Act
    const after = await withSimulators(dataDir, async (simulators) => ({
      vends: simulators.vendor.vends(),
      again: await charge(simulators, 'pay_state_reset', 'tok_visa'),
    }));

    // Assess
    expect(after.vends).toEqual([]);
    expect(after.again.headers.get('idempotent-replayed')).toBeNull();
    expect(after.again.json.id).not.toBe(first.json.id);
  });

  it('keep everything in memory without a data directory', async () => {
    // Prepare
    const simulators = await startSimulators({ port: 0 });
    try {
      // Act
      const description = await getJson(simulators.vendorUrl);

      // Assess
      expect(description.json.state).toMatch(/in memory/);
    } finally {
      await simulators.close();
    }
  });
});
